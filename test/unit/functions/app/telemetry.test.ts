/**
 * The app's tracing helpers and invocation hooks against a real in-memory OpenTelemetry provider
 * (local/host/telemetry.ts): W3C traceparent parsing, id-only attributes, the trace context through
 * HTTP headers, Service Bus messages and activity inputs, and the orchestrator wrapper.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { context as otelContext, trace } from '@opentelemetry/api';
import { LocalTelemetry } from '../../../../local/host/telemetry';
import {
  activeTraceparent,
  formatTraceparent,
  inSpan,
  parseTraceparent,
  recordEventMetrics,
  safeAttributes,
  telemetryMetrics,
  unwrapActivityInput,
  withTraceparent,
  wrapActivityInput,
} from '../../../../functions/app/telemetry';
import { instrumentInvocation, messageTraceparent, withTraceparentHeader } from '../../../../functions/app/telemetry-hooks';
import { toServiceBusMessage, withTraceContext } from '../../../../functions/adapters/servicebus/publisher';
import { tracedOrchestrator } from '../../../../orchestrations/tracing';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
let telemetry: LocalTelemetry;

beforeAll(() => {
  telemetry = LocalTelemetry.install(50);
});
afterAll(async () => {
  await telemetry.stop();
});
beforeEach(() => telemetry.traces.clear());

function invocation(type: string, extra: Record<string, unknown> = {}, triggerMetadata?: Record<string, unknown>): InvocationContext {
  return new InvocationContext({
    functionName: 'fn',
    invocationId: 'inv-1',
    options: { trigger: { type, name: 'trigger', ...extra }, extraInputs: [], extraOutputs: [] },
    ...(triggerMetadata ? { triggerMetadata } : {}),
  });
}

describe('traceparent', () => {
  it('parses version 00 and formats it back; rejects malformed, all-zero and other versions', () => {
    const sc = parseTraceparent(TP)!;
    expect(sc).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    expect(formatTraceparent(sc)).toBe(TP);
    for (const bad of [
      undefined,
      42,
      '',
      'garbage',
      TP.toUpperCase(),
      TP.replace(/^00/, '01'),
      `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
      `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`,
    ])
      expect(parseTraceparent(bad)).toBeUndefined();
  });
});

describe('span attributes', () => {
  it('keeps ids, codes, numbers and flags; drops phones, names, bodies and e-mail addresses', () => {
    expect(
      safeAttributes({
        id: 'appt-123.x',
        code: 'APPOINTMENT.SLOT_TAKEN',
        route: '/api/appointments/{appointmentId}/cancel',
        n: 3,
        ok: true,
        phone: '+15551234567',
        name: 'Ana Diaz',
        body: 'Reply YES to book',
        mail: 'a@b.example',
        gone: undefined,
      }),
    ).toEqual({ id: 'appt-123.x', code: 'APPOINTMENT.SLOT_TAKEN', route: '/api/appointments/{appointmentId}/cancel', n: 3, ok: true });
  });
});

describe('spans', () => {
  it('a child-only span is not recorded without an active trace, and is under the active span otherwise', async () => {
    await inSpan('orphan', {}, async (span) => expect(span).toBeUndefined());
    expect(telemetry.traces.allSpans()).toHaveLength(0);
    await inSpan('root', { childOnly: false }, () => inSpan('child', {}, async () => undefined));
    const [summary] = telemetry.traces.list();
    const tree = telemetry.traces.get(summary!.traceId)!;
    expect(tree.spans.map((s) => [s.name, s.children.map((c) => c.name)])).toEqual([['root', ['child']]]);
  });

  it('a throw marks the span failed with the error code, not its message, and is rethrown', async () => {
    const error = Object.assign(new Error('patient Ana Diaz +15551234567'), { code: 'APPOINTMENT.SLOT_TAKEN' });
    await expect(inSpan('fails', { childOnly: false }, () => Promise.reject(error))).rejects.toBe(error);
    const [s] = telemetry.traces.allSpans();
    expect(s!.status).toEqual({ code: 2, message: 'APPOINTMENT.SLOT_TAKEN' });
    expect(JSON.stringify(s!.attributes)).not.toMatch(/Ana|1555/);
  });

  it('carries the trace context into orchestration inputs and activity inputs, and back out', async () => {
    expect(withTraceparent({ slotId: 's1' })).toEqual({ slotId: 's1' });
    await inSpan('root', { childOnly: false }, async () => {
      const tp = activeTraceparent()!;
      expect(withTraceparent({ slotId: 's1' })).toEqual({ slotId: 's1', traceparent: tp });
      expect(withTraceparent(['not', 'an', 'object'])).toEqual(['not', 'an', 'object']);
    });
    expect(unwrapActivityInput(wrapActivityInput({ offerId: 'o1' }, TP))).toEqual({ input: { offerId: 'o1' }, traceparent: TP });
    expect(unwrapActivityInput(wrapActivityInput(undefined, TP))).toEqual({ input: undefined, traceparent: TP });
    expect(wrapActivityInput({ offerId: 'o1' }, undefined)).toEqual({ offerId: 'o1' });
    expect(unwrapActivityInput({ offerId: 'o1' })).toEqual({ input: { offerId: 'o1' } });
  });
});

describe('Service Bus trace context', () => {
  const event = {
    specversion: '1.0' as const,
    id: 'e1',
    source: '/s',
    type: 't',
    subject: 'a1',
    time: '2026-03-03T09:00:00Z',
    datacontenttype: 'application/json' as const,
    data: {},
  };

  it('stamps the publishing span’s context on the CloudEvent and the application properties', () => {
    const [stamped] = withTraceContext([event], TP);
    expect(stamped!.traceparent).toBe(TP);
    const message = toServiceBusMessage(stamped!);
    expect(message.applicationProperties).toMatchObject({ traceparent: TP, 'Diagnostic-Id': TP });
    expect(JSON.parse(String(message.body)).traceparent).toBe(TP);
    // Without a publishing span (the outbox relay), the stored context stays.
    expect(withTraceContext([{ ...event, traceparent: TP }], undefined)[0]!.traceparent).toBe(TP);
    expect(toServiceBusMessage(event).applicationProperties).not.toHaveProperty('traceparent');
  });

  it('reads it from the CloudEvent (object or JSON text), else the application properties', () => {
    const other = '00-11111111111111111111111111111111-2222222222222222-01';
    expect(messageTraceparent({ ...event, traceparent: TP }, { traceparent: other })).toBe(TP);
    expect(messageTraceparent(Buffer.from(JSON.stringify({ ...event, traceparent: TP })), {})).toBe(TP);
    expect(messageTraceparent(event, { 'Diagnostic-Id': other })).toBe(other);
    expect(messageTraceparent(event, { traceparent: 'junk' })).toBeUndefined();
  });
});

describe('invocation hooks', () => {
  it('HTTP: a SERVER span continuing the caller’s traceparent, with the route’s ids; the response carries its traceparent', async () => {
    const ctx = invocation('httpTrigger', { route: 'api/appointments/{appointmentId}/cancel' });
    const hook = { invocationContext: ctx, inputs: [] as unknown[], functionHandler: async () => ({ status: 200, jsonBody: { ok: true } }) as unknown };
    instrumentInvocation(hook as never);
    const request = new HttpRequest({
      method: 'POST',
      url: 'http://x/api/appointments/a1/cancel',
      headers: { traceparent: TP },
      params: { appointmentId: 'a1' },
    });
    const result = (await (hook.functionHandler as (...a: unknown[]) => Promise<{ headers: Headers; status: number }>)(request, ctx))!;
    const tp = result.headers.get('traceparent')!;
    expect(parseTraceparent(tp)!.traceId).toBe(parseTraceparent(TP)!.traceId);
    const [span] = telemetry.traces.get(parseTraceparent(TP)!.traceId)!.spans;
    expect(span).toMatchObject({
      name: 'POST /api/appointments/{appointmentId}/cancel',
      kind: 'SERVER',
      parentSpanId: 'b7ad6b7169203331',
      attributes: expect.objectContaining({ 'slotflow.appointment_id': 'a1', 'http.response.status_code': 200 }),
    });
  });

  it('HTTP: an HttpResponse keeps its body and gets the header; non-objects pass through', () => {
    const res = withTraceparentHeader(new HttpResponse({ status: 204 }), TP) as HttpResponse;
    expect(res.headers.get('traceparent')).toBe(TP);
    const init = withTraceparentHeader({ status: 200, headers: { 'content-type': 'text/xml' }, body: '<x/>' }, TP) as { headers: Headers; body: string };
    expect([init.headers.get('content-type'), init.headers.get('traceparent'), init.body]).toEqual(['text/xml', TP, '<x/>']);
    expect(withTraceparentHeader(undefined, TP)).toBeUndefined();
  });

  it('Service Bus: a CONSUMER span under the message’s traceparent', async () => {
    const ctx = invocation(
      'serviceBusTrigger',
      { topicName: 'scheduling-events', subscriptionName: 'backfill' },
      { messageId: 'm1', applicationProperties: { type: 'health.x.v1', subject: 'a1' } },
    );
    const hook = { invocationContext: ctx, inputs: [] as unknown[], functionHandler: async () => activeTraceparent() as unknown };
    instrumentInvocation(hook as never);
    const inner = (await (hook.functionHandler as (...a: unknown[]) => Promise<string>)({ traceparent: TP }, ctx))!;
    expect(parseTraceparent(inner)!.traceId).toBe(parseTraceparent(TP)!.traceId);
    const [span] = telemetry.traces.get(parseTraceparent(TP)!.traceId)!.spans;
    expect(span).toMatchObject({
      name: 'servicebus.process backfill',
      kind: 'CONSUMER',
      attributes: expect.objectContaining({ 'messaging.message.id': 'm1', 'cloudevents.event_type': 'health.x.v1' }),
    });
  });

  it('activities: the input is unwrapped before the handler runs, which runs in a span under the envelope’s context', async () => {
    const ctx = invocation('activityTrigger', {}, { instanceId: 'backfill-s1' });
    const seen: unknown[] = [];
    const hook = {
      invocationContext: ctx,
      inputs: [wrapActivityInput({ offerId: 'o1' }, TP)],
      functionHandler: async (input: unknown) => seen.push(input, trace.getActiveSpan() !== undefined),
    };
    instrumentInvocation(hook as never);
    expect(hook.inputs).toEqual([{ offerId: 'o1' }]);
    await (hook.functionHandler as (...a: unknown[]) => Promise<unknown>)(...hook.inputs, ctx);
    expect(seen).toEqual([{ offerId: 'o1' }, true]);
    expect(telemetry.traces.get(parseTraceparent(TP)!.traceId)!.spans[0]).toMatchObject({
      name: 'activity fn',
      attributes: expect.objectContaining({ 'slotflow.instance_id': 'backfill-s1' }),
    });
    // A plain input is left alone and traced by nothing.
    const plain = { invocationContext: ctx, inputs: [{ offerId: 'o2' }], functionHandler: async () => undefined };
    const original = plain.functionHandler;
    instrumentInvocation(plain as never);
    expect([plain.inputs, plain.functionHandler === original]).toEqual([[{ offerId: 'o2' }], true]);
  });
});

describe('tracedOrchestrator', () => {
  /** A durable context stand-in: records the activities scheduled, with a replay flag the test flips. */
  function fakeContext(input: unknown, replaying: boolean[]) {
    const scheduled: { name: string; input: unknown }[] = [];
    let i = 0;
    const df = {
      instanceId: 'backfill-s1',
      currentUtcDateTime: new Date('2026-03-03T09:00:00Z'),
      get isReplaying() {
        return replaying[Math.min(i, replaying.length - 1)]!;
      },
      getInput: () => input,
      callActivity: (name: string, activityInput?: unknown) => {
        i++;
        scheduled.push({ name, input: activityInput });
        return { name };
      },
      callActivityWithRetry: (name: string, _retry: unknown, activityInput?: unknown) => {
        i++;
        scheduled.push({ name, input: activityInput });
        return { name };
      },
    };
    return { context: { df } as never, scheduled };
  }

  function* orchestrator(context: { df: { callActivity(n: string, i?: unknown): unknown } }): Generator<unknown, string, unknown> {
    const a = yield context.df.callActivity('first', { n: 1 });
    const b = yield context.df.callActivity('second', { n: 2 });
    return `${String(a)}+${String(b)}`;
  }

  function drive(handler: (c: never) => unknown, context: never, results: unknown[]): unknown {
    const gen = handler(context) as Generator<unknown, unknown, unknown>;
    let step = gen.next();
    for (const r of results) step = gen.next(r);
    return step.value;
  }

  it('is the orchestrator itself without a trace context in the input: same tasks, same inputs, same output', () => {
    const completed = jest.fn();
    const { context, scheduled } = fakeContext({ slotId: 's1' }, [false]);
    expect(drive(tracedOrchestrator('backfill', orchestrator as never, { completed }), context, ['A', 'B'])).toBe('A+B');
    expect(scheduled).toEqual([
      { name: 'first', input: { n: 1 } },
      { name: 'second', input: { n: 2 } },
    ]);
    expect(telemetry.traces.allSpans()).toHaveLength(0);
    expect(completed).toHaveBeenCalledWith('A+B', { startedAt: Date.parse('2026-03-03T09:00:00Z'), endedAt: Date.parse('2026-03-03T09:00:00Z') });
  });

  it('with one: replayed activities carry the input’s context, new ones an episode span’s; the output is unchanged', () => {
    const { context, scheduled } = fakeContext({ slotId: 's1', traceparent: TP }, [true, false, false]);
    expect(drive(tracedOrchestrator('backfill', orchestrator as never), context, ['A', 'B'])).toBe('A+B');
    const [replayed, fresh] = scheduled.map((s) => unwrapActivityInput(s.input));
    expect(replayed).toEqual({ input: { n: 1 }, traceparent: TP });
    expect(fresh!.input).toEqual({ n: 2 });
    const episode = parseTraceparent(fresh!.traceparent)!;
    expect(episode.traceId).toBe(parseTraceparent(TP)!.traceId);
    const spans = telemetry.traces.get(episode.traceId)!.spans;
    expect(spans.map((s) => [s.name, s.parentSpanId, s.spanId === episode.spanId])).toEqual([['orchestration backfill', 'b7ad6b7169203331', true]]);
  });

  it('wraps every orchestration the app registers', () => {
    const dir = join(__dirname, '..', '..', '..', '..', 'orchestrations');
    const registrations = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/df\.app\.orchestration\(\s*(\w+),\s*([^\n]*)/g)].map((m) => `${f}: ${m[2]!.trim()}`));
    expect(registrations.length).toBeGreaterThanOrEqual(4);
    expect(registrations.filter((r) => !/: tracedOrchestrator/.test(r))).toEqual([]);
  });

  it('opens no span while replaying', () => {
    const { context } = fakeContext({ slotId: 's1', traceparent: TP }, [true]);
    otelContext.with(otelContext.active(), () => drive(tracedOrchestrator('backfill', orchestrator as never), context, ['A', 'B']));
    expect(telemetry.traces.allSpans()).toHaveLength(0);
  });
});

describe('metrics', () => {
  it('counts what the published events stand for, and the failures by code', async () => {
    const total = async (name: string) =>
      ((await telemetry.metrics()).find((m) => m.name === name)?.points ?? []).reduce((n, p) => n + (p.value ?? p.count ?? 0), 0);
    const before = {
      freed: await total('slotflow.slots.freed'),
      eligibility: await total('slotflow.eligibility.errors'),
      dead: await total('slotflow.messages.dead_lettered'),
      sms: await total('slotflow.sms.failures'),
    };
    recordEventMetrics({ type: 'health.scheduling.slot.released.v1', data: { reason: 'noshow' } });
    recordEventMetrics({ type: 'health.scheduling.eligibility.failed.v1', data: { outcome: 'inactive' } });
    recordEventMetrics({ type: 'health.scheduling.appointment.booked.v1', data: {} });
    telemetryMetrics.deadLetter('backfill', 'EVENT.INVALID');
    telemetryMetrics.smsFailure('21610');
    telemetryMetrics.smsFailure('+15551234567'); // not a code: recorded without the attribute
    expect(await total('slotflow.slots.freed')).toBe(before.freed + 1);
    expect(await total('slotflow.eligibility.errors')).toBe(before.eligibility + 1);
    expect(await total('slotflow.messages.dead_lettered')).toBe(before.dead + 1);
    expect(await total('slotflow.sms.failures')).toBe(before.sms + 2);
    const sms = (await telemetry.metrics()).find((m) => m.name === 'slotflow.sms.failures')!;
    expect(JSON.stringify(sms.points)).not.toContain('1555');
    expect(sms.points.map((p) => p.attributes.code)).toContain('21610');
  });
});
