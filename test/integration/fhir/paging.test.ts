// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * FHIR paging as a third-party client sees it: fhir-kit-client searches Slot, Appointment and Schedule over HTTP
 * with a small _count and follows `next` to the end, then `previous` back to the start. Every page is valid
 * against the official FHIR R4 JSON schema, carries `total`, and the pages together are exactly the unpaged search.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { invoke, principal, seed } from '../../support/api-harness';
import { startApiServer } from '../../support/api-server';
import { expectValidFhir } from '../../support/fhir-schema';

import '../../../functions/api/appointments';
import '../../../functions/fhir/appointment';
import '../../../functions/fhir/schedule';
import '../../../functions/fhir/slot';

const EHR = principal(['ehr'], undefined, 'ehr-1');
const run = promisify(execFile);

interface Bundle {
  resourceType: 'Bundle';
  total?: number;
  link: { relation: string; url: string }[];
  entry?: { resource: { id?: string; start?: string } }[];
}
const ids = (pages: Bundle[]) => pages.flatMap((p) => (p.entry ?? []).map((e) => e.resource.id!));

let server: Awaited<ReturnType<typeof startApiServer>>;
beforeAll(async () => {
  server = await startApiServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  const { services } = await seed();
  // The harness sees every request as http://127.0.0.1:7071; links must name the server the client talks to.
  (services.settings as { PUBLIC_BASE_URL?: string }).PUBLIC_BASE_URL = server.baseUrl;
});

/** Runs fhir-kit-client in a child process (the package is ESM only) against the in-process server. */
async function pageWithFhirKit(resourceType: string, searchParams: Record<string, string | string[]>): Promise<{ pages: Bundle[]; back: Bundle[] }> {
  const script = join(__dirname, 'fhir-kit-pager.mjs');
  try {
    const { stdout } = await run(process.execPath, [script, `${server.baseUrl}/fhir`, EHR, resourceType, JSON.stringify(searchParams)], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout) as { pages: Bundle[]; back: Bundle[] };
  } catch (e) {
    const failed = e as { stdout?: string; stderr?: string };
    throw new Error(`fhir-kit-client failed:\n${failed.stderr ?? ''}\n${failed.stdout ?? ''}`);
  }
}

async function unpaged(path: string): Promise<Bundle> {
  const r = await invoke('GET', path, { principal: EHR });
  expect(r.status).toBe(200);
  return r.body as Bundle;
}

function expectConsistentPages(pages: Bundle[], back: Bundle[], all: Bundle, pageSize: number) {
  for (const page of [...pages, ...back]) {
    expectValidFhir(page);
    expect(page.total).toBe(all.total);
    expect((page.entry ?? []).length).toBeLessThanOrEqual(pageSize);
    expect(page.link.find((l) => l.relation === 'first')).toBeDefined();
  }
  expect(pages.length).toBe(Math.ceil(all.total! / pageSize));
  expect(ids(pages)).toEqual(ids([all]));
  expect(new Set(ids(pages)).size).toBe(all.total);
  // Back from the last page by `previous`: the same pages in reverse.
  expect(back.map((p) => ids([p]))).toEqual(pages.map((p) => ids([p])).reverse());
  expect(pages.at(-1)!.link.find((l) => l.relation === 'next')).toBeUndefined();
  expect(pages[0]!.link.find((l) => l.relation === 'previous')).toBeUndefined();
}

test('Slot: fhir-kit-client pages through two schedules for a week (160 slots, 7 a page) to the end and back', async () => {
  await invoke('POST', '/api/appointments', {
    principal: principal(['scheduler']),
    body: { slotId: 'p1.20260303T1400', patientId: 'pat1', appointmentType: 'checkup' },
  });
  const { pages, back } = await pageWithFhirKit('Slot', { schedule: 'Schedule/p1,Schedule/p2', start: ['ge2026-03-02', 'lt2026-03-09'], _count: '7' });
  const all = await unpaged('/fhir/Slot?schedule=Schedule/p1,Schedule/p2&start=ge2026-03-02&start=lt2026-03-09&_count=2000');
  // Monday's first slot starts 09:00, an hour after the test clock: 5 days x 16 slots x 2 providers.
  expect(all.total).toBe(160);
  expectConsistentPages(pages, back, all, 7);
});

test('Appointment: fhir-kit-client pages through a clinic search (total given) to the end and back', async () => {
  for (const hour of ['14', '15', '16', '17', '18', '19']) {
    for (const [provider, patient] of [
      ['p1', 'pat1'],
      ['p2', 'pat2'],
    ] as const) {
      const r = await invoke('POST', '/api/appointments', {
        principal: principal(['scheduler']),
        body: { slotId: `${provider}.20260304T${hour}00`, patientId: patient, appointmentType: 'checkup' },
      });
      expect(r.status).toBe(201);
    }
  }
  const { pages, back } = await pageWithFhirKit('Appointment', { location: 'Location/c1', _count: '5' });
  const all = await unpaged('/fhir/Appointment?location=Location/c1&_count=500');
  expect(all.total).toBe(12);
  expectConsistentPages(pages, back, all, 5);
});

test('Schedule: fhir-kit-client pages through every schedule, 2 a page', async () => {
  const { pages, back } = await pageWithFhirKit('Schedule', { _count: '2' });
  const all = await unpaged('/fhir/Schedule');
  expect(all.total).toBe(3);
  expectConsistentPages(pages, back, all, 2);
});
