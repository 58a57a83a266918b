import { DateTime } from 'luxon';
import { xmlEscape as esc } from './twiml';

/** Server-rendered pages of GET/POST /book/{token}: small, accessible, mobile-first, no script. */

/**
 * Headers of every patient-facing booking page: not framed, cached, indexed or leaking its URL (the
 * token) through Referer; no script runs.
 */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

export interface PageSlot {
  slotId: string;
  start: string;
}

const STYLE = `
:root{color-scheme:light dark;--accent:#0b5cad;--bg:#fff;--fg:#1b1b1b;--muted:#555;--card:#f3f6fa}
@media (prefers-color-scheme:dark){:root{--accent:#7db7ff;--bg:#111;--fg:#eee;--muted:#bbb;--card:#1d232b}}
*{box-sizing:border-box}body{margin:0;font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:32rem;margin:0 auto;padding:1.25rem 1rem 2rem}h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1rem;margin:1.2rem 0 .4rem;color:var(--muted)}
.clinic{color:var(--muted);margin:0}fieldset{border:0;padding:0;margin:0}legend{font-weight:600;margin-bottom:.25rem;padding:0}
label.slot{display:flex;align-items:center;gap:.75rem;min-height:48px;padding:.6rem .9rem;margin:.4rem 0;border-radius:.6rem;background:var(--card);border:2px solid transparent;cursor:pointer}
label.slot:has(input:checked){border-color:var(--accent)}input[type=radio]{width:1.3rem;height:1.3rem;accent-color:var(--accent)}
button{position:sticky;bottom:.75rem;width:100%;min-height:48px;margin-top:1.2rem;box-shadow:0 2px 8px rgba(0,0,0,.25);border:0;border-radius:.6rem;background:var(--accent);color:#fff;font:inherit;font-weight:600}
button:focus-visible,label.slot:focus-within{outline:3px solid var(--accent);outline-offset:2px}
.notice{padding:1rem;border-radius:.6rem;background:var(--card)}.small{color:var(--muted);font-size:.9rem}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
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
  return layout(
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
  return layout(
    'Appointment booked',
    `<p class="clinic">${esc(p.clinicName)}</p><h1>${p.pending ? 'Request received' : "You're booked"}</h1>` +
      `<p class="notice" role="status"><strong>${esc(day(p.start, p.timeZone))}</strong> at <strong>${esc(time(p.start, p.timeZone))}</strong></p>` +
      (p.pending ? '<p>The clinic will confirm this time with you shortly.</p>' : '<p>We will text you a reminder before your visit.</p>'),
  );
}

/** A link that cannot be used (expired, used, tampered, no longer available). */
export function problemPage(title: string, message: string): string {
  return layout(
    title,
    `<h1>${esc(title)}</h1><p class="notice" role="alert">${esc(message)}</p><p class="small">Please call the clinic or reply BOOK to our text for new times.</p>`,
  );
}
