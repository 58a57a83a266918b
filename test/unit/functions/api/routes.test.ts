// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

import { bookAppointment, EventType } from '../../../../domain';
import {
  FakeDurableClient,
  NOW,
  P1_TUE_0900,
  P1_TUE_0930,
  P3_TUE_0900,
  principal,
  seed,
  type InvokeOptions,
  type InvokeResult,
  type Seeded,
} from '../../../support/api-harness';
import { createCheckedCall } from '../../../support/api-spec';
import { encodePrincipal } from '../../../../functions/http/auth';

// Registers the routes through the stub above.
import '../../../../functions/api/appointments';
import '../../../../functions/api/config';
import '../../../../functions/api/slots';
import '../../../../functions/api/waitlist';
import '../../../../functions/api/workflows';
import '../../../../functions/ops/openapi';

let env: Seeded;

/** Invokes a route; checks the response against the OpenAPI document and errors for problem+json without PHI. */
const call = createCheckedCall();

const admin = principal(['admin']);
const scheduler = principal(['scheduler']);
const schedulerC2 = principal(['scheduler'], ['c2'], 'staff-c2');
const schedulerC1 = principal(['scheduler'], ['c1'], 'staff-c1');
const book = (slotId: string, patientId = 'pat1', extra: InvokeOptions = {}) =>
  call('POST', '/api/appointments', { body: { slotId, patientId, appointmentType: 'checkup' }, ...extra });
const code = (r: InvokeResult) => (r.body as { code?: string }).code;
const fields = (r: InvokeResult) => ((r.body as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);

beforeEach(async () => {
  env = await seed();
});

describe('authentication and roles', () => {
  test('no principal is 401 problem+json', async () => {
    const r = await call('GET', '/api/clinics', { principal: null });
    expect(r.status).toBe(401);
    expect(code(r)).toBe('AUTH.UNAUTHENTICATED');
    expect(r.body).toMatchObject({ type: 'urn:slotflow:problem:auth.unauthenticated', title: 'Unauthorized', status: 401 });
    expect((r.body as { instance: string }).instance).toMatch(/^urn:slotflow:request:/);
  });

  test('an unreadable principal is 401', async () => {
    for (const bad of ['not-base64!!', Buffer.from('{"claims":"x"}').toString('base64'), Buffer.from('[1,2]').toString('base64')]) {
      expect((await call('GET', '/api/clinics', { principal: bad })).status).toBe(401);
    }
  });

  test('the wrong role is 403', async () => {
    const r = await call('PUT', '/api/clinics/c9', { principal: scheduler, body: { name: 'X', timeZone: 'UTC' } });
    expect(r.status).toBe(403);
    expect(code(r)).toBe('AUTH.FORBIDDEN');
    expect(
      (await call('GET', '/api/slots?clinicId=c1&appointmentType=checkup&from=2026-03-03T09:00:00Z&to=2026-03-03T10:00:00Z', { principal: principal(['ehr']) }))
        .status,
    ).toBe(403);
    expect((await book(P1_TUE_0900, 'pat1', { principal: principal(['ehr']) })).status).toBe(403);
  });

  test('the clinic claim type comes from settings', async () => {
    env.services.settings = { ...env.services.settings, CLINIC_CLAIM_TYPE: 'extension_clinic' };
    const scoped = principal(['scheduler'], ['c2']); // claim typ "clinic" is now an unknown claim: organisation-wide
    expect((await call('GET', '/api/clinics', { principal: scoped })).body).toMatchObject({ clinics: [{ clinicId: 'c1' }, { clinicId: 'c2' }] });
    const custom = encodePrincipal({ roles: ['scheduler'], clinicIds: ['c2'], clinicClaimType: 'extension_clinic' });
    expect((await call('GET', '/api/clinics', { principal: custom })).body).toEqual({ clinics: [expect.objectContaining({ clinicId: 'c2' })] });
  });
});

describe('configuration (admin)', () => {
  test('PUT clinic creates (201) then replaces (200)', async () => {
    const first = await call('PUT', '/api/clinics/c9', { principal: admin, body: { name: 'New', timeZone: 'Europe/Paris' } });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/api/clinics/c9');
    expect(first.body).toMatchObject({ clinicId: 'c9', timeZone: 'Europe/Paris', bookingPolicy: { minNoticeMinutes: 60 } });
    const again = await call('PUT', '/api/clinics/c9', { principal: admin, body: { name: 'Renamed', timeZone: 'Europe/Paris' } });
    expect(again.status).toBe(200);
    expect((await env.services.config.getClinic('c9'))?.name).toBe('Renamed');
  });

  test.each([
    ['bad time zone', { name: 'X', timeZone: 'CET' }, 'body.timeZone'],
    ['offset as zone', { name: 'X', timeZone: '+02:00' }, 'body.timeZone'],
    ['missing name', { timeZone: 'UTC' }, 'body.name'],
    ['unknown field', { name: 'X', timeZone: 'UTC', color: 'red' }, 'body'],
    ['wrong type', { name: 42, timeZone: 'UTC' }, 'body.name'],
  ])('PUT clinic rejects %s with 400 naming the field', async (_label, body, field) => {
    const r = await call('PUT', '/api/clinics/c9', { principal: admin, body });
    expect(r.status).toBe(400);
    expect(code(r)).toBe('VALIDATION.INVALID_INPUT');
    expect(fields(r)).toContain(field);
  });

  test('PUT clinic: bad id in the path, body not JSON, wrong media type, too large', async () => {
    expect(fields(await call('PUT', '/api/clinics/-bad', { principal: admin, body: { name: 'X', timeZone: 'UTC' } }))).toContain('path.clinicId');
    const notJson = await call('PUT', '/api/clinics/c9', { principal: admin, rawBody: '{"name":', headers: { 'content-type': 'application/json' } });
    expect([notJson.status, code(notJson)]).toEqual([400, 'VALIDATION.INVALID_INPUT']);
    const xml = await call('PUT', '/api/clinics/c9', { principal: admin, rawBody: '<clinic/>', headers: { 'content-type': 'application/xml' } });
    expect([xml.status, code(xml)]).toEqual([415, 'HTTP.UNSUPPORTED_MEDIA_TYPE']);
    const big = await call('PUT', '/api/clinics/c9', { principal: admin, body: { name: 'X', timeZone: 'UTC', pad: 'x'.repeat(70_000) } });
    expect([big.status, code(big)]).toEqual([413, 'HTTP.PAYLOAD_TOO_LARGE']);
  });

  test('a clinic-scoped admin configures only its clinics', async () => {
    const r = await call('PUT', '/api/clinics/c2', { principal: principal(['admin'], ['c1']), body: { name: 'X', timeZone: 'UTC' } });
    expect([r.status, code(r)]).toEqual([403, 'AUTH.CLINIC_FORBIDDEN']);
  });

  test('PUT appointment type and provider validate references', async () => {
    expect(code(await call('PUT', '/api/appointment-types/x-ray', { principal: admin, body: { clinicId: 'nope', name: 'X-ray', durationMinutes: 20 } }))).toBe(
      'CLINIC.NOT_FOUND',
    );
    expect(
      fields(await call('PUT', '/api/appointment-types/x-ray', { principal: admin, body: { clinicId: 'c1', name: 'X-ray', durationMinutes: 2 } })),
    ).toContain('body.durationMinutes');
    const type = await call('PUT', '/api/appointment-types/x-ray', { principal: admin, body: { clinicId: 'c1', name: 'X-ray', durationMinutes: 20 } });
    expect(type.status).toBe(201);
    const hours = [{ day: 'mon', start: '09:00', end: '12:00' }];
    const unknownType = await call('PUT', '/api/providers/p9', {
      principal: admin,
      body: { clinicId: 'c1', name: 'Dr Nine', appointmentTypes: ['nope'], weeklyHours: hours },
    });
    expect([unknownType.status, code(unknownType)]).toEqual([422, 'APPOINTMENT_TYPE.UNKNOWN']);
    const overlap = await call('PUT', '/api/providers/p9', {
      principal: admin,
      body: { clinicId: 'c1', name: 'Dr Nine', appointmentTypes: ['x-ray'], weeklyHours: [...hours, { day: 'mon', start: '11:00', end: '13:00' }] },
    });
    expect([overlap.status, fields(overlap)]).toEqual([400, ['body.weeklyHours.1']]);
    const badClock = await call('PUT', '/api/providers/p9', {
      principal: admin,
      body: { clinicId: 'c1', name: 'Dr Nine', appointmentTypes: ['x-ray'], weeklyHours: [{ day: 'mon', start: '9am', end: '12:00' }] },
    });
    expect(fields(badClock)).toContain('body.weeklyHours.0.start');
    const ok = await call('PUT', '/api/providers/p9', {
      principal: admin,
      body: { clinicId: 'c1', name: 'Dr Nine', appointmentTypes: ['x-ray'], weeklyHours: hours },
    });
    expect(ok.status).toBe(201);
    expect((await call('GET', '/api/providers?clinicId=c1')).body).toMatchObject({
      providers: [{ providerId: 'p1' }, { providerId: 'p2' }, { providerId: 'p9' }],
    });
    expect((await call('GET', '/api/appointment-types?clinicId=c1')).body).toMatchObject({
      appointmentTypes: [{ code: 'checkup' }, { code: 'consult' }, { code: 'x-ray' }],
    });
  });

  test('PUT patient: created and audited; a bad phone is named, never echoed', async () => {
    const bad = await call('PUT', '/api/patients/pat9', { principal: admin, body: { name: 'Rosalind Franklin', phone: '555-0199', smsConsent: true } });
    expect([bad.status, fields(bad)]).toEqual([400, ['body.phone']]);
    expect(bad.text).not.toContain('555-0199');
    expect(bad.text).not.toContain('Rosalind');
    const ok = await call('PUT', '/api/patients/pat9', { principal: admin, body: { name: 'Rosalind Franklin', phone: '+442071234567', smsConsent: false } });
    expect(ok.status).toBe(201);
    expect(env.audit.entries).toContainEqual(
      expect.objectContaining({ action: 'create', resourceType: 'Patient', resourceId: 'pat9', patientId: 'pat9', principalId: 'staff-1' }),
    );
    expect(JSON.stringify(env.audit.entries)).not.toContain('Rosalind');
    expect(
      (await call('PUT', '/api/patients/pat9', { principal: admin, body: { name: 'R. Franklin', phone: '+442071234567', smsConsent: true } })).status,
    ).toBe(200);
  });

  test('a clinic-scoped admin creates patients in its clinics and cannot touch others', async () => {
    const scopedAdmin = principal(['admin'], ['c1']);
    const created = await call('PUT', '/api/patients/pat8', { principal: scopedAdmin, body: { name: 'Marie Curie', phone: '+33123456789', smsConsent: true } });
    expect(created.body).toMatchObject({ clinicIds: ['c1'] });
    expect((await call('PUT', '/api/patients/pat3', { principal: scopedAdmin, body: { name: 'X', phone: '+33123456789', smsConsent: true } })).status).toBe(
      403,
    );
    expect(env.audit.entries).toContainEqual(expect.objectContaining({ resourceId: 'pat3', outcome: 'denied' }));
    expect(
      (await call('PUT', '/api/patients/pat7', { principal: scopedAdmin, body: { name: 'X', phone: '+33123456789', smsConsent: true, clinicIds: ['c2'] } }))
        .status,
    ).toBe(403);
  });

  test("GET clinics shows only the principal's clinics", async () => {
    expect((await call('GET', '/api/clinics', { principal: schedulerC2 })).body).toEqual({ clinics: [expect.objectContaining({ clinicId: 'c2' })] });
    expect(((await call('GET', '/api/clinics')).body as { clinics: unknown[] }).clinics).toHaveLength(2);
    expect((await call('GET', '/api/providers?clinicId=c1', { principal: schedulerC2 })).status).toBe(403);
    expect((await call('GET', '/api/providers?clinicId=zz')).status).toBe(404);
    expect(fields(await call('GET', '/api/providers'))).toContain('query.clinicId');
  });
});

describe('slots', () => {
  const q = (extra = '') => `/api/slots?clinicId=c1&appointmentType=checkup&from=2026-03-03T09:00:00-05:00&to=2026-03-03T12:00:00-05:00${extra}`;

  test('free slots across providers, with offsets', async () => {
    const r = await call('GET', q());
    expect(r.status).toBe(200);
    const slots = (r.body as { slots: { slotId: string; providerId: string; start: string }[] }).slots;
    expect(slots).toHaveLength(12);
    expect(slots).toContainEqual({
      slotId: P1_TUE_0900,
      providerId: 'p1',
      start: '2026-03-03T09:00:00-05:00',
      end: '2026-03-03T09:30:00-05:00',
      appointmentType: 'checkup',
    });
    expect(((await call('GET', q('&providerId=p2'))).body as { slots: unknown[] }).slots).toHaveLength(6);
  });

  test('a booked slot is no longer free', async () => {
    expect((await book(P1_TUE_0900)).status).toBe(201);
    const slots = ((await call('GET', q('&providerId=p1'))).body as { slots: { slotId: string }[] }).slots.map((s) => s.slotId);
    expect(slots).not.toContain(P1_TUE_0900);
    expect(slots).toContain(P1_TUE_0930);
  });

  test('an unencoded + offset in the query still parses', async () => {
    const r = await call('GET', '/api/slots?clinicId=c2&appointmentType=berlin-visit&from=2026-03-03T09:00:00+01:00&to=2026-03-03T10:00:00+01:00', {
      principal: schedulerC2,
    });
    expect(r.status).toBe(200);
    expect((r.body as { slots: { slotId: string }[] }).slots[0]?.slotId).toBe(P3_TUE_0900);
  });

  test.each([
    ['missing to', '/api/slots?clinicId=c1&appointmentType=checkup&from=2026-03-03T09:00:00Z', 'query.to'],
    ['local time without offset', '/api/slots?clinicId=c1&appointmentType=checkup&from=2026-03-03T09:00:00&to=2026-03-03T10:00:00Z', 'query.from'],
    ['unknown parameter', `${'/api/slots?clinicId=c1&appointmentType=checkup&from=2026-03-03T09:00:00Z&to=2026-03-03T10:00:00Z'}&color=red`, 'query'],
    ['repeated parameter', '/api/slots?clinicId=c1&clinicId=c2&appointmentType=checkup&from=2026-03-03T09:00:00Z&to=2026-03-03T10:00:00Z', 'query'],
  ])('400 for %s', async (_label, path, field) => {
    const r = await call('GET', path);
    expect([r.status, code(r)]).toEqual([400, 'VALIDATION.INVALID_INPUT']);
    expect(fields(r)).toContain(field);
  });

  test('range, unknown ids and scope', async () => {
    expect(code(await call('GET', '/api/slots?clinicId=c1&appointmentType=checkup&from=2026-03-03T10:00:00Z&to=2026-03-03T09:00:00Z'))).toBe(
      'RANGE.END_BEFORE_START',
    );
    expect(code(await call('GET', '/api/slots?clinicId=c1&appointmentType=checkup&from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z'))).toBe('RANGE.TOO_LONG');
    expect((await call('GET', '/api/slots?clinicId=c7&appointmentType=checkup&from=2026-03-03T09:00:00Z&to=2026-03-03T10:00:00Z')).status).toBe(404);
    const unknownType = await call('GET', '/api/slots?clinicId=c1&appointmentType=xray&from=2026-03-03T09:00:00Z&to=2026-03-03T10:00:00Z');
    expect([unknownType.status, code(unknownType)]).toEqual([422, 'APPOINTMENT_TYPE.UNKNOWN']);
    expect((await call('GET', q(), { principal: schedulerC2 })).status).toBe(403);
  });
});

describe('appointments', () => {
  test('book: 201 with Location, event published, access audited', async () => {
    const r = await book(P1_TUE_0900);
    expect(r.status).toBe(201);
    const a = r.body as { appointmentId: string; status: string; start: string; end: string };
    expect(a).toMatchObject({
      status: 'booked',
      slotId: P1_TUE_0900,
      start: '2026-03-03T09:00:00-05:00',
      end: '2026-03-03T09:30:00-05:00',
      patientId: 'pat1',
      clinicId: 'c1',
    });
    expect(r.headers.get('location')).toBe(`/api/appointments/${a.appointmentId}`);
    expect(env.publisher.published.map((e) => e.type)).toEqual([EventType.appointmentBooked]);
    expect(env.audit.entries).toContainEqual(
      expect.objectContaining({ action: 'create', resourceType: 'Appointment', resourceId: a.appointmentId, patientId: 'pat1' }),
    );
    const got = await call('GET', `/api/appointments/${a.appointmentId}`);
    expect(got.body).toMatchObject({ appointmentId: a.appointmentId, status: 'booked' });
  });

  test('409 APPOINTMENT.SLOT_TAKEN for a taken slot', async () => {
    await book(P1_TUE_0900, 'pat1');
    const r = await book(P1_TUE_0900, 'pat2');
    expect([r.status, code(r)]).toEqual([409, 'APPOINTMENT.SLOT_TAKEN']);
  });

  test('concurrent bookings of one slot: exactly one wins', async () => {
    const results = await Promise.all([book(P1_TUE_0900, 'pat1'), book(P1_TUE_0900, 'pat2'), book(P1_TUE_0900, 'pat1'), book(P1_TUE_0900, 'pat2')]);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(3);
    expect([...(env.services.appointments as unknown as { byId: Map<string, unknown> }).byId.values()]).toHaveLength(1);
  });

  test('Idempotency-Key: replay returns the first response; another body is 422', async () => {
    const headers = { 'idempotency-key': 'key-1' };
    const first = await book(P1_TUE_0900, 'pat1', { headers });
    const replay = await book(P1_TUE_0900, 'pat1', { headers });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(first.headers.get('location'));
    expect([...(env.services.appointments as unknown as { byId: Map<string, unknown> }).byId.values()]).toHaveLength(1);
    const reused = await book(P1_TUE_0930, 'pat1', { headers });
    expect([reused.status, code(reused)]).toEqual([422, 'IDEMPOTENCY.KEY_REUSED']);
    // Keys are per principal: another caller's key-1 is a different key.
    expect((await book(P1_TUE_0930, 'pat2', { headers, principal: principal(['scheduler'], undefined, 'staff-2') })).status).toBe(201);
    expect(fields(await book(P1_TUE_0930, 'pat1', { headers: { 'idempotency-key': 'x'.repeat(300) } }))).toEqual(['header.idempotency-key']);
  });

  test('a failed booking is replayed too (same key, same answer)', async () => {
    await book(P1_TUE_0900, 'pat1');
    const headers = { 'idempotency-key': 'key-2' };
    const first = await book(P1_TUE_0900, 'pat2', { headers });
    const again = await book(P1_TUE_0900, 'pat2', { headers });
    expect([first.status, again.status]).toEqual([409, 409]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  test('concurrent requests with one key run once', async () => {
    const headers = { 'idempotency-key': 'key-3' };
    const results = await Promise.all([book(P1_TUE_0900, 'pat1', { headers }), book(P1_TUE_0900, 'pat1', { headers })]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses[0]).toBe(201);
    expect([201, 409]).toContain(statuses[1]);
    expect([...(env.services.appointments as unknown as { byId: Map<string, unknown> }).byId.values()]).toHaveLength(1);
  });

  test.each([
    ['missing slotId', { patientId: 'pat1', appointmentType: 'checkup' }, 'body.slotId'],
    ['unknown field', { slotId: P1_TUE_0900, patientId: 'pat1', appointmentType: 'checkup', note: 'x' }, 'body'],
    ['patient id with spaces', { slotId: P1_TUE_0900, patientId: 'Ada Lovelace', appointmentType: 'checkup' }, 'body.patientId'],
    ['array body', [1, 2], 'body'],
  ])('book: 400 for %s', async (_label, body, field) => {
    const r = await call('POST', '/api/appointments', { body });
    expect([r.status, code(r)]).toEqual([400, 'VALIDATION.INVALID_INPUT']);
    expect(fields(r)).toContain(field);
  });

  test('book: unknown slot, patient and type; rules', async () => {
    expect(code(await book('p1.garbage'))).toBe('SLOT.NOT_FOUND');
    expect(code(await book('p1.20260303T1410'))).toBe('SLOT.NOT_FOUND');
    expect(code(await book(P1_TUE_0900, 'nobody'))).toBe('PATIENT.NOT_FOUND');
    const badType = await call('POST', '/api/appointments', { body: { slotId: P1_TUE_0900, patientId: 'pat1', appointmentType: 'nope' } });
    expect([badType.status, code(badType)]).toEqual([422, 'APPOINTMENT_TYPE.UNKNOWN']);
    env.clock.set(NOW.plus({ hours: 2 })); // 10:00 New York: Monday 09:00 has started
    const late = await book('p1.20260302T1400');
    expect([late.status, code(late)]).toEqual([422, 'APPOINTMENT.IN_THE_PAST']);
    expect(code(await book('p1.20260702T1300'))).toBe('APPOINTMENT.BEYOND_HORIZON');
  });

  test('clinic scoping: other clinic 403, patient limited to other clinic 403 and audited as denied', async () => {
    expect((await book(P1_TUE_0900, 'pat1', { principal: schedulerC2 })).status).toBe(403);
    const r = await book(P1_TUE_0900, 'pat3', { principal: schedulerC1 });
    expect([r.status, code(r)]).toEqual([403, 'AUTH.CLINIC_FORBIDDEN']);
    expect(env.audit.entries).toContainEqual(expect.objectContaining({ patientId: 'pat3', outcome: 'denied', principalId: 'staff-c1' }));
    const a = (await book(P1_TUE_0900)).body as { appointmentId: string };
    expect((await call('GET', `/api/appointments/${a.appointmentId}`, { principal: schedulerC2 })).status).toBe(403);
    expect((await call('POST', `/api/appointments/${a.appointmentId}/cancel`, { principal: schedulerC2, body: {} })).status).toBe(403);
    expect((await call('GET', `/api/appointments?clinicId=c1&from=2026-03-01T00:00:00Z&to=2026-03-10T00:00:00Z`, { principal: schedulerC2 })).status).toBe(403);
  });

  test('GET unknown appointment is 404; malformed id is 400', async () => {
    expect(code(await call('GET', '/api/appointments/apt-missing'))).toBe('APPOINTMENT.NOT_FOUND');
    expect(fields(await call('GET', `/api/appointments/${'x'.repeat(80)}`))).toContain('path.appointmentId');
  });

  test('list with continuation tokens', async () => {
    await book(P1_TUE_0900, 'pat1');
    await book(P1_TUE_0930, 'pat2');
    const base = '/api/appointments?clinicId=c1&from=2026-03-03T00:00:00-05:00&to=2026-03-04T00:00:00-05:00&limit=1';
    const page1 = await call('GET', base);
    const body1 = page1.body as { appointments: { slotId: string }[]; continuationToken?: string };
    expect(body1.appointments.map((a) => a.slotId)).toEqual([P1_TUE_0900]);
    expect(body1.continuationToken).toBeDefined();
    const page2 = (await call('GET', `${base}&continuationToken=${encodeURIComponent(body1.continuationToken!)}`)).body as typeof body1;
    expect(page2.appointments.map((a) => a.slotId)).toEqual([P1_TUE_0930]);
    expect(page2.continuationToken).toBeUndefined();
    // Tokens are opaque and bound to their query.
    expect(fields(await call('GET', `${base}&continuationToken=garbage`))).toEqual(['query.continuationToken']);
    const otherQuery = base.replace('clinicId=c1', 'clinicId=c1&providerId=p2');
    expect(fields(await call('GET', `${otherQuery}&continuationToken=${encodeURIComponent(body1.continuationToken!)}`))).toEqual(['query.continuationToken']);
    expect(env.audit.entries.filter((e) => e.action === 'search')).toHaveLength(2);
    const filtered = (await call('GET', '/api/appointments?clinicId=c1&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z&patientId=pat2&status=booked'))
      .body as typeof body1;
    expect(filtered.appointments).toHaveLength(1);
    expect(fields(await call('GET', '/api/appointments?clinicId=c1&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z&status=lost'))).toContain('query.status');
    expect(fields(await call('GET', '/api/appointments?clinicId=c1&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z&limit=1000'))).toContain('query.limit');
    expect(code(await call('GET', '/api/appointments?clinicId=c1&from=2026-03-04T00:00:00Z&to=2026-03-03T00:00:00Z'))).toBe('RANGE.END_BEFORE_START');
  });

  test('cancel releases the slot and publishes; a second cancel is 409; the timeline shows it', async () => {
    const a = (await book(P1_TUE_0900)).body as { appointmentId: string };
    const r = await call('POST', `/api/appointments/${a.appointmentId}/cancel`, { body: { reason: 'Patient request' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'cancelled', cancellation: { reasonCode: 'patient-request', by: 'staff', late: false } });
    expect(env.publisher.published.map((e) => e.type)).toEqual([EventType.appointmentBooked, EventType.appointmentCancelled, EventType.slotReleased]);
    const again = await call('POST', `/api/appointments/${a.appointmentId}/cancel`, { body: {} });
    expect([again.status, code(again)]).toEqual([409, 'APPOINTMENT.INVALID_TRANSITION']);
    expect(fields(await call('POST', `/api/appointments/${a.appointmentId}/cancel`, { body: { reason: 'has a <script>' } }))).toContain('body.reason');
    expect(code(await call('POST', '/api/appointments/apt-none/cancel', { body: {} }))).toBe('APPOINTMENT.NOT_FOUND');
    // The slot is free again, and an offer made for it shows in the timeline.
    expect((await book(P1_TUE_0900, 'pat2')).status).toBe(201);
    await env.offers.create({
      offerId: 'ofr-1',
      clinicId: 'c1',
      slotId: P1_TUE_0900,
      waitlistEntryId: 'wl-1',
      patientId: 'pat2',
      workflowInstanceId: 'backfill-1',
      round: 1,
      status: 'accepted',
      sentAt: NOW.plus({ minutes: 1 }).toISO()!,
      expiresAt: NOW.plus({ minutes: 30 }).toISO()!,
      respondedAt: NOW.plus({ minutes: 5 }).toISO()!,
      version: 2,
    });
    const timeline = await call('GET', `/api/appointments/${a.appointmentId}/events`);
    const kinds = (timeline.body as { events: { kind: string }[] }).events.map((e) => e.kind);
    expect(kinds).toEqual(['booked', 'cancelled', 'offer', 'offer']);
  });

  test('cancel without a body works (empty body is {})', async () => {
    const a = (await book(P1_TUE_0900)).body as { appointmentId: string };
    expect((await call('POST', `/api/appointments/${a.appointmentId}/cancel`)).status).toBe(200);
  });

  test('confirm: a pending self-scheduled booking becomes booked; a cancelled one is 409', async () => {
    const patient = (await env.services.patients.get('pat2'))!;
    await env.services.patients.put({ ...patient, noShows: [NOW.minus({ days: 10 }).toISO()!, NOW.minus({ days: 20 }).toISO()!] });
    const pending = await bookAppointment(env.services, {
      slotId: P1_TUE_0930,
      patientId: 'pat2',
      appointmentType: 'checkup',
      channel: 'link',
      actor: { kind: 'patient', principalId: 'pat2' },
    });
    expect(pending.status).toBe('pending');
    const day = await call('GET', '/api/schedule?clinicId=c1&date=2026-03-03&providerId=p1');
    const held = (day.body as { providers: { slots: { slotId: string; state: string }[] }[] }).providers[0]!.slots.find((x) => x.slotId === P1_TUE_0930);
    expect(held?.state).toBe('held');
    const r = await call('POST', `/api/appointments/${pending.appointmentId}/confirm`, { headers: { 'idempotency-key': 'c-1' } });
    expect(r.body).toMatchObject({ status: 'booked', confirmedAt: expect.any(String) });
    expect((r.body as { needsStaffConfirmation?: boolean }).needsStaffConfirmation).toBeUndefined();
    const a = (await book(P1_TUE_0900)).body as { appointmentId: string };
    await call('POST', `/api/appointments/${a.appointmentId}/cancel`);
    const late = await call('POST', `/api/appointments/${a.appointmentId}/confirm`);
    expect([late.status, code(late)]).toEqual([409, 'APPOINTMENT.INVALID_TRANSITION']);
    expect(fields(await call('POST', `/api/appointments/${a.appointmentId}/confirm`, { body: { force: true } }))).toEqual(['body']);
    expect((await call('POST', `/api/appointments/${a.appointmentId}/confirm`, { principal: schedulerC2 })).status).toBe(403);
  });

  test('no-show only after the start; then recorded against the patient', async () => {
    const a = (await book(P1_TUE_0900)).body as { appointmentId: string };
    const early = await call('POST', `/api/appointments/${a.appointmentId}/no-show`);
    expect([early.status, code(early)]).toEqual([422, 'APPOINTMENT.NOT_YET_STARTED']);
    env.clock.set(NOW.plus({ days: 1, hours: 1, minutes: 10 }));
    const r = await call('POST', `/api/appointments/${a.appointmentId}/no-show`, { body: {} });
    expect(r.body).toMatchObject({ status: 'noshow' });
    expect((await env.services.patients.get('pat1'))?.noShows).toHaveLength(1);
    expect(fields(await call('POST', `/api/appointments/${a.appointmentId}/no-show`, { body: { why: 1 } }))).toEqual(['body']);
    const again = await call('POST', `/api/appointments/${a.appointmentId}/no-show`);
    expect(again.status).toBe(409);
  });
});

describe('waitlist and offers', () => {
  const entry = { patientId: 'pat1', clinicId: 'c1', appointmentType: 'checkup' };

  test('add, list with pagination, idempotent replay', async () => {
    const r = await call('POST', '/api/waitlist', {
      body: { ...entry, providerIds: ['p1'], urgency: 'urgent', earliest: '2026-03-03T00:00:00Z', latest: '2026-03-10T00:00:00Z' },
      headers: { 'idempotency-key': 'w1' },
    });
    expect(r.status).toBe(201);
    const id = (r.body as { waitlistEntryId: string }).waitlistEntryId;
    expect(id).toMatch(/^wl-/);
    expect((await env.services.waitlist.get(id))?.status).toBe('active');
    const replay = await call('POST', '/api/waitlist', {
      body: { ...entry, providerIds: ['p1'], urgency: 'urgent', earliest: '2026-03-03T00:00:00Z', latest: '2026-03-10T00:00:00Z' },
      headers: { 'idempotency-key': 'w1' },
    });
    expect((replay.body as { waitlistEntryId: string }).waitlistEntryId).toBe(id);
    await call('POST', '/api/waitlist', { body: { ...entry, patientId: 'pat2' } });
    const page1 = (await call('GET', '/api/waitlist?clinicId=c1&limit=1')).body as { entries: { patientId: string }[]; continuationToken?: string };
    expect(page1.entries).toHaveLength(1);
    const page2 = (await call('GET', `/api/waitlist?clinicId=c1&limit=1&continuationToken=${page1.continuationToken}`)).body as typeof page1;
    expect([...page1.entries, ...page2.entries].map((e) => e.patientId).sort()).toEqual(['pat1', 'pat2']);
    expect(env.audit.entries.filter((e) => e.resourceType === 'WaitlistEntry' && e.action === 'search')).toHaveLength(2);
  });

  test.each([
    ['bad urgency', { ...entry, urgency: 'asap' }, 'body.urgency'],
    ['latest before earliest', { ...entry, earliest: '2026-03-10T00:00:00Z', latest: '2026-03-03T00:00:00Z' }, 'body.latest'],
    ['too many providers', { ...entry, providerIds: Array.from({ length: 30 }, (_, i) => `p${i}`) }, 'body.providerIds'],
    ['missing clinic', { patientId: 'pat1', appointmentType: 'checkup' }, 'body.clinicId'],
  ])('400 for %s', async (_label, body, field) => {
    const r = await call('POST', '/api/waitlist', { body });
    expect(r.status).toBe(400);
    expect(fields(r)).toContain(field);
  });

  test('references and scope', async () => {
    expect(code(await call('POST', '/api/waitlist', { body: { ...entry, providerIds: ['p3'] } }))).toBe('PROVIDER.NOT_FOUND');
    expect(code(await call('POST', '/api/waitlist', { body: { ...entry, appointmentType: 'berlin-visit' } }))).toBe('APPOINTMENT_TYPE.UNKNOWN');
    expect(code(await call('POST', '/api/waitlist', { body: { ...entry, patientId: 'ghost' } }))).toBe('PATIENT.NOT_FOUND');
    expect((await call('POST', '/api/waitlist', { body: { ...entry, patientId: 'pat3' }, principal: schedulerC1 })).status).toBe(403);
    expect((await call('GET', '/api/waitlist?clinicId=c1', { principal: schedulerC2 })).status).toBe(403);
  });

  test('offers in flight and the day view show a held slot', async () => {
    const sentAt = NOW.toISO()!;
    const expiresAt = NOW.plus({ minutes: 30 }).toISO()!;
    await env.offers.create({
      offerId: 'ofr-9',
      clinicId: 'c1',
      slotId: P1_TUE_0930,
      waitlistEntryId: 'wl-9',
      patientId: 'pat2',
      workflowInstanceId: 'backfill-9',
      round: 1,
      status: 'sent',
      sentAt,
      expiresAt,
      version: 1,
    });
    const booked = (await book(P1_TUE_0900)).body as { appointmentId: string };
    const offers = await call('GET', '/api/offers?clinicId=c1&from=2026-03-03T00:00:00-05:00&to=2026-03-04T00:00:00-05:00');
    expect((offers.body as { offers: { offerId: string; expiresAt: string }[] }).offers).toEqual([expect.objectContaining({ offerId: 'ofr-9', expiresAt })]);
    // Without a window: the next 24 hours (Monday 08:00 to Tuesday 08:00 New York).
    await env.offers.create({
      offerId: 'ofr-8',
      clinicId: 'c1',
      slotId: 'p2.20260302T1600',
      waitlistEntryId: 'wl-8',
      patientId: 'pat1',
      workflowInstanceId: 'backfill-8',
      round: 2,
      status: 'sent',
      sentAt,
      expiresAt,
      version: 1,
    });
    expect(((await call('GET', '/api/offers?clinicId=c1')).body as { offers: { offerId: string }[] }).offers.map((o) => o.offerId)).toEqual(['ofr-8']);
    expect(code(await call('GET', '/api/offers?clinicId=c1&from=2026-03-01T00:00:00Z&to=2026-03-20T00:00:00Z'))).toBe('RANGE.TOO_LONG');
    const day = await call('GET', '/api/schedule?clinicId=c1&date=2026-03-03');
    const providers = (day.body as { providers: { providerId: string; slots: { slotId: string; state: string; appointment?: { appointmentId: string } }[] }[] })
      .providers;
    expect(providers.map((p) => p.providerId)).toEqual(['p1', 'p2']);
    const p1 = providers[0]!.slots;
    expect(p1).toHaveLength(16);
    expect(p1.find((s) => s.slotId === P1_TUE_0900)).toMatchObject({ state: 'booked', appointment: { appointmentId: booked.appointmentId } });
    expect(p1.find((s) => s.slotId === P1_TUE_0930)).toMatchObject({ state: 'held', offer: { offerId: 'ofr-9' } });
    expect(p1.filter((s) => s.state === 'free')).toHaveLength(14);
    expect(fields(await call('GET', '/api/schedule?clinicId=c1&date=03/03/2026'))).toContain('query.date');
    expect((await call('GET', '/api/schedule?clinicId=c1&date=2026-03-03&providerId=p3')).status).toBe(404);
  });
});

describe('provider absences and workflows', () => {
  const absence = { from: '2026-03-03T00:00:00-05:00', to: '2026-03-04T00:00:00-05:00', reason: 'sick' };

  test('202 with a deterministic instance id; a repeat starts nothing new; status readable', async () => {
    const client = new FakeDurableClient();
    const r = await call('POST', '/api/providers/p1/absences', { body: absence, extraInputs: { durableClient: client } });
    expect(r.status).toBe(202);
    const { instanceId } = r.body as { instanceId: string };
    expect(instanceId).toMatch(/^absence-p1-[0-9a-f]{12}$/);
    expect(client.started).toEqual([
      expect.objectContaining({
        name: 'providerAbsenceOrchestrator',
        instanceId,
        input: expect.objectContaining({ providerId: 'p1', clinicId: 'c1', reasonCode: 'sick', from: absence.from, to: absence.to }),
      }),
    ]);
    // The same instants written in another offset are the same absence.
    const same = await call('POST', '/api/providers/p1/absences', {
      body: { from: '2026-03-03T05:00:00Z', to: '2026-03-04T05:00:00Z' },
      extraInputs: { durableClient: client },
    });
    expect((same.body as { instanceId: string }).instanceId).toBe(instanceId);
    expect(client.started).toHaveLength(1);
    const status = await call('GET', `/api/workflows/${instanceId}`, { extraInputs: { durableClient: client } });
    expect(status.body).toMatchObject({ instanceId, runtimeStatus: 'Pending', customStatus: null, output: null });
    expect(code(await call('GET', '/api/workflows/absence-unknown', { extraInputs: { durableClient: client } }))).toBe('WORKFLOW.NOT_FOUND');
    expect((await call('GET', `/api/workflows/${instanceId}`, { extraInputs: { durableClient: client }, principal: schedulerC2 })).status).toBe(403);
  });

  test('validation, unknown provider, scope, and no workflow engine', async () => {
    const client = new FakeDurableClient();
    expect(
      fields(await call('POST', '/api/providers/p1/absences', { body: { from: absence.to, to: absence.from }, extraInputs: { durableClient: client } })),
    ).toContain('body.to');
    expect(
      fields(
        await call('POST', '/api/providers/p1/absences', {
          body: { from: '2026-03-03T00:00:00Z', to: '2026-09-03T00:00:00Z' },
          extraInputs: { durableClient: client },
        }),
      ),
    ).toContain('body.to');
    expect(code(await call('POST', '/api/providers/p7/absences', { body: absence, extraInputs: { durableClient: client } }))).toBe('PROVIDER.NOT_FOUND');
    expect((await call('POST', '/api/providers/p1/absences', { body: absence, extraInputs: { durableClient: client }, principal: schedulerC2 })).status).toBe(
      403,
    );
    expect(client.started).toHaveLength(0);
    const none = await call('POST', '/api/providers/p1/absences', { body: absence });
    expect([none.status, code(none)]).toEqual([503, 'WORKFLOW.UNAVAILABLE']);
  });
});

test('every response carries the correlation id; a given one is kept', async () => {
  const r = await call('GET', '/api/clinics', { headers: { 'x-correlation-id': 'corr-123' } });
  expect(r.headers.get('x-correlation-id')).toBe('corr-123');
  const bad = await call('GET', '/api/clinics', { headers: { 'x-correlation-id': 'has spaces in it' } });
  expect(bad.headers.get('x-correlation-id')).toMatch(/^inv-/);
});
