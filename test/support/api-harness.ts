/**
 * In-process harness for the HTTP API: captures the registrations `app.http` makes (through a stand-in for
 * the host-provided `@azure/functions-core`), and invokes the registered handlers with real HttpRequest /
 * InvocationContext objects, as the Functions host would.
 *
 * Use in a test file, before importing any function file:
 *   jest.mock('@azure/functions-core', () => require('./api-harness').functionsCoreStub, { virtual: true });
 */
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { DateTime } from 'luxon';
import type { PatientRecord } from '../../domain';
import { FixedClock, InMemoryAudit, InMemoryOffers, RecordingPublisher, SequentialIds } from '../../domain/memory';
import { encodePrincipal, type Role } from '../../functions/http/auth';
import { loadSettings } from '../../functions/app/config';
import { createInMemoryServices, setServices, type Services } from '../../functions/app/services';

export interface CapturedBinding {
  type: string;
  direction?: string;
  name?: string;
  route?: string;
  methods?: string[];
  [key: string]: unknown;
}
export interface CapturedFunction {
  name: string;
  bindings: Record<string, CapturedBinding>;
  handler: (...args: unknown[]) => unknown;
}

export const captured: CapturedFunction[] = [];

/** The stand-in for `@azure/functions-core` (see LOCAL-HOST-NOTES.md, "Capturing registrations"). */
export const functionsCoreStub = {
  version: '3.10.1',
  hostVersion: '4.1036.0',
  registerFunction(metadata: { name: string; bindings: Record<string, CapturedBinding> }, handler: (...args: unknown[]) => unknown) {
    captured.push({ name: metadata.name, bindings: metadata.bindings, handler });
    return { dispose: () => undefined };
  },
  registerHook: () => ({ dispose: () => undefined }),
  setProgrammingModel: () => undefined,
  getProgrammingModel: () => undefined,
  log: () => undefined,
};

export interface HttpRoute {
  name: string;
  /** As registered, e.g. `api/appointments/{appointmentId}`. */
  route: string;
  methods: string[];
  fn: CapturedFunction;
}

export function httpRoutes(): HttpRoute[] {
  return captured.flatMap((fn) => {
    const trigger = Object.values(fn.bindings).find((b) => b.type === 'httpTrigger');
    if (!trigger) return [];
    return [{ name: fn.name, route: String(trigger.route ?? fn.name), methods: (trigger.methods ?? ['GET', 'POST']).map((m) => m.toUpperCase()), fn }];
  });
}

function matchRoute(template: string, path: string): Record<string, string> | undefined {
  const t = template.replace(/^\/+/, '').split('/');
  const p = path.replace(/^\/+/, '').split('/');
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i]!;
    const m = /^\{(\*?)([A-Za-z0-9_]+)(:[^}]*)?(\?)?\}$/.exec(seg);
    if (m?.[1] === '*') {
      params[m[2]!] = p.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    if (i >= p.length) return m?.[4] ? params : undefined;
    if (m) {
      if (p[i] === '') return undefined;
      params[m[2]!] = decodeURIComponent(p[i]!);
    } else if (seg.toLowerCase() !== p[i]!.toLowerCase()) return undefined;
  }
  return p.length === t.length ? params : undefined;
}

export interface InvokeOptions {
  headers?: Record<string, string>;
  /** A JSON value (serialised) or a raw string body. */
  body?: unknown;
  rawBody?: string;
  principal?: string | null;
  /** Values for extra inputs by binding type, e.g. `{ durableClient: fakeClient }`. */
  extraInputs?: Record<string, unknown>;
}

export interface InvokeResult {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
  response: HttpResponse;
  /** The matched route template as registered, e.g. `api/appointments/{appointmentId}`. */
  route: string;
}

let invocationCounter = 0;

/** Invokes the handler registered for method + path (literal routes win over parameterised ones). */
export async function invoke(method: string, pathAndQuery: string, options: InvokeOptions = {}): Promise<InvokeResult> {
  const url = new URL(pathAndQuery, 'http://127.0.0.1:7071');
  const candidates = httpRoutes()
    .filter((r) => r.methods.includes(method.toUpperCase()))
    .map((r) => ({ r, params: matchRoute(r.route, url.pathname) }))
    .filter((c): c is { r: HttpRoute; params: Record<string, string> } => c.params !== undefined)
    // As the Functions host ranks them: literal segments, then parameters, and a catch-all ({*rest}) last.
    .sort((a, b) => Number(a.r.route.includes('{*')) - Number(b.r.route.includes('{*')) || Object.keys(a.params).length - Object.keys(b.params).length);
  const hit = candidates[0];
  if (!hit) throw new Error(`no route for ${method} ${url.pathname}`);
  const headers: Record<string, string> = { ...options.headers };
  if (options.principal !== null) headers['x-ms-client-principal'] ??= options.principal ?? principal(['scheduler']);
  let bodyText: string | undefined = options.rawBody;
  if (bodyText === undefined && options.body !== undefined) {
    bodyText = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const request = new HttpRequest({
    method: method.toUpperCase(),
    url: url.href,
    headers,
    params: hit.params,
    ...(bodyText !== undefined ? { body: { string: bodyText } } : {}),
  });
  const extraInputDefs = Object.entries(hit.r.fn.bindings)
    .filter(([, b]) => b.direction === 'in' && b.type !== 'httpTrigger')
    .map(([name, b]) => ({ ...b, name, type: b.type }));
  invocationCounter += 1;
  const context = new InvocationContext({
    functionName: hit.r.name,
    invocationId: `inv-${invocationCounter}`,
    options: { trigger: { type: 'httpTrigger', name: 'request' }, extraInputs: extraInputDefs },
    logHandler: () => undefined,
  });
  for (const def of extraInputDefs) {
    const value = options.extraInputs?.[def.type];
    if (value !== undefined) context.extraInputs.set(def.name, value);
  }
  // Handlers may return an HttpResponse or a plain HttpResponseInit (as the Functions host accepts both).
  const result = (await hit.r.fn.handler(request, context)) as HttpResponse | HttpResponseInit;
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status ?? 200, headers: response.headers, text, body, response, route: hit.r.route };
}

/** A principal header. */
export function principal(roles: Role[], clinicIds?: string[], principalId = 'staff-1'): string {
  return encodePrincipal({ roles, ...(clinicIds ? { clinicIds } : {}), principalId });
}

/** Monday 2 March 2026, 08:00 in New York (13:00 UTC). */
export const NOW = DateTime.fromISO('2026-03-02T13:00:00Z', { zone: 'utc' });

/** Names and phones the fuzz test looks for in error bodies (PHI). */
export const SEEDED_PHI = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', '+14155550101', '+14155550102', '+14155550103'];

export interface Seeded {
  services: Services;
  clock: FixedClock;
  audit: InMemoryAudit;
  offers: InMemoryOffers;
  publisher: RecordingPublisher;
}

/**
 * In-memory services with a fixed clock, sequential ids and two clinics:
 * c1 (America/New_York; types checkup 30 min and consult 60 min; providers p1, p2 Mon-Fri 09:00-17:00;
 * patients pat1, pat2 organisation-wide) and c2 (Europe/Berlin; provider p3; patient pat3 limited to c2).
 */
export async function seed(): Promise<Seeded> {
  const clock = new FixedClock(NOW);
  const audit = new InMemoryAudit();
  const offers = new InMemoryOffers();
  const publisher = new RecordingPublisher();
  const services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' }), { clock, ids: new SequentialIds(), audit, offers, publisher });
  const { config, patients } = services;
  const hours = (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, start: '09:00', end: '17:00' }));
  const policy = { minNoticeMinutes: 60, maxHorizonDays: 90, cancellationWindowHours: 24, noShowWindowDays: 180, noShowThreshold: 2 };
  const offerPolicy = {
    batchSize: 3,
    maxRounds: 5,
    expiryFraction: 0.1,
    minExpiryMinutes: 10,
    maxExpiryMinutes: 120,
    minLeadMinutes: 60,
    quietStart: '21:00',
    quietEnd: '08:00',
  };
  await config.putClinic({
    clinicId: 'c1',
    name: 'Main Street Clinic',
    timeZone: 'America/New_York',
    bookingPolicy: policy,
    offerPolicy,
    reminderHoursBefore: [48, 2],
    eligibilityLeadHours: 72,
  });
  await config.putClinic({
    clinicId: 'c2',
    name: 'Berlin Clinic',
    timeZone: 'Europe/Berlin',
    bookingPolicy: policy,
    offerPolicy,
    reminderHoursBefore: [48, 2],
    eligibilityLeadHours: 72,
  });
  await config.putAppointmentType({ code: 'checkup', clinicId: 'c1', name: 'Check-up', durationMinutes: 30 });
  await config.putAppointmentType({ code: 'consult', clinicId: 'c1', name: 'Consultation', durationMinutes: 60 });
  await config.putAppointmentType({ code: 'berlin-visit', clinicId: 'c2', name: 'Visit', durationMinutes: 30 });
  await config.putProvider({
    providerId: 'p1',
    clinicId: 'c1',
    name: 'Dr One',
    appointmentTypes: ['checkup', 'consult'],
    weeklyHours: hours,
    slotMinutes: 30,
    exceptions: [],
  });
  await config.putProvider({ providerId: 'p2', clinicId: 'c1', name: 'Dr Two', appointmentTypes: ['checkup'], weeklyHours: hours, exceptions: [] });
  await config.putProvider({ providerId: 'p3', clinicId: 'c2', name: 'Dr Three', appointmentTypes: ['berlin-visit'], weeklyHours: hours, exceptions: [] });
  const patient = (patientId: string, name: string, phone: string, clinicIds: string[]): PatientRecord => ({
    patientId,
    name,
    phone,
    smsConsent: true,
    clinicIds,
    noShows: [],
    updatedAt: NOW.toISO()!,
  });
  await patients.put(patient('pat1', 'Ada Lovelace', '+14155550101', []));
  await patients.put(patient('pat2', 'Grace Hopper', '+14155550102', []));
  await patients.put(patient('pat3', 'Alan Turing', '+14155550103', ['c2']));
  setServices(services);
  return { services, clock, audit, offers, publisher };
}

/** Tuesday 3 March 2026 09:00 New York = 14:00 UTC: p1's first slot that day. */
export const P1_TUE_0900 = 'p1.20260303T1400';
export const P1_TUE_0930 = 'p1.20260303T1430';
export const P3_TUE_0900 = 'p3.20260303T0800';

/** A fake durable client recording what was started. */
export class FakeDurableClient {
  readonly started: { name: string; instanceId?: string; input?: unknown }[] = [];
  readonly instances = new Map<
    string,
    {
      name: string;
      instanceId: string;
      runtimeStatus: string;
      customStatus: unknown;
      output: unknown;
      input: unknown;
      createdTime: Date;
      lastUpdatedTime: Date;
    }
  >();
  async startNew(name: string, options: { instanceId?: string; input?: unknown } = {}): Promise<string> {
    const instanceId = options.instanceId ?? `auto-${this.started.length + 1}`;
    this.started.push({ name, ...options });
    const at = new Date('2026-03-02T13:00:00Z');
    this.instances.set(instanceId, {
      name,
      instanceId,
      runtimeStatus: 'Pending',
      customStatus: null,
      output: null,
      input: options.input,
      createdTime: at,
      lastUpdatedTime: at,
    });
    return instanceId;
  }
  async getStatus(instanceId: string) {
    const found = this.instances.get(instanceId);
    if (!found) throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response. instance ${instanceId}`);
    return found;
  }
}
