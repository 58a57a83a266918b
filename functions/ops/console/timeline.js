// @ts-check
// An appointment's timeline (events, SMS with delivery status, waitlist offers) and the patient finder
// (by id, or by name for roles allowed to search), shared by the schedule and patients pages.
import { api, ApiError, query } from './api.js';
import { dateTimeIn, el } from './dom.js';
import { state } from './state.js';

/**
 * @typedef {{ at: string, kind: string, summary: string }} TimelineEvent
 * @typedef {{ messageId: string, purpose: string, template: string, status: string, sentAt: string, updatedAt: string, errorCode?: string, language?: string }} TimelineSms
 * @typedef {{ offerId: string, patientId: string, round: number, status: string, sentAt: string, respondedAt?: string }} TimelineOffer
 */

const SMS_STATUS = /** @type {Record<string, string>} */ ({
  queued: 'queued',
  accepted: 'queued',
  sending: 'sending',
  sent: 'sent, not yet delivered',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'not delivered',
  failed: 'failed',
});

/**
 * Loads and shows the timeline of one appointment in `list` (an <ol>).
 * @param {HTMLOListElement} list
 * @param {string} appointmentId
 */
export async function showTimeline(list, appointmentId) {
  list.setAttribute('aria-busy', 'true');
  const t = await api('GET', `/api/appointments/${encodeURIComponent(appointmentId)}/timeline`);
  /** @type {{ at: string, kind: string, text: string, status?: string }[]} */
  const items = [];
  for (const e of /** @type {TimelineEvent[]} */ (t.events)) if (e.kind !== 'offer') items.push({ at: e.at, kind: e.kind, text: e.summary });
  for (const m of /** @type {TimelineSms[]} */ (t.sms)) {
    items.push({
      at: m.sentAt,
      kind: 'sms',
      status: m.status,
      text: `SMS ${m.purpose} (${m.template}${m.language ? `, in ${m.language}` : ''}): ${SMS_STATUS[m.status] ?? m.status}${m.errorCode ? `, error ${m.errorCode}` : ''}`,
    });
  }
  for (const o of /** @type {TimelineOffer[]} */ (t.offers)) {
    items.push({ at: o.sentAt, kind: 'offer', status: o.status, text: `Waitlist offer round ${o.round} to ${o.patientId}: ${o.status}` });
  }
  items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  list.replaceChildren(
    ...(items.length ? items : [{ at: '', kind: 'none', text: 'Nothing recorded yet.' }]).map((i) =>
      el(
        'li',
        { 'data-kind': i.kind, 'data-status': i.status },
        i.at ? el('time', { datetime: i.at }, dateTimeIn(i.at, state.timeZone)) : null,
        ' ',
        el('span', {}, i.text),
      ),
    ),
  );
  list.setAttribute('aria-busy', 'false');
}

/**
 * The patient card: what the front desk checks before booking.
 * @param {import('./state.js').PatientCard} p
 */
export function patientCard(p) {
  return el(
    'dl',
    { class: 'card', 'data-patient-id': p.patientId },
    el('dt', {}, 'Name'),
    el('dd', { class: 'patient-name' }, p.name),
    el('dt', {}, 'Patient id'),
    el('dd', {}, p.patientId),
    el('dt', {}, 'Phone'),
    el('dd', {}, p.phone),
    el('dt', {}, 'SMS'),
    el('dd', {}, p.smsOptedOut ? 'opted out (STOP)' : p.smsConsent ? 'consented' : 'no consent'),
    el('dt', {}, 'No-shows'),
    el('dd', {}, String(p.noShows)),
    el('dt', {}, 'Language'),
    el('dd', { class: 'patient-language' }, languageText(p.preferredLanguage, p.smsLanguage)),
  );
}

/**
 * "es-MX (texts in es)", or the fallback when none is set.
 * @param {string | undefined} preferred
 * @param {string | undefined} sms
 */
export function languageText(preferred, sms) {
  const texts = sms ? ` (texts in ${sms})` : '';
  return preferred ? `${preferred}${texts}` : `not set${texts}`;
}

/**
 * A patient finder: look up by id, or search by name (a POST: the name never appears in a URL). Calls
 * `onChoose` with the chosen patient's card.
 * @param {string} prefix id prefix for its controls
 * @param {(p: import('./state.js').PatientCard) => void} onChoose
 */
export function patientFinder(prefix, onChoose) {
  const idInput = el('input', { id: `${prefix}-id`, name: 'patientId', autocomplete: 'off', spellcheck: 'false', 'data-field': 'body.patientId' });
  const nameInput = el('input', { id: `${prefix}-name`, autocomplete: 'off', spellcheck: 'false', 'data-field': 'body.name' });
  const results = el('ul', { class: 'matches', id: `${prefix}-matches`, 'aria-label': 'Matching patients' });
  const card = el('div', { class: 'patient-card', id: `${prefix}-card` });
  const note = el('p', { class: 'hint', id: `${prefix}-note`, role: 'status' });

  /** @param {string} patientId */
  async function lookUp(patientId) {
    note.textContent = '';
    try {
      const p = await api('GET', `/api/patients/${encodeURIComponent(patientId)}?${query({ clinicId: state.clinicId })}`);
      idInput.value = p.patientId;
      card.replaceChildren(patientCard(p));
      results.replaceChildren();
      onChoose(p);
    } catch (e) {
      card.replaceChildren();
      note.textContent = e instanceof ApiError ? `${e.message} (${e.code})` : 'Lookup failed.';
    }
  }

  async function search() {
    note.textContent = '';
    try {
      const { patients } = await api('POST', '/api/patients/search', { name: nameInput.value, clinicId: state.clinicId });
      results.replaceChildren(
        ...patients.map((/** @type {{ patientId: string, name: string }} */ p) =>
          el(
            'li',
            {},
            el('button', { type: 'button', class: 'link', 'data-patient-id': p.patientId, onclick: () => lookUp(p.patientId) }, `${p.name} (${p.patientId})`),
          ),
        ),
      );
      note.textContent = patients.length ? `${patients.length} match${patients.length === 1 ? '' : 'es'}` : 'No patient found.';
    } catch (e) {
      results.replaceChildren();
      const field = e instanceof ApiError ? e.errors.find((x) => x.field === 'body.name') : undefined;
      note.textContent = field ? `Name ${field.message}` : e instanceof ApiError ? `${e.message} (${e.code})` : 'Search failed.';
    }
  }

  idInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      if (idInput.value.trim()) lookUp(idInput.value.trim());
    }
  });
  nameInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      search();
    }
  });
  const node = el(
    'fieldset',
    { class: 'finder' },
    el('legend', {}, 'Patient'),
    el(
      'div',
      { class: 'row' },
      el('label', { for: idInput.id }, 'Patient id'),
      idInput,
      el('button', { type: 'button', class: 'secondary', onclick: () => idInput.value.trim() && lookUp(idInput.value.trim()) }, 'Look up'),
    ),
    el(
      'div',
      { class: 'row' },
      el('label', { for: nameInput.id }, 'or name'),
      nameInput,
      el('button', { type: 'button', class: 'secondary', onclick: search }, 'Search'),
    ),
    note,
    results,
    card,
  );
  return { node, idInput, lookUp };
}
