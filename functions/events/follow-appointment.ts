import type { DurableClient } from 'durable-functions';
import { EventType, type SchedulingEvent } from '../../domain';
import { ELIGIBILITY_ORCHESTRATOR, eligibilityInstanceId } from '../../orchestrations/names';
import { REMINDERS_ORCHESTRATOR, remindersInstanceId } from '../../orchestrations/names';
import { APPOINTMENT_CHANGED_EVENT, type AppointmentChanged } from '../../orchestrations/names';
import { raiseIfActive, startOnce } from '../app/event-trigger';
import { noShowRisks, reminderHoursFor } from '../../domain/risk';
import { getServices } from '../app/services';

/**
 * Starts (on booking) or signals (on reschedule or cancellation) one per-appointment workflow.
 * Deterministic instance ids mean a redelivered event never starts a second copy.
 */
export async function followAppointment(
  event: SchedulingEvent,
  client: DurableClient,
  workflow: {
    name: string;
    instanceId: (appointmentId: string) => string;
    input: (appointmentId: string, start: string, clinicId: string) => Promise<unknown>;
  },
): Promise<string> {
  if (event.type === EventType.appointmentBooked) {
    return startOnce(
      client,
      workflow.name,
      workflow.instanceId(event.data.appointmentId),
      await workflow.input(event.data.appointmentId, event.data.start, event.data.clinicId),
    );
  }
  if (event.type === EventType.appointmentRescheduled || event.type === EventType.appointmentCancelled) {
    const change: AppointmentChanged =
      event.type === EventType.appointmentCancelled ? { status: 'cancelled' } : { status: 'rescheduled', start: event.data.start };
    const instanceId = workflow.instanceId(event.data.appointmentId);
    const raised = await raiseIfActive(client, instanceId, APPOINTMENT_CHANGED_EVENT, change);
    if (!raised && change.status === 'rescheduled') {
      // The workflow had already finished (e.g. all reminders sent): start one for the new time.
      return startOnce(client, workflow.name, instanceId, await workflow.input(event.data.appointmentId, event.data.start, event.data.clinicId), true);
    }
    return raised ? 'signalled' : 'not-running';
  }
  return 'ignored';
}

/** The clinic's settings (the event names the clinic, so no appointment read is needed; config is cached). */
async function clinicOf(clinicId: string) {
  const services = await getServices();
  return services.config.getClinic(clinicId);
}

/** The appointment's no-show band for the reminder cadence; none (the clinic's cadence) if it cannot be scored. */
async function riskBandOf(appointmentId: string) {
  const services = await getServices();
  try {
    const appointment = await services.appointments.get(appointmentId);
    return appointment ? (await noShowRisks(services, [appointment])).get(appointmentId)?.band : undefined;
  } catch {
    return undefined;
  }
}

export const eligibilityWorkflow = {
  name: ELIGIBILITY_ORCHESTRATOR,
  instanceId: eligibilityInstanceId,
  input: async (appointmentId: string, start: string, clinicId: string) => ({
    appointmentId,
    start,
    leadHours: (await clinicOf(clinicId))?.eligibilityLeadHours ?? 72,
  }),
};

export const remindersWorkflow = {
  name: REMINDERS_ORCHESTRATOR,
  instanceId: remindersInstanceId,
  input: async (appointmentId: string, start: string, clinicId: string) => {
    const clinic = await clinicOf(clinicId);
    return { appointmentId, start, hoursBefore: clinic ? reminderHoursFor(clinic, await riskBandOf(appointmentId)) : [48, 2] };
  },
};
