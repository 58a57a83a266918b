/**
 * Tracing and metrics through the OpenTelemetry API only (`@opentelemetry/api`): without a registered
 * provider every call here is a no-op, so unit tests and tools pay nothing. In Azure the Azure Monitor
 * distro registers one (telemetry-hooks.ts, loaded on the first invocation); locally the embedded host
 * registers an in-memory one (local/host/telemetry.ts, GET /_host/traces and /_host/metrics).
 *
 * Span attributes carry ids and codes only, never PHI: `safeAttributes` drops any string value that is
 * not id-shaped (no spaces, no '+', no '@'), so a phone number, a name or a message body cannot become
 * an attribute by accident; test/e2e/traces.test.ts renders every span of a journey and checks.
 */
import {
  context as otelContext,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type Link,
  type Meter,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';

export { SpanKind };

export const INSTRUMENTATION_NAME = 'slotflow';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = /^0+$/;

/** The span context of a W3C `traceparent` (version 00), or undefined when it is not one. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m || ZERO_TRACE.test(m[1]!) || ZERO_TRACE.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16) & 0xff, isRemote: true };
}

/** The W3C `traceparent` of a span context. */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The `traceparent` of the active span, if one records (no provider: undefined). */
export function activeTraceparent(): string | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && trace.isSpanContextValid(sc) && sc.traceFlags & TraceFlags.SAMPLED ? formatTraceparent(sc) : undefined;
}

/** A context whose parent is the remote span of `traceparent` (the root context when it is not valid). */
export function contextOfTraceparent(traceparent: unknown): Context | undefined {
  const sc = parseTraceparent(traceparent);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : undefined;
}

/** Id- and code-shaped values only: no spaces, '+', '@' or quotes (names, phones, bodies, e-mail addresses). */
const SAFE_VALUE = /^[A-Za-z0-9._:/{}\-]{0,200}$/;

/** The attributes that are ids, codes, numbers or flags; anything else is dropped. */
export function safeAttributes(attrs: Record<string, string | number | boolean | undefined> | undefined): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined) continue;
    if (typeof v === 'string' && !SAFE_VALUE.test(v)) continue;
    out[k] = v;
  }
  return out;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Record<string, string | number | boolean | undefined>;
  /** The parent; default the active context. */
  parent?: Context;
  links?: Link[];
  startTime?: number;
  /** Only trace when a span is already active (or `parent` is given): Cosmos calls of a timer make no trace of their own. Default true. */
  childOnly?: boolean;
}

/** The stable code of an error for span status and attributes: a domain code, else the error's name (never its message). */
export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SAFE_VALUE.test(code)) return code;
  return e instanceof Error ? e.name : typeof e;
}

/** Marks a span failed with the error's code (never its message: messages can carry data). */
export function failSpan(span: Span, e: unknown): void {
  const code = errorCode(e);
  span.setAttribute('error.type', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/** Runs `fn` in a new span (ended when it settles; a throw marks it failed and is rethrown). */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  const parent = options.parent ?? otelContext.active();
  if ((options.childOnly ?? true) && !options.parent && !trace.getSpan(parent)) return fn(undefined);
  const span = trace.getTracer(INSTRUMENTATION_NAME).startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes: safeAttributes(options.attributes),
      ...(options.links ? { links: options.links } : {}),
      ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    },
    parent,
  );
  try {
    return await otelContext.with(trace.setSpan(parent, span), () => fn(span));
  } catch (e) {
    failSpan(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** Sets id/code attributes on a span (unsafe values dropped). */
export function setSpanAttributes(span: Span | undefined, attrs: Record<string, string | number | boolean | undefined>): void {
  span?.setAttributes(safeAttributes(attrs));
}

// --- Trace context through durable activity inputs ---------------------------------------------

const ENVELOPE_KEY = '$slotflowTrace';

/** An activity input with the caller's trace context; telemetry-hooks.ts unwraps it before the activity runs. */
export function wrapActivityInput(input: unknown, traceparent: string | undefined): unknown {
  return traceparent ? { [ENVELOPE_KEY]: traceparent, input: input ?? null } : input;
}

/** The activity's own input and the trace context it came with. */
export function unwrapActivityInput(value: unknown): { input: unknown; traceparent?: string } {
  if (value && typeof value === 'object' && ENVELOPE_KEY in value) {
    const v = value as Record<string, unknown>;
    const traceparent = typeof v[ENVELOPE_KEY] === 'string' ? (v[ENVELOPE_KEY] as string) : undefined;
    return { input: v.input === null ? undefined : v.input, ...(traceparent ? { traceparent } : {}) };
  }
  return { input: value };
}

/** Orchestration input with the active trace context (`traceparent`), so its episodes and activities join the trace. */
export function withTraceparent<T>(input: T): T {
  const traceparent = activeTraceparent();
  if (!traceparent || !input || typeof input !== 'object' || Array.isArray(input)) return input;
  return { ...input, traceparent };
}

/** The `traceparent` an orchestration input carries. */
export function traceparentOfInput(input: unknown): string | undefined {
  const tp = input && typeof input === 'object' ? (input as { traceparent?: unknown }).traceparent : undefined;
  return parseTraceparent(tp) ? (tp as string) : undefined;
}

// --- Metrics ------------------------------------------------------------------------------------

/** The metrics operators watch (README "Traces and metrics"). */
export const MetricName = {
  slotsFreed: 'slotflow.slots.freed',
  offersSent: 'slotflow.offers.sent',
  fills: 'slotflow.backfill.fills',
  timeToFill: 'slotflow.backfill.time_to_fill',
  smsFailures: 'slotflow.sms.failures',
  deadLetters: 'slotflow.messages.dead_lettered',
  poisonRecords: 'slotflow.messages.poison_records',
  eligibilityErrors: 'slotflow.eligibility.errors',
  optimizerSolveTime: 'slotflow.optimizer.solve_time',
} as const;

interface Instruments {
  meter: Meter;
  counters: Map<string, Counter>;
  histograms: Map<string, Histogram>;
}
let instruments: Instruments | undefined;

/** Instruments of the current global meter (re-created if a provider was registered since). */
function meterInstruments(): Instruments {
  const meter = metrics.getMeter(INSTRUMENTATION_NAME);
  if (instruments?.meter !== meter) instruments = { meter, counters: new Map(), histograms: new Map() };
  return instruments;
}

const COUNTER_HELP: Record<string, string> = {
  [MetricName.slotsFreed]: 'Slots freed by a cancellation, no-show, reschedule, lapsed offer or absence',
  [MetricName.offersSent]: 'Waitlist offers sent',
  [MetricName.fills]: 'Freed slots filled from the waitlist',
  [MetricName.smsFailures]: 'SMS the provider refused or reported failed/undelivered',
  [MetricName.deadLetters]: 'Event messages dead-lettered by a trigger',
  [MetricName.poisonRecords]: 'Invalid event messages parked as poison records',
  [MetricName.eligibilityErrors]: 'Eligibility checks that failed or found inactive coverage',
};

function count(name: string, attrs: Record<string, string | number | boolean | undefined> = {}): void {
  const i = meterInstruments();
  let c = i.counters.get(name);
  if (!c) i.counters.set(name, (c = i.meter.createCounter(name, { description: COUNTER_HELP[name] ?? name })));
  c.add(1, safeAttributes(attrs));
}

function record(name: string, value: number, unit: string, description: string, attrs: Record<string, string | number | boolean | undefined> = {}): void {
  const i = meterInstruments();
  let h = i.histograms.get(name);
  if (!h) i.histograms.set(name, (h = i.meter.createHistogram(name, { unit, description })));
  h.record(value, safeAttributes(attrs));
}

/** Recording the operators' metrics (attributes: codes only). */
export const telemetryMetrics = {
  slotFreed: (reason: string) => count(MetricName.slotsFreed, { reason }),
  offerSent: (round: number) => count(MetricName.offersSent, { round }),
  fill: (moveUp: boolean) => count(MetricName.fills, { move_up: moveUp }),
  timeToFill: (seconds: number) => record(MetricName.timeToFill, seconds, 's', 'From the backfill start (slot freed) to the booking of a waitlisted patient'),
  smsFailure: (code: string) => count(MetricName.smsFailures, { code }),
  deadLetter: (subscription: string, reason: string) => count(MetricName.deadLetters, { subscription, reason }),
  poisonRecord: (subscription: string, reason: string) => count(MetricName.poisonRecords, { subscription, reason }),
  eligibilityError: (outcome: string) => count(MetricName.eligibilityErrors, { outcome }),
  optimizerSolve: (ms: number, status: string, purpose: string) =>
    record(MetricName.optimizerSolveTime, ms, 'ms', 'Slot optimizer solve time', { status, purpose }),
};

/** The metrics an event stands for (called once per event published). */
export function recordEventMetrics(event: { type: string; data: unknown }): void {
  const data = (event.data ?? {}) as Record<string, unknown>;
  if (event.type.endsWith('.slot.released.v1')) telemetryMetrics.slotFreed(String(data.reason ?? 'unknown'));
  else if (event.type.endsWith('.waitlist.offer.sent.v1')) telemetryMetrics.offerSent(Number(data.round ?? 0));
  else if (event.type.endsWith('.waitlist.offer.accepted.v1')) telemetryMetrics.fill(data.moveUp === true);
  else if (event.type.endsWith('.eligibility.failed.v1')) telemetryMetrics.eligibilityError(String(data.outcome ?? 'error'));
}
