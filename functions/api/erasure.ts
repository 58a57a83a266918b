import { app } from '@azure/functions';
import { DomainError, ErrorCode } from '../../domain';
import { canAccessPatient } from '../http/auth';
import { apiHandler, audit, json, readParams, readQuery, type ApiContext, type ApiResult } from '../http/handlers';
import { HttpErrorCode, HttpProblem } from '../http/problem';
import { noQuerySchema, patientParamsSchema } from './schemas';

/**
 * DELETE /api/patients/{patientId} (role admin): GDPR Art. 17 erasure. Removes or anonymises every
 * document holding the patient's data (appointments stay as de-identified stubs in the clinic's
 * schedule), writes the `patient.erased` tombstone event and an audit entry. Idempotent: erasing an
 * erased patient answers 410 PATIENT.ERASED.
 */
export async function erasePatient(ctx: ApiContext): Promise<ApiResult> {
  const { patientId } = readParams(ctx.request, patientParamsSchema);
  readQuery(ctx.request, noQuerySchema);
  const erasure = ctx.services.cosmos?.erasure;
  if (!erasure) throw new HttpProblem(HttpErrorCode.ERASURE_UNAVAILABLE, 'Erasure needs the Cosmos DB store.');
  const patient = await ctx.services.patients.get(patientId);
  if (!patient) {
    if (await erasure.erasedAt(patientId)) throw new DomainError(ErrorCode.PATIENT_ERASED, 'The patient has been erased', { patientId });
    throw new DomainError(ErrorCode.PATIENT_NOT_FOUND, 'Unknown patient', { patientId });
  }
  if (!canAccessPatient(ctx.principal, patient)) {
    await audit(ctx, { action: 'erase', resourceType: 'Patient', resourceId: patientId, patientId, outcome: 'denied' });
    throw new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, 'This patient record belongs to other clinics.');
  }
  const report = await erasure.erasePatient(patientId, { principalId: ctx.principal.principalId, correlationId: ctx.correlationId });
  return json(200, report);
}

app.http('erasePatient', { route: 'api/patients/{patientId}', methods: ['DELETE'], authLevel: 'anonymous', handler: apiHandler(['admin'], erasePatient) });
