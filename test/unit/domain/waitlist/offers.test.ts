/**
 * The waitlist offer lifecycle (domain/waitlist/offers.ts) on in-memory ports and a fixed clock:
 * each transition, its guards, and the events it emits through the outbox.
 */
import { bookAppointment, ErrorCode, EventType, type WaitlistEntry, type WaitlistOffer } from '../../../../domain';
import { InMemoryAudit, InMemoryIdempotency, InMemoryOffers, InMemoryWaitlist, RecordingSms } from '../../../../domain/memory';
import { InMemorySmsMessages } from '../../../../domain/sms';
import {
  acceptOffer,
  bookOffer,
  createOffer,
  isEntryWaiting,
  isOfferOpenTo,
  offerIdFor,
  sendOffer,
  settleOffer,
  type OfferDeps,
} from '../../../../domain/waitlist/offers';
import { demoDeps, NOW, patientRecord, staff, waitlistEntry, type TestDeps } from '../../../fixtures/domain/builders';

/** Tuesday 3 March 09:00 New York with prov-1 (free in the demo clinic). */
const SLOT = 'prov-1.20260303T1400';
const OFFER_ID = offerIdFor(SLOT, 'wl-1');
const EXPIRES = NOW.plus({ hours: 2 }).toISO()!;
const WORKFLOW = `backfill-${SLOT}`;

type Deps = OfferDeps & TestDeps & { waitlist: InMemoryWaitlist; offers: InMemoryOffers; sms: RecordingSms; smsMessages: InMemorySmsMessages };
let deps: Deps;

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
  await deps.waitlist.add(waitlistEntry());
});

const entry = async () => (await deps.waitlist.get('wl-1'))!;
const offer = async () => (await deps.offers.get(OFFER_ID))!;
const events = () => deps.publisher.published.map((e) => e.type);
const texts = () => deps.sms.sent.map((m) => [m.patientId, m.purpose]);
const bookings = () => deps.appointments.listByPatient('pat-1', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');

/** An offer of SLOT to wl-1, recorded (entry offered) but not texted. */
async function offered(over: Partial<WaitlistOffer> = {}): Promise<WaitlistOffer> {
  const made = (await createOffer(deps, {
    slotId: SLOT,
    clinicId: 'clinic-1',
    waitlistEntryId: 'wl-1',
    workflowInstanceId: WORKFLOW,
    round: 1,
    expiresAt: EXPIRES,
  }))!;
  if (Object.keys(over).length === 0) return made;
  return deps.offers.update({ ...made, ...over, version: made.version + 1 }, made.version);
}

/** Ten messages to pat-1 in the last hours: the default daily limit is reached. */
async function reachDailyLimit(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const at = NOW.minus({ minutes: 30 + i })
      .toUTC()
      .toISO()!;
    await deps.smsMessages.create({
      messageId: `SM-earlier-${i}`,
      patientId: 'pat-1',
      clinicId: 'clinic-1',
      purpose: 'reminder',
      template: 'reminder',
      language: 'en',
      correlationId: `earlier-${i}`,
      status: 'delivered',
      sentAt: at,
      updatedAt: at,
    });
  }
}

async function setEntry(over: Partial<WaitlistEntry>): Promise<void> {
  const e = await entry();
  await deps.waitlist.update({ ...e, ...over, version: e.version + 1 }, e.version);
}

describe('createOffer', () => {
  it('records a sent offer with a deterministic id and marks the entry offered', async () => {
    const o = await offered();
    expect(o).toMatchObject({ offerId: OFFER_ID, slotId: SLOT, patientId: 'pat-1', status: 'sent', sentAt: NOW.toISO(), expiresAt: EXPIRES, version: 1 });
    expect(await entry()).toMatchObject({ status: 'offered', version: 2, updatedAt: NOW.toISO() });
  });

  it('a repeat returns the recorded offer and writes nothing', async () => {
    const first = await offered();
    const again = await offered();
    expect(again).toEqual(first);
    expect((await entry()).version).toBe(2);
  });

  it.each(['offered', 'booked', 'removed'] as const)('an entry that is %s is not offered', async (status) => {
    await setEntry({ status });
    expect(
      await createOffer(deps, { slotId: SLOT, clinicId: 'clinic-1', waitlistEntryId: 'wl-1', workflowInstanceId: WORKFLOW, round: 1, expiresAt: EXPIRES }),
    ).toBeUndefined();
    expect(await deps.offers.get(OFFER_ID)).toBeUndefined();
  });
});

describe('sendOffer', () => {
  const send = () => sendOffer(deps, { slotId: SLOT, waitlistEntryId: 'wl-1', patientId: 'pat-1', round: 1, expiresAt: EXPIRES, workflowInstanceId: WORKFLOW });

  it('records, texts once and emits offer.sent through the outbox; a repeat texts nothing more', async () => {
    expect(await send()).toEqual({ offerId: OFFER_ID, waitlistEntryId: 'wl-1', patientId: 'pat-1', outcome: 'sent' });
    expect(await send()).toMatchObject({ outcome: 'sent' });
    expect(texts()).toEqual([['pat-1', 'offer']]);
    expect(events()).toEqual([EventType.offerSent]);
    expect(deps.publisher.published[0]).toMatchObject({ id: `evt-sent-${OFFER_ID}`.slice(0, 64), subject: OFFER_ID, data: { round: 1, expiresAt: EXPIRES } });
  });

  it('an offer that cannot be texted is settled as unavailable and the entry waits again', async () => {
    await deps.patients.put(patientRecord({ smsConsent: false }));
    expect(await send()).toMatchObject({ outcome: 'not-sent' });
    expect((await offer()).status).toBe('unavailable');
    expect((await entry()).status).toBe('active');
    expect(texts()).toEqual([]);
  });
});

describe('sendOffer replacing an open offer (offerPolicy.replaceOpenOffers)', () => {
  /** Monday 14:00 New York: earlier than SLOT. */
  const EARLIER = 'prov-1.20260302T1900';
  const EARLIER_ID = offerIdFor(EARLIER, 'wl-1');
  const sendOf = (slotId: string) =>
    sendOffer(deps, { slotId, waitlistEntryId: 'wl-1', patientId: 'pat-1', round: 1, expiresAt: EXPIRES, workflowInstanceId: `backfill-${slotId}` });
  const policy = async (replaceOpenOffers: 'none' | 'urgent' | 'all', urgency: WaitlistEntry['urgency'] = 'urgent') => {
    const clinic = (await deps.config.getClinic('clinic-1'))!;
    await deps.config.putClinic({ ...clinic, offerPolicy: { ...clinic.offerPolicy, quietStart: '00:00', quietEnd: '00:00', replaceOpenOffers } });
    await setEntry({ urgency });
  };

  it('an earlier slot: the new offer is texted, then the open one closes without a text; a repeat changes nothing', async () => {
    await policy('urgent');
    expect(await sendOf(SLOT)).toMatchObject({ outcome: 'sent' });
    expect(await sendOf(EARLIER)).toMatchObject({ offerId: EARLIER_ID, outcome: 'sent' });
    expect((await offer()).status).toBe('unavailable');
    expect((await deps.offers.get(EARLIER_ID))!.status).toBe('sent');
    expect((await entry()).status).toBe('offered');
    expect(await sendOf(EARLIER)).toMatchObject({ outcome: 'sent' });
    expect(texts()).toEqual([
      ['pat-1', 'offer'],
      ['pat-1', 'offer'],
    ]);
    expect((await deps.offers.listOpenForPatient('pat-1')).map((o) => o.offerId)).toEqual([EARLIER_ID]);
    // The second text says it replaces the first offer (named by its time, Tue 3 Mar 9:00 AM in New York), so that one is not left standing.
    const [first, second] = deps.sms.sent.map((m) => m.body);
    expect(first).not.toContain('replaces');
    expect(second).toContain('an even earlier time opened up on Mon 2 Mar 2:00 PM. It replaces our offer of Tue 3 Mar 9:00 AM, which is now closed.');
  });

  it('a later slot, a routine entry under urgent, or the policy off: the open offer stands and no second offer is made', async () => {
    await policy('urgent');
    expect(await sendOf(EARLIER)).toMatchObject({ outcome: 'sent' });
    expect(await sendOf(SLOT)).toMatchObject({ outcome: 'not-sent' });
    await policy('urgent', 'routine');
    expect(await sendOf('prov-1.20260302T1500')).toMatchObject({ outcome: 'not-sent' });
    await policy('none');
    expect(await sendOf('prov-1.20260302T1500')).toMatchObject({ outcome: 'not-sent' });
    expect((await deps.offers.listOpenForPatient('pat-1')).map((o) => o.slotId)).toEqual([EARLIER]);
    expect(texts()).toEqual([['pat-1', 'offer']]);
  });

  it('all: a routine entry is replaced too', async () => {
    await policy('all', 'routine');
    await sendOf(SLOT);
    expect(await sendOf(EARLIER)).toMatchObject({ outcome: 'sent' });
    expect((await offer()).status).toBe('unavailable');
  });

  it('the new offer cannot be texted (daily limit): it is settled, the open one stays open and the entry offered', async () => {
    await policy('urgent');
    await sendOf(SLOT);
    await reachDailyLimit();
    expect(await sendOf(EARLIER)).toMatchObject({ outcome: 'not-sent' });
    expect((await deps.offers.get(EARLIER_ID))!.status).toBe('unavailable');
    expect((await offer()).status).toBe('sent');
    expect((await entry()).status).toBe('offered');
  });
});

describe('acceptOffer', () => {
  it('books the slot, marks offer accepted and entry booked, emits offer.accepted once', async () => {
    await offered();
    const r = await acceptOffer(deps, { offerId: OFFER_ID, channel: 'backfill' });
    expect(r.outcome).toBe('accepted');
    const [apt] = await bookings();
    expect(apt).toMatchObject({ slotId: SLOT, source: 'backfill', status: 'booked' });
    expect(await offer()).toMatchObject({ status: 'accepted', respondedAt: NOW.toISO(), version: 2 });
    expect((await entry()).status).toBe('booked');
    expect(deps.publisher.published.filter((e) => e.type === EventType.offerAccepted)).toEqual([
      expect.objectContaining({ id: `evt-accepted-${OFFER_ID}`.slice(0, 64), data: expect.objectContaining({ appointmentId: apt!.appointmentId }) }),
    ]);
  });

  it('through a link: booked as the patient, on channel link', async () => {
    await offered();
    const r = await acceptOffer(deps, { offerId: OFFER_ID, channel: 'link', patientId: 'pat-1' });
    expect(r.outcome === 'accepted' && r.appointment.source).toBe('link');
  });

  it('already accepted: reports the booking, books and emits nothing more', async () => {
    await offered();
    const first = await acceptOffer(deps, { offerId: OFFER_ID, channel: 'link', patientId: 'pat-1' });
    const again = await acceptOffer(deps, { offerId: OFFER_ID, channel: 'backfill' });
    expect(again).toMatchObject({ outcome: 'already-accepted', appointmentId: first.outcome === 'accepted' ? first.appointment.appointmentId : 'x' });
    expect(await bookings()).toHaveLength(1);
    expect(events().filter((t) => t === EventType.offerAccepted)).toHaveLength(1);
  });

  it.each(['expired', 'declined', 'unavailable'] as const)('a %s offer is not open: nothing booked', async (status) => {
    await offered({ status });
    expect(await acceptOffer(deps, { offerId: OFFER_ID, channel: 'backfill' })).toMatchObject({ outcome: 'not-open', reason: status });
    expect(await bookings()).toHaveLength(0);
  });

  it('past its expiry a link may not take it; the workflow (whose timer decided) still may', async () => {
    await offered({ expiresAt: NOW.minus({ minutes: 1 }).toISO()! });
    expect(await acceptOffer(deps, { offerId: OFFER_ID, channel: 'link', patientId: 'pat-1' })).toMatchObject({ outcome: 'not-open', reason: 'expired' });
    expect(await bookings()).toHaveLength(0);
    expect((await acceptOffer(deps, { offerId: OFFER_ID, channel: 'backfill' })).outcome).toBe('accepted');
  });

  it("another patient's offer is not open to them", async () => {
    await offered();
    expect(await acceptOffer(deps, { offerId: OFFER_ID, channel: 'link', patientId: 'pat-2' })).toMatchObject({ outcome: 'not-open', reason: 'other-patient' });
  });

  it('slot taken: reports the code, leaves offer and entry as they were', async () => {
    await offered();
    await bookAppointment(deps, { slotId: SLOT, patientId: 'pat-2', appointmentType: 'checkup', channel: 'api', actor: staff });
    expect(await acceptOffer(deps, { offerId: OFFER_ID, channel: 'backfill' })).toMatchObject({ outcome: 'slot-taken', code: ErrorCode.SLOT_TAKEN });
    expect((await offer()).status).toBe('sent');
    expect((await entry()).status).toBe('offered');
    expect(events()).not.toContain(EventType.offerAccepted);
  });

  it('the patient already holding this slot (an attempt that stopped before recording) completes the acceptance', async () => {
    await offered();
    const held = await bookAppointment(deps, { slotId: SLOT, patientId: 'pat-1', appointmentType: 'checkup', channel: 'backfill', actor: staff });
    const r = await acceptOffer(deps, { offerId: OFFER_ID, channel: 'backfill' });
    expect(r.outcome === 'accepted' && r.appointment.appointmentId).toBe(held.appointmentId);
    expect((await offer()).status).toBe('accepted');
    expect((await entry()).status).toBe('booked');
  });

  it.each(['booked', 'removed'] as const)('an entry no longer waiting (%s) is not booked from the offer', async (status) => {
    await offered();
    await setEntry({ status });
    expect(await acceptOffer(deps, { offerId: OFFER_ID, channel: 'backfill' })).toMatchObject({ outcome: 'entry-not-waiting' });
    expect(await bookings()).toHaveLength(0);
    expect((await offer()).status).toBe('sent');
  });

  it('an unknown offer is OFFER.NOT_FOUND', async () => {
    await expect(acceptOffer(deps, { offerId: 'nope', channel: 'backfill' })).rejects.toMatchObject({ code: ErrorCode.OFFER_NOT_FOUND });
  });

  it('the workflow settling the offer meanwhile: the booking stands, the settled status too, the entry is booked', async () => {
    await offered();
    // Between the read and the write, the workflow expires the offer.
    const offers = deps.offers;
    const update = offers.update.bind(offers);
    let raced = false;
    offers.update = async (o, expected) => {
      if (!raced && o.status === 'accepted') {
        raced = true;
        const current = (await offers.get(o.offerId))!;
        await update({ ...current, status: 'expired', version: current.version + 1 }, current.version);
      }
      return update(o, expected);
    };
    const r = await acceptOffer(deps, { offerId: OFFER_ID, channel: 'link', patientId: 'pat-1' });
    expect(r.outcome).toBe('accepted');
    expect(await bookings()).toHaveLength(1);
    expect((await offer()).status).toBe('expired');
    expect((await entry()).status).toBe('booked');
    expect(events()).not.toContain(EventType.offerAccepted);
  });
});

describe('bookOffer (the workflow carrying out a YES)', () => {
  it('accepts and texts the booking', async () => {
    await offered();
    const r = await bookOffer(deps, OFFER_ID);
    expect(r).toEqual({ booked: true, appointmentId: (await bookings())[0]!.appointmentId });
    expect(texts()).toEqual([['pat-1', 'confirmation']]);
  });

  it('a slot gone meanwhile settles the offer as unavailable, frees the entry and tells the patient', async () => {
    await offered();
    await bookAppointment(deps, { slotId: SLOT, patientId: 'pat-2', appointmentType: 'checkup', channel: 'api', actor: staff });
    expect(await bookOffer(deps, OFFER_ID)).toEqual({ booked: false });
    expect((await offer()).status).toBe('unavailable');
    expect((await entry()).status).toBe('active');
    expect(texts()).toEqual([['pat-1', 'offer-taken']]);
  });

  it('the "slot taken" answer to a YES goes out even when the daily SMS limit is reached', async () => {
    await offered();
    await reachDailyLimit();
    await bookAppointment(deps, { slotId: SLOT, patientId: 'pat-2', appointmentType: 'checkup', channel: 'api', actor: staff });
    expect(await bookOffer(deps, OFFER_ID)).toEqual({ booked: false });
    expect(texts()).toEqual([['pat-1', 'offer-taken']]);
  });

  it('an offer accepted through a link is reported booked without booking again', async () => {
    await offered();
    await acceptOffer(deps, { offerId: OFFER_ID, channel: 'link', patientId: 'pat-1' });
    expect(await bookOffer(deps, OFFER_ID)).toMatchObject({ booked: true, appointmentId: expect.any(String) });
    expect(await bookings()).toHaveLength(1);
    expect(texts()).toEqual([]);
  });
});

describe('settleOffer (decline, expire, unavailable)', () => {
  it('declined: respondedAt set, the entry waits again, no event, no text', async () => {
    await offered();
    await settleOffer(deps, OFFER_ID, 'declined', { notify: false });
    expect(await offer()).toMatchObject({ status: 'declined', respondedAt: NOW.toISO() });
    expect((await entry()).status).toBe('active');
    expect(events()).toEqual([]);
    expect(texts()).toEqual([]);
  });

  it('expired: the entry waits again and offer.expired carries the appointment type', async () => {
    await offered();
    await settleOffer(deps, OFFER_ID, 'expired', { notify: false });
    const o = await offer();
    expect(o.status).toBe('expired');
    expect(o.respondedAt).toBeUndefined();
    expect((await entry()).status).toBe('active');
    expect(deps.publisher.published).toEqual([
      expect.objectContaining({
        type: EventType.offerExpired,
        id: `evt-expired-${OFFER_ID}`.slice(0, 64),
        data: expect.objectContaining({ appointmentType: 'checkup' }),
      }),
    ]);
  });

  it('unavailable with notify: the patient is told the slot is gone', async () => {
    await offered();
    await settleOffer(deps, OFFER_ID, 'unavailable', { notify: true });
    expect((await offer()).status).toBe('unavailable');
    expect(texts()).toEqual([['pat-1', 'offer-taken']]);
  });

  it('unavailable with notify to a patient who did not reply keeps to the daily SMS limit', async () => {
    await offered();
    await reachDailyLimit();
    await settleOffer(deps, OFFER_ID, 'unavailable', { notify: true });
    expect((await offer()).status).toBe('unavailable');
    expect(texts()).toEqual([]);
  });

  it('an offer no longer sent is left alone, and so is its entry', async () => {
    await offered();
    await acceptOffer(deps, { offerId: OFFER_ID, channel: 'backfill' });
    expect(await settleOffer(deps, OFFER_ID, 'expired', { notify: true })).toBeUndefined();
    expect((await offer()).status).toBe('accepted');
    expect((await entry()).status).toBe('booked');
    expect(events()).not.toContain(EventType.offerExpired);
    expect(await settleOffer(deps, 'unknown', 'declined', { notify: false })).toBeUndefined();
  });

  it('only an offered entry goes back to active', async () => {
    await offered();
    await setEntry({ status: 'removed' });
    await settleOffer(deps, OFFER_ID, 'declined', { notify: false });
    expect((await entry()).status).toBe('removed');
  });
});

describe('guards', () => {
  const base: WaitlistOffer = {
    offerId: 'o',
    clinicId: 'clinic-1',
    slotId: SLOT,
    waitlistEntryId: 'wl-1',
    patientId: 'pat-1',
    workflowInstanceId: WORKFLOW,
    round: 1,
    status: 'sent',
    sentAt: NOW.toISO()!,
    expiresAt: EXPIRES,
    version: 1,
  };
  it('isOfferOpenTo: the patient, still sent, not run out', () => {
    const now = NOW.toISO()!;
    expect(isOfferOpenTo(base, 'pat-1', now)).toBe(true);
    expect(isOfferOpenTo(base, 'pat-2', now)).toBe(false);
    expect(isOfferOpenTo({ ...base, status: 'accepted' }, 'pat-1', now)).toBe(false);
    expect(isOfferOpenTo(base, 'pat-1', EXPIRES)).toBe(false);
    expect(isOfferOpenTo(undefined, 'pat-1', now)).toBe(false);
  });
  it('isEntryWaiting: active or offered', () => {
    expect(['active', 'offered', 'booked', 'removed'].map((status) => isEntryWaiting(waitlistEntry({ status: status as WaitlistEntry['status'] })))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(isEntryWaiting(undefined)).toBe(false);
  });
});
