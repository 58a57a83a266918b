// @ts-check
// Patients: find a patient (by id, or by name for roles allowed to search) and see their upcoming
// appointments at this clinic, each with its timeline. Nothing about the patient goes into the URL.
import { api, query } from './api.js';
import { byId, dateTimeIn, el, say } from './dom.js';
import { providerName, serverNow, state, typeName } from './state.js';
import { patientFinder, showTimeline } from './timeline.js';
import { fail } from './calendar.js';

/** How far ahead "upcoming" looks. */
const UPCOMING_DAYS = 180;
let mounted = false;

export function initPatients() {
  if (mounted) return;
  mounted = true;
  const finder = patientFinder('pt', (p) => {
    loadUpcoming(p.patientId).catch(fail);
  });
  byId('patient-finder').replaceChildren(finder.node);
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
