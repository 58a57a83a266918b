import { bookAppointment, cancelAppointment, confirmAppointment, markNoShow, rescheduleAppointment } from '../../../../../domain';
import { DomainError, ErrorCode } from '../../../../../domain/errors';
import { EventType } from '../../../../../domain/events';
import type { WaitlistEntry, WaitlistOffer } from '../../../../../domain/model';
import {
  clinic,
  consult,
  cosmosContext,
  type CosmosTestContext,
  type CosmosTestServer,
  databaseName,
  patient,
  providerA,
  seedClinic,
  slotAt,
  startCosmosTestServer,
  T0,
} from '../../../../support/cosmos';

let env: CosmosTestServer;
let ctx: CosmosTestContext;
const staff = { kind: 'staff' as const, principalId: 'frontdesk-1' };

beforeAll(async () => {
  env = await startCosmosTestServer();
  ctx = await cosmosContext(env.proxy.endpoint, databaseName('repos'));
  await seedClinic(ctx.services, 6);
});
afterAll(async () => {
  await env.stop();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
}

describe('Cosmos config repository', () => {
  it('stores and lists clinics, types and providers, and moves a provider between clinics', async () => {
    const { config } = ctx.services;
    expect(await config.getClinic('c1')).toEqual(clinic);
    expect(await config.getClinic('nope')).toBeUndefined();
    expect((await config.listClinics()).map((c) => c.clinicId)).toEqual(['c1']);
    expect(await config.getAppointmentType('consult')).toEqual(consult);
    expect((await config.listAppointmentTypes('c1')).map((t) => t.code)).toEqual(['brief', 'consult']);
    expect(await config.getProvider('dr-a')).toEqual(providerA);
    expect((await config.listProviders('c1')).map((p) => p.providerId)).toEqual(['dr-a', 'dr-b']);

    await config.putClinic({ ...clinic, clinicId: 'c2', name: 'Second' });
    await config.putProvider({ ...providerA, providerId: 'dr-move', clinicId: 'c1' });
    await config.putProvider({ ...providerA, providerId: 'dr-move', clinicId: 'c2' });
    expect((await config.getProvider('dr-move'))?.clinicId).toBe('c2');
    expect((await config.listProviders('c1')).map((p) => p.providerId)).toEqual(['dr-a', 'dr-b']);
    expect((await config.listProviders('c2')).map((p) => p.providerId)).toEqual(['dr-move']);
  });

  it('hands out copies: mutating a returned object does not change the cache', async () => {
    const c = (await ctx.services.config.getClinic('c1'))!;
    c.name = 'mutated';
    expect((await ctx.services.config.getClinic('c1'))!.name).toBe(clinic.name);
  });
});

describe('Cosmos patient repository', () => {
  it('gets, puts and finds by phone; the lookup follows a phone change and stores no raw number', async () => {
    const { patients } = ctx.services;
    expect(await patients.get('pat-1')).toEqual(patient(1));
    expect((await patients.findByPhone(patient(2).phone))?.patientId).toBe('pat-2');
    expect(await patients.findByPhone('+14155550000')).toBeUndefined();

    await patients.put({ ...patient(3), phone: '+14155559999', updatedAt: T0.plus({ minutes: 1 }).toISO()! });
    expect(await patients.findByPhone(patient(3).phone)).toBeUndefined();
    expect((await patients.findByPhone('+14155559999'))?.patientId).toBe('pat-3');

    const raw = await ctx.services.database.container('patients').items.query("SELECT * FROM c WHERE c.type = 'phone-lookup'").fetchAll();
    expect(raw.resources.length).toBeGreaterThan(0);
    for (const d of raw.resources) expect(JSON.stringify(d)).not.toMatch(/\+1415/);
    await patients.put(patient(3));
  });
});

describe('Cosmos appointment repository through the domain use cases', () => {
  it('books, reads, confirms, lists with continuation tokens and cancels', async () => {
    const deps = ctx.deps;
    const booked = await bookAppointment(deps, {
      slotId: slotAt('dr-a', '2026-03-03T09:00'),
      patientId: 'pat-1',
      appointmentType: 'consult',
      channel: 'api',
      actor: staff,
    });
    expect(booked.status).toBe('booked');
    expect(booked.start).toBe('2026-03-03T09:00:00-05:00');
    expect(await ctx.services.appointments.get(booked.appointmentId)).toEqual(booked);
    expect(await ctx.services.appointments.get('apt-missing')).toBeUndefined();

    const confirmed = await confirmAppointment(deps, { appointmentId: booked.appointmentId, actor: staff, channel: 'api' });
    expect(confirmed.version).toBe(2);
    expect(confirmed.confirmedAt).toBe(T0.toISO());

    for (const [i, time] of ['09:30', '10:00', '10:30', '11:00'].entries()) {
      await bookAppointment(deps, {
        slotId: slotAt('dr-a', `2026-03-03T${time}`),
        patientId: `pat-${i + 2}`,
        appointmentType: 'consult',
        channel: 'api',
        actor: staff,
      });
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await ctx.services.appointments.list({
        clinicId: 'c1',
        from: '2026-03-03T00:00:00-05:00',
        to: '2026-03-04T00:00:00-05:00',
        limit: 2,
        ...(token ? { continuationToken: token } : {}),
      });
      seen.push(...page.items.map((a) => a.start.slice(11, 16)));
      token = page.continuationToken;
      pages++;
    } while (token);
    expect(seen).toEqual(['09:00', '09:30', '10:00', '10:30', '11:00']);
    expect(pages).toBeGreaterThanOrEqual(3);
    const byPatient = await ctx.services.appointments.list({
      clinicId: 'c1',
      from: '2026-03-03T00:00:00-05:00',
      to: '2026-03-04T00:00:00-05:00',
      patientId: 'pat-3',
    });
    expect(byPatient.items.map((a) => a.patientId)).toEqual(['pat-3']);

    const cancelled = await cancelAppointment(deps, { appointmentId: booked.appointmentId, actor: staff, reasonCode: 'patient-request' });
    expect(cancelled.status).toBe('cancelled');
    expect(
      (
        await ctx.services.appointments.list({ clinicId: 'c1', from: '2026-03-03T00:00:00-05:00', to: '2026-03-04T00:00:00-05:00', status: 'cancelled' })
      ).items.map((a) => a.appointmentId),
    ).toEqual([booked.appointmentId]);
    // Slot search's read: only appointments that hold their time, four fields, across the day partitions.
    const busyDay = { clinicId: 'c1', from: '2026-03-02T12:00:00-05:00', to: '2026-03-04T00:00:00-05:00' };
    const busy = await ctx.services.appointments.listBusy(busyDay);
    expect(busy.map((b) => b.start.slice(11, 16)).sort()).toEqual(['09:30', '10:00', '10:30', '11:00']);
    expect(busy[0]).toEqual({ providerId: 'dr-a', start: expect.any(String), end: expect.any(String), status: 'booked' });
    expect(await ctx.services.appointments.listBusy({ ...busyDay, providerId: 'dr-b' })).toEqual([]);
    expect(await ctx.services.appointments.listBusy({ ...busyDay, from: '2026-03-03T10:00:00-05:00', to: '2026-03-03T11:00:00-05:00' })).toHaveLength(2);
    // The slot is free again: someone else books it.
    const rebooked = await bookAppointment(deps, { slotId: booked.slotId, patientId: 'pat-6', appointmentType: 'consult', channel: 'api', actor: staff });
    expect(rebooked.status).toBe('booked');
    expect((await ctx.services.appointments.listBusy(busyDay)).map((b) => b.start.slice(11, 16)).sort()).toEqual(['09:00', '09:30', '10:00', '10:30', '11:00']);
    expect((await ctx.services.appointments.listByPatient('pat-1', '2026-03-02T00:00:00Z', '2026-03-05T00:00:00Z')).map((a) => a.status)).toEqual([
      'cancelled',
    ]);
    // Events went out in order and left nothing pending.
    const types = ctx.publisher.published.filter((e) => e.subject === booked.appointmentId).map((e) => e.type);
    expect(types).toEqual([EventType.appointmentBooked, EventType.appointmentConfirmed, EventType.appointmentCancelled]);
    expect(await ctx.services.relayPending()).toBe(0);
  });

  it('a stale version is a CONCURRENT_MODIFICATION; an update after the outbox patched the document still works', async () => {
    const a = await bookAppointment(ctx.deps, {
      slotId: slotAt('dr-b', '2026-03-04T09:00'),
      patientId: 'pat-1',
      appointmentType: 'consult',
      channel: 'api',
      actor: staff,
    });
    const stale = { ...a, status: 'cancelled' as const, version: 2 };
    await ctx.services.appointments.update({ ...a, confirmedAt: T0.toISO()!, version: 2 }, 1, []);
    expect(await codeOf(ctx.services.appointments.update(stale, 1, []))).toBe(ErrorCode.CONCURRENT_MODIFICATION);
    expect(await codeOf(ctx.services.appointments.update({ ...stale, appointmentId: 'apt-none' }, 1, []))).toBe(ErrorCode.APPOINTMENT_NOT_FOUND);
  });

  it('reschedules within a day and across days; the old slot is free and get() follows the move', async () => {
    const a = await bookAppointment(ctx.deps, {
      slotId: slotAt('dr-b', '2026-03-05T09:00'),
      patientId: 'pat-2',
      appointmentType: 'consult',
      channel: 'api',
      actor: staff,
    });
    const sameDay = await rescheduleAppointment(ctx.deps, {
      appointmentId: a.appointmentId,
      newSlotId: slotAt('dr-b', '2026-03-05T14:00'),
      actor: staff,
      channel: 'api',
    });
    expect(sameDay.start).toBe('2026-03-05T14:00:00-05:00');
    const nextDay = await rescheduleAppointment(ctx.deps, {
      appointmentId: a.appointmentId,
      newSlotId: slotAt('dr-b', '2026-03-06T11:00'),
      actor: staff,
      channel: 'api',
    });
    expect(nextDay.start).toBe('2026-03-06T11:00:00-05:00');
    expect(nextDay.version).toBe(3);
    // A fresh process (no caches) finds it by id.
    const other = await cosmosContext(env.proxy.endpoint, ctx.services.database.id);
    expect(await other.services.appointments.get(a.appointmentId)).toEqual(nextDay);
    // Both earlier slots are bookable again; the patient's listing shows one appointment.
    await bookAppointment(ctx.deps, {
      slotId: slotAt('dr-b', '2026-03-05T09:00'),
      patientId: 'pat-3',
      appointmentType: 'consult',
      channel: 'api',
      actor: staff,
    });
    await bookAppointment(ctx.deps, {
      slotId: slotAt('dr-b', '2026-03-05T14:00'),
      patientId: 'pat-3',
      appointmentType: 'consult',
      channel: 'api',
      actor: staff,
    });
    expect((await ctx.services.appointments.listByPatient('pat-2', '2026-03-05T00:00:00Z', '2026-03-08T00:00:00Z')).map((x) => x.start)).toEqual([
      nextDay.start,
    ]);
    const day5 = await ctx.services.appointments.list({
      clinicId: 'c1',
      from: '2026-03-05T00:00:00-05:00',
      to: '2026-03-06T00:00:00-05:00',
      providerId: 'dr-b',
    });
    expect(day5.items.map((x) => x.patientId)).toEqual(['pat-3', 'pat-3']);
  });

  it('records a no-show against the patient', async () => {
    const a = await bookAppointment(ctx.deps, {
      slotId: slotAt('dr-a', '2026-03-02T14:00'),
      patientId: 'pat-5',
      appointmentType: 'consult',
      channel: 'api',
      actor: staff,
    });
    ctx.clock.set(T0.plus({ hours: 7, minutes: 10 }));
    try {
      const noShow = await markNoShow(ctx.deps, { appointmentId: a.appointmentId, actor: staff });
      expect(noShow.status).toBe('noshow');
      expect((await ctx.services.patients.get('pat-5'))?.noShows).toEqual([noShow.noShowAt]);
    } finally {
      ctx.clock.set(T0);
      await ctx.services.patients.put(patient(5));
    }
  });

  it('finds appointments by EHR external id', async () => {
    const a = await bookAppointment(ctx.deps, {
      slotId: slotAt('dr-a', '2026-03-09T09:00'),
      patientId: 'pat-4',
      appointmentType: 'brief',
      channel: 'ehr',
      actor: { kind: 'ehr', principalId: 'ehr-1' },
      externalIds: [{ system: 'urn:ehr:sch-1', value: 'SCH|0001/2' }],
    });
    expect((await ctx.services.appointments.findByExternalId('urn:ehr:sch-1', 'SCH|0001/2'))?.appointmentId).toBe(a.appointmentId);
    expect(await ctx.services.appointments.findByExternalId('urn:ehr:sch-1', 'other')).toBeUndefined();
  });
});

describe('Cosmos waitlist and offer repositories', () => {
  const entry = (n: number): WaitlistEntry => ({
    waitlistEntryId: `wl-${n}`,
    clinicId: 'c1',
    patientId: `pat-${n}`,
    appointmentType: n % 2 ? 'consult' : 'brief',
    providerIds: [],
    urgency: 'routine',
    timeOfDay: 'any',
    status: 'active',
    createdAt: T0.plus({ minutes: n }).toISO()!,
    updatedAt: T0.toISO()!,
    version: 1,
  });

  it('adds, reads, updates with versions, lists active and pages', async () => {
    const w = ctx.services.waitlist;
    for (let n = 1; n <= 5; n++) await w.add(entry(n));
    expect(await w.get('wl-3')).toEqual(entry(3));
    expect(await w.get('wl-none')).toBeUndefined();
    await w.update({ ...entry(3), status: 'offered', version: 2 }, 1);
    expect(await codeOf(w.update({ ...entry(3), status: 'removed', version: 2 }, 1))).toBe(ErrorCode.CONCURRENT_MODIFICATION);
    expect(await codeOf(w.update({ ...entry(9), version: 2 }, 1))).toBe(ErrorCode.WAITLIST_ENTRY_NOT_FOUND);
    expect((await w.listActive('c1')).map((e) => e.waitlistEntryId).sort()).toEqual(['wl-1', 'wl-2', 'wl-4', 'wl-5']);
    expect((await w.listActive('c1', 'consult')).map((e) => e.waitlistEntryId).sort()).toEqual(['wl-1', 'wl-5']);
    const first = await w.list('c1', { limit: 3 });
    expect(first.items.map((e) => e.waitlistEntryId)).toEqual(['wl-1', 'wl-2', 'wl-3']);
    const second = await w.list('c1', { limit: 3, continuationToken: first.continuationToken! });
    expect(second.items.map((e) => e.waitlistEntryId)).toEqual(['wl-4', 'wl-5']);
    // By provider: entries without a preference, and those asking for that provider among others.
    await w.add({ ...entry(6), providerIds: ['dr-a', 'dr-b'] });
    await w.add({ ...entry(7), providerIds: ['dr-b'] });
    expect((await w.listActive('c1', 'consult', 'dr-a')).map((e) => e.waitlistEntryId)).toEqual(['wl-1', 'wl-5']);
    expect((await w.listActive('c1', undefined, 'dr-b')).map((e) => e.waitlistEntryId)).toEqual(['wl-1', 'wl-2', 'wl-4', 'wl-5', 'wl-6', 'wl-7']);
    await w.update({ ...entry(6), providerIds: ['dr-a', 'dr-b'], status: 'removed', version: 2 }, 1);
    expect((await w.listActive('c1', undefined, 'dr-b')).map((e) => e.waitlistEntryId)).toEqual(['wl-1', 'wl-2', 'wl-4', 'wl-5', 'wl-7']);
    // Entries holding an offer, by type and provider, oldest first (offerPolicy.replaceOpenOffers).
    await w.update({ ...entry(7), providerIds: ['dr-b'], status: 'offered', version: 2 }, 1);
    await w.update({ ...entry(1), status: 'offered', version: 2 }, 1);
    expect((await w.listOffered('c1', 'consult', 'dr-b')).map((e) => e.waitlistEntryId)).toEqual(['wl-1', 'wl-3', 'wl-7']);
    expect((await w.listOffered('c1', 'consult', 'dr-a')).map((e) => e.waitlistEntryId)).toEqual(['wl-1', 'wl-3']);
    expect(await w.listOffered('c1', 'brief', 'dr-a')).toEqual([]);
    // A fresh process finds an entry by id alone.
    const other = await cosmosContext(env.proxy.endpoint, ctx.services.database.id);
    expect((await other.services.waitlist.get('wl-3'))?.status).toBe('offered');
  });

  it('creates offers create-only, updates with versions, lists by slot and open ones per patient newest first', async () => {
    const o = ctx.services.offers;
    const offer = (n: number, patientId: string, minutes: number): WaitlistOffer => ({
      offerId: `off-${n}`,
      clinicId: 'c1',
      slotId: 'dr-a.20260310T1400',
      waitlistEntryId: `wl-${n}`,
      patientId,
      workflowInstanceId: 'bf-1',
      round: 1,
      status: 'sent',
      sentAt: T0.plus({ minutes }).toISO()!,
      expiresAt: T0.plus({ minutes: minutes + 30 }).toISO()!,
      version: 1,
    });
    await o.create(offer(1, 'pat-1', 1));
    await o.create(offer(2, 'pat-1', 2));
    await o.create(offer(3, 'pat-2', 3));
    expect(await codeOf(o.create(offer(1, 'pat-1', 1)))).toBe(ErrorCode.CONCURRENT_MODIFICATION);
    expect(await o.get('off-2')).toEqual(offer(2, 'pat-1', 2));
    expect((await o.listOpenForPatient('pat-1')).map((x) => x.offerId)).toEqual(['off-2', 'off-1']);
    await o.update({ ...offer(2, 'pat-1', 2), status: 'accepted', version: 2 }, 1);
    expect(await codeOf(o.update({ ...offer(2, 'pat-1', 2), status: 'declined', version: 2 }, 1))).toBe(ErrorCode.CONCURRENT_MODIFICATION);
    expect((await o.listOpenForPatient('pat-1')).map((x) => x.offerId)).toEqual(['off-1']);
    expect((await o.listBySlot('dr-a.20260310T1400')).map((x) => x.offerId)).toEqual(['off-1', 'off-2', 'off-3']);
  });
});

describe('Cosmos idempotency store', () => {
  it('is create-only: of 20 concurrent claims of one key exactly one wins; the response is replayed', async () => {
    const store = ctx.services.idempotency;
    const record = { scope: 'api' as const, key: 'key/with?odd#chars', requestHash: 'h1', createdAt: T0.toISO()! };
    const results = await Promise.all(Array.from({ length: 20 }, () => store.putIfAbsent(record, 3600)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.get('api', record.key)).toEqual(record);
    await store.complete({ ...record, response: { status: 201, body: { appointmentId: 'apt-1' } } }, 3600);
    expect((await store.get('api', record.key))?.response).toEqual({ status: 201, body: { appointmentId: 'apt-1' } });
    expect(await store.putIfAbsent(record, 3600)).toBe(false);
    expect(await store.get('event', record.key)).toBeUndefined();
  });

  it('an expired record reads as absent and can be claimed again (the local server has no TTL expiry)', async () => {
    const store = ctx.services.idempotency;
    const record = { scope: 'sms-inbound' as const, key: 'SM0001', createdAt: T0.toISO()! };
    expect(await store.putIfAbsent(record, 60)).toBe(true);
    ctx.clock.advance({ minutes: 2 });
    try {
      expect(await store.get('sms-inbound', 'SM0001')).toBeUndefined();
      expect(await store.putIfAbsent(record, 60)).toBe(true);
      expect(await store.putIfAbsent(record, 60)).toBe(false);
    } finally {
      ctx.clock.set(T0);
    }
  });
});

describe('Cosmos audit log', () => {
  it('records who did what without PHI, and answers "who accessed my record"', async () => {
    const p = patient(5);
    await ctx.services.audit.record({
      principalId: 'frontdesk-1',
      action: 'read',
      resourceType: 'Patient',
      resourceId: p.patientId,
      patientId: p.patientId,
      correlationId: 'corr-1',
      at: T0.toISO()!,
      outcome: 'success',
    });
    await ctx.services.audit.record({
      principalId: p.phone,
      action: 'update',
      resourceType: 'Appointment',
      resourceId: 'apt-9',
      patientId: p.patientId,
      correlationId: 'corr-2',
      at: T0.toISO()!,
      outcome: 'success',
    });
    const mine = await ctx.services.audit.listForPatient(p.patientId);
    expect(mine.map((e) => [e.action, e.principalRef.startsWith('h~') ? 'hashed' : e.principalRef, e.correlationId])).toEqual([
      ['read', 'frontdesk-1', 'corr-1'],
      ['update', 'hashed', 'corr-2'],
    ]);
    const all = await ctx.services.database.container('audit').items.readAll().fetchAll();
    const text = JSON.stringify(all.resources);
    expect(text).not.toContain(p.patientId);
    expect(text).not.toContain(p.phone);
    expect(text).not.toContain(p.name);
  });
});

describe('Cosmos outbox', () => {
  it('keeps events pending when publishing fails and the relay publishes them later, once', async () => {
    const failing = await cosmosContext(env.proxy.endpoint, ctx.services.database.id);
    const publish = failing.publisher.publish.bind(failing.publisher);
    let down = true;
    failing.publisher.publish = async (events) => {
      if (down) throw new Error('broker down');
      await publish(events);
    };
    const a = await bookAppointment(failing.deps, {
      slotId: slotAt('dr-a', '2026-03-11T09:00'),
      patientId: 'pat-5',
      appointmentType: 'consult',
      channel: 'api',
      actor: staff,
    });
    expect(failing.publisher.published).toHaveLength(0);
    const raw = await ctx.services.database.container('schedule').item(a.appointmentId, `c1|2026-03-11`).read();
    expect(raw.resource.pendingEvents.map((e: { type: string }) => e.type)).toEqual([EventType.appointmentBooked]);
    down = false;
    expect(await failing.services.relayPending()).toBe(1);
    expect(failing.publisher.published.map((e) => e.subject)).toEqual([a.appointmentId]);
    expect(await failing.services.relayPending()).toBe(0);
  });
});

describe('Cosmos SMS history', () => {
  it("records and lists a patient's messages in their partition", async () => {
    await ctx.services.smsLog.record({
      messageId: 'SM1',
      patientId: 'pat-6',
      direction: 'outbound',
      to: patient(6).phone,
      from: '+15550001111',
      body: 'Reply YES',
      at: T0.toISO()!,
    });
    expect((await ctx.services.smsLog.listForPatient('pat-6')).map((m) => m.messageId)).toEqual(['SM1']);
  });
});
