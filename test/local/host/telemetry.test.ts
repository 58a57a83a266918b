/**
 * The local host's trace buffer: traces grouped by id, newest first, bounded (oldest evicted), span
 * trees with offsets, orphans as roots, the id filter; metrics collected on request.
 */
import { metrics, trace, context as otelContext, ROOT_CONTEXT } from '@opentelemetry/api';
import { LocalTelemetry } from '../../../local/host/telemetry';

let telemetry: LocalTelemetry;
beforeAll(() => {
  telemetry = LocalTelemetry.install(3);
});
afterAll(async () => {
  await telemetry.stop();
});
beforeEach(() => telemetry.traces.clear());

const tracer = () => trace.getTracer('test');

/** A root span with one child, in its own trace; returns the trace id. */
function journey(name: string, attrs: Record<string, string> = {}): string {
  const root = tracer().startSpan(name, { attributes: attrs, startTime: Date.now() }, ROOT_CONTEXT);
  const child = tracer().startSpan(`${name} child`, {}, trace.setSpan(ROOT_CONTEXT, root));
  child.end();
  root.end();
  return root.spanContext().traceId;
}

describe('TraceStore', () => {
  it('lists traces newest first with their root span, and keeps only the last N', async () => {
    const ids: string[] = [];
    for (const n of ['a', 'b', 'c', 'd']) {
      ids.push(journey(n));
      await new Promise((r) => setTimeout(r, 5));
    }
    const list = telemetry.traces.list(10);
    expect(list.map((t) => t.rootSpanName)).toEqual(['d', 'c', 'b']);
    expect(list.every((t) => t.spanCount === 2 && t.durationMs >= 0)).toBe(true);
    expect(telemetry.traces.get(ids[0]!)).toBeUndefined();
    expect(telemetry.traces.list(1)).toHaveLength(1);
  });

  it('serves a trace as a tree; a span whose parent is elsewhere (a remote caller) is a root', () => {
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    const server = tracer().startSpan('server', {}, remote);
    otelContext.with(trace.setSpan(ROOT_CONTEXT, server), () => tracer().startSpan('inner').end());
    server.end();
    const t = telemetry.traces.get('0af7651916cd43dd8448eb211c80319c')!;
    expect(t.spans).toHaveLength(1);
    expect(t.spans[0]).toMatchObject({ name: 'server', parentSpanId: 'b7ad6b7169203331', offsetMs: 0, children: [expect.objectContaining({ name: 'inner' })] });
    expect(t.summary.rootSpanName).toBe('server');
  });

  it('finds the traces with a span attribute equal to an id', () => {
    const mine = journey('cancel', { 'slotflow.appointment_id': 'appt-1' });
    journey('other', { 'slotflow.appointment_id': 'appt-2' });
    expect(telemetry.traces.list(10, 'appt-1').map((t) => t.traceId)).toEqual([mine]);
  });
});

describe('metrics', () => {
  it('collects counters and histograms from the global meter on request', async () => {
    const meter = metrics.getMeter('test');
    meter.createCounter('test.count').add(2, { reason: 'x' });
    meter.createHistogram('test.ms', { unit: 'ms' }).record(12);
    const views = await telemetry.metrics();
    expect(views.find((m) => m.name === 'test.count')).toMatchObject({ type: 'counter', points: [{ attributes: { reason: 'x' }, value: 2 }] });
    expect(views.find((m) => m.name === 'test.ms')).toMatchObject({ type: 'histogram', unit: 'ms', points: [expect.objectContaining({ count: 1, sum: 12 })] });
  });
});
