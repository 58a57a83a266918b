// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * Under /fhir every error is an OperationOutcome as application/fhir+json: unknown resource types and paths (the
 * catch-all route), a served path with another method (405 with Allow), no principal, the wrong role, bad input.
 */
import { captured, invoke, principal, seed } from '../../../support/api-harness';
import { expectValidFhir } from '../../../support/fhir-schema';
import { SERVED_FHIR_ROUTES } from '../../../../functions/fhir/not-served';

// Every FHIR route, as the host loads them.
import '../../../../functions/index';

const EHR = principal(['ehr'], undefined, 'ehr-1');
beforeEach(async () => {
  await seed();
});

async function expectOutcome(method: string, path: string, status: number, options: { principal?: string | null; body?: unknown } = {}) {
  const r = await invoke(method, path, { principal: EHR, ...options });
  expect([method, path, r.status]).toEqual([method, path, status]);
  expect(r.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  expect((r.body as { resourceType: string }).resourceType).toBe('OperationOutcome');
  expectValidFhir(r.body);
  return r;
}

test('an unknown resource type, interaction or path is a 404 OperationOutcome', async () => {
  const patient = await expectOutcome('GET', '/fhir/Patient/pat1', 404);
  expect(patient.text).toContain('Resource type Patient is not served');
  await expectOutcome('GET', '/fhir/Patient', 404);
  await expectOutcome('GET', '/fhir/Practitioner/p1/_history', 404);
  await expectOutcome('GET', '/fhir/Slot/p1.20260303T1400', 404);
  await expectOutcome('GET', '/fhir/nothing-here', 404);
  await expectOutcome('DELETE', '/fhir/Patient/pat1', 404);
  await expectOutcome('POST', '/fhir/Patient', 404, { body: { resourceType: 'Patient' } });
});

test('a served path with another method is a 405 OperationOutcome naming the methods it takes', async () => {
  const slot = await expectOutcome('POST', '/fhir/Slot', 405, { body: {} });
  expect(slot.headers.get('allow')).toBe('GET');
  expect((await expectOutcome('DELETE', '/fhir/Appointment/apt-1', 405)).headers.get('allow')).toBe('GET');
  expect((await expectOutcome('PUT', '/fhir/Appointment/$hold', 405)).headers.get('allow')).toBe('POST');
  // GET /fhir/Appointment/$hold is a read of an id that cannot exist: that route's own 404 OperationOutcome.
  await expectOutcome('GET', '/fhir/Appointment/$hold', 404);
  expect((await expectOutcome('PUT', '/fhir/metadata', 405)).headers.get('allow')).toBe('GET');
});

test('unauthenticated and wrong-role requests to paths not served are OperationOutcomes too (401, 403), not a hint of what exists', async () => {
  await expectOutcome('GET', '/fhir/Patient/pat1', 401, { principal: null });
  await expectOutcome('GET', '/fhir/Patient/pat1', 403, { principal: principal(['scheduler']) });
});

test('served routes still win over the catch-all', async () => {
  expect((await invoke('GET', '/fhir/metadata', { principal: EHR })).route).toBe('fhir/metadata');
  expect((await invoke('GET', '/fhir/Appointment/apt-x', { principal: EHR })).route).toBe('fhir/Appointment/{appointmentId}');
  expect((await invoke('GET', '/fhir/$bulk-publish/Slot.ndjson', { principal: EHR })).route).toBe('fhir/$bulk-publish/{file}');
});

test('SERVED_FHIR_ROUTES lists exactly the registered FHIR routes and methods', () => {
  const registered = captured
    .flatMap((f) =>
      Object.values(f.bindings)
        .filter((b) => b.type === 'httpTrigger' && String(b.route).startsWith('fhir/') && !String(b.route).includes('{*'))
        .map((b) => ({ route: String(b.route).slice('fhir/'.length), methods: (b.methods ?? []).map((m) => m.toUpperCase()).sort() })),
    )
    .sort((a, b) => a.route.localeCompare(b.route));
  // A concrete path for each template: {param} -> a value.
  for (const { route, methods } of registered) {
    const concrete = route.replace(/\{[^}]+\}/g, 'x1');
    const entry = SERVED_FHIR_ROUTES.find((r) => r.path.test(concrete));
    expect([route, [...(entry?.methods ?? [])].sort()]).toEqual([route, methods]);
  }
  expect(SERVED_FHIR_ROUTES).toHaveLength(registered.length);
});
