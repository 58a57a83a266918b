/**
 * Distributed tracing end to end through the local host: one trace id follows the backfill journey
 * (cancel request -> outbox -> Service Bus -> backfill orchestration -> activities -> offer SMS ->
 * the patient's YES -> booking), read back through GET /_host/traces/{traceId}; every response
 * carries `traceparent`; span attributes carry no PHI; the operators' metrics count the journey.
 */
import { DateTime } from 'luxon';
import { apiClient, eventually, outbox, sendInboundSms } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

jest.setTimeout(180_000);

const TOKEN = 'e2e-twilio-auth-token';
const CLINIC = 'tr-clinic';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;
let host: LocalHostProcess;
let api: ReturnType<typeof apiClient>;

const patients = [
  { patientId: 'tr-p1', name: 'Rosalind Quimby', phone: '+15557770101' },
  { patientId: 'tr-p2', name: 'Bartholomew Okonkwo', phone: '+15557770102' },
];

interface SpanView {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  offsetMs: number;
  durationMs: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  children: SpanView[];
}
interface TraceView {
  traceId: string;
  summary: { rootSpanName: string; durationMs: number; spanCount: number };
  spans: SpanView[];
}

async function must(method: string, path: string, body?: unknown) {
  const r = await api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
  return r.body;
}

async function hostGet<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${host.baseUrl}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

const flatten = (spans: SpanView[]): SpanView[] => spans.flatMap((s) => [s, ...flatten(s.children)]);

/** The spans on the path from the root to the first span named like `name`, or undefined. */
function pathTo(spans: SpanView[], name: RegExp): SpanView[] | undefined {
  for (const s of spans) {
    if (name.test(s.name)) return [s];
    const below = pathTo(s.children, name);
    if (below) return [s, ...below];
  }
  return undefined;
}

beforeAll(async () => {
  host = await startLocalHost({ env: { TWILIO_AUTH_TOKEN: TOKEN } });
  api = apiClient(host.baseUrl);
  await must('PUT', `/api/clinics/${CLINIC}`, {
    name: 'Trace Clinic',
    timeZone: 'UTC',
    offerPolicy: {
      batchSize: 1,
      maxRounds: 2,
      expiryFraction: 0.01,
      minExpiryMinutes: 5,
      maxExpiryMinutes: 5,
      minLeadMinutes: 5,
      quietStart: '00:00',
      quietEnd: '00:00',
    },
  });
  await must('PUT', '/api/appointment-types/tr-visit', { clinicId: CLINIC, name: 'Visit', durationMinutes: 30 });
  const allDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  await must('PUT', '/api/providers/tr-dr', { clinicId: CLINIC, name: 'tr-dr', appointmentTypes: ['tr-visit'], weeklyHours: allDay, slotMinutes: 30 });
  for (const p of patients) {
    await must('PUT', `/api/patients/${p.patientId}`, {
      name: p.name,
      phone: p.phone,
      smsConsent: true,
      coverage: { payerId: 'payer', memberId: 'M1' },
      clinicIds: [CLINIC],
    });
  }
});

afterAll(async () => {
  await host?.stop();
});

describe('traceparent on every API response', () => {
  it('answers with a W3C traceparent on success, on problems and on 401, and continues a caller’s trace', async () => {
    const principal = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'roles', val: 'scheduler' }] })).toString('base64');
    const ok = await fetch(`${host.baseUrl}/api/waitlist?clinicId=${CLINIC}`, { headers: { 'x-ms-client-principal': principal } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('traceparent')).toMatch(TRACEPARENT);
    const notFound = await fetch(`${host.baseUrl}/api/appointments/nope`, { headers: { 'x-ms-client-principal': principal } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('traceparent')).toMatch(TRACEPARENT);
    const unauthenticated = await fetch(`${host.baseUrl}/api/appointments/nope`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('traceparent')).toMatch(TRACEPARENT);
    // The host's own answers (health, no such route) carry one too (not sampled: nothing recorded).
    for (const path of ['/api/health', '/api/no-such-route'])
      expect((await fetch(`${host.baseUrl}${path}`)).headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const continued = await fetch(`${host.baseUrl}/api/appointments/nope`, { headers: { traceparent: caller } });
    const [, traceId] = TRACEPARENT.exec(continued.headers.get('traceparent') ?? '')!;
    expect(traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    const trace = await hostGet<TraceView>(`/_host/traces/${traceId}`);
    expect(trace.status).toBe(200);
    expect(trace.body.spans[0]!.parentSpanId).toBe('b7ad6b7169203331');
  });
});

describe('one trace per journey', () => {
  let cancelTraceId: string;
  let webhookTraceId: string;
  let appointmentId: string;

  it('book, cancel with a waitlist, accept by SMS: one trace id links cancel, Service Bus, backfill, offer SMS, reply and booking', async () => {
    const [p1, p2] = patients;
    const now = DateTime.utc();
    const q = new URLSearchParams({
      clinicId: CLINIC,
      appointmentType: 'tr-visit',
      providerId: 'tr-dr',
      from: now.plus({ hours: 6 }).toISO()!,
      to: now.plus({ hours: 30 }).toISO()!,
    });
    const slot = ((await must('GET', `/api/slots?${q}`)) as { slots: { slotId: string }[] }).slots[0]!;
    appointmentId = String(
      (await must('POST', '/api/appointments', { slotId: slot.slotId, patientId: p1!.patientId, appointmentType: 'tr-visit' })).appointmentId,
    );
    await must('POST', '/api/waitlist', { patientId: p2!.patientId, clinicId: CLINIC, appointmentType: 'tr-visit', providerIds: ['tr-dr'], urgency: 'urgent' });

    const since = new Date().toISOString();
    const cancel = await fetch(`${host.baseUrl}/api/appointments/${appointmentId}/cancel`, {
      method: 'POST',
      headers: {
        'x-ms-client-principal': Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'roles', val: 'scheduler' }] })).toString('base64'),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ reason: 'patient-request' }),
    });
    expect(cancel.status).toBe(200);
    cancelTraceId = TRACEPARENT.exec(cancel.headers.get('traceparent') ?? '')![1]!;

    const offer = await eventually(
      async () => (await outbox(host.baseUrl, p2!.phone)).find((m) => m.sentAt >= since && /Reply YES/i.test(m.body)),
      15_000,
      'the offer SMS',
    );
    const yes = await sendInboundSms(host.baseUrl, TOKEN, offer.to, 'YES');
    expect(yes.status).toBe(200);

    const booked = await eventually(
      async () => {
        const trace = await hostGet<TraceView>(`/_host/traces/${cancelTraceId}`);
        if (trace.status !== 200) return undefined;
        const spans = flatten(trace.body.spans);
        return spans.some((s) => s.name === 'activity backfillBook') &&
          spans.some((s) => s.name === 'offer.reply') &&
          spans.some((s) => s.name === 'servicebus.process eligibility')
          ? trace.body
          : undefined;
      },
      20_000,
      'the booking in the cancel trace',
    );

    // The root is the cancel request; the journey hangs below it, hop by hop.
    expect(booked.spans).toHaveLength(1);
    const root = booked.spans[0]!;
    expect(root.name).toBe('POST /api/appointments/{appointmentId}/cancel');
    expect(root.kind).toBe('SERVER');
    expect(root.attributes['slotflow.appointment_id']).toBe(appointmentId);
    const offerPath = pathTo(booked.spans, /^sms\.send/)!;
    expect(offerPath.map((s) => s.name)).toEqual([
      'POST /api/appointments/{appointmentId}/cancel',
      'use-case cancelAppointment',
      'servicebus.send scheduling-events',
      'servicebus.process backfill',
      'orchestration backfillOrchestrator',
      'activity backfillSendOffer',
      'sms.send outbox',
    ]);
    const spans = flatten(booked.spans);
    expect(spans.filter((s) => s.name.startsWith('cosmos ')).length).toBeGreaterThan(3);
    expect(offerPath[1]!.children.some((s) => /^cosmos (batch|replace|patch|create) schedule$/.test(s.name))).toBe(true);
    const consumer = offerPath[3]!;
    expect(consumer.kind).toBe('CONSUMER');
    expect(consumer.attributes['cloudevents.event_type']).toBe('health.scheduling.slot.released.v1');

    // The reply is in the offer's trace, linked to the webhook request's own trace (Twilio sends no trace context).
    const reply = spans.find((s) => s.name === 'offer.reply')!;
    expect(reply.attributes['slotflow.reply']).toBe('yes');
    expect(reply.links).toHaveLength(1);
    webhookTraceId = reply.links[0]!.traceId;
    expect(webhookTraceId).not.toBe(cancelTraceId);
    // The booking: an episode after the reply books in an activity, which publishes the booking's events.
    const toBooking = pathTo(booked.spans, /^activity backfillBook$/)!.map((s) => s.name);
    expect(toBooking.slice(-3)).toEqual(['servicebus.process backfill', 'orchestration backfillOrchestrator', 'activity backfillBook']);
    expect(pathTo(booked.spans, /^servicebus\.process eligibility$/)).toBeDefined();

    console.log(`journey trace ${cancelTraceId}: ${booked.summary.spanCount} spans over ${booked.summary.durationMs} ms`);
    const webhook = await hostGet<TraceView>(`/_host/traces/${webhookTraceId}`);
    expect(webhook.status).toBe(200);
    expect(webhook.body.summary.rootSpanName).toBe('POST /api/sms/inbound');
    expect(webhook.body.spans[0]!.links.map((l) => l.traceId)).toContain(cancelTraceId);
  });

  it('lists traces newest first with root span and duration, and finds an appointment’s traces', async () => {
    const list = await hostGet<{ traces: { traceId: string; rootSpanName: string; start: string; durationMs: number }[] }>('/_host/traces?limit=50');
    expect(list.status).toBe(200);
    const starts = list.body.traces.map((t) => t.start);
    expect(starts).toEqual([...starts].sort().reverse());
    const cancel = list.body.traces.find((t) => t.traceId === cancelTraceId)!;
    expect(cancel.rootSpanName).toBe('POST /api/appointments/{appointmentId}/cancel');
    expect(cancel.durationMs).toBeGreaterThan(0);
    expect((await hostGet<{ traces: unknown[] }>('/_host/traces?limit=1')).body.traces).toHaveLength(1);
    const mine = await hostGet<{ traces: { traceId: string }[] }>(`/_host/traces?limit=50&id=${appointmentId}`);
    expect(mine.body.traces.map((t) => t.traceId)).toContain(cancelTraceId);
  });

  it('carries no PHI in any span of any stored trace: no names, phone numbers or message bodies', async () => {
    const list = await hostGet<{ traces: { traceId: string }[] }>('/_host/traces?limit=9999');
    const rendered: string[] = [];
    for (const t of list.body.traces) rendered.push(JSON.stringify((await hostGet<TraceView>(`/_host/traces/${t.traceId}`)).body));
    const all = rendered.join('\n');
    expect(all).toContain(cancelTraceId);
    const bodies = (await outbox(host.baseUrl)).map((m) => m.body).filter((b) => b.length > 12);
    expect(bodies.length).toBeGreaterThan(0);
    for (const p of patients) {
      for (const part of p.name.split(' ')) expect(all).not.toContain(part);
      expect(all).not.toContain(p.phone);
      expect(all).not.toContain(p.phone.slice(1));
      expect(all).not.toContain(p.phone.slice(2));
    }
    for (const body of bodies) expect(all).not.toContain(body);
    expect(all).not.toMatch(/Reply YES|Trace Clinic/i);
  });

  it('counts the journey in the operators’ metrics (GET /_host/metrics)', async () => {
    const { body } = await hostGet<{
      metrics: { name: string; type: string; points: { value?: number; count?: number; attributes: Record<string, unknown> }[] }[];
    }>('/_host/metrics');
    const total = (name: string) => body.metrics.find((m) => m.name === name)?.points.reduce((n, p) => n + (p.value ?? p.count ?? 0), 0) ?? 0;
    expect(total('slotflow.slots.freed')).toBeGreaterThanOrEqual(1);
    expect(total('slotflow.offers.sent')).toBeGreaterThanOrEqual(1);
    expect(total('slotflow.backfill.fills')).toBeGreaterThanOrEqual(1);
    const ttf = body.metrics.find((m) => m.name === 'slotflow.backfill.time_to_fill');
    expect(ttf?.type).toBe('histogram');
    expect(ttf?.points[0]?.count).toBeGreaterThanOrEqual(1);
    expect(body.metrics.find((m) => m.name === 'slotflow.slots.freed')!.points.map((p) => p.attributes.reason)).toContain('cancelled');
    const solves = body.metrics.find((m) => m.name === 'slotflow.optimizer.solve_time');
    expect(solves?.points.find((p) => p.attributes.purpose === 'waitlist-ranking')?.count).toBeGreaterThanOrEqual(1);
    // Nothing failed in this journey: the failure counters exist only once something fails.
    expect(total('slotflow.messages.dead_lettered') + total('slotflow.sms.failures')).toBe(0);
  });

  it('answers bad trace queries with problem+json', async () => {
    expect((await hostGet('/_host/traces?limit=abc')).status).toBe(400);
    expect((await hostGet('/_host/traces?limit=0')).status).toBe(400);
    expect((await hostGet('/_host/traces/not-a-trace')).status).toBe(400);
    const missing = await hostGet<{ code: string }>(`/_host/traces/${'f'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('TRACE.NOT_FOUND');
  });
});
