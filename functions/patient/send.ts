import { decideSend, DEFAULT_SMS_RATE_LIMIT, renderSms, type SmsPurpose, type SmsRateLimit, type SmsTemplate, type SmsTemplateParams } from '../../domain/sms';
import type { Services } from '../app/services';
import { smsClinicOf, smsMessagesOf } from './runtime';

/** Template params without the clinic: the helper fills it from the clinic record. */
export type PatientSmsParams<T extends SmsTemplate> = Omit<SmsTemplateParams[T], 'clinic'>;

export interface PatientSmsRequest<T extends SmsTemplate> {
  patientId: string;
  clinicId: string;
  template: T;
  params: PatientSmsParams<T>;
  purpose: SmsPurpose;
  correlationId: string;
  /** Set for offers, so a late reply can be told the offer expired or went to someone else. */
  offerId?: string;
  /** The message answers something the patient did (skips quiet hours and the rate limit, never consent). */
  inReplyToPatient?: boolean;
  rateLimit?: SmsRateLimit;
}

export type PatientSmsOutcome =
  | { outcome: 'sent'; messageId: string }
  | { outcome: 'no-consent' }
  | { outcome: 'opted-out' }
  | { outcome: 'invalid-phone' }
  | { outcome: 'unknown-patient' }
  /** Deferred: send again at `nextAllowedAt` (a durable timer in the workflow). */
  | { outcome: 'quiet-hours'; deferred: true; nextAllowedAt: string }
  | { outcome: 'rate-limited'; deferred: true; nextAllowedAt: string };

/**
 * Sends one templated SMS to a patient if consent, opt-out, quiet hours (clinic zone), the
 * per-patient rate limit and the phone allow it, and records the message (ids and codes only).
 * Throws TransientError when the provider should be retried (the activity's retry policy handles it).
 */
export async function sendPatientSms<T extends SmsTemplate>(services: Services, req: PatientSmsRequest<T>): Promise<PatientSmsOutcome> {
  const patient = await services.patients.get(req.patientId);
  if (!patient) return { outcome: 'unknown-patient' };
  const clinic = await services.config.getClinic(req.clinicId);
  if (!clinic) throw new Error(`sendPatientSms: unknown clinic ${req.clinicId}`);
  const messages = smsMessagesOf(services);
  const now = services.clock.now().toUTC();
  const limit = req.rateLimit ?? DEFAULT_SMS_RATE_LIMIT;
  const recent = await messages.listForPatient(patient.patientId, now.minus({ minutes: limit.windowMinutes }).toISO()!);
  const decision = decideSend({
    patient,
    purpose: req.purpose,
    now,
    clinicZone: clinic.timeZone,
    quietHours: clinic.offerPolicy,
    recentSends: recent.map((m) => m.sentAt),
    rateLimit: limit,
    ...(req.inReplyToPatient ? { inReplyToPatient: true } : {}),
  });
  switch (decision.outcome) {
    case 'send':
      break;
    case 'quiet-hours':
      return { outcome: 'quiet-hours', deferred: true, nextAllowedAt: decision.nextAllowedAt };
    case 'rate-limited':
      return { outcome: 'rate-limited', deferred: true, nextAllowedAt: decision.retryAfter };
    default:
      return { outcome: decision.outcome };
  }
  const body = renderSms(req.template, { ...req.params, clinic: smsClinicOf(clinic) } as SmsTemplateParams[T]);
  const { messageId } = await services.sms.send({
    to: patient.phone,
    body,
    patientId: patient.patientId,
    purpose: req.purpose,
    correlationId: req.correlationId,
  });
  const at = now.toISO()!;
  await messages.create({
    messageId,
    patientId: patient.patientId,
    clinicId: clinic.clinicId,
    purpose: req.purpose,
    template: req.template,
    correlationId: req.correlationId,
    ...(req.offerId ? { offerId: req.offerId } : {}),
    status: 'queued',
    sentAt: at,
    updatedAt: at,
  });
  await services.audit.record({
    principalId: 'system',
    action: 'create',
    resourceType: 'SmsMessage',
    resourceId: messageId,
    patientId: patient.patientId,
    correlationId: req.correlationId,
    at,
    outcome: 'success',
  });
  return { outcome: 'sent', messageId };
}
