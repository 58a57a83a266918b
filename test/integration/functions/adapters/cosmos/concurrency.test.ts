import { DateTime } from 'luxon';
import { bookAppointment, cancelAppointment, generateSlots, rescheduleAppointment } from '../../../../../domain';
import { DomainError, ErrorCode } from '../../../../../domain/errors';
import type { Appointment, Provider } from '../../../../../domain/model';
import { OCCUPYING_STATUSES } from '../../../../../domain/slots';
import {
  brief,
  consult,
  cosmosContext,
  type CosmosTestContext,
  type CosmosTestServer,
  databaseName,
  providerA,
  seedClinic,
  slotAt,
  startCosmosTestServer,
  T0,
} from '../../../../support/cosmos';

/**
 * No double booking by construction, under real concurrency: several service instances (separate
 * caches, like separate Function hosts) against one local Cosmos server.
 */

let env: CosmosTestServer;
let instances: CosmosTestContext[];
const staff = { kind: 'staff' as const, principalId: 'frontdesk-1' };
/** 20-minute slots: a grid that overlaps dr-a's and dr-b's 30-minute slots at different starts. */
const providerC: Provider = { ...providerA, providerId: 'dr-c', name: 'Dr C', appointmentTypes: ['brief'], slotMinutes: 20 };

beforeAll(async () => {
  env = await startCosmosTestServer();
  const db = databaseName('concurrency');
  instances = [];
  for (let i = 0; i < 4; i++) instances.push(await cosmosContext(env.proxy.endpoint, db));
  await seedClinic(instances[0]!.services, 60);
  await instances[0]!.services.config.putProvider(providerC);
  for (const i of instances) i.services.config.invalidate();
});
afterAll(async () => {
  await env.stop();
});

const pick = (n: number) => instances[n % instances.length]!;

function outcome(r: PromiseSettledResult<unknown>): string {
  if (r.status === 'fulfilled') return 'ok';
  if (r.reason instanceof DomainError) return r.reason.code;
  throw r.reason;
}

async function allAppointments(from: string, to: string): Promise<Appointment[]> {
  const out: Appointment[] = [];
  let token: string | undefined;
  do {
    const page = await instances[0]!.services.appointments.list({ clinicId: 'c1', from, to, limit: 200, ...(token ? { continuationToken: token } : {}) });
    out.push(...page.items);
    token = page.continuationToken;
  } while (token);
  return out;
}

function overlaps(a: Appointment, b: Appointment): boolean {
  return Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end);
}

function assertNoOverlaps(appointments: Appointment[]): void {
  const live = appointments.filter((a) => OCCUPYING_STATUSES.has(a.status));
  const clashes: string[] = [];
  for (let i = 0; i < live.length; i++) {
    for (let j = i + 1; j < live.length; j++) {
      const a = live[i]!;
      const b = live[j]!;
      if (!overlaps(a, b)) continue;
      if (a.providerId === b.providerId) clashes.push(`provider ${a.providerId}: ${a.appointmentId} ${a.start} / ${b.appointmentId} ${b.start}`);
      if (a.patientId === b.patientId) clashes.push(`patient ${a.patientId}: ${a.appointmentId} ${a.start} / ${b.appointmentId} ${b.start}`);
    }
  }
  expect(clashes).toEqual([]);
}

describe('Cosmos booking concurrency', () => {
  it('50 simultaneous bookings of one slot: exactly one booked, 49 APPOINTMENT.SLOT_TAKEN', async () => {
    const slotId = slotAt('dr-a', '2026-03-03T10:00');
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        bookAppointment(pick(i).deps, { slotId, patientId: `pat-${i + 1}`, appointmentType: i % 2 ? 'consult' : 'brief', channel: 'api', actor: staff }),
      ),
    );
    const outcomes = results.map(outcome);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === ErrorCode.SLOT_TAKEN)).toHaveLength(49);
    const stored = (await allAppointments('2026-03-03T00:00:00-05:00', '2026-03-04T00:00:00-05:00')).filter((a) => a.slotId === slotId);
    expect(stored).toHaveLength(1);
    // Losers left nothing behind: one claim, and only the winner's ledger has an entry.
    const schedule = instances[0]!.services.database.container('schedule');
    const claims = await schedule.items.query({ query: "SELECT * FROM c WHERE c.pk = 'c1|2026-03-03' AND c.type = 'slot-claim'" }).fetchAll();
    expect(claims.resources.map((c: { appointmentId: string }) => c.appointmentId)).toEqual([stored[0]!.appointmentId]);
    const ledgers = await instances[0]!.services.database
      .container('patients')
      .items.query("SELECT * FROM c WHERE c.type = 'ledger' AND ARRAY_LENGTH(c.entries) > 0")
      .fetchAll();
    expect(ledgers.resources.map((l: { pk: string }) => l.pk)).toEqual([stored[0]!.patientId]);
  });

  it('one patient, many simultaneous overlapping bookings on different providers and grids: at most one succeeds', async () => {
    for (const [round, day] of ['2026-03-04', '2026-03-05', '2026-03-06'].entries()) {
      const patientId = `pat-${10 + round}`;
      const attempts = [
        { slotId: slotAt('dr-a', `${day}T10:00`), appointmentType: 'consult' },
        { slotId: slotAt('dr-b', `${day}T10:00`), appointmentType: 'consult' },
        { slotId: slotAt('dr-b', `${day}T10:00`), appointmentType: 'brief' },
        { slotId: slotAt('dr-c', `${day}T10:00`), appointmentType: 'brief' },
        { slotId: slotAt('dr-c', `${day}T10:20`), appointmentType: 'brief' },
        { slotId: slotAt('dr-a', `${day}T09:30`), appointmentType: 'consult' },
      ];
      const results = await Promise.allSettled(attempts.map((a, i) => bookAppointment(pick(i).deps, { ...a, patientId, channel: 'api', actor: staff })));
      const outcomes = results.map(outcome);
      for (const o of outcomes) expect(['ok', ErrorCode.PATIENT_OVERLAP, ErrorCode.SLOT_TAKEN]).toContain(o);
      const mine = (await allAppointments(`${day}T00:00:00-05:00`, `${day}T23:59:00-05:00`)).filter((a) => a.patientId === patientId);
      expect(mine.length).toBe(outcomes.filter((o) => o === 'ok').length);
      assertNoOverlaps(mine);
      // dr-a 09:30-10:00 does not overlap dr-c 10:00-10:15 or 10:20-10:35, so up to two may win.
      expect(mine.length).toBeGreaterThanOrEqual(1);
      expect(mine.length).toBeLessThanOrEqual(2);
    }
  });

  it('randomized concurrent book / cancel / reschedule over many slots and patients leaves no overlaps', async () => {
    let seed = 20260302;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const day = '2026-03-10';
    const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    const slots = [
      ...Array.from({ length: 16 }, (_, i) => hhmm(540 + 30 * i)).flatMap((t) => [slotAt('dr-a', `${day}T${t}`), slotAt('dr-b', `${day}T${t}`)]),
      ...Array.from({ length: 24 }, (_, i) => hhmm(540 + 20 * i)).map((t) => slotAt('dr-c', `${day}T${t}`)),
    ];
    const live = new Set<string>();
    const booked: string[] = [];
    const tally = new Map<string, number>();
    for (let wave = 0; wave < 8; wave++) {
      const ops = Array.from({ length: 24 }, (_, i) => {
        const deps = pick(rand(1000)).deps;
        const r = rand(10);
        if (r < 6 || booked.length === 0) {
          const slotId = slots[rand(slots.length)]!;
          const appointmentType = slotId.startsWith('dr-c') || rand(2) ? 'brief' : 'consult';
          return bookAppointment(deps, { slotId, patientId: `pat-${20 + rand(30)}`, appointmentType, channel: 'api', actor: staff }).then((a) => {
            booked.push(a.appointmentId);
            live.add(a.appointmentId);
          });
        }
        const candidates = booked.filter((id) => live.has(id));
        const appointmentId = candidates.length > 0 && rand(5) > 0 ? candidates[rand(candidates.length)]! : booked[rand(booked.length)]!;
        if (r < 8) {
          return cancelAppointment(deps, { appointmentId, actor: staff, reasonCode: `wave-${wave}-${i}` }).then(() => {
            live.delete(appointmentId);
          });
        }
        const target = slots[rand(slots.length)]!;
        return rescheduleAppointment(deps, {
          appointmentId,
          newSlotId: target,
          actor: staff,
          channel: 'api',
          ...(target.startsWith('dr-c') ? { appointmentType: 'brief' } : {}),
        });
      });
      for (const r of await Promise.allSettled(ops)) {
        const o = outcome(r);
        tally.set(o, (tally.get(o) ?? 0) + 1);
      }
    }
    const allowed = new Set([
      'ok',
      ErrorCode.SLOT_TAKEN,
      ErrorCode.PATIENT_OVERLAP,
      ErrorCode.CONCURRENT_MODIFICATION,
      ErrorCode.INVALID_TRANSITION,
      ErrorCode.APPOINTMENT_TYPE_NOT_OFFERED,
    ]);
    for (const code of tally.keys()) expect(allowed).toContain(code);
    expect(tally.get('ok') ?? 0).toBeGreaterThan(40);
    expect(tally.get(ErrorCode.SLOT_TAKEN) ?? 0).toBeGreaterThan(0);

    const all = await allAppointments(`${day}T00:00:00-05:00`, `${day}T23:59:00-05:00`);
    assertNoOverlaps(all);
    // Every live appointment holds the claim on its slot, and no claim is held by anything else.
    const claims = await instances[0]!.services.database
      .container('schedule')
      .items.query({ query: `SELECT * FROM c WHERE c.pk = 'c1|${day}' AND c.type = 'slot-claim'` })
      .fetchAll();
    const claimBySlot = new Map(claims.resources.map((c: { slotId: string; appointmentId: string }) => [c.slotId, c.appointmentId]));
    const holding = all.filter((a) => OCCUPYING_STATUSES.has(a.status));
    for (const a of holding) expect(claimBySlot.get(a.slotId)).toBe(a.appointmentId);
    expect(claimBySlot.size).toBe(holding.length);
  });

  it('concurrent cancellations and reschedules of one appointment: exactly one change wins, one event each', async () => {
    const a = await bookAppointment(pick(0).deps, {
      slotId: slotAt('dr-a', '2026-03-11T09:00'),
      patientId: 'pat-42',
      appointmentType: 'consult',
      channel: 'api',
      actor: staff,
    });
    const results = await Promise.allSettled([
      ...Array.from({ length: 6 }, (_, i) => cancelAppointment(pick(i).deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: `r${i}` })),
      ...Array.from({ length: 4 }, (_, i) =>
        rescheduleAppointment(pick(i + 1).deps, {
          appointmentId: a.appointmentId,
          newSlotId: slotAt('dr-a', `2026-03-11T1${i + 1}:00`),
          actor: staff,
          channel: 'api',
        }),
      ),
    ]);
    const outcomes = results.map(outcome);
    for (const o of outcomes) expect(['ok', ErrorCode.INVALID_TRANSITION, ErrorCode.CONCURRENT_MODIFICATION]).toContain(o);
    const final = (await pick(3).services.appointments.get(a.appointmentId))!;
    const okCount = outcomes.filter((o) => o === 'ok').length;
    // Every successful change bumped the version by one, and at most one cancellation succeeded.
    expect(final.version).toBe(1 + okCount);
    expect(outcomes.slice(0, 6).filter((o) => o === 'ok').length).toBeLessThanOrEqual(1);
    const events = instances.flatMap((i) => i.publisher.published).filter((e) => e.subject === a.appointmentId);
    expect(events.filter((e) => e.type === 'health.scheduling.appointment.cancelled.v1')).toHaveLength(outcomes.slice(0, 6).filter((o) => o === 'ok').length);
    // Whatever won, the slots are consistent: only a live appointment holds a claim.
    const claims = await instances[0]!.services.database
      .container('schedule')
      .items.query({ query: "SELECT * FROM c WHERE c.pk = 'c1|2026-03-11' AND c.type = 'slot-claim'" })
      .fetchAll();
    const held = claims.resources.filter((c: { appointmentId: string }) => c.appointmentId === a.appointmentId);
    expect(held.map((c: { slotId: string }) => c.slotId)).toEqual(OCCUPYING_STATUSES.has(final.status) ? [final.slotId] : []);
  });

  it('different appointment types on one slot compete for the same claim', async () => {
    const slotId = slotAt('dr-b', '2026-03-11T13:00');
    const results = await Promise.allSettled([
      bookAppointment(pick(0).deps, { slotId, patientId: 'pat-40', appointmentType: 'consult', channel: 'api', actor: staff }),
      bookAppointment(pick(1).deps, { slotId, patientId: 'pat-41', appointmentType: 'brief', channel: 'api', actor: staff }),
    ]);
    expect(results.map(outcome).sort()).toEqual([ErrorCode.SLOT_TAKEN, 'ok'].sort());
  });
});

describe('with Azure-style batch failures (HTTP status of the failing operation; the SDK throws)', () => {
  beforeAll(() => env.proxy.azureBatchErrors(true));
  afterAll(() => env.proxy.azureBatchErrors(false));

  it('20 simultaneous bookings of one slot still give one booking and 19 SLOT_TAKEN; cancel and reschedule work', async () => {
    const slotId = slotAt('dr-b', '2026-03-13T10:00');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        bookAppointment(pick(i).deps, { slotId, patientId: `pat-${i + 1}`, appointmentType: 'consult', channel: 'api', actor: staff }),
      ),
    );
    const outcomes = results.map(outcome);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === ErrorCode.SLOT_TAKEN)).toHaveLength(19);
    const winner = results.find((r): r is PromiseFulfilledResult<Appointment> => r.status === 'fulfilled')!.value;
    const moved = await rescheduleAppointment(pick(1).deps, {
      appointmentId: winner.appointmentId,
      newSlotId: slotAt('dr-b', '2026-03-13T11:00'),
      actor: staff,
      channel: 'api',
    });
    expect(moved.slotId).toBe(slotAt('dr-b', '2026-03-13T11:00'));
    await expect(
      bookAppointment(pick(2).deps, { slotId: moved.slotId, patientId: 'pat-30', appointmentType: 'consult', channel: 'api', actor: staff }),
    ).rejects.toMatchObject({ code: ErrorCode.SLOT_TAKEN });
    await cancelAppointment(pick(3).deps, { appointmentId: winner.appointmentId, actor: staff, reasonCode: 'r' });
    await expect(
      bookAppointment(pick(2).deps, { slotId: moved.slotId, patientId: 'pat-30', appointmentType: 'consult', channel: 'api', actor: staff }),
    ).resolves.toMatchObject({ status: 'booked' });
  });
});

describe('premise of the slot claim: one claim id per provider and start covers every type', () => {
  it("a provider's generated slots never overlap (DST days, odd block starts, several slot lengths)", () => {
    const types = new Map([
      ['brief', brief],
      ['consult', consult],
    ]);
    for (const zone of ['America/New_York', 'Australia/Lord_Howe']) {
      for (const slotMinutes of [20, 45]) {
        const provider: Provider = {
          ...providerA,
          slotMinutes,
          weeklyHours: (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const).flatMap((day) => [
            { day, start: '00:10', end: '03:40' },
            { day, start: '08:05', end: '12:00' },
            { day, start: '12:00', end: '23:55' },
          ]),
        };
        for (const from of ['2026-03-07', '2026-04-04', '2026-10-31']) {
          const start = DateTime.fromISO(from, { zone: 'utc' });
          const slots = generateSlots({
            clinic: { clinicId: 'c1', timeZone: zone },
            provider,
            appointmentTypes: types,
            from: start,
            to: start.plus({ days: 3 }),
          });
          expect(new Set(slots.map((x) => x.slotId)).size).toBe(slots.length);
          for (let i = 1; i < slots.length; i++) expect(Date.parse(slots[i]!.start)).toBeGreaterThanOrEqual(Date.parse(slots[i - 1]!.end));
        }
      }
    }
  });
});

describe('Cosmos booking: the sequenced (non-atomic batch) path is safe', () => {
  const base = (id: string, slotId: string, patientId: string): Appointment => ({
    appointmentId: id,
    slotId,
    clinicId: 'c1',
    providerId: 'dr-a',
    patientId,
    appointmentType: 'consult',
    status: 'booked',
    start: '2026-03-12T09:00:00-05:00',
    end: '2026-03-12T09:30:00-05:00',
    source: 'api',
    createdAt: T0.toISO()!,
    updatedAt: T0.toISO()!,
    version: 1,
    externalIds: [],
  });

  it('when the appointment write fails after the claim was stored, the claim and ledger entry are undone', async () => {
    const { services } = instances[0]!;
    const schedule = services.database.container('schedule');
    // A document already using the appointment id in that partition makes the batch's 2nd operation fail.
    await schedule.items.create({ id: 'apt-clash', pk: 'c1|2026-03-12', type: 'junk' });
    const slotId = slotAt('dr-a', '2026-03-12T09:00');
    await expect(services.appointments.create(base('apt-clash', slotId, 'pat-50'), [])).rejects.toMatchObject({ code: ErrorCode.CONCURRENT_MODIFICATION });
    const claim = await schedule.item(`claim|${slotId}`, 'c1|2026-03-12').read();
    expect(claim.statusCode).toBe(404);
    const ledger = await services.database.container('patients').item('ledger', 'pat-50').read();
    expect(ledger.resource?.entries ?? []).toEqual([]);
    await expect(services.appointments.create(base('apt-ok', slotId, 'pat-51'), [])).resolves.toMatchObject({ appointmentId: 'apt-ok' });
  });

  it('a claim left by a crashed booking is healed after the in-flight window; a fresh one blocks', async () => {
    const { services, clock } = instances[1]!;
    const schedule = services.database.container('schedule');
    const slotId = slotAt('dr-a', '2026-03-12T11:00');
    const claim = {
      id: `claim|${slotId}`,
      pk: 'c1|2026-03-12',
      type: 'slot-claim',
      slotId,
      providerId: 'dr-a',
      appointmentId: 'apt-crashed',
      claimedAt: T0.toISO(),
    };
    await schedule.items.create(claim);
    const a = { ...base('apt-after-crash', slotId, 'pat-52'), start: '2026-03-12T11:00:00-05:00', end: '2026-03-12T11:30:00-05:00' };
    await expect(services.appointments.create(a, [])).rejects.toMatchObject({ code: ErrorCode.SLOT_TAKEN });
    clock.advance({ minutes: 1 });
    try {
      await expect(services.appointments.create({ ...a, appointmentId: 'apt-after-crash-2' }, [])).resolves.toMatchObject({
        appointmentId: 'apt-after-crash-2',
      });
    } finally {
      clock.set(T0);
    }
  });

  it('a claim whose appointment was cancelled without releasing it does not block the slot', async () => {
    const { services } = instances[2]!;
    const slotId = slotAt('dr-a', '2026-03-12T14:00');
    const a = { ...base('apt-release-lost', slotId, 'pat-53'), start: '2026-03-12T14:00:00-05:00', end: '2026-03-12T14:30:00-05:00' };
    await services.appointments.create(a, []);
    // Simulate a crash after the status change but before the claim delete: write the status directly.
    const schedule = services.database.container('schedule');
    const doc = (await schedule.item(a.appointmentId, 'c1|2026-03-12').read()).resource;
    await schedule.item(a.appointmentId, 'c1|2026-03-12').replace({ ...doc, status: 'cancelled', version: 2 });
    expect((await schedule.item(`claim|${slotId}`, 'c1|2026-03-12').read()).statusCode).toBe(200);
    await expect(services.appointments.create({ ...a, appointmentId: 'apt-next', patientId: 'pat-54' }, [])).resolves.toMatchObject({
      appointmentId: 'apt-next',
    });
  });
});
