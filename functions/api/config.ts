import { app } from '@azure/functions';
import { appointmentTypeSchema, clinicSchema, DomainError, ErrorCode, patientSchema, providerSchema, type PatientRecord } from '../../domain';
import { canAccessPatient, canAccessClinic, requireClinicAccess } from '../http/auth';
import { HttpErrorCode, HttpProblem } from '../http/problem';
import { apiHandler, audit, json, readJson, readParams, readQuery, type ApiContext, type ApiResult } from '../http/handlers';
import {
  appointmentTypeBodySchema,
  appointmentTypeParamsSchema as codeParams,
  clinicBodySchema,
  clinicParamsSchema as clinicParams,
  clinicQuerySchema,
  noQuerySchema,
  patientBodySchema,
  patientParamsSchema as patientParams,
  providerBodySchema,
  providerParamsSchema as providerParams,
} from './schemas';

/** Configuration (role admin): clinics, appointment types, providers and patients, all idempotent PUTs; plus the lists the console reads. */

async function requireExistingClinic(ctx: ApiContext, clinicId: string) {
  requireClinicAccess(ctx.principal, clinicId);
  const clinic = await ctx.services.config.getClinic(clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId });
  return clinic;
}

export async function putClinic(ctx: ApiContext): Promise<ApiResult> {
  const { clinicId } = readParams(ctx.request, clinicParams);
  requireClinicAccess(ctx.principal, clinicId);
  const body = await readJson(ctx.request, clinicBodySchema);
  const existing = await ctx.services.config.getClinic(clinicId);
  const clinic = clinicSchema.parse({ ...body, clinicId });
  await ctx.services.config.putClinic(clinic);
  return json(existing ? 200 : 201, clinic, existing ? {} : { location: `/api/clinics/${clinicId}` });
}

export async function putAppointmentType(ctx: ApiContext): Promise<ApiResult> {
  const { code } = readParams(ctx.request, codeParams);
  const body = await readJson(ctx.request, appointmentTypeBodySchema);
  await requireExistingClinic(ctx, body.clinicId);
  const existing = await ctx.services.config.getAppointmentType(code);
  // Codes are global: moving a code to another clinic needs access to the clinic that owns it now.
  if (existing) requireClinicAccess(ctx.principal, existing.clinicId);
  const type = appointmentTypeSchema.parse({ ...body, code });
  await ctx.services.config.putAppointmentType(type);
  return json(existing ? 200 : 201, type, existing ? {} : { location: `/api/appointment-types/${code}` });
}

export async function putProvider(ctx: ApiContext): Promise<ApiResult> {
  const { providerId } = readParams(ctx.request, providerParams);
  const body = await readJson(ctx.request, providerBodySchema);
  await requireExistingClinic(ctx, body.clinicId);
  const existing = await ctx.services.config.getProvider(providerId);
  if (existing) requireClinicAccess(ctx.principal, existing.clinicId);
  const types = new Set((await ctx.services.config.listAppointmentTypes(body.clinicId)).map((t) => t.code));
  const unknown = body.appointmentTypes.filter((t) => !types.has(t));
  if (unknown.length > 0) throw new DomainError(ErrorCode.APPOINTMENT_TYPE_UNKNOWN, 'Unknown appointment type for this clinic', { appointmentTypes: unknown });
  for (const block of body.weeklyHours) {
    const bad = (block.appointmentTypes ?? []).filter((t) => !body.appointmentTypes.includes(t));
    if (bad.length > 0)
      throw new DomainError(ErrorCode.APPOINTMENT_TYPE_NOT_OFFERED, 'A weekly-hours block names a type the provider does not offer', { appointmentTypes: bad });
  }
  const parsed = providerSchema.safeParse({ ...body, providerId });
  if (!parsed.success) throw parsed.error;
  await ctx.services.config.putProvider(parsed.data);
  return json(existing ? 200 : 201, parsed.data, existing ? {} : { location: `/api/providers/${providerId}` });
}

export async function putPatient(ctx: ApiContext): Promise<ApiResult> {
  const { patientId } = readParams(ctx.request, patientParams);
  const body = await readJson(ctx.request, patientBodySchema);
  const existing = await ctx.services.patients.get(patientId);
  const scope = ctx.principal.clinicIds;
  if (existing && !canAccessPatient(ctx.principal, existing)) {
    await audit(ctx, { action: 'update', resourceType: 'Patient', resourceId: patientId, patientId, outcome: 'denied' });
    throw new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, 'This patient record belongs to other clinics.');
  }
  // A clinic-scoped admin creates records visible to its own clinics, and cannot grant other clinics access.
  const clinicIds = body.clinicIds ?? (existing ? existing.clinicIds : scope ? [...scope] : []);
  if (scope && (clinicIds.length === 0 || clinicIds.some((c) => !scope.has(c)))) {
    throw new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, "clinicIds must be a non-empty subset of this principal's clinics.");
  }
  const now = ctx.services.clock.now().toUTC().toISO()!;
  const record: PatientRecord = {
    ...patientSchema.parse({ ...body, clinicIds, patientId, ...(existing?.smsOptedOutAt ? { smsOptedOutAt: existing.smsOptedOutAt } : {}) }),
    noShows: existing?.noShows ?? [],
    updatedAt: now,
  };
  await ctx.services.patients.put(record);
  await audit(ctx, { action: existing ? 'update' : 'create', resourceType: 'Patient', resourceId: patientId, patientId });
  const { noShows: _noShows, updatedAt: _updatedAt, ...patient } = record;
  return json(existing ? 200 : 201, patient, existing ? {} : { location: `/api/patients/${patientId}` });
}

export async function listClinics(ctx: ApiContext): Promise<ApiResult> {
  readQuery(ctx.request, noQuerySchema);
  const clinics = (await ctx.services.config.listClinics()).filter((c) => canAccessClinic(ctx.principal, c.clinicId));
  return json(200, { clinics: clinics.sort((a, b) => a.clinicId.localeCompare(b.clinicId)) });
}

export async function listProviders(ctx: ApiContext): Promise<ApiResult> {
  const { clinicId } = readQuery(ctx.request, clinicQuerySchema);
  await requireExistingClinic(ctx, clinicId);
  const providers = await ctx.services.config.listProviders(clinicId);
  return json(200, { providers: providers.sort((a, b) => a.providerId.localeCompare(b.providerId)) });
}

export async function listAppointmentTypes(ctx: ApiContext): Promise<ApiResult> {
  const { clinicId } = readQuery(ctx.request, clinicQuerySchema);
  await requireExistingClinic(ctx, clinicId);
  const types = await ctx.services.config.listAppointmentTypes(clinicId);
  return json(200, { appointmentTypes: types.sort((a, b) => a.code.localeCompare(b.code)) });
}

const admin = ['admin'] as const;
const staff = ['scheduler', 'admin'] as const;

app.http('putClinic', { route: 'api/clinics/{clinicId}', methods: ['PUT'], authLevel: 'anonymous', handler: apiHandler(admin, putClinic) });
app.http('putAppointmentType', {
  route: 'api/appointment-types/{code}',
  methods: ['PUT'],
  authLevel: 'anonymous',
  handler: apiHandler(admin, putAppointmentType),
});
app.http('putProvider', { route: 'api/providers/{providerId}', methods: ['PUT'], authLevel: 'anonymous', handler: apiHandler(admin, putProvider) });
app.http('putPatient', { route: 'api/patients/{patientId}', methods: ['PUT'], authLevel: 'anonymous', handler: apiHandler(admin, putPatient) });
app.http('listClinics', { route: 'api/clinics', methods: ['GET'], authLevel: 'anonymous', handler: apiHandler(staff, listClinics) });
app.http('listProviders', { route: 'api/providers', methods: ['GET'], authLevel: 'anonymous', handler: apiHandler(staff, listProviders) });
app.http('listAppointmentTypes', {
  route: 'api/appointment-types',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: apiHandler(staff, listAppointmentTypes),
});
