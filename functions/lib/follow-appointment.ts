import type { DurableClient } from 'durable-functions';
import { EventType, type SchedulingEvent } from '../../domain';
import { ELIGIBILITY_ORCHESTRATOR, eligibilityInstanceId } from '../../orchestrations/eligibility';
import { REMINDERS_ORCHESTRATOR, remindersInstanceId } from '../../orchestrations/reminders';
import { APPOINTMENT_CHANGED_EVENT, type AppointmentChanged } from '../../orchestrations/timers';
import { raiseIfActive, startOnce } from './event-trigger';
import { getServices } from './services';

/**
 * Starts (on booking) or signals (on reschedule or cancellation) one per-appointment workflow.
 * Deterministic instance ids mean a redelivered event never starts a second copy.
 */
export async function followAppointment(
  event: SchedulingEvent,
  client: DurableClient,
  workflow: { name: string; instanceId: (appointmentId: string) => string; input: (appointmentId: string, start: string) => Promise<unknown> },
): Promise<string> {
  if (event.type === EventType.appointmentBooked) {
    return startOnce(client, workflow.name, workflow.instanceId(event.data.appointmentId), await workflow.input(event.data.appointmentId, event.data.start));
  }
  if (event.type === EventType.appointmentRescheduled || event.type === EventType.appointmentCancelled) {
    const change: AppointmentChanged =
      event.type === EventType.appointmentCancelled ? { status: 'cancelled' } : { status: 'rescheduled', start: event.data.start };
    const instanceId = workflow.instanceId(event.data.appointmentId);
    const raised = await raiseIfActive(client, instanceId, APPOINTMENT_CHANGED_EVENT, change);
    if (!raised && change.status === 'rescheduled') {
      // The workflow had already finished (e.g. all reminders sent): start one for the new time.
      return startOnce(client, workflow.name, instanceId, await workflow.input(event.data.appointmentId, event.data.start), true);
    }
    return raised ? 'signalled' : 'not-running';
  }
  return 'ignored';
}

async function clinicOf(appointmentId: string) {
  const services = await getServices();
  const appointment = await services.appointments.get(appointmentId);
  return appointment ? services.config.getClinic(appointment.clinicId) : undefined;
}

export const eligibilityWorkflow = {
  name: ELIGIBILITY_ORCHESTRATOR,
  instanceId: eligibilityInstanceId,
  input: async (appointmentId: string, start: string) => ({ appointmentId, start, leadHours: (await clinicOf(appointmentId))?.eligibilityLeadHours ?? 72 }),
};

export const remindersWorkflow = {
  name: REMINDERS_ORCHESTRATOR,
  instanceId: remindersInstanceId,
  input: async (appointmentId: string, start: string) => ({ appointmentId, start, hoursBefore: (await clinicOf(appointmentId))?.reminderHoursBefore ?? [48, 2] }),
};
