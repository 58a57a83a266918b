// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * GET /api/providers/{providerId}/calendar.ics, parsed back by an independent parser (node-ical): one VEVENT
 * per appointment, stable UID across reschedules, SEQUENCE from the version, STATUS:CANCELLED, UTC times that
 * are the right instants, no patient names unless configured; roles, scoping and ETag.
 */
import * as nodeIcal from 'node-ical';
import { rescheduleAppointment } from '../../../../domain';
import { invoke, P1_TUE_0900, P1_TUE_0930, principal, seed, type Seeded } from '../../../support/api-harness';

import '../../../../functions/api/appointments';
import '../../../../functions/ehr/ical-calendar';
import '../../../../functions/fhir/appointment';

let env: Seeded;
beforeEach(async () => {
  env = await seed();
});

async function book(slotId: string, patientId: string): Promise<string> {
  const r = await invoke('POST', '/api/appointments', { principal: principal(['scheduler']), body: { slotId, patientId, appointmentType: 'checkup' } });
  expect(r.status).toBe(201);
  return (r.body as { appointmentId: string }).appointmentId;
}

type VEvent = nodeIcal.VEvent & { sequence?: string | number; status?: string };
function events(text: string): VEvent[] {
  const parsed = nodeIcal.sync.parseICS(text);
  return Object.values(parsed)
    .filter((c): c is VEvent => (c as { type?: string }).type === 'VEVENT')
    .sort((a, b) => String(a.uid).localeCompare(String(b.uid)));
}

test('one VEVENT per appointment with stable UID, SEQUENCE, STATUS and correct instants; no patient names', async () => {
  const a = await book(P1_TUE_0900, 'pat1');
  const b = await book(P1_TUE_0930, 'pat2');
  await invoke('POST', `/api/appointments/${b}/cancel`, { principal: principal(['scheduler']), body: { reason: 'patient request' } });
  const r = await invoke('GET', '/api/providers/p1/calendar.ics', { principal: principal(['ehr']) });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/calendar/);
  expect(r.text).toMatch(/^BEGIN:VCALENDAR\r\n/);
  expect(r.text).toContain('X-WR-TIMEZONE:America/New_York');
  for (const line of r.text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
  const [first, second] = events(r.text);
  expect([first!.uid, second!.uid]).toEqual([`${a}@slotflow`, `${b}@slotflow`]);
  expect(first!.start.toISOString()).toBe('2026-03-03T14:00:00.000Z');
  expect(first!.end?.toISOString()).toBe('2026-03-03T14:30:00.000Z');
  expect(String(first!.status)).toBe('CONFIRMED');
  expect(Number(first!.sequence)).toBe(0);
  expect(String(second!.status)).toBe('CANCELLED');
  expect(Number(second!.sequence)).toBe(1);
  expect(first!.summary).toBe('Check-up');
  expect(first!.location).toBe('Main Street Clinic');
  expect(r.text).not.toMatch(/Ada Lovelace|Grace Hopper|\+1415555/);

  // A reschedule keeps the UID and raises SEQUENCE.
  await rescheduleAppointment(env.services, { appointmentId: a, newSlotId: 'p1.20260303T1600', actor: { kind: 'staff', principalId: 's' }, channel: 'api' });
  const moved = events((await invoke('GET', '/api/providers/p1/calendar.ics', { principal: principal(['scheduler']) })).text)[0]!;
  expect([moved.uid, Number(moved.sequence), moved.start.toISOString()]).toEqual([`${a}@slotflow`, 1, '2026-03-03T16:00:00.000Z']);
});

test('patient names only when ICAL_PATIENT_NAMES=true', async () => {
  await book(P1_TUE_0900, 'pat1');
  env.services.settings.ICAL_PATIENT_NAMES = 'true';
  const r = await invoke('GET', '/api/providers/p1/calendar.ics', { principal: principal(['ehr']) });
  expect(events(r.text)[0]!.summary).toBe('Check-up: Ada Lovelace');
  expect(env.audit.entries).toContainEqual(expect.objectContaining({ action: 'read', resourceType: 'Patient', resourceId: 'pat1' }));
});

test('holds are not calendar events; an empty calendar still parses', async () => {
  const hold = await invoke('POST', '/fhir/Appointment/$hold', {
    principal: principal(['ehr']),
    headers: { 'content-type': 'application/fhir+json' },
    body: { resourceType: 'Appointment', slot: [{ reference: `Slot/${P1_TUE_0900}` }], participant: [{ actor: { reference: 'Patient/pat1' } }] },
  });
  expect(hold.status).toBe(200);
  const r = await invoke('GET', '/api/providers/p1/calendar.ics', { principal: principal(['ehr']) });
  expect(r.status).toBe(200);
  expect(events(r.text)).toEqual([]);
});

test('ETag and 304; roles, scoping, unknown provider and bad ranges are problem+json', async () => {
  await book(P1_TUE_0900, 'pat1');
  const first = await invoke('GET', '/api/providers/p1/calendar.ics', { principal: principal(['ehr']) });
  const etag = first.headers.get('etag')!;
  expect((await invoke('GET', '/api/providers/p1/calendar.ics', { principal: principal(['ehr']), headers: { 'if-none-match': etag } })).status).toBe(304);
  expect((await invoke('GET', '/api/providers/p1/calendar.ics', { principal: null })).status).toBe(401);
  expect((await invoke('GET', '/api/providers/p1/calendar.ics', { principal: principal(['admin']) })).status).toBe(403);
  expect((await invoke('GET', '/api/providers/p1/calendar.ics', { principal: principal(['ehr'], ['c2']) })).status).toBe(403);
  const unknown = await invoke('GET', '/api/providers/nobody/calendar.ics', { principal: principal(['ehr']) });
  expect(unknown.status).toBe(404);
  expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(
    (await invoke('GET', '/api/providers/p1/calendar.ics?from=2026-01-01T00:00:00Z&to=2027-06-01T00:00:00Z', { principal: principal(['ehr']) })).status,
  ).toBe(400);
  expect((await invoke('GET', '/api/providers/p1/calendar.ics?from=yesterday', { principal: principal(['ehr']) })).status).toBe(400);
  const windowed = await invoke('GET', '/api/providers/p1/calendar.ics?from=2026-03-04T00:00:00Z&to=2026-03-05T00:00:00Z', { principal: principal(['ehr']) });
  expect(events(windowed.text)).toEqual([]);
});
