/**
 * EHR integration end to end in the local host (in process): the real Cosmos adapter against the local Cosmos
 * server, the local Service Bus broker fed by the real SDK, HTTP through the host's router. SIU over HTTP and
 * over the `ehr-inbound` queue, idempotent replay, FHIR read/search, $hold/$book on Cosmos slot claims, and
 * cancellation through SIU. Times are computed from the host's (real) clock, a week ahead on a weekday.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories and CommonJS app modules */
jest.mock('@azure/functions-core', () => require('../../../../local/host/core').functionsCore, { virtual: true });

import { ServiceBusClient } from '@azure/service-bus';
import { DateTime } from 'luxon';
import { LocalHost } from '../../../../local/host/host';
import { encodePrincipal } from '../../../../functions/http/auth';
import { getServices } from '../../../../functions/app/services';
import { sweepExpiredHolds } from '../../../../domain/ehr';

jest.setTimeout(120_000);

let host: LocalHost;
const ADMIN = encodePrincipal({ roles: ['admin'], principalId: 'admin-1' });
const EHR = encodePrincipal({ roles: ['ehr'], principalId: 'ehr-1' });
const ZONE = 'America/Chicago';
// A weekday at least 7 days ahead, 10:00 clinic time.
let day = DateTime.now().setZone(ZONE).plus({ days: 7 }).startOf('day');
while (day.weekday > 5) day = day.plus({ days: 1 });
const hl7Ts = (hour: number, minute = 0) => day.set({ hour, minute }).toFormat('yyyyMMddHHmmssZZZ');
const slotId = (hour: number, minute = 0) => `ehr-doc.${day.set({ hour, minute }).toUTC().toFormat("yyyyMMdd'T'HHmm")}`;

const siu = (trigger: string, control: string, filler: string, patient: string, hour: number) =>
  [
    `MSH|^~\\&|EPIC|HOSP|SLOTFLOW|EHRC|${hl7Ts(8)}||SIU^${trigger}^SIU_S12|${control}|P|2.5.1`,
    `SCH||${filler}^EPIC||||REASON^Reason^L|||30|MIN|^^30^${hl7Ts(hour)}`,
    `PID|1||${patient}^^^SLOTFLOW^PI||Doe^Jane`,
    'RGS|1',
    `AIS|1||visit^Visit|${hl7Ts(hour)}|||30|MIN`,
    'AIL|1||ehr-clinic',
    'AIP|1||ehr-doc^Doc',
    'ZXT|anything|goes',
  ].join('\r');

async function call(method: string, path: string, principal: string, body?: string, contentType = 'application/json') {
  const res = await fetch(`${host.baseUrl}${path}`, {
    method,
    headers: { 'x-ms-client-principal': principal, ...(body ? { 'content-type': contentType } : {}) },
    ...(body ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  host = await LocalHost.start({
    port: 0,
    dataDir: null,
    servicesModule: null,
    logger: () => undefined,
    loadApp: () => {
      for (const m of ['api/config', 'ehr/hl7v2', 'ehr/inbound-queue', 'fhir/appointment', 'fhir/slot']) require(`../../../../functions/${m}`);
    },
  });
  const put = async (path: string, body: unknown) => expect((await call('PUT', path, ADMIN, JSON.stringify(body))).status).toBeLessThan(300);
  await put('/api/clinics/ehr-clinic', { name: 'EHR Test Clinic', timeZone: ZONE });
  await put('/api/appointment-types/visit', { clinicId: 'ehr-clinic', name: 'Visit', durationMinutes: 30 });
  const weeklyHours = (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((d) => ({ day: d, start: '09:00', end: '17:00' }));
  await put('/api/providers/ehr-doc', { clinicId: 'ehr-clinic', name: 'Dr Doc', appointmentTypes: ['visit'], weeklyHours });
  await put('/api/patients/ehr-pat1', { name: 'Jane Doe', phone: '+13125550101', smsConsent: true });
  await put('/api/patients/ehr-pat2', { name: 'John Roe', phone: '+13125550102', smsConsent: true });
});
afterAll(async () => {
  await host?.stop();
});

test('the functions run on the Cosmos adapter', async () => {
  expect((await getServices()).cosmos).toBeDefined();
});

test('SIU over HTTP books on Cosmos (AA), a repeat replays the ACK, S15 cancels; FHIR reads it back', async () => {
  const first = await call('POST', '/api/ehr/hl7v2', EHR, siu('S12', 'IT-1', 'FL-IT-1', 'ehr-pat1', 10), 'application/hl7-v2');
  expect(first.status).toBe(200);
  expect(first.text).toMatch(/\rMSA\|AA\|IT-1\|applied apt-/);
  const again = await call('POST', '/api/ehr/hl7v2', EHR, siu('S12', 'IT-1', 'FL-IT-1', 'ehr-pat1', 10), 'application/hl7-v2');
  expect(again.text).toBe(first.text);
  const search = await call('GET', `/fhir/Appointment?identifier=${encodeURIComponent('urn:slotflow:hl7:filler|FL-IT-1')}`, EHR);
  const entries = (search.json().entry as { resource: Record<string, unknown> }[]) ?? [];
  expect(entries).toHaveLength(1);
  expect(entries[0]!.resource).toMatchObject({ status: 'booked', slot: [{ reference: `Slot/${slotId(10)}` }] });
  const cancel = await call('POST', '/api/ehr/hl7v2', EHR, siu('S15', 'IT-2', 'FL-IT-1', 'ehr-pat1', 10).replace(/\rAI[SLP][^\r]*/g, ''), 'application/hl7-v2');
  expect(cancel.text).toMatch(/\rMSA\|AA\|IT-2/);
  const read = await call('GET', `/fhir/Appointment/${String(entries[0]!.resource.id)}`, EHR);
  expect(read.json()).toMatchObject({ status: 'cancelled', meta: { versionId: '2' } });
});

test('SIU from the ehr-inbound queue books too', async () => {
  const client = new ServiceBusClient(process.env.ServiceBusConnection!);
  try {
    await client
      .createSender('ehr-inbound')
      .sendMessages({ body: siu('S12', 'IT-Q1', 'FL-IT-Q', 'ehr-pat2', 11), messageId: 'it-q1', contentType: 'application/hl7-v2' });
  } finally {
    await client.close();
  }
  const found = await waitFor(async () => {
    const r = await call('GET', `/fhir/Appointment?identifier=${encodeURIComponent('urn:slotflow:hl7:filler|FL-IT-Q')}`, EHR);
    const entry = (r.json().entry as { resource: Record<string, unknown> }[] | undefined)?.[0];
    return entry?.resource;
  });
  expect(found).toMatchObject({
    status: 'booked',
    slot: [{ reference: `Slot/${slotId(11)}` }],
    participant: expect.arrayContaining([expect.objectContaining({ actor: { reference: 'Patient/ehr-pat2' } })]),
  });
});

test('$hold takes the Cosmos slot claim (a second hold is 409); $book books the hold in place', async () => {
  const body = (patient: string) =>
    JSON.stringify({ resourceType: 'Appointment', slot: [{ reference: `Slot/${slotId(13)}` }], participant: [{ actor: { reference: `Patient/${patient}` } }] });
  const hold = await call('POST', '/fhir/Appointment/$hold', EHR, body('ehr-pat1'), 'application/fhir+json');
  expect(hold.status).toBe(200);
  const held = (hold.json().entry as { resource: Record<string, unknown> }[])[0]!.resource;
  expect(held.status).toBe('proposed');
  const second = await call('POST', '/fhir/Appointment/$hold', EHR, body('ehr-pat2'), 'application/fhir+json');
  expect(second.status).toBe(409);
  const book = await call('POST', '/fhir/Appointment/$book', EHR, JSON.stringify({ resourceType: 'Appointment', id: held.id }), 'application/fhir+json');
  expect(book.status).toBe(200);
  expect((book.json().entry as { resource: Record<string, unknown> }[])[0]!.resource).toMatchObject({ id: held.id, status: 'booked' });
  const slots = await call(
    'GET',
    `/fhir/Slot?schedule=Schedule/ehr-doc&start=ge${encodeURIComponent(day.set({ hour: 13 }).toISO()!)}&start=lt${encodeURIComponent(day.set({ hour: 14 }).toISO()!)}`,
    EHR,
  );
  expect((slots.json().entry as { resource: Record<string, unknown> }[]).map((e) => [e.resource.id, e.resource.status])).toEqual([
    [slotId(13), 'busy'],
    [slotId(13, 30), 'free'],
  ]);
});

test('a lapsed hold is released on Cosmos by the sweeper, and the slot can be held again', async () => {
  const body = (patient: string) =>
    JSON.stringify({ resourceType: 'Appointment', slot: [{ reference: `Slot/${slotId(15)}` }], participant: [{ actor: { reference: `Patient/${patient}` } }] });
  const first = await call('POST', '/fhir/Appointment/$hold', EHR, body('ehr-pat1'), 'application/fhir+json');
  expect(first.status).toBe(200);
  const services = await getServices();
  // The sweeper as it would run 11 minutes from now.
  const later = { ...services, clock: { now: () => services.clock.now().plus({ minutes: 11 }) } };
  expect(await sweepExpiredHolds(later)).toBeGreaterThanOrEqual(1);
  const heldId = String((first.json().entry as { resource: Record<string, unknown> }[])[0]!.resource.id);
  expect(await services.appointments.get(heldId)).toMatchObject({ status: 'cancelled', cancellation: { reasonCode: 'hold-expired' } });
  const again = await call('POST', '/fhir/Appointment/$hold', EHR, body('ehr-pat2'), 'application/fhir+json');
  expect(again.status).toBe(200);
});
