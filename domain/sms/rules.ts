import type { DateTime } from 'luxon';
import type { OfferPolicy, Patient } from '../model';
import { e164Schema } from '../model';
import type { OutboundSms } from '../ports';
import { isQuietHours, nextSendTime } from '../waitlist/eligibility';

export type SmsPurpose = OutboundSms['purpose'];

/** Per-patient ceiling: a bug or a storm of events must not flood a phone. */
export interface SmsRateLimit {
  maxMessages: number;
  windowMinutes: number;
}
export const DEFAULT_SMS_RATE_LIMIT: SmsRateLimit = { maxMessages: 10, windowMinutes: 24 * 60 };

/**
 * Messages that answer something the patient just did (a YES, an X, a booking) go out even in quiet
 * hours and past the rate limit: the patient is awake and waiting for them. Never past an opt-out.
 */
export const RESPONSIVE_PURPOSES: readonly SmsPurpose[] = ['confirmation', 'cancellation', 'reply'];

export type SendDecision =
  | { outcome: 'send' }
  | { outcome: 'no-consent' }
  | { outcome: 'opted-out' }
  | { outcome: 'invalid-phone' }
  | { outcome: 'quiet-hours'; nextAllowedAt: string }
  | { outcome: 'rate-limited'; retryAfter: string };

export interface SendCheck {
  patient: Pick<Patient, 'phone' | 'smsConsent' | 'smsOptedOutAt'>;
  purpose: SmsPurpose;
  now: DateTime;
  clinicZone: string;
  quietHours: Pick<OfferPolicy, 'quietStart' | 'quietEnd'>;
  /** Send instants of this patient's messages inside the rate window (any order). */
  recentSends: readonly string[];
  rateLimit?: SmsRateLimit;
  /** The caller answers a patient action (e.g. the backfill telling a YES it won or lost). */
  inReplyToPatient?: boolean;
}

/** True for an E.164 number (+ and up to 15 digits). */
export function isE164(phone: string): boolean {
  return e164Schema.safeParse(phone).success;
}

/** May this SMS go out now? Opt-out wins over consent; then phone, quiet hours, rate limit. */
export function decideSend(c: SendCheck): SendDecision {
  if (c.patient.smsOptedOutAt) return { outcome: 'opted-out' };
  if (!c.patient.smsConsent) return { outcome: 'no-consent' };
  if (!isE164(c.patient.phone)) return { outcome: 'invalid-phone' };
  const responsive = c.inReplyToPatient === true || RESPONSIVE_PURPOSES.includes(c.purpose);
  if (responsive) return { outcome: 'send' };
  if (isQuietHours(c.now, c.clinicZone, c.quietHours)) {
    return { outcome: 'quiet-hours', nextAllowedAt: nextSendTime(c.now, c.clinicZone, c.quietHours).toUTC().toISO()! };
  }
  const limit = c.rateLimit ?? DEFAULT_SMS_RATE_LIMIT;
  // Minutes are elapsed time in luxon's minus: the window's start without a Duration.
  const windowStartMs = c.now.toMillis() - limit.windowMinutes * 60_000;
  const inWindow = c.recentSends
    .map((s) => Date.parse(s))
    .filter((t) => t > windowStartMs)
    .sort((a, b) => a - b);
  if (inWindow.length >= limit.maxMessages) {
    // The window frees up when the oldest message in it ages out.
    const oldest = inWindow[inWindow.length - limit.maxMessages]!;
    const retryAfter = new Date(oldest + limit.windowMinutes * 60_000).toISOString();
    return { outcome: 'rate-limited', retryAfter };
  }
  return { outcome: 'send' };
}
