import { app } from '@azure/functions';
import type { z } from 'zod';
import { DomainError, ErrorCode, parseSlotId, rescheduleAppointment, type Channel } from '../../domain';
import { requireClinicAccess, staffActor } from '../http/auth';
import { apiHandler, audit, json, readJson, readParams, withIdempotency, type ApiContext, type ApiResult } from '../http/handlers';
import { appointmentParamsSchema as appointmentParams, rescheduleBodySchema, type rescheduledSchema } from './schemas';
import { appointmentView } from './views';

/**
 * Front desk: move an appointment to another free slot (same appointment id, new time) through the
 * domain's reschedule use case. The old slot is released with reason `rescheduled`, which starts its
 * backfill like a cancellation does.
 */

export async function reschedule(ctx: ApiContext): Promise<ApiResult> {
  const { appointmentId } = readParams(ctx.request, appointmentParams);
  const body = await readJson(ctx.request, rescheduleBodySchema);
  return withIdempotency(ctx, body, async () => {
    const current = await ctx.services.appointments.get(appointmentId);
    if (!current) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId });
    // Both ends must be the principal's: the appointment's clinic now and the clinic of the new slot.
    const target = await ctx.services.config.getProvider(parseSlotId(body.slotId).providerId);
    if (!target) throw new DomainError(ErrorCode.SLOT_NOT_FOUND, 'Unknown slot', { slotId: body.slotId });
    try {
      requireClinicAccess(ctx.principal, current.clinicId);
      requireClinicAccess(ctx.principal, target.clinicId);
    } catch (e) {
      await audit(ctx, { action: 'update', resourceType: 'Appointment', resourceId: appointmentId, patientId: current.patientId, outcome: 'denied' });
      throw e;
    }
    const channel: Channel = ctx.request.headers.get('x-slotflow-client') === 'console' ? 'console' : 'api';
    const updated = await rescheduleAppointment(ctx.services, {
      appointmentId,
      newSlotId: body.slotId,
      actor: staffActor(ctx.principal),
      channel,
      ...(body.appointmentType ? { appointmentType: body.appointmentType } : {}),
    });
    await audit(ctx, { action: 'update', resourceType: 'Appointment', resourceId: appointmentId, patientId: updated.patientId });
    const view: z.output<typeof rescheduledSchema> = { ...appointmentView(updated), previousSlotId: current.slotId, previousStart: current.start };
    return json(200, view);
  });
}

app.http('rescheduleAppointment', {
  route: 'api/appointments/{appointmentId}/reschedule',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: apiHandler(['scheduler', 'admin'], reschedule),
});
