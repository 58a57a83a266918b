import { app } from '@azure/functions';
import type { z } from 'zod';
import { DomainError, ErrorCode, parseSlotId, toIsoInZone } from '../../domain';
import { configWithProvider, findDisplaced, planAbsenceRehoming, withAbsence } from '../../domain/absence';
import { absenceInstanceId } from '../../orchestrations/names';
import { requireClinicAccess } from '../http/auth';
import { apiHandler, audit, json, readJson, readParams, type ApiContext, type ApiResult } from '../http/handlers';
import { absencePreviewBodySchema, providerParamsSchema as providerParams, type absencePreviewSchema } from './schemas';

/**
 * Front desk: what reporting an absence would do, before doing it. Lists the provider's appointments in
 * the window and the optimizer's proposal for each (new slot and the reason it was chosen, or why none
 * was found), planned exactly as the absence workflow plans (domain/absence.ts) against the schedule
 * as it would read with the absence, without storing anything. A read: no Idempotency-Key, nothing
 * changes; `instanceId` is the workflow POST /api/providers/{id}/absences would start.
 */

export async function previewAbsence(ctx: ApiContext): Promise<ApiResult> {
  const { providerId } = readParams(ctx.request, providerParams);
  const body = await readJson(ctx.request, absencePreviewBodySchema);
  const { config, patients } = ctx.services;
  const provider = await config.getProvider(providerId);
  if (!provider) throw new DomainError(ErrorCode.PROVIDER_NOT_FOUND, 'Unknown provider', { providerId });
  requireClinicAccess(ctx.principal, provider.clinicId);
  const clinic = await config.getClinic(provider.clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId: provider.clinicId });
  const window = { from: body.from, to: body.to, reasonCode: (body.reason ?? 'absence').trim().toLowerCase().replace(/\s+/g, '-') };
  const displaced = await findDisplaced(ctx.services, provider, window);
  const absent = withAbsence(provider, window);
  const plan =
    displaced.length === 0
      ? { assignments: [], unplaced: [], status: 'empty', solveMs: 0 }
      : await planAbsenceRehoming({ ...ctx.services, config: configWithProvider(config, absent) }, { provider: absent, clinic, window, displaced });
  const types = new Map((await config.listAppointmentTypes(clinic.clinicId)).map((t) => [t.code, t]));
  const providerNames = new Map((await config.listProviders(clinic.clinicId)).map((p) => [p.providerId, p.name]));
  const rows = await Promise.all(
    displaced.map(async (d) => {
      const patient = await patients.get(d.patientId);
      const assignment = plan.assignments.find((a) => a.appointmentId === d.appointmentId);
      const unplaced = plan.unplaced.find((u) => u.appointmentId === d.appointmentId);
      let proposal;
      if (assignment) {
        const { providerId: to, startUtc } = parseSlotId(assignment.slotId);
        const minutes = types.get(d.appointmentType)?.durationMinutes ?? 30;
        proposal = {
          slotId: assignment.slotId,
          providerId: to,
          providerName: providerNames.get(to) ?? to,
          start: toIsoInZone(startUtc, clinic.timeZone),
          end: toIsoInZone(startUtc.plus({ minutes }), clinic.timeZone),
          reason: assignment.reason,
        };
      }
      return {
        appointmentId: d.appointmentId,
        patientId: d.patientId,
        ...(patient ? { patientName: patient.name } : {}),
        appointmentType: d.appointmentType,
        status: d.status,
        start: d.start,
        end: d.end,
        ...(proposal ? { proposal } : {}),
        ...(unplaced ? { unplacedReason: unplaced.reason } : {}),
      };
    }),
  );
  await Promise.all(
    rows.flatMap((r) => [
      audit(ctx, { action: 'read', resourceType: 'Appointment', resourceId: r.appointmentId, patientId: r.patientId }),
      ...(r.patientName ? [audit(ctx, { action: 'read', resourceType: 'Patient', resourceId: r.patientId, patientId: r.patientId })] : []),
    ]),
  );
  const preview: z.output<typeof absencePreviewSchema> = {
    providerId,
    clinicId: clinic.clinicId,
    timeZone: clinic.timeZone,
    from: body.from,
    to: body.to,
    instanceId: absenceInstanceId(providerId, body.from, body.to),
    displaced: rows,
    optimizer: { status: plan.status, solveMs: plan.solveMs },
    plannedAt: ctx.services.clock.now().toUTC().toISO()!,
  };
  return json(200, preview);
}

app.http('previewProviderAbsence', {
  route: 'api/providers/{providerId}/absences/preview',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: apiHandler(['scheduler', 'admin'], previewAbsence),
});
