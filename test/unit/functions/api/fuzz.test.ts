// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * Fuzz: random and malformed bodies, headers, path segments and query strings against every route of the
 * scheduling API. Never a 5xx, never a thrown handler, and no seeded PHI (patient names, phones) in any
 * error body, even when the request itself carries it.
 */
import fc from 'fast-check';
import { FakeDurableClient, httpRoutes, invoke, P1_TUE_0900, principal, seed, SEEDED_PHI, type HttpRoute } from '../../../support/api-harness';

import '../../../../functions/api/appointments';
import '../../../../functions/api/config';
import '../../../../functions/api/slots';
import '../../../../functions/api/waitlist';
import '../../../../functions/api/workflows';
import '../../../../functions/ops/openapi';

const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 60);
let appointmentId = 'apt-none';

beforeAll(async () => {
  const env = await seed();
  const booked = await invoke('POST', '/api/appointments', { body: { slotId: P1_TUE_0900, patientId: 'pat1', appointmentType: 'checkup' } });
  appointmentId = (booked.body as { appointmentId: string }).appointmentId;
  await env.services.waitlist.add({
    waitlistEntryId: 'wl-fuzz',
    clinicId: 'c1',
    patientId: 'pat2',
    appointmentType: 'checkup',
    providerIds: [],
    urgency: 'routine',
    timeOfDay: 'any',
    status: 'active',
    createdAt: '2026-03-01T00:00:00Z',
    updatedAt: '2026-03-01T00:00:00Z',
    version: 1,
  });
});

const phi = fc.constantFrom(...SEEDED_PHI);
const knownIds = fc.constantFrom('c1', 'c2', 'p1', 'p3', 'pat1', 'pat3', 'checkup', P1_TUE_0900, 'wl-fuzz', 'absence-p1-0000000000000000');
const nasty = fc.constantFrom(
  '',
  ' ',
  '..',
  '%00',
  '\u0000',
  'null',
  '{}',
  '[]',
  '-1',
  '1e309',
  'a'.repeat(5000),
  '2026-02-30T25:61:00Z',
  '2026-03-03T09:00:00 01:00',
  '\ud800',
  '🙂',
  '<script>',
);
const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 20 }), phi, knownIds, nasty);
const instant = fc.oneof(
  fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-03-03T09:00:00-05:00', '2026-03-03T00:00:00Z', '2026-03-04T00:00:00Z'),
  text,
);
const fieldNames = [
  'slotId',
  'patientId',
  'appointmentType',
  'clinicId',
  'providerIds',
  'earliest',
  'latest',
  'urgency',
  'reason',
  'from',
  'to',
  'name',
  'timeZone',
  'phone',
  'smsConsent',
  'coverage',
  'durationMinutes',
  'weeklyHours',
  'appointmentTypes',
  'clinicIds',
  'timeOfDay',
  'clinicalDeadline',
  'exceptions',
  'slotMinutes',
];
const value: fc.Arbitrary<unknown> = fc.oneof(
  text,
  instant,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(text, knownIds), { maxLength: 4 }),
  fc.dictionary(fc.constantFrom('day', 'start', 'end', 'payerId', 'memberId'), text, { maxKeys: 3 }),
);
const plausibleBody = fc.dictionary(fc.constantFrom(...fieldNames), value, { maxKeys: 8 });

const body = fc.oneof(
  plausibleBody.map((b) => ({ json: b })),
  fc.json({ maxDepth: 3 }).map((raw) => ({ raw })),
  fc.anything({ maxDepth: 2 }).map((b) => ({ json: b })),
  fc.string({ maxLength: 200 }).map((raw) => ({ raw })),
  phi.map((p) => ({ raw: `{"name": "${p}", "phone": ${JSON.stringify(p)}` })),
  fc.constant({ raw: '' }),
  fc.constant(undefined),
);

const principals = fc.oneof(
  fc.constant(principal(['scheduler'])),
  fc.constant(principal(['admin'])),
  fc.constant(principal(['scheduler'], ['c2'])),
  fc.constant(principal(['ehr'])),
  fc.constant(null),
  fc.string({ maxLength: 80 }),
  fc.json({ maxDepth: 2 }).map((j) => Buffer.from(j).toString('base64')),
  fc
    .array(fc.record({ typ: fc.constantFrom('roles', 'clinic', 'oid', 'x'), val: fc.oneof(text, fc.constantFrom('admin', 'scheduler')) }), { maxLength: 4 })
    .map((claims) => Buffer.from(JSON.stringify({ auth_typ: 'aad', claims })).toString('base64')),
);

const headers = fc
  .record(
    {
      'content-type': fc.oneof(
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', 'multipart/form-data', ''),
        fc.string({ maxLength: 30 }),
      ),
      'idempotency-key': fc.oneof(text, fc.uuid()),
      'x-correlation-id': text,
      'content-length': fc.oneof(fc.nat().map(String), fc.constantFrom('-1', 'abc', '99999999999')),
      'x-slotflow-client': fc.constantFrom('console', 'other'),
    },
    { requiredKeys: [] },
  )
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => typeof v === 'string' && /^[\t\x20-\x7e]*$/.test(v))));

const queryKeys = ['clinicId', 'appointmentType', 'from', 'to', 'providerId', 'patientId', 'status', 'limit', 'continuationToken', 'date', 'x', 'clinicId'];
const query = fc.array(fc.tuple(fc.constantFrom(...queryKeys), fc.oneof(text, instant, fc.integer().map(String))), { maxLength: 7 });

function fillRoute(route: string, segments: string[]): string {
  let i = 0;
  // Lone surrogates cannot travel in a URL; a client's bytes would arrive as U+FFFD.
  const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return `/${route.replace(/\{[^}]+\}/g, () => encodeURIComponent(wellFormed(segments[i++] ?? 'x')))}`;
}

const routes = (): HttpRoute[] => httpRoutes();

test('the fuzzed routes are the scheduling API', () => {
  expect(routes().map((r) => r.route)).toEqual(
    expect.arrayContaining(['api/appointments', 'api/slots', 'api/waitlist', 'api/providers/{providerId}/absences']),
  );
});

describe.each(routes().map((r) => [`${r.methods.join(',')} /${r.route}`, r] as const))('%s', (_name, route) => {
  test('never 5xx, never throws, never PHI in an error', async () => {
    const client = new FakeDurableClient();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(text, knownIds, fc.constant(appointmentId)), { minLength: 3, maxLength: 3 }),
        query,
        body,
        headers,
        principals,
        async (segments, q, b, h, p) => {
          const search = new URLSearchParams(q).toString();
          const path = `${fillRoute(route.route, segments)}${search ? `?${search}` : ''}`;
          let result;
          try {
            result = await invoke(route.methods[0]!, path, {
              headers: h,
              principal: p,
              extraInputs: { durableClient: client },
              ...(b === undefined ? {} : 'raw' in b ? { rawBody: b.raw } : { rawBody: JSON.stringify(b.json) ?? 'null' }),
            });
          } catch (e) {
            // A path that no route matches (e.g. an empty segment) never reaches a handler; anything else is a failure.
            if (e instanceof Error && e.message.startsWith('no route for')) return;
            throw e;
          }
          expect(result.status).toBeLessThan(500);
          if (result.status >= 400) {
            for (const s of SEEDED_PHI) expect(result.text).not.toContain(s);
            expect(result.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status: result.status, code: expect.any(String) });
          }
        },
      ),
      { numRuns: RUNS_PER_ROUTE },
    );
  });
});
