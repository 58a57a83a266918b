// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * Served behaviour against the OpenAPI document, for every documented operation: a story calls each one with a
 * request the document allows (checked against its parameter and body schemas) and validates the answer with the
 * document's response validator (test/support/api-spec.ts: status documented, media type, body schema); the run
 * must have covered every operation. Then the constraints the document states are probed on the server: every
 * query parameter pattern, the from/to windows (x-slotflow-range), time zones, repeatable FHIR parameters, the
 * body forms of $hold and the HL7 media types.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { createHmac } from 'node:crypto';
import { DateTime } from 'luxon';
import { openApiDocument } from '../../../../functions/ops/openapi';
import { FakeDurableClient, httpRoutes, invoke, principal, seed, type InvokeOptions, type InvokeResult } from '../../../support/api-harness';
import { createSpecChecker } from '../../../support/api-spec';

import '../../../../functions/index';

const doc = openApiDocument();
const checkResponse = createSpecChecker();
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema({ $id: 'urn:slotflow:served', ...(doc as object) } as object);

const ADMIN = principal(['admin']);
const STAFF = principal(['scheduler', 'admin']);
const EHR = principal(['ehr'], undefined, 'ehr-1');
const TWILIO_TOKEN = 'served-test-token-0123456789abcdef';
let durable: FakeDurableClient;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Record<string, unknown>;
  style?: string;
  explode?: boolean;
}
interface Operation {
  operationId: string;
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  'x-slotflow-range'?: { from: string; to: string; in: 'query' | 'body'; maxDays: number };
}
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  METHODS.flatMap((method) => {
    const op = (item as Record<string, Operation | undefined>)[method];
    return op ? [{ method: method.toUpperCase(), path, op }] : [];
  }),
);
const templateOf = (route: string) => `/${route.replace(/^\/+/, '')}`.replace(/\{\*?([A-Za-z0-9_]+)(:[^}?]*)?\??\}/g, '{$1}');
const parametersOf = (op: Operation): Parameter[] =>
  (op.parameters ?? []).map((p) => ('$ref' in p ? (doc.components.parameters?.[p.$ref.split('/').pop()!] as unknown as Parameter) : p));

const compiled = new Map<string, ValidateFunction>();
function validatorOf(key: string, schema: unknown): ValidateFunction {
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"urn:slotflow:served#/components/')) as object);
    compiled.set(key, v);
  }
  return v;
}

/** Whether the request is one the document allows: query parameters known, required ones present, values valid. */
function requestProblems(method: string, template: string, op: Operation, url: URL, options: InvokeOptions): string[] {
  const problems: string[] = [];
  const params = parametersOf(op);
  const query = params.filter((p) => p.in === 'query');
  for (const key of new Set(url.searchParams.keys())) if (!query.some((p) => p.name === key)) problems.push(`query ${key} is not documented`);
  for (const p of query) {
    const values = url.searchParams.getAll(p.name);
    if (values.length === 0) {
      if (p.required) problems.push(`query ${p.name} is required`);
      continue;
    }
    const schema = p.schema ?? {};
    const isArray = schema.type === 'array';
    if (!isArray && values.length > 1) problems.push(`query ${p.name} is not repeatable`);
    const typed = (v: string) => {
      const t = isArray ? (schema.items as { type?: string } | undefined)?.type : schema.type;
      return t === 'integer' || t === 'number' ? Number(v) : t === 'boolean' ? v === 'true' : v;
    };
    const value = isArray ? values.map(typed) : typed(values[0]!);
    const validate = validatorOf(`${method} ${template} q:${p.name}`, schema);
    if (!validate(value)) problems.push(`query ${p.name}: ${ajv.errorsText(validate.errors)}`);
  }
  if (options.body !== undefined && op.requestBody?.content) {
    const contentType = options.headers?.['content-type'] ?? 'application/json';
    const media = Object.entries(op.requestBody.content).find(([type]) => contentType.startsWith(type));
    if (!media) problems.push(`body media type ${contentType} is not documented`);
    else {
      const validate = validatorOf(`${method} ${template} body ${media[0]}`, media[1].schema ?? {});
      if (!validate(options.body)) problems.push(`body: ${ajv.errorsText(validate.errors)}`);
    }
  }
  return problems;
}

const covered = new Set<string>();
/** Calls a route with a request the document allows and checks the answer against the document. */
async function call(method: string, pathAndQuery: string, options: InvokeOptions = {}): Promise<InvokeResult> {
  const r = await invoke(method, pathAndQuery, { extraInputs: { durableClient: durable }, ...options });
  const template = templateOf(r.route);
  const op = (doc.paths[template] as Record<string, Operation> | undefined)?.[method.toLowerCase()];
  expect([method, template, op ? 'documented' : 'missing']).toEqual([method, template, 'documented']);
  expect([method, pathAndQuery, requestProblems(method, template, op!, new URL(pathAndQuery, 'http://127.0.0.1:7071'), options)]).toEqual([
    method,
    pathAndQuery,
    [],
  ]);
  expect([method, pathAndQuery, r.status, checkResponse(method, r)]).toEqual([method, pathAndQuery, r.status, []]);
  covered.add(`${method} ${template}`);
  return r;
}

const fhirJson = { 'content-type': 'application/fhir+json' };
const siu = (control: string, trigger: string, slotStart: string, extra = '') =>
  [
    `MSH|^~\\&|EHR|HOSP|SLOTFLOW|SF|20260302120000-0500||SIU^${trigger}|${control}|P|2.5.1`,
    `SCH|PL-${control}|FL-${control}|||||||30|MIN|^^30^${slotStart}${extra}`,
    'PID|1||pat1^^^SLOTFLOW',
    'AIS|1||checkup',
    'AIP|1||p1',
  ].join('\r');
function twilioSignature(url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', TWILIO_TOKEN).update(Buffer.from(data, 'utf8')).digest('base64');
}

beforeAll(() => {
  process.env.TWILIO_AUTH_TOKEN = TWILIO_TOKEN;
});
afterAll(() => {
  delete process.env.TWILIO_AUTH_TOKEN;
});
beforeEach(async () => {
  await seed();
  durable = new FakeDurableClient();
});

test('a story calls every documented operation; every request is one the document allows and every answer matches it', async () => {
  // Configuration.
  await call('PUT', '/api/clinics/c1', {
    principal: ADMIN,
    body: { name: 'Main Street Clinic', timeZone: 'America/New_York', phone: '+16175550100' },
  });
  await call('GET', '/api/clinics', { principal: STAFF });
  await call('PUT', '/api/appointment-types/followup', { principal: ADMIN, body: { clinicId: 'c1', name: 'Follow-up', durationMinutes: 15 } });
  await call('GET', '/api/appointment-types?clinicId=c1', { principal: STAFF });
  await call('PUT', '/api/providers/p4', {
    principal: ADMIN,
    body: { clinicId: 'c1', name: 'Dr Four', appointmentTypes: ['checkup'], weeklyHours: [{ day: 'mon', start: '09:00', end: '12:00' }] },
  });
  await call('GET', '/api/providers?clinicId=c1', { principal: STAFF });
  await call('PUT', '/api/patients/pat9', { principal: ADMIN, body: { name: 'Nine', phone: '+14155550109', smsConsent: true } });
  await call('GET', '/api/patients/pat9', { principal: STAFF });
  await call('PUT', '/api/patients/pat9/preferred-language', { principal: STAFF, body: { preferredLanguage: 'es' } });
  await call('POST', '/api/patients/search', { principal: STAFF, body: { name: 'Nine' } });

  // Front desk.
  const slots = await call('GET', '/api/slots?clinicId=c1&appointmentType=checkup&from=2026-03-03T00:00:00-05:00&to=2026-03-04T00:00:00-05:00', {
    principal: STAFF,
  });
  const [first, second, third] = (slots.body as { slots: { slotId: string }[] }).slots;
  await call('GET', '/api/schedule?clinicId=c1&date=2026-03-03', { principal: STAFF });
  await call('GET', '/api/schedule/days?clinicId=c1&from=2026-03-02&days=2', { principal: STAFF });
  const booked = (await call('POST', '/api/appointments', { principal: STAFF, body: { slotId: first!.slotId, patientId: 'pat1', appointmentType: 'checkup' } }))
    .body as { appointmentId: string };
  const other = (await call('POST', '/api/appointments', { principal: STAFF, body: { slotId: second!.slotId, patientId: 'pat2', appointmentType: 'checkup' } }))
    .body as { appointmentId: string };
  await call('GET', '/api/appointments?clinicId=c1&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z', { principal: STAFF });
  await call('GET', `/api/appointments/${booked.appointmentId}`, { principal: STAFF });
  await call('GET', `/api/appointments/${booked.appointmentId}/timeline`, { principal: STAFF });
  await call('GET', `/api/appointments/${booked.appointmentId}/events`, { principal: STAFF });
  await call('POST', `/api/appointments/${booked.appointmentId}/confirm`, { principal: STAFF, body: {} });
  await call('POST', `/api/appointments/${booked.appointmentId}/reschedule`, { principal: STAFF, body: { slotId: third!.slotId } });
  await call('POST', `/api/appointments/${other.appointmentId}/cancel`, { principal: STAFF, body: { reason: 'patient request' } });
  await call('POST', `/api/appointments/${booked.appointmentId}/no-show`, { principal: STAFF, body: {} });
  await call('POST', '/api/waitlist', { principal: STAFF, body: { patientId: 'pat2', clinicId: 'c1', appointmentType: 'checkup' } });
  await call('GET', '/api/waitlist?clinicId=c1', { principal: STAFF });
  await call('GET', '/api/offers?clinicId=c1', { principal: STAFF });
  await call('GET', '/api/backfills?clinicId=c1', { principal: STAFF });
  await call('GET', '/api/overbooking-suggestions?clinicId=c1&from=2026-03-03T00:00:00Z&to=2026-03-10T00:00:00Z', { principal: STAFF });
  await call('POST', '/api/overbooking-suggestions/decisions', {
    principal: STAFF,
    body: { clinicId: 'c1', providerId: 'p1', date: '2026-03-03', slotId: third!.slotId, decision: 'dismissed' },
  });
  const absence = { from: '2026-03-05T00:00:00-05:00', to: '2026-03-06T00:00:00-05:00' };
  await call('POST', '/api/providers/p1/absences/preview', { principal: STAFF, body: absence });
  const started = (await call('POST', '/api/providers/p1/absences', { principal: STAFF, body: absence })).body as { instanceId: string };
  await call('GET', `/api/workflows/${started.instanceId}`, { principal: STAFF });
  await call('GET', '/api/providers/p1/calendar.ics?from=2026-03-01T00:00:00Z&to=2026-03-10T00:00:00Z', { principal: EHR });

  // EHR: HL7 v2 and FHIR.
  await call('POST', '/api/ehr/hl7v2', { principal: EHR, headers: { 'content-type': 'application/hl7-v2' }, rawBody: siu('S1', 'S12', '20260304100000-0500') });
  await call('GET', '/fhir/metadata', { principal: EHR });
  await call('GET', '/fhir/Slot?schedule=Schedule/p1&start=ge2026-03-03&start=lt2026-03-04&_count=5', { principal: EHR });
  await call('GET', '/fhir/Schedule?actor=Location/c1', { principal: EHR });
  await call('GET', '/fhir/Appointment?location=Location/c1&date=ge2026-03-01&date=le2026-03-10', { principal: EHR });
  await call('GET', `/fhir/Appointment/${other.appointmentId}`, { principal: EHR });
  const findParams = [
    { name: 'start', valueDateTime: '2026-03-05T00:00:00-05:00' },
    { name: 'end', valueDateTime: '2026-03-06T00:00:00-05:00' },
    { name: 'practitioner', valueReference: { reference: 'Practitioner/p2' } },
    { name: 'visit-type', valueCode: 'checkup' },
  ];
  await call('POST', '/fhir/Appointment/$find', { principal: EHR, headers: fhirJson, body: { resourceType: 'Parameters', parameter: findParams } });
  await call('GET', '/fhir/Appointment/$find?start=2026-03-05&practitioner=Practitioner/p2&location=Location/c1&visit-type=checkup&_count=3', {
    principal: EHR,
  });
  const held = await call('POST', '/fhir/Appointment/$hold', {
    principal: EHR,
    headers: fhirJson,
    body: { resourceType: 'Appointment', slot: [{ reference: 'Slot/p2.20260305T1500' }], participant: [{ actor: { reference: 'Patient/pat2' } }] },
  });
  const holdId = (held.body as { entry: { resource: { id: string } }[] }).entry[0]!.resource.id;
  await call('POST', '/fhir/Appointment/$book', {
    principal: EHR,
    headers: fhirJson,
    body: { resourceType: 'Parameters', parameter: [{ name: 'appointment', resource: { resourceType: 'Appointment', id: holdId } }] },
  });
  await call('GET', '/fhir/$bulk-publish', { principal: EHR });
  await call('GET', '/fhir/$bulk-publish/Location.ndjson', { principal: EHR });
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) await call(method, '/fhir/Patient/pat1', { principal: EHR });

  // Patients (Twilio webhooks, signed as Twilio signs) and operations.
  const inbound = { MessageSid: 'SM00000000000000000000000000000001', From: '+14155550101', To: '+15005550006', Body: 'HELP' };
  await call('POST', '/api/sms/inbound', {
    principal: null,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature('http://127.0.0.1:7071/api/sms/inbound', inbound) },
    rawBody: new URLSearchParams(inbound).toString(),
  });
  const status = { MessageSid: 'SM00000000000000000000000000000002', MessageStatus: 'delivered' };
  await call('POST', '/api/sms/status', {
    principal: null,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature('http://127.0.0.1:7071/api/sms/status', status) },
    rawBody: new URLSearchParams(status).toString(),
  });
  await call('GET', '/api/dev/sms/outbox', { principal: STAFF });
  await call('GET', '/api/health', { principal: null });
  await call('GET', '/api/openapi.json', { principal: STAFF });
  await call('DELETE', '/api/patients/pat9', { principal: ADMIN });

  const documented = operations.map((o) => `${o.method} ${o.path}`).sort();
  expect(documented.filter((o) => !covered.has(o))).toEqual([]);
  // And the document names every route the app registers (the route test checks this too; here it bounds "every").
  const registered = httpRoutes().flatMap((r) => r.methods.map((m) => `${m} ${templateOf(r.route)}`));
  expect(registered.filter((r) => (r.includes(' /api/') || r.includes(' /fhir/')) && !documented.includes(r))).toEqual([]);
});

/** A value that breaks a documented pattern (keeps within the length limit). */
const violating = '!!';

test('every documented query parameter pattern is enforced by the server (4xx), never answered with 2xx or 5xx', async () => {
  const base: Record<string, string> = {
    '/api/slots': 'clinicId=c1&appointmentType=checkup&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z',
    '/api/appointments': 'clinicId=c1&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z',
    '/api/schedule': 'clinicId=c1&date=2026-03-03',
    '/api/schedule/days': 'clinicId=c1&from=2026-03-02',
    '/api/offers': 'clinicId=c1',
    '/api/overbooking-suggestions': 'clinicId=c1&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z',
    '/api/waitlist': 'clinicId=c1',
    '/api/backfills': 'clinicId=c1',
    '/api/providers/{providerId}/calendar.ics': '',
    '/fhir/Slot': 'schedule=Schedule/p1',
    '/fhir/Appointment': '',
  };
  let probed = 0;
  for (const { method, path, op } of operations.filter((o) => o.method === 'GET' && o.path in base)) {
    for (const p of parametersOf(op).filter((x) => x.in === 'query')) {
      const schema = (p.schema?.type === 'array' ? p.schema.items : p.schema) as { pattern?: string } | undefined;
      if (!schema?.pattern) continue;
      const q = new URLSearchParams(base[path]);
      q.set(p.name, violating);
      const url = `${path.replace('{providerId}', 'p1')}?${q.toString()}`;
      const r = await invoke(method, url, { principal: path.startsWith('/fhir') || path.includes('calendar') ? EHR : STAFF });
      expect([url, r.status >= 400 && r.status < 500]).toEqual([url, true]);
      probed++;
    }
  }
  expect(probed).toBeGreaterThan(15);
});

test('every x-slotflow-range is the window the server enforces: maxDays is accepted, a day more and an empty window are 400', async () => {
  const ranged = operations.filter((o) => o.op['x-slotflow-range']);
  expect(ranged.map((o) => o.op.operationId).sort()).toEqual([
    'listAppointments',
    'listOffers',
    'listOverbookingSuggestions',
    'providerCalendarIcs',
    'reportProviderAbsence',
    'searchSlots',
  ]);
  const extra: Record<string, string> = {
    searchSlots: 'clinicId=c1&appointmentType=checkup&',
    listAppointments: 'clinicId=c1&',
    listOffers: 'clinicId=c1&',
    listOverbookingSuggestions: 'clinicId=c1&',
    providerCalendarIcs: '',
    reportProviderAbsence: '',
  };
  const from = DateTime.fromISO('2026-03-03T00:00:00Z', { zone: 'utc' });
  for (const { method, path, op } of ranged) {
    const range = op['x-slotflow-range']!;
    const attempt = async (to: DateTime) => {
      const window = { [range.from]: from.toISO()!, [range.to]: to.toISO()! };
      const url = path.replace('{providerId}', 'p1');
      const principalFor = path.includes('calendar') ? EHR : STAFF;
      if (range.in === 'body') return invoke(method, url, { principal: principalFor, body: window, extraInputs: { durableClient: durable } });
      return invoke(method, `${url}?${extra[op.operationId]}${new URLSearchParams(window).toString()}`, { principal: principalFor });
    };
    const widest = await attempt(from.plus({ days: range.maxDays }));
    expect([op.operationId, 'widest', widest.status < 400]).toEqual([op.operationId, 'widest', true]);
    const tooWide = await attempt(from.plus({ days: range.maxDays + 1 }));
    expect([op.operationId, 'too wide', tooWide.status]).toEqual([op.operationId, 'too wide', 400]);
    const empty = await attempt(from);
    expect([op.operationId, 'empty', empty.status]).toEqual([op.operationId, 'empty', 400]);
  }
});

test('time zones: what the documented pattern refuses, the server refuses; so is a well-formed zone the database does not know', async () => {
  const put = (timeZone: string) => invoke('PUT', '/api/clinics/c9', { principal: ADMIN, body: { name: 'Nine', timeZone } });
  const pattern = new RegExp(
    (
      doc.paths['/api/clinics/{clinicId}'] as {
        put: { requestBody: { content: Record<string, { schema: { properties: { timeZone: { pattern: string } } } }> } };
      }
    ).put.requestBody.content['application/json']!.schema.properties.timeZone.pattern,
  );
  for (const zone of ['+02:00', 'CET', 'EST5EDT', 'America/', '']) {
    expect([zone, pattern.test(zone), (await put(zone)).status]).toEqual([zone, false, 400]);
  }
  expect([pattern.test('Mars/Olympus_Mons'), (await put('Mars/Olympus_Mons')).status]).toEqual([true, 400]);
  expect((await put('Europe/Berlin')).status).toBe(201);
});

test('documented request forms are served: repeatable start, $hold with a bare Appointment or Parameters, every HL7 media type', async () => {
  const bounded = await invoke('GET', '/fhir/Slot?schedule=Schedule/p1&start=ge2026-03-03T10:00:00-05:00&start=lt2026-03-03T11:00:00-05:00', {
    principal: EHR,
  });
  expect((bounded.body as { total: number }).total).toBe(2);
  const appointment = (slot: string) => ({
    resourceType: 'Appointment',
    slot: [{ reference: `Slot/${slot}` }],
    participant: [{ actor: { reference: 'Patient/pat1' } }],
  });
  expect((await invoke('POST', '/fhir/Appointment/$hold', { principal: EHR, headers: fhirJson, body: appointment('p1.20260303T1500') })).status).toBe(200);
  const asParameters = { resourceType: 'Parameters', parameter: [{ name: 'appointment', resource: appointment('p1.20260303T1600') }] };
  expect(
    (await invoke('POST', '/fhir/Appointment/$hold', { principal: EHR, headers: { 'content-type': 'application/json' }, body: asParameters })).status,
  ).toBe(200);
  const media = Object.keys((doc.paths['/api/ehr/hl7v2'] as { post: { requestBody: { content: Record<string, unknown> } } }).post.requestBody.content);
  expect(media).toEqual(expect.arrayContaining(['application/hl7-v2', 'x-application/hl7-v2+er7', 'text/plain']));
  let n = 0;
  for (const type of media) {
    const r = await invoke('POST', '/api/ehr/hl7v2', {
      principal: EHR,
      headers: { 'content-type': type === '*/*' ? 'application/octet-stream' : type },
      rawBody: siu(`M${++n}`, 'S12', `20260304${9 + n}0000-0500`), // 10:00, 11:00, ... on Wednesday
    });
    expect([type, r.status, r.text.split('\r')[1]?.slice(0, 6)]).toEqual([type, 200, 'MSA|AA']);
  }
});
