import { app } from '@azure/functions';
import type { z } from 'zod';
import { DomainError, ErrorCode } from '../../domain';
import { resolvePatientLocale } from '../../domain/sms';
import { canAccessPatient, requireClinicAccess } from '../http/auth';
import { HttpErrorCode, HttpProblem } from '../http/problem';
import { apiHandler, audit, json, readParams, readQuery, type ApiContext, type ApiResult } from '../http/handlers';
import { patientLookupQuerySchema, patientParamsSchema as patientParams, type patientCardSchema } from './schemas';

/**
 * Front desk: one patient by id, to check whom they are booking (name, phone for a call back, SMS
 * consent, recent no-shows). Audited as a read. With `clinicId`, a clinic-scoped principal may see an
 * organisation-wide record through that clinic, as booking does.
 */

export async function lookupPatient(ctx: ApiContext): Promise<ApiResult> {
  const { patientId } = readParams(ctx.request, patientParams);
  const q = readQuery(ctx.request, patientLookupQuerySchema);
  if (q.clinicId) requireClinicAccess(ctx.principal, q.clinicId);
  const patient = await ctx.services.patients.get(patientId);
  if (!patient) throw new DomainError(ErrorCode.PATIENT_NOT_FOUND, 'Unknown patient', { patientId });
  if (!canAccessPatient(ctx.principal, patient, q.clinicId)) {
    await audit(ctx, { action: 'read', resourceType: 'Patient', resourceId: patientId, patientId, outcome: 'denied' });
    throw new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, 'This patient record belongs to other clinics.');
  }
  await audit(ctx, { action: 'read', resourceType: 'Patient', resourceId: patientId, patientId });
  const card: z.output<typeof patientCardSchema> = {
    patientId: patient.patientId,
    name: patient.name,
    phone: patient.phone,
    smsConsent: patient.smsConsent,
    smsOptedOut: Boolean(patient.smsOptedOutAt),
    clinicIds: patient.clinicIds,
    noShows: patient.noShows.length,
    ...(patient.preferredLanguage ? { preferredLanguage: patient.preferredLanguage } : {}),
    ...(q.clinicId
      ? { smsLanguage: resolvePatientLocale(patient.preferredLanguage, (await ctx.services.config.getClinic(q.clinicId))?.defaultLanguage).language }
      : {}),
  };
  return json(200, card);
}

app.http('lookupPatient', {
  route: 'api/patients/{patientId}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: apiHandler(['scheduler', 'admin'], lookupPatient),
});
