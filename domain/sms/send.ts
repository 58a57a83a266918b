import type { Clinic } from '../model';
import type { AuditLog, Clock, ConfigRepository, PatientRepository, SmsSender } from '../ports';
import type { SmsMessageRepository } from './messages';
import { decideSend, DEFAULT_SMS_RATE_LIMIT, type SmsPurpose, type SmsRateLimit } from './rules';
import { resolvePatientLocale } from './locale';
import { renderSms, type SmsClinic, type SmsTemplate, type SmsTemplateParams } from './templates';

/** What texting a patient needs: the patient and clinic records, the sender, the message records, the audit log and a clock. */
export interface SmsDeps {
  clock: Clock;
  config: ConfigRepository;
  patients: PatientRepository;
  sms: SmsSender;
  smsMessages: SmsMessageRepository;
  audit: AuditLog;
}

/** How a clinic is named and timed in an SMS. */
export function smsClinicOf(clinic: Clinic): SmsClinic {
  return { displayName: clinic.smsDisplayName ?? clinic.name, timeZone: clinic.timeZone };
}

/** Template params without the clinic: sending fills it from the clinic record. */
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
 * per-patient rate limit and the phone allow it, in the patient's language (else the clinic's
 * default, else English), and records the message with that language (ids and codes only).
 * Throws TransientError when the provider should be retried (the activity's retry policy handles it).
 */
export async function sendPatientSms<T extends SmsTemplate>(deps: SmsDeps, req: PatientSmsRequest<T>): Promise<PatientSmsOutcome> {
  const patient = await deps.patients.get(req.patientId);
  if (!patient) return { outcome: 'unknown-patient' };
  const clinic = await deps.config.getClinic(req.clinicId);
  if (!clinic) throw new Error(`sendPatientSms: unknown clinic ${req.clinicId}`);
  const now = deps.clock.now().toUTC();
  const limit = req.rateLimit ?? DEFAULT_SMS_RATE_LIMIT;
  const recent = await deps.smsMessages.listForPatient(patient.patientId, now.minus({ minutes: limit.windowMinutes }).toISO()!);
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
  const locale = resolvePatientLocale(patient.preferredLanguage, clinic.defaultLanguage);
  const body = renderSms(req.template, { ...req.params, clinic: smsClinicOf(clinic) } as SmsTemplateParams[T], locale);
  const { messageId } = await deps.sms.send({
    to: patient.phone,
    body,
    patientId: patient.patientId,
    purpose: req.purpose,
    correlationId: req.correlationId,
  });
  const at = now.toISO()!;
  await deps.smsMessages.create({
    messageId,
    patientId: patient.patientId,
    clinicId: clinic.clinicId,
    purpose: req.purpose,
    template: req.template,
    language: locale.language,
    correlationId: req.correlationId,
    ...(req.offerId ? { offerId: req.offerId } : {}),
    status: 'queued',
    sentAt: at,
    updatedAt: at,
  });
  await deps.audit.record({
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

/** The templates workflows send, with the parameters each needs (the clinic is filled in). */
export type PatientNotice =
  | { template: 'offer'; params: { start: string; expiresAt: string }; offerId: string }
  | { template: 'offer-move-up'; params: { start: string; currentStart: string; expiresAt: string }; offerId: string }
  | { template: 'offer-replacement'; params: { start: string; replacedStart: string; expiresAt: string }; offerId: string }
  | { template: 'offer-move-up-replacement'; params: { start: string; currentStart: string; replacedStart: string; expiresAt: string }; offerId: string }
  | { template: 'offer-taken' | 'already-moved' | 'offer-withdrawn'; params: Record<string, never>; offerId?: string }
  | { template: 'moved'; params: { start: string; previousStart: string } }
  | { template: 'booked' | 'reminder' | 'cancelled' | 'eligibility'; params: { start: string } }
  | { template: 'rehomed'; params: { start: string; previousStart: string } };

export type NoticeOutcome = PatientSmsOutcome['outcome'];

/**
 * Texts a patient from a workflow through `sendPatientSms`: consent, opt-out, quiet hours in the
 * clinic's zone, the per-patient rate limit and E.164 are checked there, the message is recorded,
 * and templates carry no PHI. Deferred outcomes are reported, not retried, here: the workflows
 * decide (backfill skips that patient for the round).
 */
export async function notifyPatient(
  deps: SmsDeps,
  notice: PatientNotice & { patientId: string; clinic: Clinic; purpose: SmsPurpose; correlationId: string; inReplyToPatient?: boolean },
): Promise<NoticeOutcome> {
  const result = await sendPatientSms(deps, {
    patientId: notice.patientId,
    clinicId: notice.clinic.clinicId,
    template: notice.template,
    params: notice.params,
    purpose: notice.purpose,
    correlationId: notice.correlationId,
    ...('offerId' in notice && notice.offerId ? { offerId: notice.offerId } : {}),
    ...(notice.inReplyToPatient ? { inReplyToPatient: true } : {}),
  } as PatientSmsRequest<SmsTemplate>);
  return result.outcome;
}
