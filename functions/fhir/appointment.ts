import { app } from '@azure/functions';
import { DateTime } from 'luxon';
import { z } from 'zod';
import {
  appointmentStatuses,
  bookAppointment,
  DomainError,
  ErrorCode,
  parseInstant,
  requireType,
  resolveSlot,
  searchFreeSlots,
  slotIdFor,
  type Actor,
  type Appointment,
  type AppointmentStatus,
  type ExternalId,
} from '../../domain';
import {
  APPOINTMENT_TYPE_SYSTEM,
  appointmentResource,
  bookHold,
  holdExpiresAt,
  isHold,
  placeHold,
  proposedAppointmentResource,
  releaseExpiredHolds,
  searchsetBundle,
  type FhirResource,
} from '../../domain/ehr';
import { accessOf, canAccessClinic, canAccessPatient, forbiddenProblem, requireClinicAccess } from '../http/auth';
import {
  baseUrlOf,
  countParam,
  dateRange,
  FhirProblem,
  fhirHandler,
  invalidParam,
  OFFSET_PARAM,
  offsetParam,
  readFhirBody,
  referenceIds,
  requireFhirId,
  searchParams,
  searchsetPage,
  single,
  type FhirResult,
} from './http';
import { typesOf } from '../../domain/slot-states';
import { visibleClinics } from '../http/auth';
import { audit, type ApiContext } from '../http/handlers';
import { HttpErrorCode, HttpProblem } from '../http/problem';

/**
 * FHIR Appointment (role ehr): read, search, and the IHE ITI Scheduling operations $find (Parameters in,
 * Bundle of proposed Appointments out), $hold (a held Appointment, status proposed, that lapses after
 * HOLD_MINUTES) and $book (books a hold in place, or a slot directly). Bookings go through the domain use
 * cases with channel `ehr`, so the same rules apply and the same events are published.
 */

const ehrActor = (ctx: ApiContext): Actor => ({ kind: 'ehr', principalId: ctx.principal.principalId });

/** The FHIR view of a stored appointment; holds carry their expiry. */
async function toResource(ctx: ApiContext, a: Appointment): Promise<FhirResource> {
  const types = await typesOf(ctx.services, a.clinicId);
  return appointmentResource(a, { types, ...(isHold(a) ? { holdExpiresAt: holdExpiresAt(a).toISO({ suppressMilliseconds: true })! } : {}) });
}

const selfUrl = (ctx: ApiContext) => {
  const url = new URL(ctx.request.url);
  return `${baseUrlOf(ctx)}${url.pathname}${url.search}`;
};
const entryOf = (ctx: ApiContext, resource: FhirResource) => ({ fullUrl: `${baseUrlOf(ctx)}/fhir/Appointment/${String(resource.id)}`, resource });

export async function readAppointment(ctx: ApiContext): Promise<FhirResult> {
  const appointmentId = requireFhirId(ctx.request.params.appointmentId, 'Appointment');
  const a = await ctx.services.appointments.get(appointmentId);
  if (!a) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId });
  if (!canAccessClinic(ctx.principal, a.clinicId)) {
    await audit(ctx, { action: 'read', resourceType: 'Appointment', resourceId: appointmentId, patientId: a.patientId, outcome: 'denied' });
    requireClinicAccess(ctx.principal, a.clinicId);
  }
  await audit(ctx, { action: 'read', resourceType: 'Appointment', resourceId: appointmentId, patientId: a.patientId });
  return { status: 200, body: await toResource(ctx, a), headers: { etag: `W/"${a.version}"`, 'last-modified': DateTime.fromISO(a.updatedAt).toHTTP() ?? '' } };
}

export const APPOINTMENT_SEARCH_MAX_DAYS = 366;

export async function searchAppointments(ctx: ApiContext): Promise<FhirResult> {
  const params = searchParams(ctx.request, ['patient', 'practitioner', 'actor', 'location', 'date', 'status', 'identifier', '_count', OFFSET_PARAM]);
  const patients = referenceIds(params, 'patient', ['Patient'])?.map((r) => r.id);
  const practitioners = referenceIds(params, 'practitioner', ['Practitioner'])?.map((r) => r.id);
  const actors = referenceIds(params, 'actor', ['Patient', 'Practitioner', 'Location']);
  const locations = referenceIds(params, 'location', ['Location'])?.map((r) => r.id);
  const statuses = single(params, 'status')?.split(',');
  if (statuses?.some((s) => !(appointmentStatuses as readonly string[]).includes(s)))
    throw invalidParam('status', `must be one of ${appointmentStatuses.join(', ')}`);
  const identifier = single(params, 'identifier');
  const count = countParam(params, 100, 500);
  const offset = offsetParam(params);
  const now = ctx.services.clock.now().toUTC();
  const range = dateRange(params, 'date');
  const from = range.from ?? (range.to ? range.to.minus({ days: 30 }) : now.minus({ days: 30 }));
  const to = range.to ?? from.plus({ days: 210 });
  if (to.diff(from, 'days').days > APPOINTMENT_SEARCH_MAX_DAYS) throw invalidParam('date', `may span at most ${APPOINTMENT_SEARCH_MAX_DAYS} days`);

  const inWindow = (a: Appointment) => Date.parse(a.start) >= from.toMillis() && Date.parse(a.start) < to.toMillis();
  const matchesFilters = (a: Appointment) =>
    canAccessClinic(ctx.principal, a.clinicId) &&
    (!patients || patients.includes(a.patientId)) &&
    (!practitioners || practitioners.includes(a.providerId)) &&
    (!locations || locations.includes(a.clinicId)) &&
    (!statuses || statuses.includes(a.status)) &&
    (!actors || actors.some((r) => [a.patientId, a.providerId, a.clinicId].includes(r.id)));
  const matches = (a: Appointment) => matchesFilters(a) && inWindow(a);

  let found: Appointment[] = [];
  if (identifier !== undefined) {
    const m = /^([^|]{1,200})\|(.{1,100})$/.exec(identifier);
    if (!m) throw invalidParam('identifier', 'must be system|value');
    const a = await ctx.services.appointments.findByExternalId(m[1]!, m[2]!);
    // An identifier search is not limited to a date window unless one is given.
    if (a && matchesFilters(a) && (!(range.from || range.to) || inWindow(a))) found = [a];
  } else if (patients) {
    for (const patientId of patients) found.push(...(await ctx.services.appointments.listByPatient(patientId, from.toISO()!, to.toISO()!)).filter(matches));
  } else {
    const clinicIds = locations ?? (await visibleClinics(ctx.services, ctx.principal)).map((c) => c.clinicId);
    for (const clinicId of clinicIds) {
      if (!canAccessClinic(ctx.principal, clinicId)) continue;
      const providerIds: (string | undefined)[] = practitioners ?? [undefined];
      for (const providerId of providerIds) {
        let continuationToken: string | undefined;
        do {
          const page = await ctx.services.appointments.list({
            clinicId,
            from: from.toISO()!,
            to: to.toISO()!,
            limit: 200,
            ...(providerId ? { providerId } : {}),
            ...(statuses?.length === 1 ? { status: statuses[0] as AppointmentStatus } : {}),
            ...(continuationToken ? { continuationToken } : {}),
          });
          found.push(...page.items.filter(matches));
          continuationToken = page.continuationToken;
          if (found.length > APPOINTMENT_SEARCH_MAX_MATCHES) throw tooManyMatches();
        } while (continuationToken);
      }
    }
  }
  // Every match is read (for `total` and stable pages); only the page's appointments are audited and mapped.
  found = [...new Map(found.map((a) => [a.appointmentId, a])).values()].sort(
    (x, y) => Date.parse(x.start) - Date.parse(y.start) || x.appointmentId.localeCompare(y.appointmentId),
  );
  if (found.length > APPOINTMENT_SEARCH_MAX_MATCHES) throw tooManyMatches();
  const page = found.slice(offset, offset + count);
  await Promise.all(page.map((a) => audit(ctx, { action: 'search', resourceType: 'Appointment', resourceId: a.appointmentId, patientId: a.patientId })));
  const entries = await Promise.all(page.map(async (a) => entryOf(ctx, await toResource(ctx, a))));
  const pinned = identifier !== undefined || (range.from && range.to) ? undefined : { date: [`ge${from.toISO()!}`, `lt${to.toISO()!}`] };
  return { status: 200, body: searchsetPage(ctx, entries, { count, offset, total: found.length, ...(pinned ? { pinned } : {}) }) };
}

/** More matches than one search reads (every match is read, for `total`): the caller narrows the date range. */
export const APPOINTMENT_SEARCH_MAX_MATCHES = 10_000;
const tooManyMatches = () =>
  new FhirProblem(400, ErrorCode.INVALID_INPUT, `More than ${APPOINTMENT_SEARCH_MAX_MATCHES} appointments match; narrow the date range`, ['date']);

// ---- Operations -------------------------------------------------------------------------------------

const reference = z.object({ reference: z.string().max(200).optional() }).passthrough();
const coding = z.object({ system: z.string().max(200).optional(), code: z.string().max(64).optional() }).passthrough();
const concept = z.object({ coding: z.array(coding).max(10).optional() }).passthrough();
const parameterSchema = z
  .object({
    name: z.string().min(1).max(64),
    valueString: z.string().max(200).optional(),
    valueDateTime: z.string().max(40).optional(),
    valueInstant: z.string().max(40).optional(),
    valueDate: z.string().max(10).optional(),
    valueCode: z.string().max(64).optional(),
    valueCoding: coding.optional(),
    valueCodeableConcept: concept.optional(),
    valueReference: reference.optional(),
    valuePositiveInt: z.number().int().optional(),
    valueInteger: z.number().int().optional(),
    resource: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();
const parametersSchema = z.object({ resourceType: z.literal('Parameters'), parameter: z.array(parameterSchema).max(50).optional() }).passthrough();
type Parameter = z.infer<typeof parameterSchema>;

const appointmentInputSchema = z
  .object({
    resourceType: z.literal('Appointment'),
    id: z
      .string()
      .regex(/^[A-Za-z0-9\-.]{1,64}$/)
      .optional(),
    identifier: z
      .array(z.object({ system: z.string().min(1).max(200), value: z.string().min(1).max(100) }).passthrough())
      .max(5)
      .optional(),
    serviceType: z.array(concept).max(5).optional(),
    appointmentType: concept.optional(),
    start: z.string().max(40).optional(),
    slot: z.array(reference).max(1).optional(),
    participant: z
      .array(z.object({ actor: reference.optional() }).passthrough())
      .max(10)
      .optional(),
  })
  .passthrough();
type AppointmentInput = z.infer<typeof appointmentInputSchema>;

async function readParameters(ctx: ApiContext): Promise<Parameter[]> {
  const body = parametersSchema.parse(await readFhirBody(ctx.request));
  return body.parameter ?? [];
}

const refId = (ref: string | undefined, type: string): string | undefined => {
  const m = ref ? new RegExp(`^(?:.*/)?${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(ref) : null;
  return m?.[1];
};
const paramValues = (params: Parameter[], name: string) => params.filter((p) => p.name === name);
const codeOf = (p: Parameter | undefined): string | undefined =>
  p?.valueCode ??
  p?.valueString ??
  p?.valueCoding?.code ??
  p?.valueCodeableConcept?.coding?.find((c) => !c.system || c.system === APPOINTMENT_TYPE_SYSTEM)?.code;
const referenceOf = (p: Parameter, type: string): string => {
  const id = refId(p.valueReference?.reference, type) ?? (p.valueString && /^[A-Za-z0-9\-.]{1,64}$/.test(p.valueString) ? p.valueString : undefined);
  if (!id) throw invalidParam(p.name, `must reference a ${type}`);
  return id;
};

const FIND_PARAMS = ['start', 'end', 'practitioner', 'location', 'visit-type', 'service-type', 'patient', '_count', OFFSET_PARAM];

/**
 * The $find parameters of a GET (a FHIR operation that changes nothing may be invoked with its parameters in the
 * query): the same Parameter values a POST body carries, so one reader serves both.
 */
function queryParameters(ctx: ApiContext): Parameter[] {
  const out: Parameter[] = [];
  for (const [name, values] of searchParams(ctx.request, FIND_PARAMS)) {
    for (const value of values) {
      if (name === 'start' || name === 'end') out.push({ name, valueDateTime: value });
      else if (name === '_count' || name === OFFSET_PARAM) {
        if (!/^\d{1,6}$/.test(value)) throw invalidParam(name, 'must be a non-negative integer');
        out.push({ name, valueInteger: Number(value) });
      } else if (name === 'visit-type' || name === 'service-type') out.push({ name, valueCode: value.split('|').at(-1)! });
      else out.push({ name, ...(value.includes('/') ? { valueReference: { reference: value } } : { valueString: value }) });
    }
  }
  return out;
}

/**
 * $find (IHE ITI-115): start, end, practitioner*, location, visit-type, patient -> Bundle of proposed Appointments,
 * by POST (Parameters) or GET (query); `_count` and `_offset` page, and the paging links use the GET form.
 */
export async function findAppointments(ctx: ApiContext): Promise<FhirResult> {
  const params = ctx.request.method === 'GET' ? queryParameters(ctx) : await readParameters(ctx);
  const instant = (name: string) => {
    const p = paramValues(params, name)[0];
    const v = p?.valueDateTime ?? p?.valueInstant ?? p?.valueDate;
    if (v === undefined) return undefined;
    const dt = /^\d{4}-\d{2}-\d{2}$/.test(v) ? DateTime.fromISO(v, { zone: 'utc' }) : DateTime.fromISO(v, { setZone: true });
    if (!dt.isValid || (!/^\d{4}-\d{2}-\d{2}$/.test(v) && !/(Z|[+-]\d{2}:\d{2})$/.test(v)))
      throw invalidParam(name, 'must be a date or a dateTime with an offset');
    return dt;
  };
  const now = ctx.services.clock.now().toUTC();
  const start = instant('start') ?? now;
  const end = instant('end') ?? start.plus({ days: 7 });
  const visitType = codeOf(paramValues(params, 'visit-type')[0] ?? paramValues(params, 'service-type')[0]);
  if (!visitType) throw invalidParam('visit-type', 'is required (an appointment type code)');
  const practitioners = paramValues(params, 'practitioner').map((p) => referenceOf(p, 'Practitioner'));
  const locationParam = paramValues(params, 'location')[0];
  const patientParam = paramValues(params, 'patient')[0];
  const patientId = patientParam ? referenceOf(patientParam, 'Patient') : undefined;
  let clinicId = locationParam ? referenceOf(locationParam, 'Location') : undefined;
  if (!clinicId && practitioners[0]) clinicId = (await ctx.services.config.getProvider(practitioners[0]))?.clinicId;
  if (!clinicId && ctx.principal.clinicIds?.size === 1) clinicId = [...ctx.principal.clinicIds][0];
  if (!clinicId) throw invalidParam('location', 'location or a known practitioner is required');
  requireClinicAccess(ctx.principal, clinicId);
  if (patientId) {
    const patient = await ctx.services.patients.get(patientId);
    if (!patient) throw new DomainError(ErrorCode.PATIENT_NOT_FOUND, 'Unknown patient', { patientId });
    if (!canAccessPatient(ctx.principal, patient, clinicId))
      throw new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, 'This patient record belongs to other clinics.');
  }
  await releaseExpiredHolds(ctx.services, { clinicId, from: start.minus({ hours: 12 }), to: end });
  const types = await typesOf(ctx.services, clinicId);
  const type = requireType(types, visitType);
  const providerIds: (string | undefined)[] = practitioners.length > 0 ? practitioners : [undefined];
  const intParam = (name: string) => paramValues(params, name)[0]?.valueInteger ?? paramValues(params, name)[0]?.valuePositiveInt;
  const count = Math.max(Math.min(intParam('_count') ?? 100, 500), 1);
  const offset = intParam(OFFSET_PARAM) ?? 0;
  if (offset < 0 || offset > 100_000) throw invalidParam(OFFSET_PARAM, 'must be an integer from 0 to 100000');
  const slots = [];
  for (const providerId of providerIds) {
    slots.push(
      ...(await searchFreeSlots(ctx.services, {
        clinicId,
        appointmentType: visitType,
        from: start.toISO()!,
        to: end.toISO()!,
        ...(providerId ? { providerId } : {}),
        bookableBy: { now, channel: 'ehr' },
      })),
    );
  }
  slots.sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.slotId.localeCompare(b.slotId));
  const entries = slots.slice(offset, offset + count).map((s) => ({ resource: proposedAppointmentResource(s, type, patientId) }));
  // The links repeat the search in its GET form, with the window resolved (later pages cover the same one).
  const query = new URLSearchParams({ start: start.toISO()!, end: end.toISO()! });
  for (const id of practitioners) query.append('practitioner', `Practitioner/${id}`);
  query.append('location', `Location/${clinicId}`);
  query.append('visit-type', visitType);
  if (patientId) query.append('patient', `Patient/${patientId}`);
  query.append('_count', String(count));
  return {
    status: 200,
    body: searchsetPage(ctx, entries, { count, offset, total: slots.length, path: '/fhir/Appointment/$find' }, query),
  };
}

/** The Appointment of a $hold / $book request: a Parameters `appointment` resource, or a bare Appointment. */
async function appointmentOf(ctx: ApiContext): Promise<AppointmentInput> {
  const body = await readFhirBody(ctx.request);
  const resourceType = body && typeof body === 'object' ? (body as { resourceType?: unknown }).resourceType : undefined;
  if (resourceType === 'Parameters') {
    const params = parametersSchema.parse(body).parameter ?? [];
    const resource = params.find((p) => p.name === 'appointment')?.resource;
    if (!resource) throw invalidParam('appointment', 'is required (an Appointment resource)');
    return appointmentInputSchema.parse(resource);
  }
  return appointmentInputSchema.parse(body);
}

interface BookingRequest {
  slotId: string;
  patientId: string;
  appointmentType: string;
  externalIds: ExternalId[];
}

/** Slot (slot reference, or start + practitioner), patient, type and identifiers of a requested appointment. */
async function bookingRequestOf(ctx: ApiContext, input: AppointmentInput): Promise<BookingRequest> {
  const actorRefs = (input.participant ?? []).map((p) => p.actor?.reference);
  const patientId = actorRefs.map((r) => refId(r, 'Patient')).find(Boolean);
  if (!patientId) throw invalidParam('participant', 'a Patient participant is required');
  let slotId = refId(input.slot?.[0]?.reference, 'Slot');
  if (!slotId) {
    const providerId = actorRefs.map((r) => refId(r, 'Practitioner')).find(Boolean);
    if (!input.start || !providerId) throw invalidParam('slot', 'a Slot reference, or start and a Practitioner participant, is required');
    slotId = slotIdFor(providerId, parseInstant(input.start, 'start'));
  }
  const { clinic, slot } = await resolveSlot(ctx.services, slotId);
  requireClinicAccess(ctx.principal, clinic.clinicId);
  const patient = await ctx.services.patients.get(patientId);
  if (!patient) throw new DomainError(ErrorCode.PATIENT_NOT_FOUND, 'Unknown patient', { patientId });
  if (!canAccessPatient(ctx.principal, patient, clinic.clinicId))
    throw new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, 'This patient record belongs to other clinics.');
  const codes = [...(input.serviceType ?? []), ...(input.appointmentType ? [input.appointmentType] : [])].flatMap((c) => c.coding ?? []);
  const appointmentType =
    codes.find((c) => c.system === APPOINTMENT_TYPE_SYSTEM)?.code ??
    codes.find((c) => !c.system)?.code ??
    (slot.appointmentTypes.length === 1 ? slot.appointmentTypes[0] : undefined);
  if (!appointmentType) throw invalidParam('serviceType', `an appointment type code (system ${APPOINTMENT_TYPE_SYSTEM}) is required`);
  return { slotId, patientId, appointmentType, externalIds: (input.identifier ?? []).map((i) => ({ system: i.system, value: i.value })) };
}

const operationResult = async (ctx: ApiContext, a: Appointment): Promise<FhirResult> => ({
  status: 200,
  body: searchsetBundle([entryOf(ctx, await toResource(ctx, a))], selfUrl(ctx), 1),
  headers: { 'content-location': `${baseUrlOf(ctx)}/fhir/Appointment/${a.appointmentId}` },
});

/** $hold (IHE ITI-116): holds a slot for a patient for HOLD_MINUTES; returns the held (proposed) Appointment. */
export async function holdAppointment(ctx: ApiContext): Promise<FhirResult> {
  const input = await appointmentOf(ctx);
  if (input.id) throw invalidParam('appointment.id', 'a hold creates a new appointment; leave id out');
  const req = await bookingRequestOf(ctx, input);
  const hold = await placeHold(ctx.services, { ...req, actor: ehrActor(ctx) });
  await audit(ctx, { action: 'create', resourceType: 'Appointment', resourceId: hold.appointmentId, patientId: hold.patientId });
  return operationResult(ctx, hold);
}

/** $book (IHE ITI-117): books a held appointment (by id) in place, or a slot directly. */
export async function bookFhirAppointment(ctx: ApiContext): Promise<FhirResult> {
  const input = await appointmentOf(ctx);
  let booked: Appointment;
  if (input.id) {
    const patientId = (input.participant ?? []).map((p) => refId(p.actor?.reference, 'Patient')).find(Boolean);
    booked = await bookHold(ctx.services, {
      appointmentId: input.id,
      actor: ehrActor(ctx),
      access: accessOf(ctx.principal),
      ...(patientId ? { patientId } : {}),
    }).catch((e: unknown) => {
      throw forbiddenProblem(e);
    });
  } else {
    const req = await bookingRequestOf(ctx, input);
    booked = await bookAppointment(ctx.services, { ...req, channel: 'ehr', actor: ehrActor(ctx) });
  }
  await audit(ctx, { action: 'create', resourceType: 'Appointment', resourceId: booked.appointmentId, patientId: booked.patientId });
  return operationResult(ctx, booked);
}

const ehr = ['ehr'] as const;
app.http('fhirAppointmentFind', {
  route: 'fhir/Appointment/$find',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: fhirHandler(ehr, findAppointments),
});
app.http('fhirAppointmentHold', { route: 'fhir/Appointment/$hold', methods: ['POST'], authLevel: 'anonymous', handler: fhirHandler(ehr, holdAppointment) });
app.http('fhirAppointmentBook', { route: 'fhir/Appointment/$book', methods: ['POST'], authLevel: 'anonymous', handler: fhirHandler(ehr, bookFhirAppointment) });
app.http('fhirAppointmentSearch', { route: 'fhir/Appointment', methods: ['GET'], authLevel: 'anonymous', handler: fhirHandler(ehr, searchAppointments) });
app.http('fhirAppointmentRead', {
  route: 'fhir/Appointment/{appointmentId}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: fhirHandler(ehr, readAppointment),
});
