// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * FHIR searchset paging in process: links (self, first, previous, next, last), `_offset`, a default time window
 * pinned into the links so later pages do not drift with the clock, and $find paging through its GET form.
 */
import { invoke, principal, seed, type Seeded } from '../../../support/api-harness';
import { expectValidFhir } from '../../../support/fhir-schema';

import '../../../../functions/fhir/appointment';
import '../../../../functions/fhir/slot';

const EHR = principal(['ehr'], undefined, 'ehr-1');
let env: Seeded;
beforeEach(async () => {
  env = await seed();
});

interface Bundle {
  total?: number;
  link: { relation: string; url: string }[];
  entry?: { resource: { id?: string; start?: string; slot?: { reference: string }[] } }[];
}
const link = (b: Bundle, relation: string) => b.link.find((l) => l.relation === relation)?.url;
const get = async (url: string) => {
  const r = await invoke('GET', url.replace('http://127.0.0.1:7071', ''), { principal: EHR });
  if (r.status === 200) expectValidFhir(r.body);
  return r;
};

test('Slot search: first, next, previous and last links; _offset past the end gives an empty page with links back', async () => {
  const first = (await get('/fhir/Slot?schedule=Schedule/p1&start=ge2026-03-03&start=lt2026-03-04&_count=5')).body as Bundle;
  expect(first.total).toBe(16);
  expect(first.entry).toHaveLength(5);
  expect(link(first, 'self')).toBe('http://127.0.0.1:7071/fhir/Slot?schedule=Schedule/p1&start=ge2026-03-03&start=lt2026-03-04&_count=5');
  expect(link(first, 'next')).toBe('http://127.0.0.1:7071/fhir/Slot?schedule=Schedule/p1&start=ge2026-03-03&start=lt2026-03-04&_count=5&_offset=5');
  expect(link(first, 'last')).toContain('_offset=15');
  expect(link(first, 'previous')).toBeUndefined();
  const last = (await get(link(first, 'last')!)).body as Bundle;
  expect(last.entry).toHaveLength(1);
  expect(link(last, 'next')).toBeUndefined();
  expect(link(last, 'previous')).toContain('_offset=10');
  const beyond = (await get('/fhir/Slot?schedule=Schedule/p1&start=ge2026-03-03&start=lt2026-03-04&_count=5&_offset=40')).body as Bundle;
  expect(beyond.entry).toBeUndefined();
  expect(link(beyond, 'previous')).toContain('_offset=15');
  for (const bad of ['-1', 'x', '1000001']) {
    expect((await get(`/fhir/Slot?schedule=Schedule/p1&_offset=${bad}`)).status).toBe(400);
  }
});

test('a search with the default window pins it into the links: later pages cover the same window after the clock moved', async () => {
  const first = (await get('/fhir/Slot?schedule=Schedule/p1&_count=10')).body as Bundle;
  const next = link(first, 'next')!;
  expect(next).toContain('start=ge2026-03-02T13:00:00.000Z');
  expect(next).toContain('start=lt2026-03-09T13:00:00.000Z');
  env.clock.advance({ days: 1 });
  const second = (await get(next)).body as Bundle;
  expect(second.total).toBe(first.total);
  // Monday 09:00 + 10 slots: the pinned window still starts on Monday (those slots are now busy-unavailable).
  expect(second.entry![0]!.resource.start).toBe('2026-03-02T14:00:00-05:00');
});

test('Appointment search gives total and next links', async () => {
  const all = (await get('/fhir/Appointment?location=Location/c1&_count=1')).body as Bundle;
  expect(all.total).toBe(0);
  expect(link(all, 'next')).toBeUndefined();
  expect(link(all, 'first')).toContain('date=ge');
});

test('$find pages through its GET form; GET and POST give the same proposals', async () => {
  const post = await invoke('POST', '/fhir/Appointment/$find', {
    principal: EHR,
    headers: { 'content-type': 'application/fhir+json' },
    body: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'start', valueDateTime: '2026-03-03T00:00:00-05:00' },
        { name: 'end', valueDateTime: '2026-03-04T00:00:00-05:00' },
        { name: 'practitioner', valueReference: { reference: 'Practitioner/p1' } },
        { name: 'visit-type', valueCode: 'checkup' },
        { name: '_count', valueInteger: 6 },
      ],
    },
  });
  expect(post.status).toBe(200);
  const first = post.body as Bundle;
  expect(first.total).toBe(16);
  expect(first.entry).toHaveLength(6);
  const next = link(first, 'next')!;
  expect(next).toMatch(
    /^http:\/\/127\.0\.0\.1:7071\/fhir\/Appointment\/\$find\?start=.*&practitioner=Practitioner\/p1&location=Location\/c1&visit-type=checkup&_count=6&_offset=6$/,
  );
  const pages = [first];
  for (let url: string | undefined = next; url; url = link(pages.at(-1)!, 'next')) pages.push((await get(url)).body as Bundle);
  expect(pages).toHaveLength(3);
  const slots = pages.flatMap((p) => (p.entry ?? []).map((e) => e.resource.slot![0]!.reference));
  expect(new Set(slots).size).toBe(16);
  const viaGet = (await get(link(first, 'self')!)).body as Bundle;
  expect(viaGet.entry!.map((e) => e.resource.slot![0]!.reference)).toEqual(slots.slice(0, 6));
  expect((await get('/fhir/Appointment/$find?visit-type=checkup&location=Location/c1&bogus=1')).status).toBe(400);
});
