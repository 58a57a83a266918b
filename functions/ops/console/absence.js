// @ts-check
// Provider absence: pick a provider and a window, preview who is displaced and where the optimizer would
// move each of them (with its reason), then start the absence workflow and follow its progress.
import { api, ApiError, newKey } from './api.js';
import { byId, clearFieldErrors, dateTimeIn, el, say, showFieldErrors, zonedToIso } from './dom.js';
import { providerName, state, typeName } from './state.js';

/** Workflow states in order (the orchestration's custom status). */
const STEPS = [
  ['finding-appointments', 'Blocking the window and finding appointments'],
  ['planning', 'Planning new slots with the optimizer'],
  ['rehoming', 'Booking new slots and texting patients'],
  ['done', 'Done'],
];
const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);
const POLL_MS = 1000;

/** @type {{ preview: any, body: { from: string, to: string, reason: string } | null, providerId: string, timer: number | undefined, key: string | null }} */
const absence = { preview: null, body: null, providerId: '', timer: undefined, key: null };

/** Fills the provider list for the current clinic. */
export function loadAbsencePage() {
  const select = /** @type {HTMLSelectElement} */ (byId('absence-provider'));
  const keep = select.value;
  select.replaceChildren(...state.providers.map((p) => el('option', { value: p.providerId }, p.name)));
  if (state.providers.some((p) => p.providerId === keep)) select.value = keep;
  byId('absence-zone').textContent = `Times are in the clinic's zone (${state.timeZone}).`;
}

function readForm() {
  const form = /** @type {HTMLFormElement} */ (byId('absence-form'));
  const data = new FormData(form);
  const from = String(data.get('from') || '');
  const to = String(data.get('to') || '');
  return {
    providerId: String(data.get('providerId') || ''),
    body: { from: from ? zonedToIso(from, state.timeZone) : '', to: to ? zonedToIso(to, state.timeZone) : '', reason: String(data.get('reason') || 'absence') },
  };
}

async function preview() {
  const form = /** @type {HTMLFormElement} */ (byId('absence-form'));
  clearFieldErrors(form);
  const { providerId, body } = readForm();
  byId('absence-result').hidden = true;
  try {
    const result = await api('POST', `/api/providers/${encodeURIComponent(providerId)}/absences/preview`, body);
    absence.preview = result;
    absence.body = body;
    absence.providerId = providerId;
    absence.key = newKey();
    renderPreview(result);
    say(`Preview: ${result.displaced.length} appointment${result.displaced.length === 1 ? '' : 's'} displaced`);
  } catch (e) {
    if (e instanceof ApiError && e.errors.length) showFieldErrors(form, e.errors, `${e.message} (${e.code})`);
    else showFieldErrors(form, [], e instanceof ApiError ? `${e.message} (${e.code})` : 'Preview failed.');
    say(e instanceof ApiError ? `${e.message} (${e.code})` : 'Preview failed.', true);
  }
}

/** @param {any} p */
function renderPreview(p) {
  const placed = p.displaced.filter((/** @type {any} */ d) => d.proposal).length;
  byId('absence-summary').textContent =
    p.displaced.length === 0
      ? `${providerName(p.providerId)} has no appointments in this window: the workflow only blocks it.`
      : `${p.displaced.length} appointment${p.displaced.length === 1 ? '' : 's'} displaced; ${placed} can be moved, ${p.displaced.length - placed} need a call. ` +
        `Optimizer: ${p.optimizer.status} in ${p.optimizer.solveMs} ms.`;
  byId('absence-rows').replaceChildren(
    ...p.displaced.map((/** @type {any} */ d) =>
      el(
        'tr',
        { 'data-appointment-id': d.appointmentId },
        el('td', {}, dateTimeIn(d.start, p.timeZone)),
        el('td', {}, d.patientName ? `${d.patientName} (${d.patientId})` : d.patientId),
        el('td', {}, typeName(d.appointmentType)),
        el('td', {}, d.proposal ? `${dateTimeIn(d.proposal.start, p.timeZone)}, ${d.proposal.providerName}` : 'No slot found'),
        el('td', { class: 'reason' }, d.proposal ? d.proposal.reason : d.unplacedReason || ''),
      ),
    ),
  );
  byId('absence-table').hidden = p.displaced.length === 0;
  byId('absence-result').hidden = false;
  byId('absence-progress').hidden = true;
  const start = /** @type {HTMLButtonElement} */ (byId('absence-start'));
  start.disabled = false;
  byId('absence-result-title').focus();
}

async function startWorkflow() {
  if (!absence.body) return;
  const start = /** @type {HTMLButtonElement} */ (byId('absence-start'));
  start.disabled = true;
  try {
    const { instanceId } = await api('POST', `/api/providers/${encodeURIComponent(absence.providerId)}/absences`, absence.body, {
      idempotencyKey: absence.key ?? newKey(),
    });
    byId('absence-instance').textContent = instanceId;
    byId('absence-progress').hidden = false;
    say(`Absence workflow started (${instanceId})`);
    follow(instanceId);
  } catch (e) {
    start.disabled = false;
    say(e instanceof ApiError ? `${e.message} (${e.code})` : 'Could not start the workflow.', true);
  }
}

/** Polls the workflow until it ends, showing each step. @param {string} instanceId */
function follow(instanceId) {
  clearTimeout(absence.timer);
  const poll = async () => {
    try {
      const s = await api('GET', `/api/workflows/${encodeURIComponent(instanceId)}`);
      renderProgress(s);
      if (TERMINAL.has(s.runtimeStatus)) {
        say(`Absence workflow ${s.runtimeStatus.toLowerCase()}`);
        return;
      }
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'WORKFLOW.NOT_FOUND')) byId('absence-runtime').textContent = 'Waiting for the workflow engine…';
    }
    absence.timer = window.setTimeout(poll, POLL_MS);
  };
  poll();
}

/** @param {any} s */
function renderProgress(s) {
  byId('absence-runtime').textContent = s.runtimeStatus;
  const current = s.runtimeStatus === 'Completed' ? 'done' : (s.customStatus && s.customStatus.state) || 'finding-appointments';
  const reached = STEPS.findIndex(([id]) => id === current);
  byId('absence-steps').replaceChildren(
    ...STEPS.map(([id, label], i) =>
      el(
        'li',
        { 'data-step': id, class: i < reached ? 'done' : i === reached ? 'current' : 'todo', 'aria-current': i === reached ? 'step' : undefined },
        `${label}${i < reached || (i === reached && id === 'done') ? ' ✓' : ''}`,
      ),
    ),
  );
  const out = byId('absence-output');
  if (s.runtimeStatus !== 'Completed' || !s.output) {
    out.replaceChildren();
    return;
  }
  const o = s.output;
  out.replaceChildren(
    el(
      'div',
      {},
      el('p', { id: 'absence-outcome' }, `${o.rehomed.length} of ${o.displaced} re-homed; ${o.needsAttention.length} need a call.`),
      o.rehomed.length
        ? el(
            'ul',
            { 'aria-label': 'Re-homed' },
            ...o.rehomed.map((/** @type {any} */ r) => el('li', {}, `${r.appointmentId} → ${r.newAppointmentId} (${r.slotId})`)),
          )
        : null,
      o.needsAttention.length
        ? el('ul', { 'aria-label': 'Needs a call' }, ...o.needsAttention.map((/** @type {any} */ n) => el('li', {}, `${n.appointmentId}: ${n.reason}`)))
        : null,
    ),
  );
}

export function initAbsence() {
  byId('absence-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    preview();
  });
  byId('absence-start').addEventListener('click', startWorkflow);
}
