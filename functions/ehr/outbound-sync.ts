import type { InvocationContext } from '@azure/functions';
import { EventType, type SchedulingEvent } from '../../domain';
import { appointmentResource, siuForEvent } from '../../domain/ehr';
import { EhrPushRejected } from '../adapters/fhir/ehr-push';
import { DeadLetterError } from '../adapters/servicebus/errors';
import { ehrPushFor } from '../app/ehr-push';
import { registerEventTrigger } from '../app/event-trigger';
import { typesOf } from '../../domain/slot-states';
import { getServices } from '../app/services';
import { Subscriptions } from '../adapters/servicebus/topology';

/**
 * Outbound EHR sync (subscription `ehr-outbound`, every appointment event): pushes the appointment's current
 * FHIR Appointment to the EHR, and the SIU notification of the change (S12/S13/S15/S26) where the push adapter
 * has an HL7 channel. Changes the EHR made itself (booked through channel ehr, cancelled by the ehr)
 * are not echoed back. Retryable failures are retried by Service Bus; a rejection is dead-lettered.
 */

/** True when the event reports a change the EHR itself made (pushing it back would echo). */
export function isEhrOriginated(event: SchedulingEvent): boolean {
  if (event.type === EventType.appointmentBooked) return event.data.channel === 'ehr';
  if (event.type === EventType.appointmentCancelled) return event.data.cancelledBy === 'ehr';
  if (event.type === EventType.appointmentConfirmed) return event.data.channel === 'ehr';
  return false;
}

export async function syncAppointmentToEhr(event: SchedulingEvent, context: InvocationContext): Promise<void> {
  if (!event.type.startsWith('health.scheduling.appointment.') || isEhrOriginated(event)) return;
  const appointmentId = (event.data as { appointmentId?: string }).appointmentId;
  if (!appointmentId) return;
  const services = await getServices();
  const appointment = await services.appointments.get(appointmentId);
  // Erased or never stored: nothing to tell the EHR.
  if (!appointment) return;
  const resource = appointmentResource(appointment, { types: await typesOf(services, appointment.clinicId) });
  const push = ehrPushFor(services.settings);
  try {
    await push.putAppointment(resource);
    // The same change as an SIU notification (a reschedule, e.g. a move-up, is an S13) where the adapter has an HL7 channel.
    const siu = push.putSiu ? siuForEvent(event, appointment) : undefined;
    if (siu) await push.putSiu!({ ...siu, appointmentId });
    context.log(`ehr.push ${event.type} appointment=${appointmentId} version=${appointment.version}${siu ? ` siu=${siu.trigger}` : ''}`);
  } catch (e) {
    if (e instanceof EhrPushRejected) throw new DeadLetterError('EHR.PUSH_REJECTED', `HTTP ${e.status} for appointment ${appointmentId}`);
    // TransientError and anything unexpected: abandon, Service Bus redelivers (then dead-letters at max delivery).
    throw e;
  }
}

registerEventTrigger('ehrOutboundSync', Subscriptions.ehrOutbound, (event, _client, context) => syncAppointmentToEhr(event, context));
