// @ts-check
// DOM and time helpers. Data only ever reaches the page as text (textContent, attributes), never as HTML.

/**
 * @typedef {string | number | boolean | null | undefined | ((ev: any) => void)} AttrValue
 * @typedef {Node | string | number | null | undefined | false} Child
 */

/**
 * Creates an element. Attributes starting with "on" are event listeners; `class` sets className;
 * false/null/undefined attributes are left out; `true` sets an empty attribute.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = String(v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

/**
 * @param {Node} node
 * @param {(Child | Child[])[]} children
 */
function append(node, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * The element with this id (throws when the page lacks it: a programming error, not a runtime case).
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return /** @type {T} */ (node);
}

/**
 * The status line (a polite live region). Messages carry ids and codes, never names.
 * @param {string} message
 * @param {boolean} [isError]
 */
export function say(message, isError = false) {
  const s = byId('status');
  s.textContent = message;
  s.classList.toggle('error', isError);
}

/** Local wall time "HH:mm" of an ISO instant that carries the clinic's offset (every schedule instant the API returns does). */
export const hhmm = (/** @type {string} */ iso) => iso.slice(11, 16);
/** Local date "YYYY-MM-DD" of an ISO instant with the clinic's offset. */
export const localDay = (/** @type {string} */ iso) => iso.slice(0, 10);
/** Minutes after local midnight of an ISO instant with the clinic's offset. */
export const minuteOfDay = (/** @type {string} */ iso) => Number(iso.slice(11, 13)) * 60 + Number(iso.slice(14, 16));

const dayFormat = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
/**
 * "Tue 3 Mar" for a calendar date.
 * @param {string} date YYYY-MM-DD
 */
export function dayLabel(date) {
  return dayFormat.format(new Date(`${date}T00:00:00Z`));
}

/**
 * Adds days to a calendar date (zone-free arithmetic).
 * @param {string} date YYYY-MM-DD
 * @param {number} days
 */
export function addDays(date, days) {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The Monday of the date's week.
 * @param {string} date YYYY-MM-DD
 */
export function mondayOf(date) {
  const weekday = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(date, -weekday);
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const zoneFormats = new Map();
/** @param {string} zone */
function partsFormat(zone) {
  let f = zoneFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormats.set(zone, f);
  }
  return f;
}

/**
 * The zone's UTC offset in minutes at an instant.
 * @param {number} ms
 * @param {string} zone
 */
export function offsetMinutes(ms, zone) {
  /** @type {Record<string, number>} */
  const p = {};
  for (const part of partsFormat(zone).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/**
 * A clinic-local wall time ("YYYY-MM-DDTHH:mm", as a datetime-local input gives it) as an ISO instant
 * with the zone's offset at that time, e.g. "2026-03-03T09:00:00-05:00". A time skipped by a DST change
 * resolves to the later offset, an ambiguous one to the earlier instant.
 * @param {string} local
 * @param {string} zone
 */
export function zonedToIso(local, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return local;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  let offset = offsetMinutes(wall, zone);
  const second = offsetMinutes(wall - offset * 60_000, zone);
  if (second !== offset) offset = Math.max(offset, second);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${local}:00${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * An instant formatted in the clinic's zone, "Tue 3 Mar, 09:30".
 * @param {string} iso
 * @param {string} zone
 */
export function dateTimeIn(iso, zone) {
  return new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: zone }).format(
    new Date(iso),
  );
}

/**
 * "HH:mm" of an instant in the clinic's zone (for UTC instants such as offer expiries).
 * @param {string} iso
 * @param {string} zone
 */
export function timeIn(iso, zone) {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: zone }).format(new Date(iso));
}

/**
 * Today's date in a zone.
 * @param {string} zone
 * @param {number} [nowMs]
 */
export function todayIn(zone, nowMs = Date.now()) {
  return new Date(nowMs + offsetMinutes(nowMs, zone) * 60_000).toISOString().slice(0, 10);
}

/**
 * Shows problem+json field errors next to their fields. Inputs name their field with `data-field`
 * ("body.offerPolicy.batchSize"); an error for a deeper path lands on the nearest named ancestor path,
 * one without any on the form's own error line. The first invalid field gets the focus.
 * @param {HTMLFormElement} form
 * @param {{ field: string, message: string }[]} errors
 * @param {string} [formMessage]
 */
export function showFieldErrors(form, errors, formMessage) {
  clearFieldErrors(form);
  /** @type {HTMLElement | null} */
  let first = null;
  const unplaced = [];
  for (const e of errors) {
    const parts = e.field.split('.');
    /** @type {HTMLElement | null} */
    let target = null;
    while (parts.length > 1 && !target) {
      target = form.querySelector(`[data-field="${CSS.escape(parts.join('.'))}"]`);
      if (!target) parts.pop();
    }
    if (!target) {
      unplaced.push(e);
      continue;
    }
    const id = `${target.id || (target.id = `f-${Math.random().toString(36).slice(2)}`)}-error`;
    let note = document.getElementById(id);
    if (!note) {
      note = el('p', { class: 'field-error', id });
      target.insertAdjacentElement('afterend', note);
    }
    note.textContent = note.textContent ? `${note.textContent}; ${e.message}` : e.message;
    target.setAttribute('aria-invalid', 'true');
    // Editing the field clears its error (the next save asks the API again).
    const field = target;
    const noteId = id;
    field.addEventListener(
      'input',
      () => {
        document.getElementById(noteId)?.remove();
        field.removeAttribute('aria-invalid');
        const rest = (field.getAttribute('aria-describedby') || '')
          .split(' ')
          .filter((x) => x && x !== noteId)
          .join(' ');
        if (rest) field.setAttribute('aria-describedby', rest);
        else field.removeAttribute('aria-describedby');
      },
      { once: true },
    );
    const described = (target.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (!described.includes(id)) target.setAttribute('aria-describedby', [...described, id].join(' '));
    first ??= target;
  }
  const line = form.querySelector('.form-error');
  if (line) {
    const placed = errors.length - unplaced.length;
    const lead = placed > 0 && unplaced.length === 0 ? `Not saved: ${placed === 1 ? 'one field needs' : `${placed} fields need`} attention.` : formMessage;
    const text = [lead, ...unplaced.map((e) => `${e.field}: ${e.message}`)].filter(Boolean).join(' ');
    line.textContent = text;
  }
  if (first && typeof first.focus === 'function') first.focus();
}

/** @param {HTMLFormElement} form */
export function clearFieldErrors(form) {
  for (const note of form.querySelectorAll('.field-error')) {
    const target = form.querySelector(`[aria-describedby~="${CSS.escape(note.id)}"]`);
    if (target) {
      target.removeAttribute('aria-invalid');
      const rest = (target.getAttribute('aria-describedby') || '')
        .split(' ')
        .filter((x) => x && x !== note.id)
        .join(' ');
      if (rest) target.setAttribute('aria-describedby', rest);
      else target.removeAttribute('aria-describedby');
    }
    note.remove();
  }
  const line = form.querySelector('.form-error');
  if (line) line.textContent = '';
}

/**
 * An ISO instant as a datetime-local value in the clinic's zone ("YYYY-MM-DDTHH:mm").
 * @param {string} iso
 * @param {string} zone
 */
export function isoToLocalInput(iso, zone) {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  return new Date(ms + offsetMinutes(ms, zone) * 60_000).toISOString().slice(0, 16);
}

/**
 * Updates every countdown on the page (elements with `data-expires-at`) against the given clock.
 * @param {number} nowMs server time
 */
export function tickCountdowns(nowMs) {
  for (const span of document.querySelectorAll('.countdown')) {
    const node = /** @type {HTMLElement} */ (span);
    const left = Math.max(0, Math.floor((Date.parse(node.dataset.expiresAt ?? '') - nowMs) / 1000));
    const text = left === 0 ? 'expired' : `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    if (node.textContent !== text) node.textContent = text;
    node.classList.toggle('expired', left === 0);
  }
}
