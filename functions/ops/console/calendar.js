// @ts-check
// The schedule page: day and week views per clinic (provider columns, appointment-type colours, free /
// booked / held / pending slots) as an ARIA grid with arrow-key navigation, and the slot panel with the
// front-desk actions: book, reschedule by picking a new free slot, cancel with a reason code, no-show,
// confirm a pending booking, timeline.
import { api, ApiError, newKey, query } from './api.js';
import { addDays, byId, dateTimeIn, dayLabel, el, hhmm, localDay, minuteOfDay, mondayOf, say, tickCountdowns, todayIn } from './dom.js';
import { providerName, serverNow, state, typeIndex, typeName } from './state.js';
import { patientCard, patientFinder, showTimeline } from './timeline.js';
import { journeySection } from './journey.js';

/**
 * @typedef {import('./state.js').CalendarSlot} CalendarSlot
 * @typedef {import('./state.js').CalendarProvider} CalendarProvider
 * @typedef {import('./state.js').Calendar} Calendar
 * @typedef {{ date: string, provider: CalendarProvider }} Column
 * @typedef {{ appointmentId: string, appointmentType: string, label: string }} Moving
 */

/** Cancellation reason codes offered at the desk (stored as codes: free text could carry clinical detail). */
export const CANCEL_REASONS = [
  ['patient-request', 'Patient request'],
  ['patient-unwell', 'Patient unwell'],
  ['provider-unavailable', 'Provider unavailable'],
  ['clinic-closed', 'Clinic closed'],
  ['weather', 'Weather'],
  ['duplicate', 'Duplicate booking'],
  ['other', 'Other'],
];

const STATE_LABEL = /** @type {Record<string, string>} */ ({ free: 'Free', booked: 'Booked', held: 'Held', pending: 'Pending' });

const view = {
  /** @type {Calendar | null} */
  calendar: null,
  /** @type {Column[]} */
  columns: [],
  /** @type {(HTMLTableCellElement | undefined)[][]} matrix[column][row] */
  matrix: [],
  /** @type {Map<string, { slot: CalendarSlot, column: Column }>} */
  slots: new Map(),
  rowIntent: 0,
  /** @type {string | null} slot id whose panel is open */
  openSlotId: null,
  /** @type {Moving | null} */
  moving: null,
  loadSeq: 0,
};

/** Days to show: Monday-Friday, or the whole week when someone works at the weekend. */
function weekLength() {
  return state.providers.some((p) => p.weeklyHours.some((h) => h.day === 'sat' || h.day === 'sun')) ? 7 : 5;
}

/** Loads the calendar for the current clinic, view and date, and paints it. */
export async function loadCalendar() {
  if (!state.clinicId) return;
  const seq = ++view.loadSeq;
  const from = state.view === 'week' ? mondayOf(state.date) : state.date;
  const days = state.view === 'week' ? weekLength() : 1;
  const grid = byId('calendar');
  grid.setAttribute('aria-busy', 'true');
  performance.mark('calendar-request');
  /** @type {Calendar} */
  const cal = await api('GET', `/api/schedule/days?${query({ clinicId: state.clinicId, from, days })}`);
  if (seq !== view.loadSeq) return; // a newer load started meanwhile
  // Paint time: from the data being parsed to the frame that shows it (requestAnimationFrame runs just
  // before the paint; a task queued from it runs right after).
  const t0 = performance.now();
  performance.mark('calendar-data');
  state.skewMs = Date.parse(cal.now) - Date.now();
  render(cal);
  const built = performance.now() - t0;
  grid.setAttribute('aria-busy', 'false');
  requestAnimationFrame(() =>
    setTimeout(() => {
      const ms = performance.now() - t0;
      performance.measure(`calendar-paint-${state.view}`, 'calendar-data');
      document.body.dataset.paintMs = ms.toFixed(1);
      document.body.dataset.buildMs = built.toFixed(1);
      document.body.dataset.paintView = `${state.view}:${cal.providers.length}x${cal.dates.length}`;
    }),
  );
}

/**
 * What a screen reader says around a cell's visible text: where and when (prefix) and the rest (suffix).
 * The accessible name is the cell's text, so it always contains what is shown (WCAG 2.5.3).
 * @param {CalendarSlot} slot
 * @param {Column} column
 * @param {boolean} week
 */
function spoken(slot, column, week) {
  const where = `${column.provider.name}, ${dayLabel(column.date)}, ${hhmm(slot.start)} to ${hhmm(slot.end)}, `;
  const type = slot.appointment ? typeName(slot.appointment.appointmentType) : '';
  const offer = slot.offer ? `, offered to waitlist round ${slot.offer.round}` : '';
  const flags = `${slot.outsideHours ? ', outside working hours' : ''}${slot.past ? ', past' : ''}`;
  if (week) {
    // Visible: the patient id, or nothing for a free slot, or the state word.
    const visible = slot.appointment ? slot.appointment.patientId : slot.state === 'free' ? '' : (STATE_LABEL[slot.state] ?? '');
    const prefix = slot.appointment ? `${where}${STATE_LABEL[slot.state]}, ` : `${where}`;
    const suffix = `${slot.appointment ? `, ${type}` : slot.state === 'free' ? 'Free' : ''}${offer}${flags}`;
    return { prefix, visible: visible ? [visible] : [], suffix };
  }
  const visible = [STATE_LABEL[slot.state] ?? slot.state];
  if (slot.appointment) visible.push(slot.appointment.patientId, type);
  else if (slot.offer) visible.push(`offer round ${slot.offer.round}`);
  return { prefix: where, visible, suffix: flags };
}

/** @param {Calendar} cal */
function render(cal) {
  view.calendar = cal;
  state.timeZone = cal.timeZone;
  state.types = cal.appointmentTypes;
  const week = state.view === 'week';
  /** @type {Column[]} */
  const columns = [];
  for (const date of cal.dates) for (const provider of cal.providers) columns.push({ date, provider });
  view.columns = columns;
  view.slots = new Map();
  // Rows: every distinct local start time in view, so slots of different lengths line up.
  const minutes = new Set();
  /** @type {CalendarSlot[][]} */
  const perColumn = columns.map((c) => c.provider.days.find((d) => d.date === c.date)?.slots ?? []);
  for (const slots of perColumn) for (const s of slots) minutes.add(minuteOfDay(s.start));
  const rows = [...minutes].sort((a, b) => a - b);
  const rowOf = new Map(rows.map((m, i) => [m, i]));
  /** @type {(HTMLTableCellElement | undefined)[][]} */
  const matrix = columns.map(() => new Array(rows.length));
  /** @type {(HTMLTableCellElement | undefined)[][]} cells that start in [row][column] */
  const starts = rows.map(() => new Array(columns.length));
  perColumn.forEach((slots, c) => {
    const column = /** @type {Column} */ (columns[c]);
    for (const slot of slots) {
      const r0 = rowOf.get(minuteOfDay(slot.start));
      if (r0 === undefined || matrix[c]?.[r0]) continue;
      const endMinute = localDay(slot.end) === column.date ? minuteOfDay(slot.end) : 24 * 60;
      let span = 1;
      while (r0 + span < rows.length && /** @type {number} */ (rows[r0 + span]) < endMinute && !matrix[c]?.[r0 + span]) span++;
      const cell = slotCell(slot, column, week, span);
      cell.dataset.r = String(r0);
      cell.dataset.c = String(c);
      for (let r = r0; r < r0 + span; r++) /** @type {any[]} */ (matrix[c])[r] = cell;
      /** @type {any[]} */ (starts[r0])[c] = cell;
      view.slots.set(slot.slotId, { slot, column });
    }
  });
  // Gaps: no hours (or an absence) at that time.
  for (let c = 0; c < columns.length; c++) {
    const column = /** @type {Column} */ (columns[c]);
    for (let r = 0; r < rows.length; r++) {
      if (matrix[c]?.[r]) continue;
      const minute = /** @type {number} */ (rows[r]);
      const time = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
      const absent = column.provider.absences.some((a) => localDay(a.from) <= column.date && column.date <= localDay(a.to));
      const cell = el(
        'td',
        { role: 'gridcell', tabindex: '-1', class: absent ? 'off absent' : 'off', 'data-r': r, 'data-c': c },
        el('span', { class: 'sr-only' }, `${column.provider.name}, ${dayLabel(column.date)}, ${time}, `),
        absent && !week ? el('span', { class: 'v' }, 'absent') : el('span', { class: 'sr-only' }, absent ? 'absent' : 'not working'),
      );
      /** @type {any[]} */ (matrix[c])[r] = cell;
      /** @type {any[]} */ (starts[r])[c] = cell;
    }
  }
  view.matrix = matrix;

  const head = week
    ? [
        el(
          'tr',
          { role: 'row' },
          el('th', { role: 'columnheader', scope: 'col', rowspan: 2, class: 'time-col' }, 'Time'),
          ...cal.dates.map((d) => el('th', { role: 'columnheader', scope: 'colgroup', colspan: cal.providers.length, class: 'day-head' }, dayLabel(d))),
        ),
        el(
          'tr',
          { role: 'row' },
          ...columns.map((c, i) =>
            el(
              'th',
              { role: 'columnheader', scope: 'col', class: i % cal.providers.length === 0 ? 'prov-head day-start' : 'prov-head', title: c.provider.name },
              el('span', { 'aria-hidden': 'true' }, shortName(c.provider.name)),
              el('span', { class: 'sr-only' }, c.provider.name),
            ),
          ),
        ),
      ]
    : [
        el(
          'tr',
          { role: 'row' },
          el('th', { role: 'columnheader', scope: 'col', class: 'time-col' }, 'Time'),
          ...columns.map((c) => el('th', { role: 'columnheader', scope: 'col', class: 'prov-head' }, c.provider.name)),
        ),
      ];
  const body = rows.map((minute, r) => {
    const label = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
    const tr = el('tr', { role: 'row' }, el('th', { role: 'rowheader', scope: 'row', class: 'time-col' }, label));
    const cells = /** @type {(HTMLTableCellElement | undefined)[]} */ (starts[r]);
    cells.forEach((cell, c) => {
      if (!cell) return;
      if (week && c % cal.providers.length === 0) cell.classList.add('day-start');
      tr.appendChild(cell);
    });
    return tr;
  });
  const table = el(
    'table',
    {
      role: 'grid',
      id: 'grid',
      class: week ? 'grid week' : 'grid day',
      'aria-labelledby': 'calendar-caption',
      'aria-describedby': 'grid-help',
      'aria-rowcount': rows.length + (week ? 2 : 1),
      'data-view': state.view,
    },
    el('caption', { id: 'calendar-caption' }, captionText(cal)),
    el('thead', {}, ...head),
    el('tbody', {}, ...body),
  );
  table.addEventListener('keydown', onGridKey);
  table.addEventListener('click', (ev) => {
    const cell = /** @type {HTMLElement | null} */ (ev.target instanceof Element ? ev.target.closest('td[role="gridcell"]') : null);
    if (cell) {
      focusCell(/** @type {HTMLTableCellElement} */ (cell));
      activate(/** @type {HTMLTableCellElement} */ (cell));
    }
  });
  const box = byId('calendar');
  box.replaceChildren(rows.length ? table : el('p', { class: 'hint' }, 'No provider works in this period.'));
  renderLegend(cal);
  // Roving tab stop: the open slot, else the first free slot ahead, else the first cell.
  const open = view.openSlotId ? box.querySelector(`td[data-slot-id="${CSS.escape(view.openSlotId)}"]`) : null;
  const firstFree = box.querySelector('td.s-free:not(.past)');
  const first = /** @type {HTMLTableCellElement | null} */ (open || firstFree || box.querySelector('td[role="gridcell"]'));
  if (first) first.tabIndex = 0;
  if (open) open.setAttribute('aria-selected', 'true');
  markCandidates();
}

/** @param {Calendar} cal */
function captionText(cal) {
  const clinic = state.clinics.find((c) => c.clinicId === cal.clinicId);
  const range = cal.dates.length === 1 ? dayLabel(cal.from) : `${dayLabel(cal.dates[0] ?? cal.from)} to ${dayLabel(cal.dates.at(-1) ?? cal.from)}`;
  return `${clinic ? clinic.name : cal.clinicId}: ${range} (${cal.timeZone})`;
}

/** The last word of a provider's name ("Dr. Lee" -> "Lee") for the narrow week columns; the full name is spoken. @param {string} name */
function shortName(name) {
  return name.split(/\s+/).slice(-1)[0] ?? name;
}

/**
 * @param {CalendarSlot} slot
 * @param {Column} column
 * @param {boolean} week
 * @param {number} span
 */
function slotCell(slot, column, week, span) {
  const type = slot.appointment ? slot.appointment.appointmentType : slot.appointmentTypes.length === 1 ? slot.appointmentTypes[0] : undefined;
  const classes = ['slot', `s-${slot.state}`];
  if (type) classes.push(`t-${typeIndex(type)}`);
  if (slot.past) classes.push('past');
  if (slot.outsideHours) classes.push('outside');
  const said = spoken(slot, column, week);
  const content = [
    el('span', { class: 'sr-only' }, said.prefix),
    ...said.visible.map((text, i) => el('span', { class: i === 0 ? 'v st' : i === 1 ? 'v who' : 'v what' }, `${i ? ' ' : ''}${text}`)),
    said.suffix ? el('span', { class: 'sr-only' }, said.suffix) : '',
  ];
  return el(
    'td',
    {
      role: 'gridcell',
      tabindex: '-1',
      class: classes.join(' '),
      rowspan: span > 1 ? span : undefined,
      'data-slot-id': slot.slotId,
      'data-state': slot.state,
      title: `${hhmm(slot.start)}–${hhmm(slot.end)} ${STATE_LABEL[slot.state]}`,
    },
    ...content,
  );
}

/** @param {Calendar} cal */
function renderLegend(cal) {
  byId('type-legend').replaceChildren(
    ...cal.appointmentTypes.map((t) =>
      el('li', {}, el('span', { class: `swatch t-${typeIndex(t.code)}`, 'aria-hidden': 'true' }), `${t.name} (${t.durationMinutes} min)`),
    ),
  );
}

/** @param {HTMLTableCellElement} cell */
function focusCell(cell) {
  for (const c of byId('calendar').querySelectorAll('td[tabindex="0"]')) /** @type {HTMLElement} */ (c).tabIndex = -1;
  cell.tabIndex = 0;
  cell.focus();
}

/** @param {KeyboardEvent} ev */
function onGridKey(ev) {
  const cell = /** @type {HTMLTableCellElement | null} */ (ev.target instanceof Element ? ev.target.closest('td[role="gridcell"]') : null);
  if (!cell) return;
  const c = Number(cell.dataset.c);
  const r0 = Number(cell.dataset.r);
  const span = cell.rowSpan || 1;
  const cols = view.matrix.length;
  const rows = view.matrix[0]?.length ?? 0;
  const at = (/** @type {number} */ col, /** @type {number} */ row) => view.matrix[col]?.[row];
  /** @type {HTMLTableCellElement | undefined} */
  let next;
  const row = Math.min(Math.max(view.rowIntent, r0), r0 + span - 1);
  switch (ev.key) {
    case 'ArrowDown':
      next = at(c, r0 + span);
      if (next) view.rowIntent = r0 + span;
      break;
    case 'ArrowUp':
      next = at(c, r0 - 1);
      if (next) view.rowIntent = Number(next.dataset.r);
      break;
    case 'ArrowRight':
      next = at(c + 1, row);
      break;
    case 'ArrowLeft':
      next = at(c - 1, row);
      break;
    case 'Home':
      next = ev.ctrlKey ? at(0, 0) : at(0, row);
      if (ev.ctrlKey) view.rowIntent = 0;
      break;
    case 'End':
      next = ev.ctrlKey ? at(cols - 1, rows - 1) : at(cols - 1, row);
      if (ev.ctrlKey) view.rowIntent = rows - 1;
      break;
    case 'PageDown':
      next = at(c, Math.min(rows - 1, r0 + 8));
      break;
    case 'PageUp':
      next = at(c, Math.max(0, r0 - 8));
      break;
    case 'Enter':
    case ' ':
      ev.preventDefault();
      activate(cell);
      return;
    default:
      return;
  }
  ev.preventDefault();
  if (next) {
    if (ev.key === 'ArrowLeft' || ev.key === 'ArrowRight' || ev.key === 'Home' || ev.key === 'End') view.rowIntent = row;
    focusCell(next);
  }
}

/** @param {HTMLTableCellElement} cell */
function activate(cell) {
  const id = cell.dataset.slotId;
  const entry = id ? view.slots.get(id) : undefined;
  if (!entry) return;
  for (const c of byId('calendar').querySelectorAll('td[aria-selected="true"]')) c.removeAttribute('aria-selected');
  cell.setAttribute('aria-selected', 'true');
  openPanel(entry.slot, entry.column);
}

/** Highlights the free slots an appointment being moved could go to. */
function markCandidates() {
  const moving = view.moving;
  for (const [id, { slot }] of view.slots) {
    const cell = byId('calendar').querySelector(`td[data-slot-id="${CSS.escape(id)}"]`);
    if (!cell) continue;
    const fits = Boolean(moving && slot.state === 'free' && !slot.past && slot.appointmentTypes.includes(moving.appointmentType));
    cell.classList.toggle('candidate', fits);
  }
}

function closePanel() {
  const panel = byId('slot-panel');
  panel.hidden = true;
  byId('schedule-layout').classList.remove('with-panel');
  const id = view.openSlotId;
  view.openSlotId = null;
  const cell = id ? /** @type {HTMLTableCellElement | null} */ (byId('calendar').querySelector(`td[data-slot-id="${CSS.escape(id)}"]`)) : null;
  if (cell) {
    cell.removeAttribute('aria-selected');
    focusCell(cell);
  }
}

/**
 * @param {CalendarSlot} slot
 * @param {Column} column
 */
function openPanel(slot, column) {
  view.openSlotId = slot.slotId;
  const panel = byId('slot-panel');
  const body = byId('slot-panel-body');
  byId('slot-panel-title').textContent = `${STATE_LABEL[slot.state]} slot`;
  byId('slot-panel-when').textContent = `${column.provider.name} · ${dayLabel(column.date)} · ${hhmm(slot.start)}–${hhmm(slot.end)}`;
  body.replaceChildren(...panelContent(slot, column));
  if (slot.appointment) loadPanelTimeline(slot.appointment.appointmentId);
  tickCountdowns(serverNow());
  panel.hidden = false;
  byId('schedule-layout').classList.add('with-panel');
  const first = /** @type {HTMLElement | null} */ (body.querySelector('input, select, button'));
  (first ?? byId('slot-panel-title')).focus();
}

/**
 * @param {CalendarSlot} slot
 * @param {Column} column
 * @returns {HTMLElement[]}
 */
function panelContent(slot, column) {
  const when = `${dayLabel(column.date)} ${hhmm(slot.start)}`;
  if (slot.state === 'free') {
    if (slot.past) return [el('p', { class: 'hint' }, 'This slot has passed.')];
    if (view.moving) return [moveHereForm(slot, column, view.moving)];
    return [bookForm(slot, when)];
  }
  if (slot.offer) {
    return [
      el(
        'dl',
        { class: 'card' },
        el('dt', {}, 'Offered to'),
        el('dd', {}, `${slot.offer.patientId} (waitlist entry ${slot.offer.waitlistEntryId})`),
        el('dt', {}, 'Round'),
        el('dd', {}, String(slot.offer.round)),
        el('dt', {}, 'Reply due'),
        el('dd', {}, el('span', { class: 'countdown', 'data-expires-at': slot.offer.expiresAt }, '')),
      ),
      el('p', { class: 'hint' }, 'The backfill workflow books the first patient who replies YES. Follow it on the Workflows page.'),
    ];
  }
  const a = /** @type {import('./state.js').SlotAppointment} */ (slot.appointment);
  const timeline = el('ol', { class: 'timeline', id: 'panel-timeline', 'aria-label': 'Timeline' });
  const patientBox = el('div', { id: 'panel-patient' });
  const cancelForm = cancelFormFor(a, when);
  cancelForm.hidden = true;
  const actions = el(
    'div',
    { class: 'actions' },
    a.status === 'pending' ? el('button', { type: 'button', onclick: () => act(a.appointmentId, 'confirm', `Confirmed ${when}`) }, 'Confirm booking') : null,
    slot.state === 'held'
      ? null
      : el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => startMove({ appointmentId: a.appointmentId, appointmentType: a.appointmentType, label: `${a.patientId} (${when})` }),
          },
          'Reschedule',
        ),
    el(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'aria-expanded': 'false',
        'aria-controls': 'cancel-form',
        onclick: (/** @type {MouseEvent} */ ev) => {
          cancelForm.hidden = !cancelForm.hidden;
          /** @type {HTMLElement} */ (ev.currentTarget).setAttribute('aria-expanded', String(!cancelForm.hidden));
          if (!cancelForm.hidden) /** @type {HTMLElement} */ (cancelForm.querySelector('select')).focus();
        },
      },
      'Cancel…',
    ),
    el('button', { type: 'button', class: 'secondary', onclick: () => act(a.appointmentId, 'no-show', `No-show recorded for ${when}`) }, 'No-show'),
    el(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () =>
          api('GET', `/api/patients/${encodeURIComponent(a.patientId)}?${query({ clinicId: state.clinicId })}`)
            .then((p) => patientBox.replaceChildren(patientCard(p)))
            .catch(fail),
      },
      'Patient details',
    ),
  );
  return [
    el(
      'dl',
      { class: 'card' },
      el('dt', {}, 'Patient'),
      el('dd', { 'data-patient-id': a.patientId }, a.patientId),
      el('dt', {}, 'Type'),
      el('dd', {}, typeName(a.appointmentType)),
      el('dt', {}, 'Status'),
      el('dd', {}, a.status === 'pending' ? 'pending staff confirmation' : a.status),
      el('dt', {}, 'Booked via'),
      el('dd', {}, a.source),
      el('dt', {}, 'Appointment'),
      el('dd', {}, a.appointmentId),
    ),
    slot.outsideHours ? el('p', { class: 'hint' }, 'Outside the provider’s current hours: reschedule or call the patient.') : el('span'),
    actions,
    cancelForm,
    patientBox,
    el('h4', {}, 'Timeline'),
    timeline,
    journeySection(a.appointmentId),
  ];
}

/** Loads the timeline of the appointment whose panel is open (events, SMS and their delivery, offers). @param {string} appointmentId */
function loadPanelTimeline(appointmentId) {
  const list = document.getElementById('panel-timeline');
  if (list) showTimeline(/** @type {HTMLOListElement} */ (list), appointmentId).catch(fail);
}

/**
 * @param {CalendarSlot} slot
 * @param {string} when
 */
function bookForm(slot, when) {
  let key = /** @type {string | null} */ (null);
  /** @type {string | null} */
  let chosen = null;
  const finder = patientFinder('book-patient', (p) => {
    chosen = p.patientId;
  });
  const typeSelect = el(
    'select',
    { id: 'book-type', name: 'appointmentType', 'data-field': 'body.appointmentType' },
    ...slot.appointmentTypes.map((code) => el('option', { value: code }, typeName(code))),
  );
  const form = el(
    'form',
    { id: 'book-form', novalidate: true },
    el('h4', {}, 'Book this slot'),
    finder.node,
    el('label', { for: 'book-type' }, 'Appointment type'),
    typeSelect,
    el('p', { class: 'form-error', role: 'alert' }),
    el('button', { type: 'submit' }, 'Book appointment'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const patientId = finder.idInput.value.trim() || chosen;
    if (!patientId) {
      /** @type {HTMLElement} */ (form.querySelector('.form-error')).textContent = 'Choose a patient first (look up by id or search by name).';
      finder.idInput.focus();
      return;
    }
    // One key per intended booking: a double click or a retry after a network error books once.
    key ??= newKey();
    try {
      const a = await api('POST', '/api/appointments', { slotId: slot.slotId, patientId, appointmentType: typeSelect.value }, { idempotencyKey: key });
      key = null;
      say(`Booked ${a.appointmentId} for ${a.patientId} at ${hhmm(a.start)} (${when})`);
      await refreshKeepingFocus(slot.slotId);
    } catch (e) {
      if (e instanceof ApiError && e.status > 0 && e.status < 500) key = null;
      failInForm(form, e);
    }
  });
  return form;
}

/**
 * @param {import('./state.js').SlotAppointment} a
 * @param {string} when
 */
function cancelFormFor(a, when) {
  const select = el(
    'select',
    { id: 'cancel-reason', name: 'reason', 'data-field': 'body.reason' },
    ...CANCEL_REASONS.map(([code, label]) => el('option', { value: code }, label)),
  );
  const form = el(
    'form',
    { id: 'cancel-form', class: 'inline-form', novalidate: true },
    el('label', { for: 'cancel-reason' }, 'Reason'),
    select,
    el('p', { class: 'form-error', role: 'alert' }),
    el('button', { type: 'submit', class: 'danger' }, 'Cancel appointment'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(a.appointmentId, 'cancel', `Cancelled ${when} (${select.value})`, { reason: select.value }, form);
  });
  return form;
}

/** @param {Moving} moving */
function startMove(moving) {
  view.moving = moving;
  const banner = byId('move-banner');
  byId('move-what').textContent = `Moving ${moving.label}: pick a free ${typeName(moving.appointmentType)} slot and choose “Move here”.`;
  banner.hidden = false;
  markCandidates();
  say(`Pick a new slot for ${moving.label}`);
  closePanel();
}

export function stopMove() {
  view.moving = null;
  byId('move-banner').hidden = true;
  markCandidates();
}

/**
 * @param {CalendarSlot} slot
 * @param {Column} column
 * @param {Moving} moving
 */
function moveHereForm(slot, column, moving) {
  const fits = slot.appointmentTypes.includes(moving.appointmentType);
  const key = newKey();
  const form = el(
    'form',
    { id: 'move-form', novalidate: true },
    el('p', {}, `Move ${moving.label} to ${column.provider.name}, ${dayLabel(column.date)} ${hhmm(slot.start)}?`),
    fits ? el('span') : el('p', { class: 'hint' }, `This slot does not offer ${typeName(moving.appointmentType)}.`),
    el('p', { class: 'hint' }, 'The old slot is released and offered to the waitlist.'),
    el('p', { class: 'form-error', role: 'alert' }),
    el('button', { type: 'submit', disabled: !fits }, 'Move here'),
    el('button', { type: 'button', class: 'secondary', onclick: () => (stopMove(), closePanel()) }, 'Stop moving'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const a = await api('POST', `/api/appointments/${encodeURIComponent(moving.appointmentId)}/reschedule`, { slotId: slot.slotId }, { idempotencyKey: key });
      stopMove();
      say(`Moved ${a.appointmentId} to ${dayLabel(localDay(a.start))} ${hhmm(a.start)}; the old slot goes to the waitlist`);
      await refreshKeepingFocus(slot.slotId);
    } catch (e) {
      failInForm(form, e);
    }
  });
  return form;
}

/**
 * Runs an appointment action (cancel, no-show, confirm) and refreshes.
 * @param {string} appointmentId
 * @param {'cancel' | 'no-show' | 'confirm'} action
 * @param {string} done
 * @param {Record<string, string>} [body]
 * @param {HTMLFormElement} [form]
 */
async function act(appointmentId, action, done, body = {}, form) {
  try {
    await api('POST', `/api/appointments/${encodeURIComponent(appointmentId)}/${action}`, body, { idempotencyKey: newKey() });
    say(done);
    await refreshKeepingFocus(view.openSlotId);
  } catch (e) {
    if (form) failInForm(form, e);
    else fail(e);
  }
}

/** @param {string | null} slotId */
async function refreshKeepingFocus(slotId) {
  await loadCalendar();
  const entry = slotId ? view.slots.get(slotId) : undefined;
  const cell = slotId ? /** @type {HTMLTableCellElement | null} */ (byId('calendar').querySelector(`td[data-slot-id="${CSS.escape(slotId)}"]`)) : null;
  if (entry && cell) {
    cell.setAttribute('aria-selected', 'true');
    const panelHadFocus = byId('slot-panel').contains(document.activeElement) || document.activeElement === document.body;
    openPanel(entry.slot, entry.column);
    if (!panelHadFocus) focusCell(cell);
  } else closePanel();
}

/** @param {unknown} e */
export function fail(e) {
  if (e instanceof ApiError) say(`${e.message}${e.code ? ` (${e.code})` : ''}`, true);
  else say('Something went wrong.', true);
}

/**
 * @param {HTMLFormElement} form
 * @param {unknown} e
 */
function failInForm(form, e) {
  fail(e);
  const line = form.querySelector('.form-error');
  if (line) line.textContent = e instanceof ApiError ? `${e.message}${e.code ? ` (${e.code})` : ''}` : 'Something went wrong.';
}

/** Wires the schedule page's controls. */
export function initSchedule() {
  const dateInput = /** @type {HTMLInputElement} */ (byId('date'));
  dateInput.value = state.date;
  for (const button of document.querySelectorAll('#view-switch button')) {
    button.addEventListener('click', () => {
      state.view = /** @type {'day' | 'week'} */ (/** @type {HTMLElement} */ (button).dataset.view);
      syncViewButtons();
      reload();
    });
  }
  syncViewButtons();
  dateInput.addEventListener('change', () => {
    if (dateInput.value) {
      state.date = dateInput.value;
      reload();
    }
  });
  byId('prev').addEventListener('click', () => step(-1));
  byId('next').addEventListener('click', () => step(1));
  byId('today').addEventListener('click', () => {
    state.date = todayIn(state.timeZone, serverNow());
    reload();
  });
  byId('stop-move').addEventListener('click', stopMove);
  byId('slot-panel-close').addEventListener('click', closePanel);
  byId('slot-panel').addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closePanel();
  });
  byId('calendar').addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && view.moving) stopMove();
  });
}

/** @param {number} direction */
function step(direction) {
  state.date = addDays(state.date, direction * (state.view === 'week' ? 7 : 1));
  reload();
}

function syncViewButtons() {
  for (const button of document.querySelectorAll('#view-switch button')) {
    button.setAttribute('aria-pressed', String(/** @type {HTMLElement} */ (button).dataset.view === state.view));
  }
  byId('prev').setAttribute('aria-label', state.view === 'week' ? 'Previous week' : 'Previous day');
  byId('next').setAttribute('aria-label', state.view === 'week' ? 'Next week' : 'Next day');
}

/** Reloads after a control changed: the location keeps page, clinic, view and date (never a patient). */
export function reload() {
  /** @type {HTMLInputElement} */ (byId('date')).value = state.date;
  history.replaceState(null, '', `?${query({ page: 'schedule', clinicId: state.clinicId, view: state.view, date: state.date })}`);
  if (view.openSlotId) closePanel();
  loadCalendar()
    .then(() => say(`Showing ${state.view === 'week' ? 'the week of' : ''} ${dayLabel(state.view === 'week' ? mondayOf(state.date) : state.date)}`.trim()))
    .catch(fail);
}

/** Formats an offer expiry for the panel countdown (shared tick in app.js). */
export const expiryText = (/** @type {string} */ iso) => dateTimeIn(iso, state.timeZone);
export { providerName };
