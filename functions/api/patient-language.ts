import { app } from '@azure/functions';
import { z } from 'zod';
import { DomainError, ErrorCode } from '../../domain';
import { resolvePatientLocale } from '../../domain/sms';
import { canAccessPatient, requireClinicAccess } from '../http/auth';
import { HttpErrorCode, HttpProblem } from '../http/problem';
import { apiHandler, audit, json, readJson, readParams, readQuery, type ApiContext, type ApiResult } from '../http/handlers';
import { patientLanguageBodySchema, patientLanguageSchema, patientLookupQuerySchema, patientParamsSchema } from './schemas';

/**
 * Front desk: set or clear a patient's preferred language (the console's patient view), without
 * replacing the rest of the record as PUT /api/patients/{id} (admin) does. Audited as an update.
 */

export async function putPatientLanguage(ctx: ApiContext): Promise<ApiResult> {
  const { patientId } = readParams(ctx.request, patientParamsSchema);
  const q = readQuery(ctx.request, patientLookupQuerySchema);
  if (q.clinicId) requireClinicAccess(ctx.principal, q.clinicId);
  const body = await readJson(ctx.request, patientLanguageBodySchema);
  const patient = await ctx.services.patients.get(patientId);
  if (!patient) throw new DomainError(ErrorCode.PATIENT_NOT_FOUND, 'Unknown patient', { patientId });
  if (!canAccessPatient(ctx.principal, patient, q.clinicId)) {
    await audit(ctx, { action: 'update', resourceType: 'Patient', resourceId: patientId, patientId, outcome: 'denied' });
    throw new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, 'This patient record belongs to other clinics.');
  }
  const { preferredLanguage: _old, ...rest } = patient;
  const updated = {
    ...rest,
    ...(body.preferredLanguage ? { preferredLanguage: body.preferredLanguage } : {}),
    updatedAt: ctx.services.clock.now().toUTC().toISO()!,
  };
  await ctx.services.patients.put(updated);
  await audit(ctx, { action: 'update', resourceType: 'Patient', resourceId: patientId, patientId });
  const clinic = q.clinicId ? await ctx.services.config.getClinic(q.clinicId) : undefined;
  const view: z.output<typeof patientLanguageSchema> = {
    patientId,
    ...(updated.preferredLanguage ? { preferredLanguage: updated.preferredLanguage } : {}),
    ...(q.clinicId ? { smsLanguage: resolvePatientLocale(updated.preferredLanguage, clinic?.defaultLanguage).language } : {}),
  };
  return json(200, view);
}

app.http('putPatientLanguage', {
  route: 'api/patients/{patientId}/preferred-language',
  methods: ['PUT'],
  authLevel: 'anonymous',
  handler: apiHandler(['scheduler', 'admin'], putPatientLanguage),
});
