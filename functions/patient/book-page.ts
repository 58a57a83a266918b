import { DateTime } from 'luxon';
import { ENGLISH, formatMessage, type MessageKey, type MessageValues, type PatientLocale } from '../../domain/sms';
import { renderPage } from './page-shell';
import { xmlEscape as esc } from './twiml';

/** The pages of GET/POST /book/{token}, in the patient page shell, in the patient's language (domain/sms/catalogs). */

export interface PageSlot {
  slotId: string;
  start: string;
}

const at = (iso: string, zone: string, l: PatientLocale) => DateTime.fromISO(iso, { setZone: true }).setZone(zone).setLocale(l.locale);
const isEnglish = (l: PatientLocale) => l.language === 'en';

/** "Tuesday 3 March" (English as before; other languages through Intl, e.g. "martes, 3 de marzo") in the clinic's zone. */
function day(iso: string, zone: string, l: PatientLocale) {
  const dt = at(iso, zone, l);
  return isEnglish(l) ? dt.setLocale('en-US').toFormat('cccc d LLLL') : dt.toLocaleString({ weekday: 'long', day: 'numeric', month: 'long' });
}
/** "9:30 AM" (English) or the locale's time, e.g. "9:30" or "9:30 a.m.". */
function time(iso: string, zone: string, l: PatientLocale) {
  const dt = at(iso, zone, l);
  return isEnglish(l) ? dt.setLocale('en-US').toFormat('h:mm a') : dt.toLocaleString({ hour: 'numeric', minute: '2-digit' });
}

/** A catalog message as HTML: values are escaped here; the message text is ours. */
const t = (l: PatientLocale, key: MessageKey, values: MessageValues = {}) =>
  formatMessage(l.language, key, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' ? esc(v) : v])));
/** Plain text (titles, headings): escaped as a whole. */
const text = (l: PatientLocale, key: MessageKey, values: MessageValues = {}) => esc(formatMessage(l.language, key, values));

const strong = (chunks: string[]) => `<strong>${chunks.join('')}</strong>`;

/**
 * The slot picker: one radio per slot, grouped by clinic-local day, and a confirm button. A
 * reschedule picker names the appointment it moves (`current`); `earlierOption` adds the box
 * "text me if an earlier time opens up" (form field `earlier`).
 */
export function pickPage(p: {
  clinicName: string;
  timeZone: string;
  slots: PageSlot[];
  action: string;
  notice?: string;
  locale?: PatientLocale;
  current?: { start: string };
  earlierOption?: boolean;
}): string {
  const l = p.locale ?? ENGLISH;
  const byDay = new Map<string, PageSlot[]>();
  for (const s of p.slots) byDay.set(day(s.start, p.timeZone, l), [...(byDay.get(day(s.start, p.timeZone, l)) ?? []), s]);
  let i = 0;
  const groups = [...byDay.entries()]
    .map(
      ([d, slots]) =>
        `<h2>${esc(d)}</h2>` +
        slots
          .map(
            (s) =>
              `<label class="slot"><input type="radio" name="slotId" value="${esc(s.slotId)}" required${i++ === 0 ? ' checked' : ''}>` +
              `<span>${esc(time(s.start, p.timeZone, l))}</span></label>`,
          )
          .join(''),
    )
    .join('');
  const zone = DateTime.fromISO(p.slots[0]?.start ?? new Date(0).toISOString())
    .setZone(p.timeZone)
    .toFormat('ZZZZ');
  return renderPage(
    formatMessage(l.language, 'page.pick.title'),
    `<p class="clinic">${esc(p.clinicName)}</p><h1>${text(l, 'page.pick.title')}</h1>` +
      (p.current
        ? `<p class="notice">${t(l, 'page.reschedule.current', { day: day(p.current.start, p.timeZone, l), time: time(p.current.start, p.timeZone, l), b: strong })}</p>`
        : '') +
      (p.notice ? `<p class="notice" role="alert">${esc(p.notice)}</p>` : '') +
      `<form method="post" action="${esc(p.action)}"><fieldset><legend>${text(l, 'page.pick.legend', { zone })}</legend>${groups}</fieldset>` +
      (p.earlierOption ? `<label class="check"><input type="checkbox" name="earlier" value="yes"><span>${text(l, 'page.pick.earlier')}</span></label>` : '') +
      `<button type="submit">${text(l, p.current ? 'page.reschedule.confirm' : 'page.pick.confirm')}</button></form>` +
      `<p class="small">${text(l, 'page.pick.footer')}</p>`,
    l.language,
  );
}

/** After booking; `earlier`: the visit is also on the list for an earlier time. */
export function bookedPage(p: { clinicName: string; timeZone: string; start: string; pending: boolean; locale?: PatientLocale; earlier?: boolean }): string {
  const l = p.locale ?? ENGLISH;
  const pending = p.pending ? 'yes' : 'no';
  return renderPage(
    formatMessage(l.language, 'page.booked.title'),
    `<p class="clinic">${esc(p.clinicName)}</p><h1>${text(l, 'page.booked.heading', { pending })}</h1>` +
      `<p class="notice" role="status">${t(l, 'page.booked.when', { day: day(p.start, p.timeZone, l), time: time(p.start, p.timeZone, l), b: strong })}</p>` +
      `<p>${text(l, 'page.booked.next', { pending })}</p>` +
      (p.earlier ? `<p>${text(l, 'page.booked.earlier')}</p>` : ''),
    l.language,
  );
}

/** After a reschedule link moved the appointment: the new time, and that the old one is released. */
export function movedPage(p: { clinicName: string; timeZone: string; start: string; previousStart: string; locale?: PatientLocale }): string {
  const l = p.locale ?? ENGLISH;
  const previous = `${day(p.previousStart, p.timeZone, l)}, ${time(p.previousStart, p.timeZone, l)}`;
  return renderPage(
    formatMessage(l.language, 'page.moved.title'),
    `<p class="clinic">${esc(p.clinicName)}</p><h1>${text(l, 'page.moved.heading')}</h1>` +
      `<p class="notice" role="status">${t(l, 'page.booked.when', { day: day(p.start, p.timeZone, l), time: time(p.start, p.timeZone, l), b: strong })}</p>` +
      `<p>${text(l, 'page.moved.released', { previous })}</p><p>${text(l, 'page.booked.next', { pending: 'no' })}</p>`,
    l.language,
  );
}

/** A link that cannot be used (expired, used, tampered, no longer available): title and message are catalog keys. */
export function problemPage(title: MessageKey, message: MessageKey, locale: PatientLocale = ENGLISH): string {
  return renderPage(
    formatMessage(locale.language, title),
    `<h1>${text(locale, title)}</h1><p class="notice" role="alert">${text(locale, message)}</p><p class="small">${text(locale, 'page.problem.footer')}</p>`,
    locale.language,
  );
}
