import { DateTime } from 'luxon';
import type { Clinic } from '../../domain';
import { isQuietHours } from '../../domain';
import type { Services } from './services';

export type PatientTemplate = 'offer' | 'offer-taken' | 'booked' | 'reminder' | 'cancelled' | 'eligibility' | 'rehomed';

export interface PatientNotice {
  patientId: string;
  clinic: Clinic;
  template: PatientTemplate;
  params: { start?: string; expiresAt?: string; previousStart?: string };
  purpose: 'offer' | 'offer-taken' | 'confirmation' | 'reminder' | 'cancellation' | 'eligibility' | 'reply' | 'booking-link';
  correlationId: string;
}

export type NoticeOutcome = 'sent' | 'no-consent' | 'opted-out' | 'quiet-hours' | 'unknown-patient';

/**
 * Texts a patient from a workflow. Interim implementation until the SMS module's sender lands:
 * consent, opt-out and quiet hours are checked here; bodies carry no PHI (date, time, clinic name).
 */
export async function notifyPatient(services: Services, notice: PatientNotice): Promise<NoticeOutcome> {
  const patient = await services.patients.get(notice.patientId);
  if (!patient) return 'unknown-patient';
  if (patient.smsOptedOutAt) return 'opted-out';
  if (!patient.smsConsent) return 'no-consent';
  if (notice.purpose !== 'reply' && isQuietHours(services.clock.now(), notice.clinic.timeZone, notice.clinic.offerPolicy)) return 'quiet-hours';
  const clinicName = notice.clinic.smsDisplayName ?? notice.clinic.name;
  const when = (iso?: string) => (iso ? DateTime.fromISO(iso, { setZone: true }).setZone(notice.clinic.timeZone).toFormat("ccc d LLL h:mm a") : '');
  const bodies: Record<PatientTemplate, string> = {
    offer: `${clinicName}: an earlier appointment is available ${when(notice.params.start)}. Reply YES to take it or NO to pass. Offer ends ${when(notice.params.expiresAt)}.`,
    'offer-taken': `${clinicName}: sorry, that appointment time has been filled. You stay on our waitlist.`,
    booked: `${clinicName}: you're booked for ${when(notice.params.start)}. Reply C to confirm or X to cancel.`,
    reminder: `${clinicName}: reminder of your appointment ${when(notice.params.start)}. Reply C to confirm or X to cancel.`,
    cancelled: `${clinicName}: your appointment ${when(notice.params.start)} is cancelled.`,
    eligibility: `${clinicName}: please call us about your insurance before your appointment ${when(notice.params.start)}.`,
    rehomed: `${clinicName}: your appointment ${when(notice.params.previousStart)} has moved to ${when(notice.params.start)}. Reply C to confirm or X to cancel.`,
  };
  await services.sms.send({ to: patient.phone, body: bodies[notice.template], patientId: patient.patientId, purpose: notice.purpose, correlationId: notice.correlationId });
  return 'sent';
}
