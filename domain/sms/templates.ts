import { DateTime } from 'luxon';
import { LruMap } from '../lru';
import { formatMessage } from './catalogs';
import { en } from './catalogs/en';
import { ENGLISH, type PatientLocale } from './locale';

/**
 * SMS templates. An SMS is PHI-adjacent (it reaches a phone others may read), so templates take
 * only what may be shown: the clinic's SMS display name, times in the clinic's zone, a short code
 * or a link. They never accept a patient name, appointment type, provider, diagnosis or plan: the
 * parameter types leave no place for them, and a unit test renders every template with PHI-laden
 * input to prove none leaks through, in every language. The texts are ICU messages in catalogs/
 * (en is the source; es and vi must have the same keys and placeholders).
 */

/** The clinic as an SMS names it. */
export interface SmsClinic {
  /** `clinic.smsDisplayName ?? clinic.name`; must not reveal a specialty. */
  displayName: string;
  /** IANA zone every time is shown in. */
  timeZone: string;
}

export interface SmsTemplateParams {
  offer: { clinic: SmsClinic; start: string; expiresAt: string };
  'offer-taken': { clinic?: SmsClinic };
  'offer-expired': { clinic?: SmsClinic };
  'offer-checking': { clinic: SmsClinic; start?: string };
  'offer-declined': { clinic?: SmsClinic };
  'no-open-offer': { clinic?: SmsClinic };
  booked: { clinic: SmsClinic; start: string };
  reminder: { clinic: SmsClinic; start: string };
  confirmed: { clinic: SmsClinic; start: string };
  cancelled: { clinic: SmsClinic; start: string };
  'cancel-too-late': { clinic: SmsClinic; start: string };
  'no-upcoming-appointment': { clinic?: SmsClinic };
  eligibility: { clinic: SmsClinic; start: string };
  /** Provider absence: the visit moved to another time. */
  rehomed: { clinic: SmsClinic; previousStart: string; start: string };
  'booking-link': { clinic: SmsClinic; url: string; expiresAt: string };
  help: { clinic?: SmsClinic };
  'opted-out': { clinic?: SmsClinic };
  'opted-in': { clinic?: SmsClinic };
  'book-list': { clinic: SmsClinic; starts: string[] };
  'book-none': { clinic?: SmsClinic };
  'book-pick-invalid': { clinic?: SmsClinic; count: number };
  'book-slot-gone': { clinic?: SmsClinic };
  'book-failed': { clinic?: SmsClinic };
  /** A move-up offer: the new time, instead of the appointment the patient holds. */
  'offer-move-up': { clinic: SmsClinic; start: string; currentStart: string; expiresAt: string };
  /** An offer of an earlier time that replaces the patient's open offer of `replacedStart` (offerPolicy.replaceOpenOffers): that offer is closed. */
  'offer-replacement': { clinic: SmsClinic; start: string; replacedStart: string; expiresAt: string };
  /** A move-up offer that replaces the patient's open offer of `replacedStart`. */
  'offer-move-up-replacement': { clinic: SmsClinic; start: string; currentStart: string; replacedStart: string; expiresAt: string };
  /** The one confirmation of a move-up: the new time, and that the old one is released. */
  moved: { clinic: SmsClinic; start: string; previousStart: string };
  'already-moved': { clinic?: SmsClinic };
  'offer-withdrawn': { clinic?: SmsClinic };
  /** EARLIER: the patient's next appointment is on the move-up list. */
  'earlier-added': { clinic: SmsClinic; start: string };
  /** R: a signed link to pick another time for the visit at `start` (it stays booked until the patient picks). */
  'reschedule-link': { clinic: SmsClinic; start: string; url: string; expiresAt: string };
  /** R too close to the visit (inside the clinic's cancellation window): call instead. */
  'reschedule-too-late': { clinic: SmsClinic; start: string };
  /** After a no-show: a rebooking link, nothing about the visit that was missed. */
  'noshow-follow-up': { clinic: SmsClinic; url: string; expiresAt: string };
}

export type SmsTemplate = keyof SmsTemplateParams;

/** Every template, for tests and docs. */
export const SMS_TEMPLATES = [
  'offer',
  'offer-taken',
  'offer-expired',
  'offer-checking',
  'offer-declined',
  'no-open-offer',
  'booked',
  'reminder',
  'confirmed',
  'cancelled',
  'cancel-too-late',
  'no-upcoming-appointment',
  'eligibility',
  'rehomed',
  'booking-link',
  'help',
  'opted-out',
  'opted-in',
  'book-list',
  'book-none',
  'book-pick-invalid',
  'book-slot-gone',
  'book-failed',
  'offer-move-up',
  'offer-replacement',
  'offer-move-up-replacement',
  'moved',
  'already-moved',
  'offer-withdrawn',
  'earlier-added',
  'reschedule-link',
  'reschedule-too-late',
  'noshow-follow-up',
] as const satisfies readonly SmsTemplate[];

/** Generic sender name when the clinic is not known (e.g. a reply from an unknown number). */
export const GENERIC_SENDER = en['generic-sender'];

/**
 * Most segments each template may cost, in every shipped language, with a 40-character clinic name
 * and the longest times (a unit test renders each and checks). English stays in GSM-7 (160, or 153
 * per part) and within two segments; Spanish accents á í ó ú (not in GSM-7's basic set, unlike é ñ
 * ü ¿ ¡) and Vietnamese force UCS-2 (70, or 67 per part), so the budgets are what those need.
 */
export const SMS_SEGMENT_BUDGET: Readonly<Record<SmsTemplate, number>> = {
  offer: 4,
  'offer-taken': 3,
  'offer-expired': 3,
  'offer-checking': 2,
  'offer-declined': 2,
  'no-open-offer': 3,
  booked: 2,
  reminder: 4,
  confirmed: 2,
  cancelled: 3,
  'cancel-too-late': 3,
  'no-upcoming-appointment': 2,
  eligibility: 3,
  rehomed: 3,
  'booking-link': 4,
  help: 3,
  'opted-out': 2,
  'opted-in': 3,
  'book-list': 4,
  'book-none': 3,
  'book-pick-invalid': 2,
  'book-slot-gone': 2,
  'book-failed': 2,
  'offer-move-up': 4,
  'offer-replacement': 4,
  'offer-move-up-replacement': 5,
  moved: 3,
  'already-moved': 2,
  'offer-withdrawn': 3,
  'earlier-added': 4,
  'reschedule-link': 4,
  'reschedule-too-late': 3,
  'noshow-follow-up': 4,
};

/** "Tue 3 Mar 9:30 AM" in the clinic's zone (English); in other locales Intl's short weekday, day, month and time, e.g. "mar, 3 mar, 9:30". */
export function formatSmsTime(iso: string, timeZone: string, locale = 'en-US'): string {
  // A deterministic function of its arguments, asked again for each patient offered the same slot and each reminder.
  const key = `${iso}|${timeZone}|${locale}`;
  const known = formatted.get(key);
  if (known !== undefined) return known;
  const text = formatSmsTimeUncached(iso, timeZone, locale);
  formatted.set(key, text);
  return text;
}
const formatted = new LruMap<string, string>(5_000);

function formatSmsTimeUncached(iso: string, timeZone: string, locale: string): string {
  const dt = DateTime.fromISO(iso, { setZone: true }).setZone(timeZone);
  if (!dt.isValid) throw new Error('formatSmsTime: invalid instant');
  // English keeps the format patients already get (and tests assert); other languages follow CLDR through Intl.
  if (locale.toLowerCase().startsWith('en')) return dt.setLocale('en-US').toFormat('ccc d LLL h:mm a');
  // CLDR puts no-break spaces in some locales ("9:30\u202fa.m." in es-US): outside GSM-7, they would force UCS-2.
  return dt
    .setLocale(locale)
    .toLocaleString({ weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' })
    .replace(/[\u00a0\u202f]/g, ' ');
}

type Values = Record<string, string | number>;
type ArgBuilders = { [T in SmsTemplate]: (p: SmsTemplateParams[T], time: (iso: string) => string) => Values };

/** Each template's placeholders (the catalog text is in catalogs/): only clinic name, times, link, counts. */
const args: ArgBuilders = {
  offer: (p, t) => ({ start: t(p.start), expiresAt: t(p.expiresAt) }),
  'offer-taken': () => ({}),
  'offer-expired': () => ({}),
  'offer-checking': (p, t) => (p.start ? { hasStart: 'yes', start: t(p.start) } : { hasStart: 'no', start: '' }),
  'offer-declined': () => ({}),
  'no-open-offer': () => ({}),
  booked: (p, t) => ({ start: t(p.start) }),
  reminder: (p, t) => ({ start: t(p.start) }),
  confirmed: (p, t) => ({ start: t(p.start) }),
  cancelled: (p, t) => ({ start: t(p.start) }),
  'cancel-too-late': (p, t) => ({ start: t(p.start) }),
  'no-upcoming-appointment': () => ({}),
  eligibility: (p, t) => ({ start: t(p.start) }),
  rehomed: (p, t) => ({ previousStart: t(p.previousStart), start: t(p.start) }),
  'booking-link': (p, t) => ({ url: p.url, expiresAt: t(p.expiresAt) }),
  help: () => ({}),
  'opted-out': () => ({}),
  'opted-in': () => ({}),
  'book-list': (p, t) => ({ list: p.starts.map((s, i) => `${i + 1}) ${t(s)}`).join(', ') }),
  'book-none': () => ({}),
  'book-pick-invalid': (p) => ({ count: String(p.count) }),
  'book-slot-gone': () => ({}),
  'book-failed': () => ({}),
  'offer-move-up': (p, t) => ({ start: t(p.start), currentStart: t(p.currentStart), expiresAt: t(p.expiresAt) }),
  'offer-replacement': (p, t) => ({ start: t(p.start), replacedStart: t(p.replacedStart), expiresAt: t(p.expiresAt) }),
  'offer-move-up-replacement': (p, t) => ({ start: t(p.start), currentStart: t(p.currentStart), replacedStart: t(p.replacedStart), expiresAt: t(p.expiresAt) }),
  moved: (p, t) => ({ start: t(p.start), previousStart: t(p.previousStart) }),
  'already-moved': () => ({}),
  'offer-withdrawn': () => ({}),
  'earlier-added': (p, t) => ({ start: t(p.start) }),
  'reschedule-link': (p, t) => ({ start: t(p.start), url: p.url, expiresAt: t(p.expiresAt) }),
  'reschedule-too-late': (p, t) => ({ start: t(p.start) }),
  'noshow-follow-up': (p, t) => ({ url: p.url, expiresAt: t(p.expiresAt) }),
};

/**
 * Renders one SMS body in the patient's language (English when none is given). Params carry no
 * PHI by construction (see the module comment); times are in the clinic's zone and the patient's locale.
 */
export function renderSms<T extends SmsTemplate>(template: T, params: SmsTemplateParams[T], patientLocale: PatientLocale = ENGLISH): string {
  const { language, locale } = patientLocale;
  const build = args[template] as (p: SmsTemplateParams[T], time: (iso: string) => string) => Values;
  const zone = params.clinic?.timeZone ?? 'UTC';
  const times = new Set<string>();
  const values = build(params, (iso) => {
    const shown = formatSmsTime(iso, zone, locale);
    times.add(shown);
    return shown;
  });
  const clinic = params.clinic?.displayName ?? formatMessage(language, 'generic-sender');
  let body = formatMessage(language, template, { ...values, clinic });
  // A time ending in an abbreviation's period ("9:30 a.m.") also ends the sentence: one period, not two.
  for (const shown of times) if (shown.endsWith('.')) body = body.split(`${shown}.`).join(shown);
  return body;
}
