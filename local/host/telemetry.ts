import { context, metrics, SpanKind, SpanStatusCode, trace, type HrTime } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

/**
 * The local host's OpenTelemetry: an in-memory tracer provider and meter provider, registered as the
 * process-wide globals before the app loads, so the app's `@opentelemetry/api` calls (functions/app/
 * telemetry.ts) record here. The host keeps the last `maxTraces` traces (finished spans grouped by
 * trace id) and serves them, local only like the SMS dev outbox:
 *   GET /_host/traces?limit=N[&id=X]   newest first: trace id, root span name, start, duration, span count
 *                                      (`id`: only traces with a span attribute equal to X, e.g. an appointment id)
 *   GET /_host/traces/{traceId}        the span tree with timings (offset from the trace start, duration)
 *   GET /_host/metrics                 the app's counters and histograms, collected on request
 */

export const TRACES_PATH = '/_host/traces';
export const METRICS_PATH = '/_host/metrics';

/** A span as the host serves it. */
export interface SpanView {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  start: string;
  /** ms after the trace's first span started. */
  offsetMs: number;
  durationMs: number;
  status: 'ok' | 'error' | 'unset';
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string; attributes?: Record<string, unknown> }[];
  children: SpanView[];
}

export interface TraceSummary {
  traceId: string;
  rootSpanName: string;
  start: string;
  durationMs: number;
  spanCount: number;
  errorCount: number;
}

const ms = (t: HrTime) => t[0] * 1000 + t[1] / 1e6;
const round = (n: number) => Math.round(n * 1000) / 1000;

interface StoredTrace {
  spans: ReadableSpan[];
  /** Insertion order for eviction. */
  touched: number;
}

/** The last traces, in memory, bounded in traces and in spans per trace. */
export class TraceStore implements SpanProcessor {
  private readonly traces = new Map<string, StoredTrace>();
  private tick = 0;

  constructor(
    readonly maxTraces = 200,
    readonly maxSpansPerTrace = 2000,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    let stored = this.traces.get(traceId);
    if (!stored) {
      stored = { spans: [], touched: ++this.tick };
      this.traces.set(traceId, stored);
      while (this.traces.size > this.maxTraces) this.traces.delete(this.oldest()!);
    }
    stored.touched = ++this.tick;
    if (stored.spans.length < this.maxSpansPerTrace) stored.spans.push(span);
  }

  private oldest(): string | undefined {
    let min: [string, number] | undefined;
    for (const [id, t] of this.traces) if (!min || t.touched < min[1]) min = [id, t.touched];
    return min?.[0];
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  clear(): void {
    this.traces.clear();
  }

  /** Newest first (by the start of the trace's first span); `id` keeps traces with a span attribute equal to it. */
  list(limit = 20, id?: string): TraceSummary[] {
    const out: TraceSummary[] = [];
    for (const [traceId, t] of this.traces) {
      if (id !== undefined && !t.spans.some((s) => Object.values(s.attributes).some((v) => v === id))) continue;
      out.push(summarize(traceId, t.spans));
    }
    out.sort((a, b) => (a.start < b.start ? 1 : a.start > b.start ? -1 : 0));
    return out.slice(0, Math.max(0, limit));
  }

  /** The span tree of a trace (spans whose parent is not in the trace are roots), or undefined. */
  get(traceId: string): { traceId: string; summary: TraceSummary; spans: SpanView[] } | undefined {
    const t = this.traces.get(traceId);
    if (!t) return undefined;
    const t0 = Math.min(...t.spans.map((s) => ms(s.startTime)));
    const views = new Map<string, SpanView>();
    for (const s of [...t.spans].sort((a, b) => ms(a.startTime) - ms(b.startTime))) views.set(s.spanContext().spanId, view(s, t0));
    const roots: SpanView[] = [];
    for (const v of views.values()) {
      const parent = v.parentSpanId ? views.get(v.parentSpanId) : undefined;
      (parent ? parent.children : roots).push(v);
    }
    return { traceId, summary: summarize(traceId, t.spans), spans: roots };
  }

  /** Every span of every stored trace, flat (tests). */
  allSpans(): ReadableSpan[] {
    return [...this.traces.values()].flatMap((t) => t.spans);
  }
}

function parentIdOf(s: ReadableSpan): string | undefined {
  return s.parentSpanContext?.spanId;
}

function summarize(traceId: string, spans: ReadableSpan[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const byStart = [...spans].sort((a, b) => ms(a.startTime) - ms(b.startTime));
  const root = byStart.find((s) => !parentIdOf(s) || !ids.has(parentIdOf(s)!)) ?? byStart[0]!;
  const start = ms(byStart[0]!.startTime);
  const end = Math.max(...spans.map((s) => ms(s.endTime)));
  return {
    traceId,
    rootSpanName: root.name,
    start: new Date(start).toISOString(),
    durationMs: round(end - start),
    spanCount: spans.length,
    errorCount: spans.filter((s) => s.status.code === SpanStatusCode.ERROR).length,
  };
}

function view(s: ReadableSpan, t0: number): SpanView {
  const parentSpanId = parentIdOf(s);
  return {
    spanId: s.spanContext().spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name: s.name,
    kind: SpanKind[s.kind] ?? String(s.kind),
    start: new Date(ms(s.startTime)).toISOString(),
    offsetMs: round(ms(s.startTime) - t0),
    durationMs: round(ms(s.duration)),
    status: s.status.code === SpanStatusCode.ERROR ? 'error' : s.status.code === SpanStatusCode.OK ? 'ok' : 'unset',
    attributes: { ...s.attributes },
    links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, ...(l.attributes ? { attributes: { ...l.attributes } } : {}) })),
    children: [],
  };
}

/** A reader that collects when asked (GET /_host/metrics). */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface MetricView {
  name: string;
  description: string;
  unit: string;
  type: 'counter' | 'histogram' | 'gauge';
  points: { attributes: Record<string, unknown>; value?: number; count?: number; sum?: number; min?: number; max?: number }[];
}

export class LocalTelemetry {
  readonly traces: TraceStore;
  private readonly reader = new OnDemandReader();
  private readonly tracerProvider: BasicTracerProvider;
  private readonly meterProvider: MeterProvider;

  private constructor(maxTraces: number) {
    this.traces = new TraceStore(maxTraces);
    this.tracerProvider = new BasicTracerProvider({ spanProcessors: [this.traces] });
    this.meterProvider = new MeterProvider({ readers: [this.reader] });
  }

  /**
   * Registers the providers and an AsyncLocalStorage context manager as the process's globals (the app,
   * bundled with its own copy of @opentelemetry/api, finds them through the API's global registry).
   */
  static install(maxTraces = 200): LocalTelemetry {
    const t = new LocalTelemetry(maxTraces);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(t.tracerProvider);
    metrics.setGlobalMeterProvider(t.meterProvider);
    return t;
  }

  /** The app's metrics as they stand (cumulative since start). */
  async metrics(): Promise<MetricView[]> {
    const { resourceMetrics } = await this.reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map(metricView)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async stop(): Promise<void> {
    await this.tracerProvider.shutdown().catch(() => undefined);
    await this.meterProvider.shutdown().catch(() => undefined);
    trace.disable();
    metrics.disable();
    context.disable();
  }
}

function metricView(m: MetricData): MetricView {
  const base = { name: m.descriptor.name, description: m.descriptor.description, unit: m.descriptor.unit };
  if (m.dataPointType === DataPointType.HISTOGRAM) {
    return {
      ...base,
      type: 'histogram',
      points: m.dataPoints.map((p) => ({
        attributes: { ...p.attributes },
        count: p.value.count,
        ...(p.value.sum !== undefined ? { sum: p.value.sum } : {}),
        ...(p.value.min !== undefined ? { min: p.value.min } : {}),
        ...(p.value.max !== undefined ? { max: p.value.max } : {}),
      })),
    };
  }
  const type = m.dataPointType === DataPointType.SUM ? 'counter' : 'gauge';
  return { ...base, type, points: m.dataPoints.map((p) => ({ attributes: { ...p.attributes }, value: p.value as number })) };
}
