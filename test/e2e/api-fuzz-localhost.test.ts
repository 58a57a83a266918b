/**
 * A short fuzz run of the scheduling API through the real local host (Cosmos-compatible store, real
 * HTTP parsing): what the in-process fuzz cannot see, such as store errors on odd ids or tokens.
 * Never a 5xx, and no seeded PHI in an error body.
 */
import fc from 'fast-check';
import { encodeContinuation } from '../../functions/http/handlers';
import { principalHeader } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

jest.setTimeout(180_000);

const RUNS = Number(process.env.FUZZ_RUNS ?? 15);
const PHI = ['Fuzz Patient Name', '+15555557777'];
let host: LocalHostProcess;

const routes: [string, string][] = [
  ['GET', '/api/slots'],
  ['GET', '/api/schedule'],
  ['POST', '/api/appointments'],
  ['GET', '/api/appointments'],
  ['GET', '/api/appointments/{id}'],
  ['POST', '/api/appointments/{id}/cancel'],
  ['POST', '/api/appointments/{id}/no-show'],
  ['GET', '/api/appointments/{id}/events'],
  ['PUT', '/api/clinics/{id}'],
  ['PUT', '/api/appointment-types/{id}'],
  ['PUT', '/api/providers/{id}'],
  ['PUT', '/api/patients/{id}'],
  ['GET', '/api/providers'],
  ['GET', '/api/appointment-types'],
  ['POST', '/api/waitlist'],
  ['GET', '/api/waitlist'],
  ['GET', '/api/offers'],
  ['POST', '/api/providers/{id}/absences'],
  ['GET', '/api/workflows/{id}'],
];

beforeAll(async () => {
  host = await startLocalHost();
  const admin = principalHeader(['admin']);
  const put = (path: string, body: unknown) =>
    fetch(`${host.baseUrl}${path}`, {
      method: 'PUT',
      headers: { 'x-ms-client-principal': admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await put('/api/clinics/fz', { name: 'Fuzz', timeZone: 'UTC' });
  await put('/api/appointment-types/fz-visit', { clinicId: 'fz', name: 'Visit', durationMinutes: 30 });
  await put('/api/providers/fz-dr', {
    clinicId: 'fz',
    name: 'Dr',
    appointmentTypes: ['fz-visit'],
    weeklyHours: [{ day: 'mon', start: '09:00', end: '12:00' }],
  });
  await put('/api/patients/fz-p', { name: PHI[0], phone: PHI[1], smsConsent: true });
});

afterAll(async () => {
  await host?.stop();
});

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    ...PHI,
    'fz',
    'fz-dr',
    'fz-p',
    'fz-visit',
    'fz-dr.20300107T0900',
    '..',
    '%',
    'a'.repeat(300),
    '2030-01-07T09:00:00Z',
    'eyJzIjoiYSIsInQiOiJ4In0',
  ),
);
const query = fc.array(
  fc.tuple(fc.constantFrom('clinicId', 'appointmentType', 'from', 'to', 'providerId', 'patientId', 'status', 'limit', 'continuationToken', 'date'), text),
  { maxLength: 6 },
);
const body = fc.oneof(
  fc
    .dictionary(
      fc.constantFrom(
        'slotId',
        'patientId',
        'appointmentType',
        'clinicId',
        'from',
        'to',
        'reason',
        'name',
        'timeZone',
        'phone',
        'smsConsent',
        'urgency',
        'providerIds',
      ),
      fc.oneof(text, fc.integer(), fc.boolean(), fc.array(text, { maxLength: 3 })),
      { maxKeys: 6 },
    )
    .map((b) => JSON.stringify(b)),
  fc.json({ maxDepth: 2 }),
  fc.string({ maxLength: 80 }),
);
// Mostly valid principals, so requests get past authentication into validation and the store.
const principal = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(principalHeader(['scheduler']), principalHeader(['admin'])) },
  { weight: 1, arbitrary: fc.constantFrom(principalHeader(['scheduler'], ['other']), 'garbage', '') },
);

test.each(routes)('%s %s through the host: never 5xx, never PHI in an error', async (method, template) => {
  await fc.assert(
    fc.asyncProperty(text, query, body, principal, async (segment, q, b, p) => {
      const search = new URLSearchParams(q).toString();
      const path = template.replace('{id}', encodeURIComponent(segment || 'x')) + (search ? `?${search}` : '');
      const res = await fetch(`${host.baseUrl}${path}`, {
        method,
        headers: { ...(p ? { 'x-ms-client-principal': p } : {}), ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
        ...(method === 'GET' ? {} : { body: b }),
      });
      const out = await res.text();
      expect(res.status).toBeLessThan(500);
      if (res.status >= 400) for (const s of PHI) expect(out).not.toContain(s);
    }),
    { numRuns: RUNS },
  );
});

test('a well-formed token the store rejects is 400, not 500', async () => {
  const from = '2030-01-01T00:00:00Z';
  const to = '2030-02-01T00:00:00Z';
  const forged = encodeContinuation('{"compositeToken":"not-a-real-token"}', { clinicId: 'fz', from, to });
  const res = await fetch(`${host.baseUrl}/api/appointments?clinicId=fz&from=${from}&to=${to}&continuationToken=${forged}`, {
    headers: { 'x-ms-client-principal': principalHeader(['scheduler']) },
  });
  expect([200, 400]).toContain(res.status);
  const wl = encodeContinuation('garbage', { clinicId: 'fz' });
  const res2 = await fetch(`${host.baseUrl}/api/waitlist?clinicId=fz&continuationToken=${wl}`, {
    headers: { 'x-ms-client-principal': principalHeader(['scheduler']) },
  });
  expect([200, 400]).toContain(res2.status);
});
