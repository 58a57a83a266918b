/**
 * Move-up offers (domain/waitlist/offers.ts, acceptMoveUp and bookOffer's move-up answers; entries
 * from domain/waitlist/move-up.ts) on in-memory ports and a fixed clock: the patient holds exactly
 * one appointment whatever happens, and each branch leaves offer, entry, events and SMS as stated.
 */
import { bookAppointment, cancelAppointment, ErrorCode, EventType, rescheduleAppointment, type Appointment, type WaitlistOffer } from '../../../../domain';
import { InMemoryAudit, InMemoryIdempotency, InMemoryOffers, InMemoryWaitlist, RecordingSms } from '../../../../domain/memory';
import { InMemorySmsMessages } from '../../../../domain/sms';
import { OCCUPYING_STATUSES } from '../../../../domain/slots';
import { addMoveUpEntry, moveUpEntryId } from '../../../../domain/waitlist/move-up';
import { acceptOffer, bookOffer, createOffer, offerIdFor, type OfferDeps } from '../../../../domain/waitlist/offers';
import { demoDeps, NOW, staff, type TestDeps } from '../../../fixtures/domain/builders';

/** Tuesday 3 March 09:00 and 10:00 New York (EST) with prov-1; the appointment to move is Tuesday 10 March 09:00 (EDT). */
const SLOT = 'prov-1.20260303T1400';
const SLOT2 = 'prov-1.20260303T1500';
const LATER = 'prov-1.20260310T1300';
const ELSEWHERE = 'prov-1.20260311T1300';
const EXPIRES = NOW.plus({ hours: 2 }).toISO()!;

type Deps = OfferDeps & TestDeps & { waitlist: InMemoryWaitlist; offers: InMemoryOffers; sms: RecordingSms; smsMessages: InMemorySmsMessages };
let deps: Deps;
let later: Appointment;
let entryId: string;

beforeEach(async () => {
  const base = await demoDeps();
  deps = {
    ...base,
    waitlist: new InMemoryWaitlist(),
    offers: new InMemoryOffers(),
    idempotency: new InMemoryIdempotency(),
    audit: new InMemoryAudit(),
    sms: new RecordingSms(),
    smsMessages: new InMemorySmsMessages(),
  };
  later = await bookAppointment(deps, { slotId: LATER, patientId: 'pat-1', appointmentType: 'checkup', channel: 'api', actor: staff });
  entryId = (await addMoveUpEntry(deps, { appointmentId: later.appointmentId })).entry.waitlistEntryId;
  deps.publisher.published.length = 0;
});

const workflowOf = (slotId: string) => `backfill-${slotId}`;
const offerId = (slotId = SLOT) => offerIdFor(slotId, entryId);
const entry = async () => (await deps.waitlist.get(entryId))!;
const offer = async (slotId = SLOT) => (await deps.offers.get(offerId(slotId)))!;
const events = () => deps.publisher.published;
/** pat-1's appointments that hold time. */
const holding = async () =>
  (await deps.appointments.listByPatient('pat-1', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z')).filter((a) => OCCUPYING_STATUSES.has(a.status));
const bodies = () => deps.sms.sent.map((m) => m.body);

async function offered(slotId = SLOT, cascadeDepth?: number): Promise<WaitlistOffer> {
  const made = await createOffer(deps, {
    slotId,
    clinicId: 'clinic-1',
    waitlistEntryId: entryId,
    workflowInstanceId: workflowOf(slotId),
    round: 1,
    expiresAt: EXPIRES,
    ...(cascadeDepth ? { cascadeDepth } : {}),
  });
  if (!made) throw new Error('no offer made');
  return made;
}

describe('a move-up offer', () => {
  it('names the appointment where it stands, with a deterministic entry id', async () => {
    expect(entryId).toBe(moveUpEntryId(later.appointmentId));
    const o = await offered();
    expect(o.moveUp).toEqual({ appointmentId: later.appointmentId, slotId: LATER, start: later.start });
    expect((await entry()).status).toBe('offered');
  });

  it('is not made, and the entry ends, when the appointment was cancelled before the offer', async () => {
    await cancelAppointment(deps, { appointmentId: later.appointmentId, actor: staff, reasonCode: 'patient-call' });
    expect(
      await createOffer(deps, { slotId: SLOT, clinicId: 'clinic-1', waitlistEntryId: entryId, workflowInstanceId: 'w', round: 1, expiresAt: EXPIRES }),
    ).toBeUndefined();
    expect((await entry()).status).toBe('removed');
  });
});

describe('acceptOffer on a move-up', () => {
  it('moved: the same appointment now holds the offered slot, the old one is released with the cascade link, one offer.accepted', async () => {
    await offered(SLOT, 2);
    const r = await acceptOffer(deps, { offerId: offerId(), channel: 'backfill' });
    expect(r).toMatchObject({ outcome: 'accepted', moved: { previousSlotId: LATER, previousStart: later.start } });
    const mine = await holding();
    expect(mine.map((a) => [a.appointmentId, a.slotId])).toEqual([[later.appointmentId, SLOT]]);
    expect(await offer()).toMatchObject({ status: 'accepted', respondedAt: NOW.toISO() });
    expect((await entry()).status).toBe('booked');
    expect(events().map((e) => e.type)).toEqual([EventType.appointmentRescheduled, EventType.slotReleased, EventType.offerAccepted]);
    expect(events()[0]!.data).toMatchObject({ appointmentId: later.appointmentId, slotId: SLOT, previousSlotId: LATER });
    expect(events()[1]!.data).toMatchObject({
      slotId: LATER,
      reason: 'rescheduled',
      cascade: { depth: 3, offerId: offerId(), workflowInstanceId: workflowOf(SLOT) },
    });
    expect(events()[2]!.data).toMatchObject({ appointmentId: later.appointmentId, moveUp: true, previousSlotId: LATER });
    // The released slot is free for the next link.
    const next = await bookAppointment(deps, { slotId: LATER, patientId: 'pat-2', appointmentType: 'checkup', channel: 'backfill', actor: staff });
    expect(next.slotId).toBe(LATER);
  });

  it('a retried step after the move (stopped before the offer was closed) completes the acceptance without moving again', async () => {
    await offered();
    await rescheduleAppointment(deps, { appointmentId: later.appointmentId, newSlotId: SLOT, expectedSlotId: LATER, actor: staff, channel: 'backfill' });
    deps.publisher.published.length = 0;
    const r = await acceptOffer(deps, { offerId: offerId(), channel: 'backfill' });
    expect(r.outcome).toBe('accepted');
    expect(events().map((e) => e.type)).toEqual([EventType.offerAccepted]);
    expect((await holding()).map((a) => a.slotId)).toEqual([SLOT]);
    expect((await acceptOffer(deps, { offerId: offerId(), channel: 'backfill' })).outcome).toBe('already-accepted');
  });

  it('already moved (staff moved the appointment after the offer went out): nothing changes', async () => {
    await offered();
    await rescheduleAppointment(deps, { appointmentId: later.appointmentId, newSlotId: ELSEWHERE, actor: staff, channel: 'api' });
    deps.publisher.published.length = 0;
    expect(await acceptOffer(deps, { offerId: offerId(), channel: 'backfill' })).toMatchObject({ outcome: 'already-moved' });
    expect((await holding()).map((a) => [a.appointmentId, a.slotId])).toEqual([[later.appointmentId, ELSEWHERE]]);
    expect((await offer()).status).toBe('sent');
    expect(events()).toEqual([]);
  });

  it('withdrawn: the original was cancelled while the offer was out; nothing is booked and the entry ends', async () => {
    await offered();
    await cancelAppointment(deps, { appointmentId: later.appointmentId, actor: { kind: 'patient', principalId: 'pat-1' }, reasonCode: 'patient-sms' });
    deps.publisher.published.length = 0;
    expect(await acceptOffer(deps, { offerId: offerId(), channel: 'backfill' })).toMatchObject({ outcome: 'withdrawn' });
    expect(await holding()).toEqual([]);
    expect((await entry()).status).toBe('removed');
    expect(events()).toEqual([]);
  });

  it('slot taken by someone else: the appointment stays where it was', async () => {
    await offered();
    await bookAppointment(deps, { slotId: SLOT, patientId: 'pat-2', appointmentType: 'checkup', channel: 'api', actor: staff });
    expect(await acceptOffer(deps, { offerId: offerId(), channel: 'backfill' })).toMatchObject({ outcome: 'slot-taken', code: ErrorCode.SLOT_TAKEN });
    expect((await holding()).map((a) => a.slotId)).toEqual([LATER]);
    expect((await offer()).status).toBe('sent');
  });

  it('two slots offered at once (two backfills raced for the entry): at most one is accepted, the other is already-moved', async () => {
    await offered(SLOT);
    // The second backfill read the entry while it was still active.
    const e = await entry();
    await deps.waitlist.update({ ...e, status: 'active', version: e.version + 1 }, e.version);
    await offered(SLOT2);
    const results = await Promise.all([
      acceptOffer(deps, { offerId: offerId(SLOT), channel: 'backfill' }),
      acceptOffer(deps, { offerId: offerId(SLOT2), channel: 'backfill' }),
    ]);
    const outcomes = results.map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['accepted', 'already-moved']);
    const mine = await holding();
    expect(mine).toHaveLength(1);
    expect(mine[0]!.appointmentId).toBe(later.appointmentId);
    const winner = results.find((r) => r.outcome === 'accepted')!.offer.slotId;
    expect(mine[0]!.slotId).toBe(winner);
    expect(events().filter((x) => x.type === EventType.appointmentRescheduled)).toHaveLength(1);
    expect(events().filter((x) => x.type === EventType.offerAccepted)).toHaveLength(1);
    // The other slot was not taken: still free.
    const other = winner === SLOT ? SLOT2 : SLOT;
    expect((await bookAppointment(deps, { slotId: other, patientId: 'pat-2', appointmentType: 'checkup', channel: 'api', actor: staff })).slotId).toBe(other);
  });
});

describe('bookOffer on a move-up (the workflow carrying out a YES)', () => {
  it('one confirmation SMS naming the new time and that the old one is released', async () => {
    await offered();
    expect(await bookOffer(deps, offerId())).toEqual({ booked: true, appointmentId: later.appointmentId, moveUp: { previousSlotId: LATER } });
    expect(deps.sms.sent.map((m) => [m.patientId, m.purpose])).toEqual([['pat-1', 'confirmation']]);
    expect(bodies()[0]).toMatch(/you're moved to Tue 3 Mar 9:00 AM\. Your Tue 10 Mar 9:00 AM time is released/);
  });

  it('a second YES (another slot offered at once) gets "already moved" and changes nothing', async () => {
    await offered(SLOT);
    const e = await entry();
    await deps.waitlist.update({ ...e, status: 'active', version: e.version + 1 }, e.version);
    await offered(SLOT2);
    expect((await bookOffer(deps, offerId(SLOT))).booked).toBe(true);
    deps.sms.sent.length = 0;
    expect(await bookOffer(deps, offerId(SLOT2))).toEqual({ booked: false });
    expect((await offer(SLOT2)).status).toBe('unavailable');
    expect(bodies()).toEqual([expect.stringMatching(/already been moved, so this offer is closed/)]);
    expect((await holding()).map((a) => a.slotId)).toEqual([SLOT]);
    expect((await entry()).status).toBe('booked');
  });

  it('the original cancelled while the offer was out: the offer is withdrawn and the reply says so', async () => {
    await offered();
    await cancelAppointment(deps, { appointmentId: later.appointmentId, actor: staff, reasonCode: 'patient-call' });
    expect(await bookOffer(deps, offerId())).toEqual({ booked: false });
    expect((await offer()).status).toBe('unavailable');
    expect(bodies()).toEqual([expect.stringMatching(/offer is withdrawn because the appointment it would move was cancelled\. Nothing was booked/)]);
    expect(await holding()).toEqual([]);
    expect((await entry()).status).toBe('removed');
  });
});

describe('offerPolicy.relistMoveUps: a moved patient stays listed for an even earlier slot', () => {
  const withRelist = async (relistMoveUps: 'none' | 'urgent' | 'all') => {
    const clinic = (await deps.config.getClinic('clinic-1'))!;
    await deps.config.putClinic({ ...clinic, offerPolicy: { ...clinic.offerPolicy, relistMoveUps } });
  };

  it('all: the entry is active again at the new time, is offered an earlier slot and moves once more', async () => {
    await withRelist('all');
    await offered(SLOT2);
    expect((await acceptOffer(deps, { offerId: offerId(SLOT2), channel: 'backfill' })).outcome).toBe('accepted');
    expect(await entry()).toMatchObject({ status: 'active', moveUp: { appointmentId: later.appointmentId, slotId: SLOT2 } });
    // A retried step of the first acceptance leaves the relisted entry listed.
    expect((await acceptOffer(deps, { offerId: offerId(SLOT2), channel: 'backfill' })).outcome).toBe('already-accepted');
    expect((await entry()).status).toBe('active');
    // Only slots before the new time are offered now: 09:00 the same day is.
    await offered(SLOT);
    const again = await acceptOffer(deps, { offerId: offerId(SLOT), channel: 'backfill' });
    expect(again).toMatchObject({ outcome: 'accepted', moved: { previousSlotId: SLOT2 } });
    expect((await holding()).map((a) => [a.appointmentId, a.slotId])).toEqual([[later.appointmentId, SLOT]]);
  });

  it('urgent: a routine entry ends with its move as before', async () => {
    await withRelist('urgent');
    await offered(SLOT2);
    await acceptOffer(deps, { offerId: offerId(SLOT2), channel: 'backfill' });
    expect((await entry()).status).toBe('booked');
  });
});
