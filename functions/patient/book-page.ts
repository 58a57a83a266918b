import { DateTime } from 'luxon';
import { renderPage } from './page-shell';
import { xmlEscape as esc } from './twiml';

/** The pages of GET/POST /book/{token}, in the patient page shell. */

export interface PageSlot {
  slotId: string;
  start: string;
}

/** "Tuesday 3 March" and "9:30 AM" in the clinic's zone. */
function day(iso: string, zone: string) {
  return DateTime.fromISO(iso, { setZone: true }).setZone(zone).setLocale('en-US').toFormat('cccc d LLLL');
}
function time(iso: string, zone: string) {
  return DateTime.fromISO(iso, { setZone: true }).setZone(zone).setLocale('en-US').toFormat('h:mm a');
}

/** The slot picker: one radio per slot, grouped by clinic-local day, and a confirm button. */
export function pickPage(p: { clinicName: string; timeZone: string; slots: PageSlot[]; action: string; notice?: string }): string {
  const byDay = new Map<string, PageSlot[]>();
  for (const s of p.slots) byDay.set(day(s.start, p.timeZone), [...(byDay.get(day(s.start, p.timeZone)) ?? []), s]);
  let i = 0;
  const groups = [...byDay.entries()]
    .map(
      ([d, slots]) =>
        `<h2>${esc(d)}</h2>` +
        slots
          .map(
            (s) =>
              `<label class="slot"><input type="radio" name="slotId" value="${esc(s.slotId)}" required${i++ === 0 ? ' checked' : ''}>` +
              `<span>${esc(time(s.start, p.timeZone))}</span></label>`,
          )
          .join(''),
    )
    .join('');
  const zone = DateTime.fromISO(p.slots[0]?.start ?? new Date(0).toISOString())
    .setZone(p.timeZone)
    .toFormat('ZZZZ');
  return renderPage(
    'Choose your appointment time',
    `<p class="clinic">${esc(p.clinicName)}</p><h1>Choose your appointment time</h1>` +
      (p.notice ? `<p class="notice" role="alert">${esc(p.notice)}</p>` : '') +
      `<form method="post" action="${esc(p.action)}"><fieldset><legend>Available times (${esc(zone)})</legend>${groups}</fieldset>` +
      `<button type="submit">Confirm appointment</button></form>` +
      `<p class="small">This link works once. If none of these times suit you, please call the clinic.</p>`,
  );
}

/** After booking. */
export function bookedPage(p: { clinicName: string; timeZone: string; start: string; pending: boolean }): string {
  return renderPage(
    'Appointment booked',
    `<p class="clinic">${esc(p.clinicName)}</p><h1>${p.pending ? 'Request received' : "You're booked"}</h1>` +
      `<p class="notice" role="status"><strong>${esc(day(p.start, p.timeZone))}</strong> at <strong>${esc(time(p.start, p.timeZone))}</strong></p>` +
      (p.pending ? '<p>The clinic will confirm this time with you shortly.</p>' : '<p>We will text you a reminder before your visit.</p>'),
  );
}

/** A link that cannot be used (expired, used, tampered, no longer available). */
export function problemPage(title: string, message: string): string {
  return renderPage(
    title,
    `<h1>${esc(title)}</h1><p class="notice" role="alert">${esc(message)}</p><p class="small">Please call the clinic or reply BOOK to our text for new times.</p>`,
  );
}
