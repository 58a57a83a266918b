// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * The routes the console added, in-process with real HttpRequest/InvocationContext over in-memory
 * services and a fixed clock (Monday 2 March 2026, 08:00 New York): calendar days, reschedule, patient
 * lookup and name search, absence preview, the timeline with SMS, backfill rounds. Every response is
 * checked against the OpenAPI document; errors are problem+json without PHI.
 */
import { bookAppointment, EventType, type WaitlistOffer } from '../../../../domain';
import type { GLPK } from 'glpk.js/node';
import { provideGlpk } from '../../../../domain/optimizer';
import { InMemorySmsMessages } from '../../../../domain/sms';
import { absenceInstanceId } from '../../../../orchestrations/names';
import { FakeDurableClient, NOW, P1_TUE_0900, P1_TUE_0930, principal, seed, type InvokeResult, type Seeded } from '../../../support/api-harness';
import { createCheckedCall } from '../../../support/api-spec';

import '../../../../functions/api/appointments';
import '../../../../functions/api/config';
import '../../../../functions/api/slots';
import '../../../../functions/api/waitlist';
import '../../../../functions/api/workflows';
import '../../../../functions/api/schedule-days';
import '../../../../functions/api/reschedule';
import '../../../../functions/api/patient-lookup';
import '../../../../functions/api/patient-search';
import '../../../../functions/api/absence-preview';
import '../../../../functions/api/appointment-timeline';
import '../../../../functions/api/backfill-rounds';
import '../../../../functions/ops/openapi';

let env: Seeded;

/** Invokes a route; checks the response against the OpenAPI document and errors for problem+json without PHI. */
const call = createCheckedCall();
const code = (r: InvokeResult) => (r.body as { code?: string }).code;
const fields = (r: InvokeResult) => ((r.body as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);
const schedulerC1 = principal(['scheduler'], ['c1'], 'staff-c1');
const schedulerC2 = principal(['scheduler'], ['c2'], 'staff-c2');
const ehr = principal(['ehr']);
const book = async (slotId: string, patientId = 'pat1', appointmentType = 'checkup') => {
  const r = await call('POST', '/api/appointments', { body: { slotId, patientId, appointmentType } });
  expect(r.status).toBe(201);
  return (r.body as { appointmentId: string }).appointmentId;
};
const offer = (over: Partial<WaitlistOffer> = {}): WaitlistOffer => ({
  offerId: 'ofr-1',
  clinicId: 'c1',
  slotId: P1_TUE_0930,
  waitlistEntryId: 'wl-1',
  patientId: 'pat2',
  workflowInstanceId: `backfill-${P1_TUE_0930}`,
  round: 1,
  status: 'sent',
  sentAt: NOW.toUTC().toISO()!,
  expiresAt: NOW.plus({ minutes: 30 }).toUTC().toISO()!,
  version: 1,
  ...over,
});

/** glpk.js is ESM-only; Jest's loader cannot require it, Node's own require can (as in test/unit/optimizer.test.ts). */
async function glpkForJest(): Promise<void> {
  const NodeFunction = Object.getPrototypeOf(process.hrtime).constructor as FunctionConstructor;
  const nodeRequire = new NodeFunction('file', "return process.getBuiltinModule('node:module').createRequire(file)")(__filename) as NodeJS.Require;
  provideGlpk(await (nodeRequire('glpk.js/node') as { default: () => Promise<GLPK> }).default());
}

beforeAll(glpkForJest);
beforeEach(async () => {
  env = await seed();
});

interface Day {
  date: string;
  slots: { slotId: string; state: string; past?: boolean; outsideHours?: boolean; appointment?: { appointmentId: string; patientId: string } }[];
}
interface Calendar {
  dates: string[];
  providers: { providerId: string; days: Day[] }[];
}

describe('GET /api/schedule/days', () => {
  test('a week of every provider: free, booked, held (open offer) and pending slots', async () => {
    await book(P1_TUE_0900);
    await env.offers.create(offer());
    const pat2 = (await env.services.patients.get('pat2'))!;
    await env.services.patients.put({ ...pat2, noShows: [NOW.minus({ days: 3 }).toISO()!, NOW.minus({ days: 9 }).toISO()!] });
    await bookAppointment(env.services, {
      slotId: 'p2.20260303T1600',
      patientId: 'pat2',
      appointmentType: 'checkup',
      channel: 'link',
      actor: { kind: 'patient', principalId: 'pat2' },
    });
    const r = await call('GET', '/api/schedule/days?clinicId=c1&from=2026-03-02&days=5');
    expect(r.status).toBe(200);
    const cal = r.body as Calendar;
    expect(cal.dates).toEqual(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06']);
    expect(cal.providers.map((p) => p.providerId)).toEqual(['p1', 'p2']);
    const tue = (p: string) => cal.providers.find((x) => x.providerId === p)!.days[1]!.slots;
    const slot = (p: string, id: string) => tue(p).find((s) => s.slotId === id)!;
    expect(tue('p1')).toHaveLength(16);
    expect(slot('p1', P1_TUE_0900)).toMatchObject({ state: 'booked', appointment: { patientId: 'pat1' } });
    expect(slot('p1', P1_TUE_0930)).toMatchObject({ state: 'held', offer: { offerId: 'ofr-1', round: 1 } });
    expect(slot('p2', 'p2.20260303T1600')).toMatchObject({ state: 'pending', appointment: { patientId: 'pat2' } });
    expect(slot('p1', 'p1.20260303T1500').state).toBe('free');
    // Monday: slots before 08:00 New York have not ended; none are past yet (09:00 is the first).
    expect(cal.providers[0]!.days[0]!.slots.some((s) => s.past)).toBe(false);
    // Every appointment and offer shown is audited, ids only.
    expect(env.audit.entries.filter((e) => e.action === 'read' && e.resourceType === 'Appointment')).toHaveLength(2);
    expect(env.audit.entries.filter((e) => e.resourceType === 'WaitlistOffer').map((e) => e.resourceId)).toEqual(['ofr-1']);
  });

  test('past slots are flagged; an appointment outside the generated slots still shows', async () => {
    const id = await book(P1_TUE_0900);
    // The provider's hours change after the booking: 09:00 is no longer a slot.
    const p1 = (await env.services.config.getProvider('p1'))!;
    await env.services.config.putProvider({ ...p1, weeklyHours: p1.weeklyHours.map((h) => ({ ...h, start: '10:00' })) });
    env.clock.set(NOW.plus({ days: 1, hours: 3 })); // Tuesday 11:00
    const cal = (await call('GET', '/api/schedule/days?clinicId=c1&from=2026-03-03&days=1')).body as Calendar;
    const slots = cal.providers[0]!.days[0]!.slots;
    expect(slots[0]).toMatchObject({ slotId: P1_TUE_0900, state: 'booked', outsideHours: true, past: true, appointment: { appointmentId: id } });
    expect(slots.find((s) => s.slotId === 'p1.20260303T1500')).toMatchObject({ state: 'free', past: true });
    expect(slots.find((s) => s.slotId === 'p1.20260303T1700')).toMatchObject({ state: 'free' });
    expect(slots.find((s) => s.slotId === 'p1.20260303T1700')!.past).toBeUndefined();
  });

  test('validation, unknown ids, roles and clinic scope', async () => {
    expect(fields(await call('GET', '/api/schedule/days?clinicId=c1&from=2026-03-02&days=8'))).toEqual(['query.days']);
    expect(fields(await call('GET', '/api/schedule/days?clinicId=c1&from=March'))).toEqual(['query.from']);
    expect(fields(await call('GET', '/api/schedule/days?clinicId=c1&from=2026-03-02&x=1'))).toEqual(['query']);
    expect(code(await call('GET', '/api/schedule/days?clinicId=zz&from=2026-03-02'))).toBe('CLINIC.NOT_FOUND');
    expect(code(await call('GET', '/api/schedule/days?clinicId=c1&from=2026-03-02&providerId=p9'))).toBe('PROVIDER.NOT_FOUND');
    expect(code(await call('GET', '/api/schedule/days?clinicId=c1&from=2026-03-02', { principal: schedulerC2 }))).toBe('AUTH.CLINIC_FORBIDDEN');
    expect((await call('GET', '/api/schedule/days?clinicId=c1&from=2026-03-02', { principal: ehr })).status).toBe(403);
    const one = (await call('GET', '/api/schedule/days?clinicId=c1&from=2026-03-02&providerId=p2', { principal: schedulerC1 })).body as Calendar;
    expect(one.providers.map((p) => p.providerId)).toEqual(['p2']);
  });
});

describe('POST /api/appointments/{id}/reschedule', () => {
  test('moves the appointment and releases the old slot with reason rescheduled (which starts its backfill)', async () => {
    const id = await book(P1_TUE_0900);
    const r = await call('POST', `/api/appointments/${id}/reschedule`, {
      body: { slotId: 'p2.20260303T1500' },
      headers: { 'x-slotflow-client': 'console', 'idempotency-key': 'k1' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ appointmentId: id, slotId: 'p2.20260303T1500', providerId: 'p2', previousSlotId: P1_TUE_0900, status: 'booked' });
    const released = env.publisher.published.filter((e) => e.type === EventType.slotReleased);
    expect(released.map((e) => [e.data, e.subject])).toEqual([[expect.objectContaining({ reason: 'rescheduled' }), P1_TUE_0900]]);
    expect(env.publisher.published.some((e) => e.type === EventType.appointmentRescheduled)).toBe(true);
    // The old slot is free again; the replayed request changes nothing.
    expect((await call('POST', '/api/appointments', { body: { slotId: P1_TUE_0900, patientId: 'pat2', appointmentType: 'checkup' } })).status).toBe(201);
    const replay = await call('POST', `/api/appointments/${id}/reschedule`, { body: { slotId: 'p2.20260303T1500' }, headers: { 'idempotency-key': 'k1' } });
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([200, 'true']);
    expect(env.audit.entries.filter((e) => e.action === 'update' && e.resourceId === id)).toHaveLength(1);
  });

  test('a taken slot is 409, a cancelled appointment 409, bad input 400, other clinic 403 (audited)', async () => {
    const id = await book(P1_TUE_0900);
    await book('p2.20260303T1500', 'pat2');
    expect(code(await call('POST', `/api/appointments/${id}/reschedule`, { body: { slotId: 'p2.20260303T1500' } }))).toBe('APPOINTMENT.SLOT_TAKEN');
    expect(fields(await call('POST', `/api/appointments/${id}/reschedule`, { body: { slot: 'x' } }))).toEqual(expect.arrayContaining(['body.slotId']));
    expect(code(await call('POST', `/api/appointments/${id}/reschedule`, { body: { slotId: 'nonsense' } }))).toBe('SLOT.NOT_FOUND');
    expect(code(await call('POST', '/api/appointments/apt-none/reschedule', { body: { slotId: 'p2.20260303T1530' } }))).toBe('APPOINTMENT.NOT_FOUND');
    const denied = await call('POST', `/api/appointments/${id}/reschedule`, { body: { slotId: 'p2.20260303T1530' }, principal: schedulerC2 });
    expect(code(denied)).toBe('AUTH.CLINIC_FORBIDDEN');
    expect(env.audit.entries.some((e) => e.outcome === 'denied' && e.resourceId === id)).toBe(true);
    await call('POST', `/api/appointments/${id}/cancel`, { body: {} });
    expect(code(await call('POST', `/api/appointments/${id}/reschedule`, { body: { slotId: 'p2.20260303T1530' } }))).toBe('APPOINTMENT.INVALID_TRANSITION');
  });
});

describe('patients: lookup by id, search by name', () => {
  test('lookup returns the card and audits the read; unknown 404; a patient of another clinic 403 (audited)', async () => {
    const r = await call('GET', '/api/patients/pat1');
    expect(r.body).toEqual({
      patientId: 'pat1',
      name: 'Ada Lovelace',
      phone: '+14155550101',
      smsConsent: true,
      smsOptedOut: false,
      clinicIds: [],
      noShows: 0,
    });
    expect(env.audit.entries.at(-1)).toMatchObject({ action: 'read', resourceType: 'Patient', patientId: 'pat1', outcome: 'success' });
    expect(code(await call('GET', '/api/patients/nobody'))).toBe('PATIENT.NOT_FOUND');
    expect(code(await call('GET', '/api/patients/pat3?clinicId=c1', { principal: schedulerC1 }))).toBe('AUTH.CLINIC_FORBIDDEN');
    expect(env.audit.entries.at(-1)).toMatchObject({ patientId: 'pat3', outcome: 'denied' });
    // An organisation-wide record is visible to clinic staff through their clinic.
    expect((await call('GET', '/api/patients/pat1?clinicId=c1', { principal: schedulerC1 })).status).toBe(200);
    expect((await call('GET', '/api/patients/pat1', { principal: schedulerC1 })).status).toBe(403);
  });

  test('search matches every word case-insensitively, audits each match, and is limited to visible patients', async () => {
    const r = await call('POST', '/api/patients/search', { body: { name: 'ada LOVE' } });
    expect(r.body).toEqual({ patients: [{ patientId: 'pat1', name: 'Ada Lovelace', clinicIds: [] }] });
    expect(env.audit.entries.at(-1)).toMatchObject({ action: 'search', resourceType: 'Patient', resourceId: 'pat1', patientId: 'pat1' });
    const all = (await call('POST', '/api/patients/search', { body: { name: 'a' + 'n' } })).body as { patients: { patientId: string }[] };
    expect(all.patients.map((p) => p.patientId)).toEqual(['pat3']); // Alan Turing
    const scoped = await call('POST', '/api/patients/search', { body: { name: 'an', clinicId: 'c1' }, principal: schedulerC1 });
    expect(scoped.body).toEqual({ patients: [] });
    expect(env.audit.entries.at(-1)).toMatchObject({ action: 'search', resourceType: 'Patient', resourceId: 'name-search' });
    expect(env.audit.entries.at(-1)!.patientId).toBeUndefined();
  });

  test('search: too short or unknown fields are 400 without echoing the name; role ehr is 403', async () => {
    const short = await call('POST', '/api/patients/search', { body: { name: ' G ' } });
    expect([short.status, fields(short)]).toEqual([400, ['body.name']]);
    const extra = await call('POST', '/api/patients/search', { body: { name: 'Grace Hopper', phone: '+14155550102' } });
    expect(extra.status).toBe(400);
    expect(extra.text).not.toContain('Grace');
    expect((await call('POST', '/api/patients/search', { body: { name: 'Grace' }, principal: ehr })).status).toBe(403);
  });
});

describe('POST /api/providers/{id}/absences/preview', () => {
  const window = { from: '2026-03-03T09:00:00-05:00', to: '2026-03-03T12:00:00-05:00', reason: 'sick' };

  test('lists the displaced appointments with the proposed slot and reason, and changes nothing', async () => {
    const a = await book(P1_TUE_0900, 'pat1');
    const b = await book('p1.20260303T1500', 'pat2');
    await book('p1.20260303T1900', 'pat3'.replace('3', '1')); // 14:00, outside the window: stays
    const before = JSON.stringify(await env.services.config.getProvider('p1'));
    const published = env.publisher.published.length;
    const r = await call('POST', '/api/providers/p1/absences/preview', { body: window });
    expect(r.status).toBe(200);
    const preview = r.body as {
      instanceId: string;
      displaced: { appointmentId: string; patientName?: string; proposal?: { providerId: string; start: string; reason: string } }[];
      optimizer: { status: string };
    };
    expect(preview.instanceId).toBe(absenceInstanceId('p1', window.from, window.to));
    expect(preview.displaced.map((d) => d.appointmentId)).toEqual([a, b]);
    expect(preview.displaced.map((d) => d.patientName)).toEqual(['Ada Lovelace', 'Grace Hopper']);
    for (const d of preview.displaced) {
      expect(d.proposal).toBeDefined();
      expect(d.proposal!.reason.length).toBeGreaterThan(0);
      // Not into the absence: another provider, or p1 after it.
      const start = Date.parse(d.proposal!.start);
      expect(d.proposal!.providerId !== 'p1' || start >= Date.parse(window.to)).toBe(true);
    }
    expect(preview.optimizer.status).toMatch(/optimal|feasible/);
    expect(JSON.stringify(await env.services.config.getProvider('p1'))).toBe(before);
    expect(env.publisher.published.length).toBe(published);
    expect((await env.services.appointments.get(a))?.status).toBe('booked');
    expect(env.audit.entries.filter((e) => e.resourceType === 'Patient' && e.action === 'read').map((e) => e.patientId)).toEqual(['pat1', 'pat2']);
  });

  test('an empty window, bad windows, unknown provider, other clinic', async () => {
    const empty = (await call('POST', '/api/providers/p2/absences/preview', { body: window })).body as { displaced: unknown[]; optimizer: { status: string } };
    expect(empty).toMatchObject({ displaced: [], optimizer: { status: 'empty' } });
    expect(fields(await call('POST', '/api/providers/p1/absences/preview', { body: { from: window.to, to: window.from } }))).toEqual(['body.to']);
    expect(fields(await call('POST', '/api/providers/p1/absences/preview', { body: { from: '2026-03-03 09:00', to: window.to } }))).toEqual(['body.from']);
    expect(code(await call('POST', '/api/providers/p9/absences/preview', { body: window }))).toBe('PROVIDER.NOT_FOUND');
    expect(code(await call('POST', '/api/providers/p1/absences/preview', { body: window, principal: schedulerC2 }))).toBe('AUTH.CLINIC_FORBIDDEN');
  });
});

describe('GET /api/appointments/{id}/timeline', () => {
  test('events, the SMS about the appointment with delivery status, and the offers for its slot', async () => {
    const sms = new InMemorySmsMessages();
    env.services.smsMessages = sms;
    const id = await book(P1_TUE_0900);
    const at = NOW.toUTC().toISO()!;
    await sms.create({
      messageId: 'SM1',
      patientId: 'pat1',
      purpose: 'reminder',
      template: 'reminder',
      correlationId: id,
      status: 'queued',
      sentAt: at,
      updatedAt: at,
    });
    await sms.advance('SM1', 'delivered', NOW.plus({ minutes: 1 }).toUTC().toISO()!);
    await sms.create({
      messageId: 'SM2',
      patientId: 'pat1',
      purpose: 'reply',
      template: 'help',
      correlationId: 'SMx',
      status: 'sent',
      sentAt: at,
      updatedAt: at,
    });
    await call('POST', `/api/appointments/${id}/cancel`, { body: { reason: 'patient-request' } });
    await env.offers.create(offer({ slotId: P1_TUE_0900, sentAt: NOW.plus({ minutes: 2 }).toUTC().toISO()!, workflowInstanceId: `backfill-${P1_TUE_0900}` }));
    const r = await call('GET', `/api/appointments/${id}/timeline`);
    expect(r.status).toBe(200);
    const t = r.body as { events: { kind: string }[]; sms: { messageId: string; status: string }[]; offers: { offerId: string; patientId: string }[] };
    expect(t.events.map((e) => e.kind)).toEqual(['booked', 'cancelled', 'offer']);
    expect(t.sms).toEqual([expect.objectContaining({ messageId: 'SM1', status: 'delivered', purpose: 'reminder' })]);
    expect(t.offers).toEqual([expect.objectContaining({ offerId: 'ofr-1', patientId: 'pat2' })]);
    expect(r.text).not.toContain('+1415');
    expect(env.audit.entries.some((e) => e.resourceType === 'SmsMessage' && e.resourceId === 'SM1')).toBe(true);
    expect(code(await call('GET', '/api/appointments/apt-none/timeline'))).toBe('APPOINTMENT.NOT_FOUND');
    expect(code(await call('GET', `/api/appointments/${id}/timeline`, { principal: schedulerC2 }))).toBe('AUTH.CLINIC_FORBIDDEN');
  });
});

describe('GET /api/backfills', () => {
  test('offers grouped by workflow and round, with the workflow status when the engine answers', async () => {
    const wf = `backfill-${P1_TUE_0930}`;
    await env.offers.create(offer({ offerId: 'o1', patientId: 'pat1', status: 'expired', respondedAt: NOW.plus({ minutes: 30 }).toUTC().toISO()! }));
    await env.offers.create(offer({ offerId: 'o2', round: 2, sentAt: NOW.plus({ minutes: 31 }).toUTC().toISO()! }));
    await env.offers.create(offer({ offerId: 'o3', clinicId: 'c2', slotId: 'p3.20260303T0800', workflowInstanceId: 'backfill-p3.20260303T0800' }));
    env.clock.set(NOW.plus({ minutes: 40 }));
    const client = new FakeDurableClient();
    await client.startNew('backfillOrchestrator', { instanceId: wf, input: { slotId: P1_TUE_0930 } });
    client.instances.get(wf)!.runtimeStatus = 'Running';
    client.instances.get(wf)!.customStatus = { round: 2 };
    const r = await call('GET', '/api/backfills?clinicId=c1', { extraInputs: { durableClient: client } });
    expect(r.body).toMatchObject({
      workflows: [
        {
          instanceId: wf,
          slotId: P1_TUE_0930,
          providerId: 'p1',
          slotStart: '2026-03-03T09:30:00-05:00',
          outcome: 'offering',
          runtimeStatus: 'Running',
          customStatus: { round: 2 },
          rounds: [
            { round: 1, offers: [{ offerId: 'o1', status: 'expired' }] },
            { round: 2, offers: [{ offerId: 'o2', status: 'sent' }] },
          ],
        },
      ],
    });
    // Without a workflow engine the offers still show; an old window shows nothing.
    const bare = (await call('GET', '/api/backfills?clinicId=c1')).body as { workflows: { runtimeStatus?: string }[] };
    expect(bare.workflows[0]!.runtimeStatus).toBeUndefined();
    env.clock.set(NOW.plus({ days: 2 }));
    expect((await call('GET', '/api/backfills?clinicId=c1&hours=1')).body).toMatchObject({ workflows: [] });
    expect(fields(await call('GET', '/api/backfills?clinicId=c1&hours=500'))).toEqual(['query.hours']);
    expect(code(await call('GET', '/api/backfills?clinicId=c1', { principal: schedulerC2 }))).toBe('AUTH.CLINIC_FORBIDDEN');
  });
});
