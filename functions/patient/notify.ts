import type { Clinic } from '../../domain';
import type { SmsPurpose } from '../../domain/sms';
import type { Services } from '../app/services';
import { sendPatientSms } from './send';

/** The templates workflows send, with the parameters each needs (the clinic is filled in). */
export type PatientNotice =
  | { template: 'offer'; params: { start: string; expiresAt: string }; offerId: string }
  | { template: 'offer-taken'; params: Record<string, never>; offerId?: string }
  | { template: 'booked' | 'reminder' | 'cancelled' | 'eligibility'; params: { start: string } }
  | { template: 'rehomed'; params: { start: string; previousStart: string } };

export type NoticeOutcome = 'sent' | 'no-consent' | 'opted-out' | 'quiet-hours' | 'rate-limited' | 'unknown-patient' | 'invalid-phone';

/**
 * Texts a patient from a workflow through the SMS module (`sendPatientSms`): consent, opt-out, quiet
 * hours in the clinic's zone, the per-patient rate limit and E.164 are checked there, the message is
 * recorded, and templates carry no PHI. Deferred outcomes are reported, not retried, here: the
 * workflows decide (backfill skips that patient for the round).
 */
export async function notifyPatient(
  services: Services,
  notice: PatientNotice & { patientId: string; clinic: Clinic; purpose: SmsPurpose; correlationId: string },
): Promise<NoticeOutcome> {
  const result = await sendPatientSms(services, {
    patientId: notice.patientId,
    clinicId: notice.clinic.clinicId,
    template: notice.template,
    params: notice.params,
    purpose: notice.purpose,
    correlationId: notice.correlationId,
    ...('offerId' in notice && notice.offerId ? { offerId: notice.offerId } : {}),
  } as Parameters<typeof sendPatientSms>[1]);
  return result.outcome;
}
