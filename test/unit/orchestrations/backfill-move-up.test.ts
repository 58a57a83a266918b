/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import type { GLPK } from 'glpk.js/node';
import { DateTime } from 'luxon';
import { provideGlpk } from '../../../domain/optimizer';
import { bookAppointment, cancelAppointment, clinicSchema, EventType, type Appointment, type SchedulingEvent, type WaitlistEntry } from '../../../domain';
import { FixedClock, RecordingPublisher, RecordingSms } from '../../../domain/memory';
import { addMoveUpEntry } from '../../../domain/waitlist/move-up';
import { offerIdFor } from '../../../domain/waitlist/offers';
import { loadSettings } from '../../../functions/app/config';
import { createInMemoryServices, setServices, type Services } from '../../../functions/app/services';
import { capturedFunctions } from '../../../local/host/core';
import { putAllDayVisitProvider } from '../../support/all-day-clinic';
import { capturedOrchestrator, simulateOrchestration, type ActivityStub } from '../../../local/host/durable/simulate';
import {
  Activities,
  BACKFILL_ORCHESTRATOR,
  backfillInstanceId,
  bookForOffer,
  closeOffers,
  loadCandidates,
  sendOffer,
  type BackfillInput,
  type BackfillOutput,
} from '../../../orchestrations/backfill';

/**
 * Move-up cascades through the real durable-functions replay on a virtual clock, with the real
 * backfill activities against in-memory adapters: each accepted move-up releases the patient's later
 * slot with reason `rescheduled` and a cascade link, whose backfill is the next link, until the
 * clinic's cascade depth stops move-ups and a patient without an appointment takes the last slot.
 */

const T0 = DateTime.fromISO('2026-03-02T14:00:00Z', { zone: 'utc' });
const slot = (days: number) => `dr-a.${T0.plus({ days }).toFormat("yyyyLLdd'T'1500")}`;
const S0 = slot(1);
const S1 = slot(10);
const S2 = slot(20);
const S3 = slot(30);

let services: Services;
let clock: FixedClock;
let sms: RecordingSms;
let publisher: RecordingPublisher;
let booked: Record<string, Appointment>;
let entries: Record<string, WaitlistEntry>;
let seq = 0;

beforeAll(async () => {
  // Jest's loader cannot require the ESM-only glpk.js; Node's own require can (as in test/unit/domain/risk/ranking.test.ts).
  const NodeFunction = Object.getPrototypeOf(process.hrtime).constructor as FunctionConstructor;
  const nodeRequire = new NodeFunction('file', "return process.getBuiltinModule('node:module').createRequire(file)")(__filename) as NodeJS.Require;
  provideGlpk(await (nodeRequire('glpk.js/node') as { default: () => Promise<GLPK> }).default());
});

const staff = { kind: 'staff' as const, principalId: 'desk' };

async function setUp(cascadeDepth?: number, policy: { replaceOpenOffers?: 'none' | 'urgent' | 'all' } = {}): Promise<void> {
  clock = new FixedClock(T0);
  sms = new RecordingSms();
  publisher = new RecordingPublisher();
  services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' }), { clock, sms, publisher, ids: { newId: (p) => `${p}-${++seq}` } });
  setServices(services);
  await services.config.putClinic(
    clinicSchema.parse({
      clinicId: 'c1',
      name: 'Clinic',
      timeZone: 'UTC',
      offerPolicy: { batchSize: 1, quietStart: '00:00', quietEnd: '00:00', ...(cascadeDepth !== undefined ? { cascadeDepth } : {}), ...policy },
    }),
  );
  await putAllDayVisitProvider(services);
  for (const [n, id] of ['p0', 'pa', 'pb', 'pc', 'pd'].entries()) {
    await services.patients.put({
      patientId: id,
      name: `Patient ${id}`,
      phone: `+1555000010${n}`,
      smsConsent: true,
      clinicIds: [],
      noShows: [],
      updatedAt: T0.toISO()!,
    });
  }
  booked = {};
  const book = async (patientId: string, slotId: string) =>
    (booked[patientId] = await bookAppointment(services, { slotId, patientId, appointmentType: 'visit', channel: 'api', actor: staff }));
  await book('p0', S0);
  await book('pa', S1);
  await book('pb', S2);
  await book('pc', S3);
  // Urgency decides the order here (A urgent, B soon, C routine), so each released slot goes to the next patient down.
  entries = {
    pa: (await addMoveUpEntry(services, { appointmentId: booked.pa!.appointmentId, urgency: 'urgent' })).entry,
    pb: (await addMoveUpEntry(services, { appointmentId: booked.pb!.appointmentId, urgency: 'soon' })).entry,
    pc: (await addMoveUpEntry(services, { appointmentId: booked.pc!.appointmentId })).entry,
  };
  entries.pd = {
    waitlistEntryId: 'wl-d',
    clinicId: 'c1',
    patientId: 'pd',
    appointmentType: 'visit',
    providerIds: [],
    urgency: 'routine',
    timeOfDay: 'any',
    status: 'active',
    createdAt: T0.toISO()!,
    updatedAt: T0.toISO()!,
    version: 1,
  };
  await services.waitlist.add(entries.pd);
  publisher.published.length = 0;
}

const real =
  (fn: (input: never) => Promise<unknown>): ActivityStub =>
  async (input, at) => {
    clock.set(DateTime.fromJSDate(at, { zone: 'utc' }));
    return fn(input as never);
  };
const activities = {
  [Activities.loadCandidates]: real(loadCandidates),
  [Activities.sendOffer]: real(sendOffer),
  [Activities.book]: real(bookForOffer),
  [Activities.closeOffers]: real(closeOffers),
};

/** What the backfill trigger starts for a slot.released event (functions/events/backfill.ts). */
function backfillInputOf(event: SchedulingEvent): BackfillInput {
  if (event.type !== EventType.slotReleased) throw new Error('not a slot.released event');
  const { slotId, appointmentType, reason, cascade } = event.data;
  return { slotId, appointmentType, reason, ...(cascade ? { cascade } : {}) };
}

const released = (slotId: string) => publisher.published.filter((e) => e.type === EventType.slotReleased && e.data.slotId === slotId);

/** Runs one link: the backfill of `input`'s slot, with `patientId` saying YES 5 minutes after the offer. */
async function runLink(input: BackfillInput, patientId: string, startAt: DateTime) {
  const offerId = offerIdFor(input.slotId, entries[patientId]!.waitlistEntryId);
  const r = await simulateOrchestration(capturedOrchestrator(BACKFILL_ORCHESTRATOR, capturedFunctions), input, {
    start: startAt.toJSDate(),
    instanceId: backfillInstanceId(input.slotId),
    activities,
    events: [{ name: 'OfferReply', data: { offerId, patientId, reply: 'yes', messageSid: `SM-${offerId}` }, at: 5 * 60_000 }],
  });
  expect(r.status).toBe('completed');
  return r.output as BackfillOutput;
}

async function bookedOf(patientId: string): Promise<Appointment[]> {
  const all = await services.appointments.listByPatient(patientId, '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
  return all.filter((a) => a.status === 'booked');
}

it('one cancellation moves three patients earlier in a chain, and a new patient takes the last slot', async () => {
  await setUp();
  await cancelAppointment(services, { appointmentId: booked.p0!.appointmentId, actor: staff, reasonCode: 'patient-call' });
  const first = released(S0);
  expect(first).toHaveLength(1);

  const link1 = await runLink(backfillInputOf(first[0]!), 'pa', T0.plus({ minutes: 1 }));
  expect(link1.outcome).toBe('booked');
  expect(link1.cascade).toEqual({
    depth: 0,
    moved: {
      offerId: offerIdFor(S0, entries.pa!.waitlistEntryId),
      appointmentId: booked.pa!.appointmentId,
      releasedSlotId: S1,
      nextInstanceId: backfillInstanceId(S1),
    },
  });
  const second = released(S1);
  expect(second).toHaveLength(1);
  expect(second[0]!.data).toMatchObject({ reason: 'rescheduled', cascade: { depth: 1, offerId: offerIdFor(S0, entries.pa!.waitlistEntryId) } });

  const link2 = await runLink(backfillInputOf(second[0]!), 'pb', T0.plus({ minutes: 20 }));
  expect(link2.cascade.depth).toBe(1);
  expect(link2.cascade.freedBy).toEqual({ depth: 1, offerId: offerIdFor(S0, entries.pa!.waitlistEntryId), workflowInstanceId: backfillInstanceId(S0) });
  expect(link2.cascade.moved?.releasedSlotId).toBe(S2);

  const link3 = await runLink(backfillInputOf(released(S2)[0]!), 'pc', T0.plus({ minutes: 40 }));
  expect(link3.cascade.depth).toBe(2);
  expect(link3.cascade.moved?.releasedSlotId).toBe(S3);

  const last = await runLink(backfillInputOf(released(S3)[0]!), 'pd', T0.plus({ minutes: 60 }));
  expect(last.outcome).toBe('booked');
  expect(last.cascade.depth).toBe(3);
  expect(last.cascade.moved).toBeUndefined();

  // Everyone holds exactly one appointment, each moved one earlier; the movers kept their appointment ids.
  expect((await bookedOf('pa')).map((a) => [a.appointmentId, a.slotId])).toEqual([[booked.pa!.appointmentId, S0]]);
  expect((await bookedOf('pb')).map((a) => [a.appointmentId, a.slotId])).toEqual([[booked.pb!.appointmentId, S1]]);
  expect((await bookedOf('pc')).map((a) => [a.appointmentId, a.slotId])).toEqual([[booked.pc!.appointmentId, S2]]);
  expect((await bookedOf('pd')).map((a) => a.slotId)).toEqual([S3]);
  // One confirmation SMS per mover, naming the new time and the released one.
  for (const p of ['pa', 'pb', 'pc']) {
    const confirmations = sms.sent.filter((m) => m.patientId === p && m.purpose === 'confirmation');
    expect(confirmations).toHaveLength(1);
    expect(confirmations[0]!.body).toMatch(/you're moved to .* Your .* time is released/);
  }
  const accepted = publisher.published.filter((e) => e.type === EventType.offerAccepted);
  expect(accepted.map((e) => (e.data as { moveUp: boolean }).moveUp)).toEqual([true, true, true, false]);
  for (const p of ['pa', 'pb', 'pc']) expect((await services.waitlist.get(entries[p]!.waitlistEntryId))?.status).toBe('booked');
});

it('stops moving patients at the clinic cascade depth: the slot freed by the last allowed move goes to a patient without an appointment', async () => {
  await setUp(2);
  await cancelAppointment(services, { appointmentId: booked.p0!.appointmentId, actor: staff, reasonCode: 'patient-call' });
  await runLink(backfillInputOf(released(S0)[0]!), 'pa', T0.plus({ minutes: 1 }));
  await runLink(backfillInputOf(released(S1)[0]!), 'pb', T0.plus({ minutes: 20 }));
  const atBound = backfillInputOf(released(S2)[0]!);
  expect(atBound.cascade?.depth).toBe(2);
  const last = await runLink(atBound, 'pd', T0.plus({ minutes: 40 }));
  expect(last.outcome).toBe('booked');
  // C (a move-up, who would gain 10 days) was never offered S2; D took it.
  const offered = sms.sent.filter((m) => m.purpose === 'offer').map((m) => m.patientId);
  expect(offered).toEqual(['pa', 'pb', 'pd']);
  expect((await bookedOf('pc')).map((a) => a.slotId)).toEqual([S3]);
  expect((await bookedOf('pd')).map((a) => a.slotId)).toEqual([S2]);
  expect(released(S3)).toHaveLength(0);
});

it('does not offer a slot to a patient whose eligibility for that date is inactive, and offers again once it is active', async () => {
  await setUp();
  // A's appointment on the day of S1 was checked and the coverage is inactive.
  const a = (await services.appointments.get(booked.pa!.appointmentId))!;
  await services.appointments.update({ ...a, eligibility: { status: 'inactive', checkedAt: T0.toISO()! }, version: a.version + 1 }, a.version, []);
  await cancelAppointment(services, { appointmentId: booked.p0!.appointmentId, actor: staff, reasonCode: 'patient-call' });
  const list = await loadCandidatesAt(S0);
  expect(list).not.toContain('pa');
  expect(list[0]).toBe('pb');
  const b = (await services.appointments.get(booked.pa!.appointmentId))!;
  await services.appointments.update(
    { ...b, eligibility: { status: 'active', checkedAt: T0.plus({ minutes: 1 }).toISO()! }, version: b.version + 1 },
    b.version,
    [],
  );
  expect((await loadCandidatesAt(S0))[0]).toBe('pa');
});

async function loadCandidatesAt(slotId: string): Promise<string[]> {
  const list = await loadCandidates({ slotId, appointmentType: 'visit', excludeEntryIds: [] });
  return list.candidates.map((c) => c.patientId);
}

it('ranks a move-up by the days it gains: 29 days earlier outranks 9 days earlier at equal urgency', async () => {
  await setUp();
  for (const p of ['pa', 'pb']) {
    const e = (await services.waitlist.get(entries[p]!.waitlistEntryId))!;
    await services.waitlist.update({ ...e, urgency: 'routine', version: e.version + 1 }, e.version);
  }
  await cancelAppointment(services, { appointmentId: booked.p0!.appointmentId, actor: staff, reasonCode: 'patient-call' });
  // Two candidates per list (batch size 1): the biggest gains first, the optimizer's moveUp term.
  expect(await loadCandidatesAt(S0)).toEqual(['pc', 'pb']);
});

describe('offerPolicy.replaceOpenOffers: an urgent patient holding an offer is offered an earlier slot that frees', () => {
  /** A (urgent, booked at S1) holds an open offer of a free slot 5 days out; then S0 (1 day out) frees. */
  async function holdingOffer(replaceOpenOffers: 'none' | 'urgent'): Promise<string> {
    await setUp(undefined, { replaceOpenOffers });
    const held = await sendOffer({
      slotId: slot(5),
      waitlistEntryId: entries.pa!.waitlistEntryId,
      patientId: 'pa',
      round: 1,
      expiresAt: T0.plus({ hours: 2 }).toISO()!,
      workflowInstanceId: backfillInstanceId(slot(5)),
    });
    expect(held.outcome).toBe('sent');
    await cancelAppointment(services, { appointmentId: booked.p0!.appointmentId, actor: staff, reasonCode: 'patient-call' });
    return held.offerId;
  }

  it('urgent: A is a candidate for the earlier slot; its offer replaces the open one, which closes without a text', async () => {
    const heldId = await holdingOffer('urgent');
    expect(await loadCandidatesAt(S0)).toEqual(['pa', 'pb']);
    const sent = await sendOffer({
      slotId: S0,
      waitlistEntryId: entries.pa!.waitlistEntryId,
      patientId: 'pa',
      round: 1,
      expiresAt: T0.plus({ hours: 1 }).toISO()!,
      workflowInstanceId: backfillInstanceId(S0),
    });
    expect(sent.outcome).toBe('sent');
    expect((await services.offers.get(heldId))!.status).toBe('unavailable');
    expect((await services.offers.listOpenForPatient('pa')).map((o) => o.slotId)).toEqual([S0]);
    expect((await services.waitlist.get(entries.pa!.waitlistEntryId))!.status).toBe('offered');
    // Two offer texts and nothing else: the replaced offer closes silently, the patient's YES answers the newest.
    expect(sms.sent.filter((m) => m.patientId === 'pa').map((m) => m.purpose)).toEqual(['offer', 'offer']);
  });

  it('urgent: a slot later than the one A holds is not offered to A', async () => {
    await holdingOffer('urgent');
    await cancelAppointment(services, { appointmentId: booked.pb!.appointmentId, actor: staff, reasonCode: 'patient-call' });
    // S2 (20 days out) is later than A's open offer (5 days): B's freed slot goes to others only.
    expect(await loadCandidatesAt(S2)).not.toContain('pa');
  });

  it('none (the default): A, holding an offer, is not a candidate', async () => {
    await holdingOffer('none');
    expect(await loadCandidatesAt(S0)).toEqual(['pb', 'pc']);
  });

  it('a routine entry under urgent is not a candidate while it holds an offer', async () => {
    await holdingOffer('urgent');
    const e = (await services.waitlist.get(entries.pa!.waitlistEntryId))!;
    await services.waitlist.update({ ...e, urgency: 'routine', version: e.version + 1 }, e.version);
    expect(await loadCandidatesAt(S0)).not.toContain('pa');
  });
});
