// @ts-check
// Setup (role admin): the clinic, its offer policy, appointment types, and providers with weekly hours
// and exceptions. Forms are `novalidate`: the API validates, and its problem+json field errors are shown
// next to the fields they name (one source of truth for the rules).
import { api, ApiError } from './api.js';
import { byId, clearFieldErrors, el, isoToLocalInput, say, showFieldErrors, zonedToIso } from './dom.js';
import { isAdmin, state } from './state.js';

/**
 * @typedef {import('./state.js').Clinic} Clinic
 * @typedef {import('./state.js').Provider} Provider
 */

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = /** @type {Record<string, string>} */ ({
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
});
const BOOKING_FIELDS = ['minNoticeMinutes', 'maxHorizonDays', 'cancellationWindowHours', 'noShowWindowDays', 'noShowThreshold'];
const OFFER_NUMBER_FIELDS = ['batchSize', 'maxRounds', 'expiryFraction', 'minExpiryMinutes', 'maxExpiryMinutes', 'minLeadMinutes'];

/** A number from an input: empty leaves the field out (the API's default applies); anything else is sent as typed. @param {FormDataEntryValue | null} v */
function num(v) {
  const s = String(v ?? '').trim();
  return s === '' ? undefined : Number(s);
}

/** @param {HTMLFormElement} form @param {string} name */
const value = (form, name) => String(new FormData(form).get(name) ?? '').trim();

/** @param {Clinic} c */
function clinicBody(c) {
  const { clinicId: _id, ...body } = c;
  return body;
}

/**
 * PUTs and shows the outcome in the form (field errors next to their fields).
 * @param {HTMLFormElement} form
 * @param {string} path
 * @param {unknown} body
 * @param {string} done
 */
async function put(form, path, body, done) {
  clearFieldErrors(form);
  try {
    const saved = await api('PUT', path, body);
    say(done);
    /** @type {HTMLElement} */ (form.querySelector('.form-ok')).textContent = done;
    return saved;
  } catch (e) {
    /** @type {HTMLElement} */ (form.querySelector('.form-ok')).textContent = '';
    if (e instanceof ApiError) {
      showFieldErrors(form, e.errors, `${e.message} (${e.code})`);
      say(`Not saved: ${e.code}`, true);
    } else {
      showFieldErrors(form, [], 'Not saved.');
    }
    return undefined;
  }
}

/** Reloads what the setup page shows for the current clinic. */
export async function loadSetup() {
  byId('setup-denied').hidden = isAdmin();
  byId('setup-forms').hidden = !isAdmin();
  const clinic = state.clinics.find((c) => c.clinicId === state.clinicId);
  if (clinic) fillClinic(clinic);
  renderTypes();
  renderProviderChoice();
}

/** @param {Clinic} c */
function fillClinic(c) {
  const form = /** @type {HTMLFormElement} */ (byId('clinic-form'));
  clearFieldErrors(form);
  const id = /** @type {HTMLInputElement} */ (byId('clinic-id'));
  id.value = c.clinicId;
  id.readOnly = true;
  /** @type {HTMLInputElement} */ (byId('clinic-name')).value = c.name;
  /** @type {HTMLInputElement} */ (byId('clinic-zone')).value = c.timeZone;
  /** @type {HTMLInputElement} */ (byId('clinic-sms-name')).value = c.smsDisplayName ?? '';
  for (const f of BOOKING_FIELDS) /** @type {HTMLInputElement} */ (byId(`bp-${f}`)).value = String(c.bookingPolicy[f] ?? '');
  /** @type {HTMLInputElement} */ (byId('clinic-reminders')).value = c.reminderHoursBefore.join(', ');
  /** @type {HTMLInputElement} */ (byId('clinic-eligibility')).value = String(c.eligibilityLeadHours);
  const offers = /** @type {HTMLFormElement} */ (byId('offer-form'));
  clearFieldErrors(offers);
  for (const f of OFFER_NUMBER_FIELDS) /** @type {HTMLInputElement} */ (byId(`op-${f}`)).value = String(c.offerPolicy[f] ?? '');
  /** @type {HTMLInputElement} */ (byId('op-quietStart')).value = String(c.offerPolicy.quietStart ?? '');
  /** @type {HTMLInputElement} */ (byId('op-quietEnd')).value = String(c.offerPolicy.quietEnd ?? '');
}

/** @param {HTMLFormElement} form */
async function saveClinic(form) {
  const clinicId = value(form, 'clinicId');
  const existing = state.clinics.find((c) => c.clinicId === clinicId);
  /** @type {Record<string, number | undefined>} */
  const bookingPolicy = {};
  for (const f of BOOKING_FIELDS) bookingPolicy[f] = num(new FormData(form).get(f));
  const reminders = value(form, 'reminderHoursBefore');
  const body = {
    name: value(form, 'name'),
    timeZone: value(form, 'timeZone'),
    ...(value(form, 'smsDisplayName') ? { smsDisplayName: value(form, 'smsDisplayName') } : {}),
    bookingPolicy,
    ...(existing ? { offerPolicy: existing.offerPolicy } : {}),
    reminderHoursBefore: reminders
      ? reminders
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(Number)
      : [],
    eligibilityLeadHours: num(new FormData(form).get('eligibilityLeadHours')),
  };
  const saved = await put(form, `/api/clinics/${encodeURIComponent(clinicId)}`, body, `Saved clinic ${clinicId}`);
  if (saved) await onSaved(saved);
}

/** @param {HTMLFormElement} form */
async function saveOfferPolicy(form) {
  const clinic = state.clinics.find((c) => c.clinicId === state.clinicId);
  if (!clinic) return;
  /** @type {Record<string, number | string | undefined>} */
  const offerPolicy = {};
  for (const f of OFFER_NUMBER_FIELDS) offerPolicy[f] = num(new FormData(form).get(f));
  offerPolicy.quietStart = value(form, 'quietStart');
  offerPolicy.quietEnd = value(form, 'quietEnd');
  const saved = await put(form, `/api/clinics/${encodeURIComponent(clinic.clinicId)}`, { ...clinicBody(clinic), offerPolicy }, 'Saved the offer policy');
  if (saved) await onSaved(saved);
}

/** @type {(c: Clinic) => Promise<void>} */
let onSaved = async () => undefined;

function renderTypes() {
  byId('types').replaceChildren(
    ...(state.types.length ? state.types : [null]).map((t) =>
      t
        ? el(
            'tr',
            { 'data-code': t.code },
            el('td', {}, t.code),
            el('td', {}, t.name),
            el('td', {}, `${t.durationMinutes} min`),
            el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${t.name}`, onclick: () => editType(t) }, 'Edit')),
          )
        : el('tr', {}, el('td', { colspan: 4, class: 'hint' }, 'No appointment types yet.')),
    ),
  );
}

/** @param {import('./state.js').AppointmentType} t */
function editType(t) {
  /** @type {HTMLInputElement} */ (byId('type-code')).value = t.code;
  /** @type {HTMLInputElement} */ (byId('type-name')).value = t.name;
  /** @type {HTMLInputElement} */ (byId('type-duration')).value = String(t.durationMinutes);
  byId('type-name').focus();
}

/** @param {HTMLFormElement} form */
async function saveType(form) {
  const code = value(form, 'code');
  const saved = await put(
    form,
    `/api/appointment-types/${encodeURIComponent(code)}`,
    { clinicId: state.clinicId, name: value(form, 'name'), durationMinutes: num(new FormData(form).get('durationMinutes')) },
    `Saved appointment type ${code}`,
  );
  if (saved) {
    const { appointmentTypes } = await api('GET', `/api/appointment-types?clinicId=${encodeURIComponent(state.clinicId)}`);
    state.types = appointmentTypes;
    renderTypes();
    renderProviderTypes(currentProvider());
  }
}

// Providers ---------------------------------------------------------------------------------------------

/** @type {{ hours: import('./state.js').WeeklyHours[], exceptions: import('./state.js').ScheduleException[] }} */
const draft = { hours: [], exceptions: [] };

function currentProvider() {
  const id = /** @type {HTMLSelectElement} */ (byId('provider-choice')).value;
  return state.providers.find((p) => p.providerId === id);
}

function renderProviderChoice() {
  const select = /** @type {HTMLSelectElement} */ (byId('provider-choice'));
  const keep = select.value;
  select.replaceChildren(...state.providers.map((p) => el('option', { value: p.providerId }, p.name)), el('option', { value: '' }, 'New provider…'));
  select.value = state.providers.some((p) => p.providerId === keep) ? keep : (state.providers[0]?.providerId ?? '');
  fillProvider(currentProvider());
}

/** @param {Provider | undefined} p */
function fillProvider(p) {
  const form = /** @type {HTMLFormElement} */ (byId('provider-form'));
  clearFieldErrors(form);
  const idInput = /** @type {HTMLInputElement} */ (byId('provider-id'));
  idInput.value = p ? p.providerId : '';
  idInput.readOnly = Boolean(p);
  /** @type {HTMLInputElement} */ (byId('provider-name')).value = p ? p.name : '';
  /** @type {HTMLInputElement} */ (byId('provider-slot')).value = p && p.slotMinutes ? String(p.slotMinutes) : '';
  draft.hours = p ? p.weeklyHours.map((h) => ({ ...h })) : DAYS.slice(0, 5).map((day) => ({ day, start: '09:00', end: '17:00' }));
  draft.exceptions = p ? p.exceptions.map((x) => ({ ...x })) : [];
  renderProviderTypes(p);
  renderHours();
  renderExceptions();
}

/** @param {Provider | undefined} p */
function renderProviderTypes(p) {
  byId('provider-types').replaceChildren(
    el('legend', {}, 'Appointment types'),
    ...state.types.map((t) =>
      el(
        'div',
        { class: 'check' },
        el('input', {
          type: 'checkbox',
          id: `pt-${t.code}`,
          name: 'appointmentTypes',
          value: t.code,
          checked: p ? p.appointmentTypes.includes(t.code) : true,
        }),
        el('label', { for: `pt-${t.code}` }, t.name),
      ),
    ),
  );
}

/** Copies the inputs back into the draft (rows are re-rendered on add/remove). */
function syncDraft() {
  draft.hours = draft.hours.map((h, i) => ({
    ...h,
    day: /** @type {HTMLSelectElement} */ (byId(`wh-${i}-day`)).value,
    start: /** @type {HTMLInputElement} */ (byId(`wh-${i}-start`)).value,
    end: /** @type {HTMLInputElement} */ (byId(`wh-${i}-end`)).value,
  }));
  draft.exceptions = draft.exceptions.map((x, i) => {
    const kind = /** @type {HTMLSelectElement} */ (byId(`ex-${i}-kind`)).value;
    const reason = /** @type {HTMLInputElement} */ (byId(`ex-${i}-reason`)).value.trim();
    if (kind === 'holiday') {
      const date = document.getElementById(`ex-${i}-date`);
      return { kind: 'holiday', date: date ? /** @type {HTMLInputElement} */ (date).value : '', ...(reason ? { reason } : {}) };
    }
    const from = document.getElementById(`ex-${i}-from`);
    const to = document.getElementById(`ex-${i}-to`);
    return {
      kind: 'absence',
      from: from ? zonedToIso(/** @type {HTMLInputElement} */ (from).value, state.timeZone) : x.kind === 'absence' ? x.from : '',
      to: to ? zonedToIso(/** @type {HTMLInputElement} */ (to).value, state.timeZone) : x.kind === 'absence' ? x.to : '',
      ...(reason ? { reason } : {}),
    };
  });
}

function renderHours() {
  byId('hours-rows').replaceChildren(
    ...draft.hours.map((h, i) =>
      el(
        'div',
        { class: 'row hours-row', 'data-field': `body.weeklyHours.${i}`, tabindex: '-1', role: 'group', 'aria-label': `Hours block ${i + 1}` },
        el('label', { for: `wh-${i}-day` }, 'Day'),
        el(
          'select',
          { id: `wh-${i}-day`, 'data-field': `body.weeklyHours.${i}.day` },
          ...DAYS.map((d) => el('option', { value: d, selected: d === h.day }, DAY_NAMES[d])),
        ),
        el('label', { for: `wh-${i}-start` }, 'from'),
        el('input', { id: `wh-${i}-start`, type: 'time', value: h.start, 'data-field': `body.weeklyHours.${i}.start` }),
        el('label', { for: `wh-${i}-end` }, 'to'),
        el('input', { id: `wh-${i}-end`, type: 'time', value: h.end, 'data-field': `body.weeklyHours.${i}.end` }),
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Remove hours block ${i + 1}`,
            onclick: () => {
              syncDraft();
              draft.hours.splice(i, 1);
              renderHours();
            },
          },
          'Remove',
        ),
      ),
    ),
  );
}

function renderExceptions() {
  byId('exception-rows').replaceChildren(
    ...draft.exceptions.map((x, i) =>
      el(
        'div',
        { class: 'row exception-row', 'data-field': `body.exceptions.${i}`, tabindex: '-1', role: 'group', 'aria-label': `Exception ${i + 1}` },
        el('label', { for: `ex-${i}-kind` }, 'Kind'),
        el(
          'select',
          {
            id: `ex-${i}-kind`,
            'data-field': `body.exceptions.${i}.kind`,
            onchange: () => {
              syncDraft();
              const kind = /** @type {HTMLSelectElement} */ (byId(`ex-${i}-kind`)).value;
              const reason = draft.exceptions[i]?.reason;
              draft.exceptions[i] =
                kind === 'holiday'
                  ? { kind: 'holiday', date: '', ...(reason ? { reason } : {}) }
                  : { kind: 'absence', from: '', to: '', ...(reason ? { reason } : {}) };
              renderExceptions();
              byId(`ex-${i}-kind`).focus();
            },
          },
          el('option', { value: 'holiday', selected: x.kind === 'holiday' }, 'Day off'),
          el('option', { value: 'absence', selected: x.kind === 'absence' }, 'Absence'),
        ),
        ...(x.kind === 'holiday'
          ? [
              el('label', { for: `ex-${i}-date` }, 'Date'),
              el('input', { id: `ex-${i}-date`, type: 'date', value: x.date, 'data-field': `body.exceptions.${i}.date` }),
            ]
          : [
              el('label', { for: `ex-${i}-from` }, 'From'),
              el('input', {
                id: `ex-${i}-from`,
                type: 'datetime-local',
                value: x.from ? isoToLocalInput(x.from, state.timeZone) : '',
                'data-field': `body.exceptions.${i}.from`,
              }),
              el('label', { for: `ex-${i}-to` }, 'to'),
              el('input', {
                id: `ex-${i}-to`,
                type: 'datetime-local',
                value: x.to ? isoToLocalInput(x.to, state.timeZone) : '',
                'data-field': `body.exceptions.${i}.to`,
              }),
            ]),
        el('label', { for: `ex-${i}-reason` }, 'Reason'),
        el('input', { id: `ex-${i}-reason`, value: x.reason ?? '', 'data-field': `body.exceptions.${i}.reason` }),
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Remove exception ${i + 1}`,
            onclick: () => {
              syncDraft();
              draft.exceptions.splice(i, 1);
              renderExceptions();
            },
          },
          'Remove',
        ),
      ),
    ),
  );
}

/** @param {HTMLFormElement} form */
async function saveProvider(form) {
  syncDraft();
  const providerId = value(form, 'providerId');
  const body = {
    clinicId: state.clinicId,
    name: value(form, 'name'),
    appointmentTypes: new FormData(form).getAll('appointmentTypes').map(String),
    weeklyHours: draft.hours,
    ...(num(new FormData(form).get('slotMinutes')) !== undefined ? { slotMinutes: num(new FormData(form).get('slotMinutes')) } : {}),
    exceptions: draft.exceptions,
  };
  const saved = await put(form, `/api/providers/${encodeURIComponent(providerId)}`, body, `Saved provider ${providerId}`);
  if (saved) {
    const { providers } = await api('GET', `/api/providers?clinicId=${encodeURIComponent(state.clinicId)}`);
    state.providers = providers;
    /** @type {HTMLSelectElement} */ (byId('provider-choice')).value = providerId;
    renderProviderChoice();
  }
}

/**
 * Wires the setup forms.
 * @param {(c: Clinic) => Promise<void>} afterClinicSaved reloads the clinic list (header, other pages)
 */
export function initSetup(afterClinicSaved) {
  onSaved = afterClinicSaved;
  /** @type {[string, (form: HTMLFormElement) => Promise<void>][]} */
  const forms = [
    ['clinic-form', saveClinic],
    ['offer-form', saveOfferPolicy],
    ['type-form', saveType],
    ['provider-form', saveProvider],
  ];
  for (const [id, save] of forms) {
    const form = /** @type {HTMLFormElement} */ (byId(id));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      save(form);
    });
  }
  byId('clinic-new').addEventListener('click', () => {
    const form = /** @type {HTMLFormElement} */ (byId('clinic-form'));
    form.reset();
    clearFieldErrors(form);
    const id = /** @type {HTMLInputElement} */ (byId('clinic-id'));
    id.readOnly = false;
    id.focus();
  });
  byId('provider-choice').addEventListener('change', () => fillProvider(currentProvider()));
  byId('add-hours').addEventListener('click', () => {
    syncDraft();
    draft.hours.push({ day: 'mon', start: '09:00', end: '17:00' });
    renderHours();
    byId(`wh-${draft.hours.length - 1}-day`).focus();
  });
  byId('add-exception').addEventListener('click', () => {
    syncDraft();
    draft.exceptions.push({ kind: 'holiday', date: '' });
    renderExceptions();
    byId(`ex-${draft.exceptions.length - 1}-kind`).focus();
  });
}
