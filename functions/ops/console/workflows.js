// @ts-check
// Workflows: the waitlist offers in flight (with countdowns against the server clock), the backfill
// workflows with their rounds and move-up cascade links, and the waitlist (move-up entries with the
// appointment they would move), refreshed while the page is shown.
import { api, query } from './api.js';
import { byId, dateTimeIn, el, tickCountdowns, timeIn } from './dom.js';
import { providerName, serverNow, state } from './state.js';
import { fail } from './calendar.js';

/** Under the 5 s the front desk expects to see a reply land. */
export const POLL_MS = 3000;
/** The waitlist changes slowly (and every read is audited per entry): refreshed every this many polls. */
const WAITLIST_EVERY = 5;
let polls = 0;
let timer = /** @type {number | undefined} */ (undefined);
let active = false;

/** Starts polling (the page is shown). */
export function startWorkflows() {
  active = true;
  polls = 0;
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
  if (polls++ % WAITLIST_EVERY === 0) await refreshWaitlist();
  byId('workflows-updated').textContent = `Updated ${timeIn(backfills.now, state.timeZone)}`;
  tickCountdowns(serverNow());
}

/** The waitlist: who waits for what; a move-up entry shows the appointment it would move (time, provider). */
async function refreshWaitlist() {
  const page = await api('GET', `/api/waitlist?${query({ clinicId: state.clinicId, limit: 100 })}`);
  const waiting = page.entries.filter((/** @type {any} */ e) => e.status === 'active' || e.status === 'offered');
  byId('waitlist').replaceChildren(
    ...(waiting.length ? waiting : [null]).map((/** @type {any} */ e) =>
      e
        ? el(
            'tr',
            { 'data-entry-id': e.waitlistEntryId, ...(e.moveUp ? { 'data-move-up': e.moveUp.appointmentId } : {}) },
            el('td', {}, e.patientId),
            el('td', {}, e.appointmentType),
            el('td', {}, e.urgency),
            el('td', {}, e.status),
            el('td', {}, e.moveUp ? `Earlier than ${slotText(e.moveUp.slotId)} (appointment ${e.moveUp.appointmentId})` : 'A new appointment'),
          )
        : el('tr', {}, el('td', { colspan: 5, class: 'hint' }, 'Nobody is waiting.')),
    ),
  );
}

/** "Tue 3 Mar, 09:30, Dr. Lee" from a slot id (provider + UTC start). @param {string} slotId */
function slotText(slotId) {
  const m = /^(.*)\.(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})$/.exec(slotId);
  if (!m) return slotId;
  return `${dateTimeIn(`${m[2]}-${m[3]}-${m[4]}T${m[5]}:${m[6]}:00Z`, state.timeZone)}, ${providerName(m[1] ?? '')}`;
}

const OUTCOME = /** @type {Record<string, string>} */ ({ booked: 'Booked from the waitlist', offering: 'Waiting for replies', 'no-taker-yet': 'No taker yet' });

/**
 * The cascade links of a backfill: which move-up freed its slot (depth > 0), and, when its YES was a
 * move-up, the slot that move released (whose own backfill is the next link).
 * @param {any} w
 */
function cascadeLinks(w) {
  const moved = w.rounds.flatMap((/** @type {any} */ r) => r.offers).find((/** @type {any} */ o) => o.status === 'accepted' && o.moveUp);
  const items = [];
  if (w.cascadeDepth) items.push(el('li', { 'data-link': 'freed-by' }, `Freed by a move-up (link ${w.cascadeDepth + 1} of a cascade)`));
  if (moved)
    items.push(
      el(
        'li',
        { 'data-link': 'released', 'data-next-instance-id': `backfill-${moved.moveUp.slotId}` },
        `${moved.patientId} moved here from ${slotText(moved.moveUp.slotId)}; that slot is offered next`,
      ),
    );
  return items.length ? [el('ul', { class: 'cascade', 'aria-label': 'Cascade' }, ...items)] : [];
}

/** @param {any} w */
function backfillCard(w) {
  return el(
    'article',
    { class: 'backfill', 'data-instance-id': w.instanceId, 'aria-labelledby': `bf-${w.instanceId}` },
    el('h4', { id: `bf-${w.instanceId}` }, `${dateTimeIn(w.slotStart, state.timeZone)}, ${providerName(w.providerId)}`),
    el('p', {}, `${OUTCOME[w.outcome] ?? w.outcome}${w.runtimeStatus ? ` · workflow ${w.runtimeStatus}` : ''}`),
    ...cascadeLinks(w),
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
