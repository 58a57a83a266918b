// @ts-check
// Patients: find a patient (by id, or by name for roles allowed to search) and see their upcoming
// appointments at this clinic, each with its timeline, and set their preferred language. Nothing about
// the patient goes into the URL.
import { api, ApiError, query } from './api.js';
import { byId, clearFieldErrors, dateTimeIn, el, say, showFieldErrors } from './dom.js';
import { providerName, serverNow, state, typeName } from './state.js';
import { languageText, patientFinder, showTimeline } from './timeline.js';
import { fail } from './calendar.js';

/** How far ahead "upcoming" looks. */
const UPCOMING_DAYS = 180;
let mounted = false;

export function initPatients() {
  if (mounted) return;
  mounted = true;
  const language = el('div', { id: 'pt-language' });
  const finder = patientFinder('pt', (p) => {
    language.replaceChildren(languageForm(p));
    loadUpcoming(p.patientId).catch(fail);
  });
  byId('patient-finder').replaceChildren(finder.node, language);
}

/** Languages the texts ship in; any other BCP 47 tag may be typed (texts then fall back). */
const SHIPPED = [
  ['en', 'English'],
  ['es', 'Español'],
  ['vi', 'Tiếng Việt'],
];

/**
 * Edit the patient's preferred language (PUT .../preferred-language): empty clears it.
 * @param {import('./state.js').PatientCard} p
 */
function languageForm(p) {
  const input = el('input', {
    id: 'pt-language-tag',
    name: 'preferredLanguage',
    list: 'pt-language-options',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'e.g. es or es-MX',
    'data-field': 'body.preferredLanguage',
  });
  input.value = p.preferredLanguage ?? '';
  const shown = el('p', { class: 'hint', id: 'pt-language-now', role: 'status' }, `Now: ${languageText(p.preferredLanguage, p.smsLanguage)}`);
  const form = /** @type {HTMLFormElement} */ (
    el(
      'form',
      { class: 'stack', 'aria-labelledby': 'pt-language-title', novalidate: '' },
      el('h3', { id: 'pt-language-title' }, 'Preferred language'),
      el('label', { for: 'pt-language-tag' }, 'Language tag (BCP 47)'),
      input,
      el('datalist', { id: 'pt-language-options' }, ...SHIPPED.map(([tag, name]) => el('option', { value: tag }, name))),
      el('button', { type: 'submit', class: 'secondary' }, 'Save language'),
      el('p', { class: 'form-error', role: 'alert' }),
      shown,
    )
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const tag = /** @type {HTMLInputElement} */ (input).value.trim();
    api('PUT', `/api/patients/${encodeURIComponent(p.patientId)}/preferred-language?${query({ clinicId: state.clinicId })}`, { preferredLanguage: tag || null })
      .then((/** @type {{ preferredLanguage?: string, smsLanguage?: string }} */ r) => {
        shown.textContent = `Now: ${languageText(r.preferredLanguage, r.smsLanguage)}`;
        const card = document.querySelector(`[data-patient-id="${CSS.escape(p.patientId)}"] .patient-language`);
        if (card) card.textContent = languageText(r.preferredLanguage, r.smsLanguage);
        say(`Language saved for ${p.patientId}`);
      })
      .catch((err) => {
        if (err instanceof ApiError) showFieldErrors(form, err.errors, `${err.message} (${err.code})`);
        else fail(err);
      });
  });
  return form;
}

/** @param {string} patientId */
async function loadUpcoming(patientId) {
  const now = serverNow();
  const { appointments } = await api(
    'GET',
    `/api/appointments?${query({
      clinicId: state.clinicId,
      patientId,
      from: new Date(now).toISOString(),
      to: new Date(now + UPCOMING_DAYS * 86_400_000).toISOString(),
      limit: 50,
    })}`,
  );
  const timeline = /** @type {HTMLOListElement} */ (byId('patient-timeline'));
  timeline.replaceChildren();
  byId('patient-timeline-for').textContent = '';
  byId('upcoming').replaceChildren(
    ...(appointments.length ? appointments : [null]).map((/** @type {any} */ a) =>
      a
        ? el(
            'tr',
            { 'data-appointment-id': a.appointmentId },
            el('td', {}, dateTimeIn(a.start, state.timeZone)),
            el('td', {}, providerName(a.providerId)),
            el('td', {}, typeName(a.appointmentType)),
            el('td', {}, a.status),
            el(
              'td',
              {},
              el(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'aria-label': `Timeline of ${dateTimeIn(a.start, state.timeZone)}`,
                  onclick: () => {
                    byId('patient-timeline-for').textContent = `${a.appointmentId}, ${dateTimeIn(a.start, state.timeZone)}`;
                    showTimeline(timeline, a.appointmentId)
                      .then(() => byId('patient-timeline-title').focus())
                      .catch(fail);
                  },
                },
                'Timeline',
              ),
            ),
          )
        : el('tr', {}, el('td', { colspan: 5, class: 'hint' }, `No upcoming appointments at this clinic in the next ${UPCOMING_DAYS} days.`)),
    ),
  );
  byId('upcoming-section').hidden = false;
  say(`${appointments.length} upcoming appointment${appointments.length === 1 ? '' : 's'} for ${patientId}`);
}
