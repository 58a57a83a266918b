// @ts-check
// Workflows: the waitlist offers in flight (with countdowns against the server clock) and the backfill
// workflows with their rounds, refreshed every few seconds while the page is shown.
import { api, query } from './api.js';
import { byId, dateTimeIn, el, tickCountdowns, timeIn } from './dom.js';
import { providerName, serverNow, state } from './state.js';
import { fail } from './calendar.js';

/** Under the 5 s the front desk expects to see a reply land. */
export const POLL_MS = 3000;
let timer = /** @type {number | undefined} */ (undefined);
let active = false;

/** Starts polling (the page is shown). */
export function startWorkflows() {
  active = true;
  clearTimeout(timer);
  const tick = async () => {
    if (!active) return;
    if (!document.hidden) await refreshWorkflows().catch(fail);
    if (active) timer = window.setTimeout(tick, POLL_MS);
  };
  tick();
}

/** Stops polling (another page is shown). */
export function stopWorkflows() {
  active = false;
  clearTimeout(timer);
}

export async function refreshWorkflows() {
  if (!state.clinicId) return;
  // One cheap read (the clinic's offers of the last 24 hours, grouped by workflow) feeds both panels: polling
  // GET /api/offers would look up every slot of the window, which the host would rather spend on workflows.
  const backfills = await api('GET', `/api/backfills?${query({ clinicId: state.clinicId, hours: 24 })}`);
  state.skewMs = Date.parse(backfills.now) - Date.now();
  const nowMs = Date.parse(backfills.now);
  const inFlight = backfills.workflows
    .flatMap((/** @type {any} */ w) =>
      w.rounds.flatMap((/** @type {any} */ r) => r.offers.map((/** @type {any} */ o) => ({ ...o, slotId: w.slotId, round: r.round }))),
    )
    .filter((/** @type {any} */ o) => o.status === 'sent' && Date.parse(o.expiresAt) > nowMs)
    .sort((/** @type {any} */ a, /** @type {any} */ b) => a.expiresAt.localeCompare(b.expiresAt));
  byId('offers').replaceChildren(
    ...(inFlight.length ? inFlight : [null]).map((/** @type {any} */ o) =>
      o
        ? el(
            'tr',
            { 'data-offer-id': o.offerId },
            el('td', {}, slotText(o.slotId)),
            el('td', {}, o.patientId),
            el('td', {}, String(o.round)),
            el('td', {}, el('span', { class: 'countdown', 'data-expires-at': o.expiresAt }, '')),
          )
        : el('tr', {}, el('td', { colspan: 4, class: 'hint' }, 'No offers waiting for a reply.')),
    ),
  );
  byId('backfills').replaceChildren(
    ...(backfills.workflows.length ? backfills.workflows : [null]).map((/** @type {any} */ w) =>
      w ? backfillCard(w) : el('p', { class: 'hint' }, 'No backfill in the last 24 hours.'),
    ),
  );
  byId('workflows-updated').textContent = `Updated ${timeIn(backfills.now, state.timeZone)}`;
  tickCountdowns(serverNow());
}

/** "Tue 3 Mar, 09:30, Dr. Lee" from a slot id (provider + UTC start). @param {string} slotId */
function slotText(slotId) {
  const m = /^(.*)\.(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})$/.exec(slotId);
  if (!m) return slotId;
  return `${dateTimeIn(`${m[2]}-${m[3]}-${m[4]}T${m[5]}:${m[6]}:00Z`, state.timeZone)}, ${providerName(m[1] ?? '')}`;
}

const OUTCOME = /** @type {Record<string, string>} */ ({ booked: 'Booked from the waitlist', offering: 'Waiting for replies', 'no-taker-yet': 'No taker yet' });

/** @param {any} w */
function backfillCard(w) {
  return el(
    'article',
    { class: 'backfill', 'data-instance-id': w.instanceId, 'aria-labelledby': `bf-${w.instanceId}` },
    el('h4', { id: `bf-${w.instanceId}` }, `${dateTimeIn(w.slotStart, state.timeZone)}, ${providerName(w.providerId)}`),
    el('p', {}, `${OUTCOME[w.outcome] ?? w.outcome}${w.runtimeStatus ? ` · workflow ${w.runtimeStatus}` : ''}`),
    el(
      'ol',
      { class: 'rounds' },
      ...w.rounds.map((/** @type {any} */ r) =>
        el(
          'li',
          { 'data-round': r.round },
          `Round ${r.round}, sent ${timeIn(r.sentAt, state.timeZone)}: `,
          ...r.offers.map((/** @type {any} */ o, /** @type {number} */ i) =>
            el('span', { class: `offer-state o-${o.status}`, 'data-offer-id': o.offerId }, `${i ? ', ' : ''}${o.patientId} ${o.status}`),
          ),
        ),
      ),
    ),
  );
}
