import { DateTime } from 'luxon';

/**
 * SMS templates. An SMS is PHI-adjacent (it reaches a phone others may read), so templates take
 * only what may be shown: the clinic's SMS display name, times in the clinic's zone, a short code
 * or a link. They never accept a patient name, appointment type, provider, diagnosis or plan: the
 * parameter types leave no place for them, and a unit test renders every template with PHI-laden
 * input to prove none leaks through.
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
] as const satisfies readonly SmsTemplate[];

/** Generic sender name when the clinic is not known (e.g. a reply from an unknown number). */
export const GENERIC_SENDER = 'Your clinic';

/** "Tue 3 Mar 9:30 AM" in the clinic's zone. */
export function formatSmsTime(iso: string, timeZone: string): string {
  const dt = DateTime.fromISO(iso, { setZone: true }).setZone(timeZone);
  if (!dt.isValid) throw new Error('formatSmsTime: invalid instant');
  return dt.setLocale('en-US').toFormat('ccc d LLL h:mm a');
}

const name = (clinic: SmsClinic | undefined) => clinic?.displayName ?? GENERIC_SENDER;
const STOP_NOTE = 'Reply STOP to opt out.';

type Renderers = { [T in SmsTemplate]: (p: SmsTemplateParams[T]) => string };

const renderers: Renderers = {
  offer: (p) =>
    `${name(p.clinic)}: an earlier appointment opened up on ${formatSmsTime(p.start, p.clinic.timeZone)}. ` +
    `Reply YES to take it or NO to pass. Offer ends ${formatSmsTime(p.expiresAt, p.clinic.timeZone)}. ${STOP_NOTE}`,
  'offer-taken': (p) => `${name(p.clinic)}: sorry, that time has just been taken. You stay on our waitlist and we'll text you if another opens up.`,
  'offer-expired': (p) => `${name(p.clinic)}: sorry, that offer has ended. You stay on our waitlist and we'll text you if another time opens up.`,
  'offer-checking': (p) =>
    `${name(p.clinic)}: thanks! We're checking ${p.start ? formatSmsTime(p.start, p.clinic.timeZone) : 'that time'} for you and will text you shortly.`,
  'offer-declined': (p) => `${name(p.clinic)}: no problem, you stay on our waitlist.`,
  'no-open-offer': (p) => `${name(p.clinic)}: there is no open offer for you right now. Reply BOOK to see available times or HELP for help.`,
  booked: (p) => `${name(p.clinic)}: you're booked for ${formatSmsTime(p.start, p.clinic.timeZone)}. Reply X to cancel.`,
  reminder: (p) => `${name(p.clinic)}: reminder of your appointment on ${formatSmsTime(p.start, p.clinic.timeZone)}. Reply C to confirm or X to cancel.`,
  confirmed: (p) => `${name(p.clinic)}: thanks, your appointment on ${formatSmsTime(p.start, p.clinic.timeZone)} is confirmed.`,
  cancelled: (p) => `${name(p.clinic)}: your appointment on ${formatSmsTime(p.start, p.clinic.timeZone)} is cancelled. Reply BOOK to find a new time.`,
  'cancel-too-late': (p) =>
    `${name(p.clinic)}: your appointment on ${formatSmsTime(p.start, p.clinic.timeZone)} is too soon to cancel by text. Please call the clinic.`,
  'no-upcoming-appointment': (p) => `${name(p.clinic)}: we couldn't find an upcoming appointment for you. Reply BOOK to see available times.`,
  eligibility: (p) => `${name(p.clinic)}: please contact the clinic about your insurance before your visit on ${formatSmsTime(p.start, p.clinic.timeZone)}.`,
  rehomed: (p) =>
    `${name(p.clinic)}: your appointment on ${formatSmsTime(p.previousStart, p.clinic.timeZone)} has moved to ${formatSmsTime(p.start, p.clinic.timeZone)}. ` +
    'Reply C to confirm or X to cancel.',
  'booking-link': (p) => `${name(p.clinic)}: pick an appointment time here: ${p.url} (link valid until ${formatSmsTime(p.expiresAt, p.clinic.timeZone)}).`,
  help: (p) =>
    `${name(p.clinic)}: reply YES/NO to an offer, C to confirm or X to cancel your next visit, BOOK for open times. STOP to opt out. Msg&data rates may apply.`,
  'opted-out': (p) => `${name(p.clinic)}: you won't get more texts from us. Reply START to opt back in.`,
  'opted-in': (p) => `${name(p.clinic)}: you're opted back in to texts. Reply HELP for help, STOP to opt out.`,
  'book-list': (p) =>
    `${name(p.clinic)}: open times: ${p.starts.map((s, i) => `${i + 1}) ${formatSmsTime(s, p.clinic.timeZone)}`).join(', ')}. Reply with a number to book.`,
  'book-none': (p) => `${name(p.clinic)}: sorry, no open times in the next two weeks. Please call the clinic.`,
  'book-pick-invalid': (p) => `${name(p.clinic)}: please reply with a number from 1 to ${p.count}, or BOOK for a new list.`,
  'book-slot-gone': (p) => `${name(p.clinic)}: sorry, that time was just taken. Reply BOOK for a new list.`,
  'book-failed': (p) => `${name(p.clinic)}: sorry, we couldn't book that time by text. Please call the clinic.`,
};

/** Renders one SMS body. Params carry no PHI by construction (see the module comment). */
export function renderSms<T extends SmsTemplate>(template: T, params: SmsTemplateParams[T]): string {
  const render = renderers[template] as (p: SmsTemplateParams[T]) => string;
  return render(params);
}
