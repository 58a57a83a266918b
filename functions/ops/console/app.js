// @ts-check
// Slotflow front-desk console: plain ES modules against the scheduling API (same origin), type-checked
// with `// @ts-check` and JSDoc (tsconfig.console.json, part of `npm run lint`); no build step. The page
// address carries only the page, clinic, view and date: never a patient id, name or phone.
import { api, currentRoles, query, useDevPrincipal } from './api.js';
import { initAbsence, loadAbsencePage } from './absence.js';
import { fail, initSchedule, loadCalendar } from './calendar.js';
import { byId, el, say, tickCountdowns, todayIn } from './dom.js';
import { initPatients } from './patients.js';
import { initSetup, loadSetup } from './setup.js';
import { isAdmin, serverNow, state } from './state.js';
import { startWorkflows, stopWorkflows } from './workflows.js';

const PAGES = ['schedule', 'absence', 'workflows', 'patients', 'setup'];
const DEV_ROLE_KEY = 'slotflow.console.devRole';

/** Loads the clinic's providers and types (every page uses them). */
async function loadClinicData() {
  const clinic = state.clinics.find((c) => c.clinicId === state.clinicId);
  state.timeZone = clinic ? clinic.timeZone : 'UTC';
  const [{ providers }, { appointmentTypes }] = await Promise.all([
    api('GET', `/api/providers?${query({ clinicId: state.clinicId })}`),
    api('GET', `/api/appointment-types?${query({ clinicId: state.clinicId })}`),
  ]);
  state.providers = providers;
  state.types = appointmentTypes;
}

async function loadClinics() {
  const { clinics } = await api('GET', '/api/clinics');
  state.clinics = clinics;
  const select = /** @type {HTMLSelectElement} */ (byId('clinic'));
  select.replaceChildren(...clinics.map((/** @type {{ clinicId: string, name: string }} */ c) => el('option', { value: c.clinicId }, c.name)));
  if (!clinics.some((/** @type {{ clinicId: string }} */ c) => c.clinicId === state.clinicId)) state.clinicId = clinics[0] ? clinics[0].clinicId : '';
  select.value = state.clinicId;
}

function writeLocation() {
  const params =
    state.page === 'schedule'
      ? { page: state.page, clinicId: state.clinicId, view: state.view, date: state.date }
      : { page: state.page, clinicId: state.clinicId };
  history.replaceState(null, '', `?${query(params)}`);
}

/** Shows a page and loads what it needs. @param {string} page @param {boolean} [moveFocus] */
async function showPage(page, moveFocus = false) {
  if (!PAGES.includes(page)) page = 'schedule';
  state.page = page;
  for (const section of document.querySelectorAll('main > section[data-page]')) {
    /** @type {HTMLElement} */ (section).hidden = /** @type {HTMLElement} */ (section).dataset.page !== page;
  }
  for (const link of document.querySelectorAll('nav a[data-page]')) {
    if (/** @type {HTMLElement} */ (link).dataset.page === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${/** @type {HTMLElement} */ (document.querySelector(`nav a[data-page="${page}"]`)).textContent} · Slotflow front desk`;
  writeLocation();
  if (page !== 'workflows') stopWorkflows();
  if (page === 'schedule') await loadCalendar();
  if (page === 'absence') loadAbsencePage();
  if (page === 'workflows') startWorkflows();
  if (page === 'patients') initPatients();
  if (page === 'setup') await loadSetup();
  if (moveFocus) byId(`${page}-title`).focus();
}

async function start() {
  const params = new URLSearchParams(location.search);
  const config = await fetch('/console/config.json', { cache: 'no-store' }).then((r) => r.json());
  if (config.now) state.skewMs = Date.parse(config.now) - Date.now();
  state.dev = Boolean(config.devPrincipal);
  const devRole = sessionStorage.getItem(DEV_ROLE_KEY) === 'admin' ? 'admin' : 'scheduler';
  state.devRoles = [devRole];
  if (state.dev) {
    useDevPrincipal(state.devRoles);
    const roleSelect = /** @type {HTMLSelectElement} */ (byId('dev-role'));
    roleSelect.value = devRole;
    byId('dev-role-box').hidden = false;
    roleSelect.addEventListener('change', () => {
      sessionStorage.setItem(DEV_ROLE_KEY, roleSelect.value);
      state.devRoles = [roleSelect.value];
      useDevPrincipal(state.devRoles);
      state.roles = state.devRoles;
      applyRoles();
      showPage(state.page).catch(fail);
    });
  }
  byId('who').textContent = state.dev ? 'Local development principal' : 'Signed in through App Service Authentication';
  state.roles = await currentRoles(state.dev, state.devRoles);
  applyRoles();
  state.clinicId = params.get('clinicId') || '';
  state.view = params.get('view') === 'day' ? 'day' : 'week';
  const page = params.get('page') || 'schedule';

  initSchedule();
  initAbsence();
  initSetup(async (saved) => {
    state.clinicId = saved.clinicId;
    await loadClinics();
    await loadClinicData();
    await loadSetup();
  });
  for (const link of document.querySelectorAll('nav a[data-page]')) {
    link.addEventListener('click', (ev) => {
      ev.preventDefault();
      showPage(/** @type {HTMLElement} */ (link).dataset.page ?? 'schedule', true).catch(fail);
    });
  }
  byId('clinic').addEventListener('change', async () => {
    state.clinicId = /** @type {HTMLSelectElement} */ (byId('clinic')).value;
    try {
      await loadClinicData();
      await showPage(state.page);
      say(`Clinic ${state.clinicId}`);
    } catch (e) {
      fail(e);
    }
  });
  try {
    await loadClinics();
    await loadClinicData();
    state.date = params.get('date') || todayIn(state.timeZone, serverNow());
    /** @type {HTMLInputElement} */ (byId('date')).value = state.date;
    await showPage(page);
    say('');
    document.body.dataset.ready = 'true';
  } catch (e) {
    fail(e);
    document.body.dataset.ready = 'error';
  }
  setInterval(() => tickCountdowns(serverNow()), 1000);
}

function applyRoles() {
  const setupLink = /** @type {HTMLElement} */ (document.querySelector('nav a[data-page="setup"]')).parentElement;
  if (setupLink) setupLink.hidden = !isAdmin();
}

document.addEventListener('DOMContentLoaded', () => {
  start().catch(fail);
});
