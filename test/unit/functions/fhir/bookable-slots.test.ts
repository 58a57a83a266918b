// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * A slot listed as free can be booked through the channel that listed it, at that moment: GET /api/slots (front
 * desk), GET /fhir/Slot?status=free and Appointment/$find (EHR) and the SMART Scheduling Links Slot file (booked
 * through a self-scheduling link, so the minimum notice applies) never list a slot that has started, nor one the
 * booking rules of that channel refuse (bookableWindow in domain/booking-rules.ts).
 */
import { DateTime } from 'luxon';
import { invoke, principal, seed, type Seeded } from '../../../support/api-harness';
import { expectValidFhir } from '../../../support/fhir-schema';

import '../../../../functions/api/appointments';
import '../../../../functions/api/slots';
import '../../../../functions/fhir/appointment';
import '../../../../functions/fhir/bulk-publish';
import '../../../../functions/fhir/slot';

const EHR = principal(['ehr'], undefined, 'ehr-1');
const SCHEDULER = principal(['scheduler']);
/** Tuesday 3 March 2026, 09:10 in New York: p1's 09:00 slot has started; the clinic's minimum notice is 60 minutes. */
const TUE_0910 = DateTime.fromISO('2026-03-03T14:10:00Z', { zone: 'utc' });
const slotAt = (provider: string, utc: string) => `${provider}.${utc}`;
const P1_0900 = slotAt('p1', '20260303T1400');
const P1_0930 = slotAt('p1', '20260303T1430');
const P1_1000 = slotAt('p1', '20260303T1500');
const P1_1030 = slotAt('p1', '20260303T1530');

let env: Seeded;
beforeEach(async () => {
  env = await seed();
  env.clock.set(TUE_0910);
});

const tuesday = 'from=2026-03-03T00:00:00-05:00&to=2026-03-04T00:00:00-05:00';
interface Res {
  resourceType: string;
  id?: string;
  status?: string;
  start?: string;
  slot?: { reference: string }[];
}
const resources = (b: unknown) => ((b as { entry?: { resource: Res }[] }).entry ?? []).map((e) => e.resource);
const ndjson = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Res);

async function book(slotId: string) {
  return invoke('POST', '/api/appointments', { principal: SCHEDULER, body: { slotId, patientId: 'pat1', appointmentType: 'checkup' } });
}

test('GET /api/slots lists no slot that has started; the first one listed can be booked', async () => {
  const r = await invoke('GET', `/api/slots?clinicId=c1&appointmentType=checkup&providerId=p1&${tuesday}`, { principal: SCHEDULER });
  expect(r.status).toBe(200);
  const ids = (r.body as { slots: { slotId: string }[] }).slots.map((s) => s.slotId);
  expect(ids).not.toContain(P1_0900);
  // Staff are not bound by the minimum notice (checkBooking applies it to self-service channels only).
  expect(ids[0]).toBe(P1_0930);
  expect((await book(P1_0900)).body).toMatchObject({ code: 'APPOINTMENT.IN_THE_PAST' });
  expect((await book(ids[0]!)).status).toBe(201);
});

test('GET /api/slots lists no slot beyond the booking horizon (90 days)', async () => {
  const r = await invoke('GET', '/api/slots?clinicId=c1&appointmentType=checkup&providerId=p1&from=2026-05-29T00:00:00-04:00&to=2026-06-04T00:00:00-04:00', {
    principal: SCHEDULER,
  });
  const starts = (r.body as { slots: { start: string }[] }).slots.map((s) => Date.parse(s.start));
  const horizon = TUE_0910.plus({ days: 90 }).toMillis();
  expect(starts.length).toBeGreaterThan(0);
  expect(starts.every((s) => s <= horizon)).toBe(true);
  expect(starts.at(-1)).toBe(Date.parse('2026-06-01T10:00:00-04:00')); // 90 days after 09:10 EST is 10:10 EDT
  const last = (r.body as { slots: { slotId: string }[] }).slots.at(-1)!;
  expect((await book(last.slotId)).status).toBe(201);
});

test('GET /fhir/Slot: a started slot is busy-unavailable, never free; status=free lists only bookable slots', async () => {
  const all = await invoke('GET', '/fhir/Slot?schedule=Schedule/p1&start=ge2026-03-03T09:00:00-05:00&start=lt2026-03-03T10:00:00-05:00', { principal: EHR });
  expect(all.status).toBe(200);
  expectValidFhir(all.body);
  expect(resources(all.body).map((s) => [s.id, s.status])).toEqual([
    [P1_0900, 'busy-unavailable'],
    [P1_0930, 'free'],
  ]);
  const free = await invoke('GET', '/fhir/Slot?schedule=Schedule/p1&status=free&start=ge2026-03-03&start=lt2026-03-04', { principal: EHR });
  const ids = resources(free.body).map((s) => s.id);
  expect(ids[0]).toBe(P1_0930);
  expect(ids).not.toContain(P1_0900);
  const unavailable = await invoke('GET', '/fhir/Slot?schedule=Schedule/p1&status=busy-unavailable&start=ge2026-03-03&start=lt2026-03-04', { principal: EHR });
  expect(resources(unavailable.body).map((s) => s.id)).toEqual([P1_0900]);
});

test('Appointment/$find proposes no slot that has started', async () => {
  const r = await invoke('POST', '/fhir/Appointment/$find', {
    principal: EHR,
    headers: { 'content-type': 'application/fhir+json' },
    body: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'start', valueDateTime: '2026-03-03T00:00:00-05:00' },
        { name: 'end', valueDateTime: '2026-03-04T00:00:00-05:00' },
        { name: 'practitioner', valueReference: { reference: 'Practitioner/p1' } },
        { name: 'visit-type', valueCode: 'checkup' },
      ],
    },
  });
  expect(r.status).toBe(200);
  expectValidFhir(r.body);
  const slots = resources(r.body).map((a) => a.slot?.[0]?.reference);
  expect(slots[0]).toBe(`Slot/${P1_0930}`);
  expect(slots).not.toContain(`Slot/${P1_0900}`);
  expect((r.body as { total: number }).total).toBe(15);
});

test('SMART Slot file: slots inside the minimum notice are busy (the deep link books under self-scheduling rules)', async () => {
  const r = await invoke('GET', '/fhir/$bulk-publish/Slot.ndjson', { principal: EHR });
  expect(r.status).toBe(200);
  const slots = ndjson(r.text);
  const statusOf = (id: string) => slots.find((s) => s.id === id)?.status;
  expect(statusOf(P1_0900)).toBeUndefined(); // started: not published
  expect(statusOf(P1_0930)).toBe('busy'); // 20 minutes ahead, notice is 60
  expect(statusOf(P1_1000)).toBe('busy');
  expect(statusOf(P1_1030)).toBe('free');
  for (const s of slots) expectValidFhir(s);
});

test('SMART Slot file with _since: a slot that time moved inside the minimum notice counts as changed', async () => {
  const since = TUE_0910.toISO()!;
  env.clock.set(TUE_0910.plus({ minutes: 30 })); // 09:40: 10:30 is now 50 minutes ahead
  const r = await invoke('GET', `/fhir/$bulk-publish/Slot.ndjson?_since=${encodeURIComponent(since)}`, { principal: EHR });
  const changed = ndjson(r.text).filter((s) => s.id!.startsWith('p1.20260303'));
  expect(changed.map((s) => [s.id, s.status])).toEqual([[P1_1030, 'busy']]);
});
