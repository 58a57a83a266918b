// Slotflow front-desk console: plain JS against the scheduling API (same origin). Data is only ever
// inserted as text (never as HTML). Locally the page sends a development principal (role scheduler);
// in Azure, App Service Authentication supplies x-ms-client-principal and the page sends none.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const state = { clinicId: '', date: '', timeZone: 'UTC', principal: null, skewMs: 0, offers: [], types: [] };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function say(message, isError) {
    const s = $('status');
    s.textContent = message;
    s.classList.toggle('error', !!isError);
  }

  function devPrincipal() {
    const claims = [
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'console-dev-user' },
      { typ: 'roles', val: 'scheduler' },
    ];
    return btoa(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims }));
  }

  async function api(method, path, body, idempotencyKey) {
    const headers = { accept: 'application/json', 'x-slotflow-client': 'console' };
    if (state.principal) headers['x-ms-client-principal'] = state.principal;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const data = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const err = new Error((data && data.detail) || res.statusText);
      err.code = data && data.code;
      err.status = res.status;
      throw err;
    }
    return data;
  }

  const fail = (e) => say(`${e.message}${e.code ? ` (${e.code})` : ''}`, true);
  const q = (params) => new URLSearchParams(params).toString();

  function localTime(iso) {
    return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: state.timeZone }).format(new Date(iso));
  }
  function localDateTime(iso) {
    return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: state.timeZone }).format(new Date(iso));
  }

  function dayBounds() {
    // Offers for the selected clinic-local day: a generous UTC window around it (the API clips to 7 days).
    const start = new Date(`${state.date}T00:00:00Z`).getTime() - 14 * 3600e3;
    return { from: new Date(start).toISOString(), to: new Date(start + 52 * 3600e3).toISOString() };
  }

  async function loadClinics() {
    const { clinics } = await api('GET', '/api/clinics');
    const select = $('clinic');
    select.replaceChildren(...clinics.map((c) => el('option', { value: c.clinicId }, `${c.name} (${c.clinicId})`)));
    if (!clinics.some((c) => c.clinicId === state.clinicId)) state.clinicId = clinics[0] ? clinics[0].clinicId : '';
    select.value = state.clinicId;
  }

  async function loadTypes() {
    const { appointmentTypes } = await api('GET', `/api/appointment-types?${q({ clinicId: state.clinicId })}`);
    state.types = appointmentTypes;
    for (const id of ['book-type', 'wl-type']) {
      $(id).replaceChildren(...appointmentTypes.map((t) => el('option', { value: t.code }, `${t.name} (${t.durationMinutes} min)`)));
    }
  }

  function slotRow(provider, slot) {
    const a = slot.appointment;
    const label = { free: 'Free', booked: 'Booked', held: 'Held' }[slot.state];
    const who = a ? `${a.patientId} · ${a.status}` : slot.offer ? `offer to ${slot.offer.patientId}` : '';
    const actions = el('td', { class: 'actions' });
    const time = `${localTime(slot.start)}–${localTime(slot.end)}`;
    if (slot.state === 'free') {
      actions.append(
        el(
          'button',
          { type: 'button', class: 'secondary', 'aria-label': `Book ${provider.name} at ${time}`, onclick: () => chooseSlot(slot, provider, time) },
          'Book',
        ),
      );
    }
    if (a && a.status === 'pending') {
      actions.append(
        el(
          'button',
          { type: 'button', class: 'secondary', 'aria-label': `Confirm ${time}`, onclick: () => act(a.appointmentId, 'confirm', `Confirmed ${time}`) },
          'Confirm',
        ),
      );
    }
    if (a) {
      actions.append(
        el(
          'button',
          { type: 'button', class: 'secondary', 'aria-label': `Timeline of ${time}`, onclick: () => showTimeline(a.appointmentId, time) },
          'Timeline',
        ),
        el(
          'button',
          { type: 'button', class: 'secondary', 'aria-label': `Cancel ${time}`, onclick: () => act(a.appointmentId, 'cancel', `Cancelled ${time}`) },
          'Cancel',
        ),
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Mark no-show ${time}`,
            onclick: () => act(a.appointmentId, 'no-show', `No-show recorded for ${time}`),
          },
          'No-show',
        ),
      );
    }
    return el(
      'tr',
      { 'data-slot-id': slot.slotId, 'data-state': slot.state },
      el('th', { scope: 'row' }, el('time', { datetime: slot.start, title: time }, localTime(slot.start))),
      el('td', {}, el('span', { class: `state ${slot.state}` }, label)),
      el('td', {}, who),
      actions,
    );
  }

  async function loadDay() {
    const box = $('providers');
    box.setAttribute('aria-busy', 'true');
    const day = await api('GET', `/api/schedule?${q({ clinicId: state.clinicId, date: state.date })}`);
    state.timeZone = day.timeZone;
    box.replaceChildren(
      el(
        'div',
        { class: 'providers' },
        ...day.providers.map((p) =>
          el(
            'section',
            { class: 'provider', 'aria-labelledby': `prov-${p.providerId}` },
            el('h3', { id: `prov-${p.providerId}` }, `${p.name} `, el('span', { class: 'hint' }, `(${p.slots.filter((s) => s.state === 'free').length} free)`)),
            p.slots.length === 0
              ? el('p', { class: 'hint' }, 'No hours this day.')
              : el(
                  'table',
                  { class: 'grid' },
                  el('caption', { class: 'sr-only' }, `Slots of ${p.name} on ${state.date}`),
                  el(
                    'thead',
                    {},
                    el(
                      'tr',
                      {},
                      el('th', { scope: 'col' }, 'Time'),
                      el('th', { scope: 'col' }, 'State'),
                      el('th', { scope: 'col' }, 'Patient'),
                      el('th', { scope: 'col' }, 'Actions'),
                    ),
                  ),
                  el('tbody', {}, ...p.slots.map((s) => slotRow(p, s))),
                ),
          ),
        ),
      ),
    );
    box.setAttribute('aria-busy', 'false');
  }

  async function loadWaitlist() {
    const { entries } = await api('GET', `/api/waitlist?${q({ clinicId: state.clinicId, limit: 50 })}`);
    $('waitlist').replaceChildren(
      ...(entries.length ? entries : [null]).map((e) =>
        e
          ? el(
              'tr',
              { 'data-entry-id': e.waitlistEntryId },
              el('td', {}, e.patientId),
              el('td', {}, e.appointmentType),
              el('td', {}, e.urgency),
              el('td', {}, e.status),
            )
          : el('tr', {}, el('td', { colspan: 4, class: 'hint' }, 'Nobody is waiting.')),
      ),
    );
  }

  async function loadOffers() {
    const { offers, now } = await api('GET', `/api/offers?${q({ clinicId: state.clinicId, ...dayBounds() })}`);
    // Count down against the server's clock, so a skewed workstation clock shows the right time left.
    state.skewMs = Date.parse(now) - Date.now();
    state.offers = offers;
    $('offers').replaceChildren(
      ...(offers.length ? offers : [null]).map((o) =>
        o
          ? el(
              'tr',
              { 'data-offer-id': o.offerId },
              el('td', {}, localDateTime(o.slotId.replace(/^.*\.(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})$/, '$1-$2-$3T$4:$5:00Z'))),
              el('td', {}, o.patientId),
              el('td', {}, String(o.round)),
              el('td', {}, el('span', { class: 'countdown', 'data-expires-at': o.expiresAt }, '')),
            )
          : el('tr', {}, el('td', { colspan: 4, class: 'hint' }, 'No offers waiting for a reply.')),
      ),
    );
    tick();
  }

  function tick() {
    const now = Date.now() + state.skewMs;
    for (const span of document.querySelectorAll('.countdown')) {
      const left = Math.max(0, Math.floor((Date.parse(span.dataset.expiresAt) - now) / 1000));
      const text = left === 0 ? 'expired' : `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
      if (span.textContent !== text) span.textContent = text;
      span.classList.toggle('expired', left === 0);
      span.setAttribute('aria-label', left === 0 ? 'expired' : `${Math.floor(left / 60)} minutes ${left % 60} seconds left`);
    }
  }

  function chooseSlot(slot, provider, time) {
    $('book-slot').value = slot.slotId;
    $('book-slot-hint').textContent = `${provider.name}, ${state.date} ${time}`;
    const fitting = state.types.filter((t) => slot.appointmentTypes.includes(t.code)).map((t) => t.code);
    if (fitting.length) $('book-type').value = fitting[0];
    $('book-patient').focus();
  }

  async function showTimeline(appointmentId, time) {
    try {
      const { events } = await api('GET', `/api/appointments/${encodeURIComponent(appointmentId)}/events`);
      $('timeline-for').textContent = `Appointment ${appointmentId} (${time})`;
      $('timeline').replaceChildren(...events.map((e) => el('li', { 'data-kind': e.kind }, el('time', { datetime: e.at }, localDateTime(e.at)), e.summary)));
      $('timeline-panel').focus();
    } catch (e) {
      fail(e);
    }
  }

  async function act(appointmentId, action, done) {
    try {
      await api(
        'POST',
        `/api/appointments/${encodeURIComponent(appointmentId)}/${action}`,
        action === 'cancel' ? { reason: 'front desk' } : {},
        crypto.randomUUID(),
      );
      say(done);
      await refresh();
    } catch (e) {
      fail(e);
    }
  }

  async function refresh() {
    await Promise.all([loadDay(), loadWaitlist(), loadOffers()]);
  }

  function wireForms() {
    $('filters').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      state.clinicId = $('clinic').value;
      state.date = $('date').value;
      history.replaceState(null, '', `?${q({ clinicId: state.clinicId, date: state.date })}`);
      try {
        await loadTypes();
        await refresh();
        say(`Showing ${state.clinicId} on ${state.date}`);
      } catch (e) {
        fail(e);
      }
    });
    let bookKey = null;
    $('book-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const form = new FormData(ev.target);
      // One key per intended booking: a double click or a retry after a network error books once.
      bookKey = bookKey || crypto.randomUUID();
      try {
        const a = await api(
          'POST',
          '/api/appointments',
          { slotId: form.get('slotId'), patientId: form.get('patientId'), appointmentType: form.get('appointmentType') },
          bookKey,
        );
        bookKey = null;
        say(`Booked ${a.appointmentId} for ${a.patientId} at ${localTime(a.start)}`);
        ev.target.reset();
        await refresh();
      } catch (e) {
        if (e.status && e.status < 500) bookKey = null;
        fail(e);
      }
    });
    $('waitlist-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const form = new FormData(ev.target);
      try {
        const entry = await api(
          'POST',
          '/api/waitlist',
          { clinicId: state.clinicId, patientId: form.get('patientId'), appointmentType: form.get('appointmentType'), urgency: form.get('urgency') },
          crypto.randomUUID(),
        );
        say(`Added ${entry.patientId} to the waitlist`);
        ev.target.reset();
        await loadWaitlist();
      } catch (e) {
        fail(e);
      }
    });
  }

  async function start() {
    const params = new URLSearchParams(location.search);
    const config = await fetch('/console/config.json').then((r) => r.json());
    state.principal = config.devPrincipal ? devPrincipal() : null;
    $('who').textContent = config.devPrincipal ? 'Local development: signed in as a scheduler (dev principal)' : 'Signed in through App Service Authentication';
    state.clinicId = params.get('clinicId') || '';
    state.date = params.get('date') || new Date().toISOString().slice(0, 10);
    $('date').value = state.date;
    wireForms();
    try {
      await loadClinics();
      await loadTypes();
      await refresh();
      say('');
      document.body.dataset.ready = 'true';
    } catch (e) {
      fail(e);
    }
    setInterval(tick, 1000);
  }

  document.addEventListener('DOMContentLoaded', start);
})();
