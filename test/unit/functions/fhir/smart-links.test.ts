// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * SMART Scheduling Links data (https://github.com/smart-on-fhir/smart-scheduling-links/blob/master/specification.md):
 * a clinic configured with address, phone and identifiers (PUT /api/clinics/{id}, validated) publishes a Location
 * with name, telecom, address (line, city, state, postalCode) and identifier; each Schedule has exactly one actor,
 * a reference to a published Location; each Slot references a published Schedule. The spec's rules are checked
 * here as a consumer would, and every resource against the FHIR R4 JSON schema.
 */
import { invoke, principal, seed } from '../../../support/api-harness';
import { expectValidFhir } from '../../../support/fhir-schema';

import '../../../../functions/api/config';
import '../../../../functions/fhir/bulk-publish';

const ADMIN = principal(['admin']);
const EHR = principal(['ehr'], undefined, 'ehr-1');
beforeEach(async () => {
  await seed();
});

const MAIN_STREET = {
  name: 'Main Street Clinic',
  timeZone: 'America/New_York',
  address: { line: ['12 Main Street', 'Suite 3'], city: 'Cambridge', state: 'MA', postalCode: '02139', country: 'US' },
  phone: '+16175550100',
  identifiers: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }],
};

interface Res {
  resourceType: string;
  id: string;
  [k: string]: unknown;
}
const ndjson = async (file: string) => {
  const r = await invoke('GET', `/fhir/$bulk-publish/${file}.ndjson`, { principal: EHR });
  expect(r.status).toBe(200);
  return r.text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Res);
};

/** The specification's rules for the three files, as a consumer checks them; returns the violations. */
function smartViolations(locations: Res[], schedules: Res[], slots: Res[]): string[] {
  const out: string[] = [];
  const locationIds = new Set(locations.map((l) => l.id));
  const scheduleIds = new Set(schedules.map((s) => s.id));
  for (const l of locations) {
    const telecom = l.telecom as { system?: string; value?: string }[] | undefined;
    const address = l.address as { line?: string[]; city?: string; state?: string; postalCode?: string } | undefined;
    if (typeof l.name !== 'string') out.push(`Location/${l.id}: name`);
    if (!telecom?.some((t) => t.system === 'phone' && t.value)) out.push(`Location/${l.id}: telecom`);
    if (!address?.line?.length || !address.city || !address.state || !address.postalCode) out.push(`Location/${l.id}: address`);
    if (!Array.isArray(l.identifier) || l.identifier.length === 0) out.push(`Location/${l.id}: identifier`);
  }
  for (const s of schedules) {
    const actor = s.actor as { reference?: string }[];
    if (actor.length !== 1) out.push(`Schedule/${s.id}: ${actor.length} actors`);
    const ref = /^Location\/(.+)$/.exec(actor[0]?.reference ?? '')?.[1];
    if (!ref || !locationIds.has(ref)) out.push(`Schedule/${s.id}: actor is not a published Location`);
  }
  for (const s of slots) {
    const ref = /^Schedule\/(.+)$/.exec((s.schedule as { reference: string }).reference)?.[1];
    if (!ref || !scheduleIds.has(ref)) out.push(`Slot/${s.id}: schedule`);
    if (!['free', 'busy'].includes(String(s.status))) out.push(`Slot/${s.id}: status ${String(s.status)}`);
    if (!s.start || !s.end) out.push(`Slot/${s.id}: start/end`);
  }
  return out;
}

test('a clinic configured with address, phone and identifiers publishes a Location that meets the specification', async () => {
  const put = await invoke('PUT', '/api/clinics/c1', { principal: ADMIN, body: MAIN_STREET });
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({ address: MAIN_STREET.address, phone: MAIN_STREET.phone, identifiers: MAIN_STREET.identifiers });
  const c1 = (await ndjson('Location')).find((l) => l.id === 'c1')!;
  expectValidFhir(c1);
  expect(c1).toMatchObject({
    name: 'Main Street Clinic',
    telecom: [{ system: 'phone', value: '+16175550100', use: 'work' }],
    address: { line: ['12 Main Street', 'Suite 3'], city: 'Cambridge', state: 'MA', postalCode: '02139', country: 'US' },
    identifier: [
      { system: 'urn:slotflow:clinic', value: 'c1' },
      { system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' },
    ],
  });
});

test('the three files together satisfy the specification once every clinic has its address and phone', async () => {
  await invoke('PUT', '/api/clinics/c1', { principal: ADMIN, body: MAIN_STREET });
  const [locations, schedules, slots] = [await ndjson('Location'), await ndjson('Schedule'), await ndjson('Slot')];
  // c2 has no address or phone yet: the check names exactly what is missing.
  expect(smartViolations(locations, schedules, slots)).toEqual(['Location/c2: telecom', 'Location/c2: address']);
  await invoke('PUT', '/api/clinics/c2', {
    principal: ADMIN,
    body: {
      name: 'Berlin Clinic',
      timeZone: 'Europe/Berlin',
      address: { line: ['Unter den Linden 1'], city: 'Berlin', state: 'BE', postalCode: '10117' },
      phone: '+49305550100',
    },
  });
  const again = [await ndjson('Location'), await ndjson('Schedule'), await ndjson('Slot')] as const;
  expect(smartViolations(...again)).toEqual([]);
  for (const r of [...again[0], ...again[1]]) expectValidFhir(r);
  expect(again[1].map((s) => s.actor)).toEqual([[{ reference: 'Location/c1' }], [{ reference: 'Location/c1' }], [{ reference: 'Location/c2' }]]);
});

test('PUT /api/clinics/{id} validates address, phone and identifiers (400 with the field)', async () => {
  const bad = async (patch: Record<string, unknown>) => {
    const r = await invoke('PUT', '/api/clinics/c1', { principal: ADMIN, body: { ...MAIN_STREET, ...patch } });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return JSON.stringify(r.body);
  };
  expect(await bad({ phone: '617-555-0100' })).toContain('phone');
  expect(await bad({ address: { ...MAIN_STREET.address, line: [] } })).toContain('address.line');
  expect(await bad({ address: { ...MAIN_STREET.address, postalCode: '!!' } })).toContain('address.postalCode');
  expect(await bad({ address: { ...MAIN_STREET.address, country: 'USA' } })).toContain('address.country');
  expect(await bad({ address: { line: ['1 Road'], city: 'X', state: 'Y' } })).toContain('address.postalCode');
  expect(await bad({ address: { ...MAIN_STREET.address, planet: 'Earth' } })).toContain('address');
  expect(await bad({ identifiers: [{ system: 'npi', value: '1' }] })).toContain('identifiers.0.system');
  expect(await bad({ identifiers: [{ system: 'urn:x', value: '' }] })).toContain('identifiers.0.value');
  // Without them the clinic is still valid (they are optional, as before).
  expect((await invoke('PUT', '/api/clinics/c1', { principal: ADMIN, body: { name: 'Main Street Clinic', timeZone: 'America/New_York' } })).status).toBe(200);
});
