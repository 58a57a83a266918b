/**
 * Offer links (domain/sms/link-booking.ts): what an offer link shows and books, on in-memory ports.
 * Search links and the pages themselves are covered through HTTP in test/e2e/book-link.test.ts.
 */
import { bookAppointment, EventType } from '../../../../domain';
import { InMemoryAudit, InMemoryIdempotency, InMemoryOffers, InMemoryWaitlist, RecordingSms } from '../../../../domain/memory';
import { confirmBookingLink, createLinkToken, InMemorySmsMessages, openBookingLink, type OfferReplyPayload } from '../../../../domain/sms';
import { createOffer, offerIdFor, type OfferDeps } from '../../../../domain/waitlist/offers';
import { demoDeps, NOW, waitlistEntry, type TestDeps } from '../../../fixtures/domain/builders';

const KEY = 'k'.repeat(40);
const SLOT = 'prov-1.20260303T1400';
const OFFER_ID = offerIdFor(SLOT, 'wl-1');
let deps: OfferDeps & TestDeps;
let raised: { instanceId: string; reply: OfferReplyPayload }[];
const workflow = {
  raiseOfferReply: async (instanceId: string, reply: OfferReplyPayload) => {
    raised.push({ instanceId, reply });
    return 'raised' as const;
  },
};

const token = (tokenId = 'token-0001') =>
  createLinkToken(
    { tokenId, patientId: 'pat-1', scope: { kind: 'offer', offerId: OFFER_ID }, issuedAt: NOW.toISO()!, expiresAt: NOW.plus({ hours: 2 }).toISO()! },
    KEY,
  );

beforeEach(async () => {
  raised = [];
  deps = {
    ...(await demoDeps()),
    waitlist: new InMemoryWaitlist(),
    offers: new InMemoryOffers(),
    idempotency: new InMemoryIdempotency(),
    audit: new InMemoryAudit(),
    sms: new RecordingSms(),
    smsMessages: new InMemorySmsMessages(),
  };
  await deps.waitlist.add(waitlistEntry());
  await createOffer(deps, {
    slotId: SLOT,
    clinicId: 'clinic-1',
    waitlistEntryId: 'wl-1',
    workflowInstanceId: `backfill-${SLOT}`,
    round: 1,
    expiresAt: NOW.plus({ minutes: 90 }).toISO()!,
  });
});

it('an open offer shows its one slot; confirming accepts it (offer.accepted) and tells the workflow', async () => {
  const view = await openBookingLink(deps, KEY, token());
  expect(view.kind === 'choose' && view.choice.slots.map((s) => s.slotId)).toEqual([SLOT]);
  const done = await confirmBookingLink(deps, workflow, KEY, token(), SLOT);
  expect(done.kind).toBe('booked');
  expect((await deps.offers.get(OFFER_ID))?.status).toBe('accepted');
  expect((await deps.waitlist.get('wl-1'))?.status).toBe('booked');
  expect(deps.publisher.published.map((e) => e.type)).toContain(EventType.offerAccepted);
  expect(raised).toEqual([{ instanceId: `backfill-${SLOT}`, reply: expect.objectContaining({ offerId: OFFER_ID, channel: 'link', reply: 'yes' }) }]);
});

it('an offer past its expiry, or whose entry is no longer waiting, is not open', async () => {
  deps.clock.advance({ minutes: 91 });
  expect(await openBookingLink(deps, KEY, token())).toMatchObject({ kind: 'problem', code: 'OFFER.NOT_OPEN' });
  deps.clock.set(NOW);
  const entry = (await deps.waitlist.get('wl-1'))!;
  await deps.waitlist.update({ ...entry, status: 'removed', version: entry.version + 1 }, entry.version);
  expect(await confirmBookingLink(deps, workflow, KEY, token(), SLOT)).toMatchObject({ kind: 'problem', code: 'OFFER.NOT_OPEN' });
  expect(await deps.appointments.listByPatient('pat-1', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z')).toHaveLength(0);
  expect(raised).toEqual([]);
});

describe('a search link whose picked time is no longer listed when the patient confirms', () => {
  const searchToken = (tokenId: string) =>
    createLinkToken(
      {
        tokenId,
        patientId: 'pat-1',
        scope: {
          kind: 'search',
          clinicId: 'clinic-1',
          appointmentType: 'checkup',
          from: NOW.toISO()!,
          to: NOW.plus({ days: 1 }).toISO()!,
          providerId: 'prov-1',
        },
        issuedAt: NOW.toISO()!,
        expiresAt: NOW.plus({ hours: 4 }).toISO()!,
      },
      KEY,
    );
  // Monday 09:00 and 09:30 in New York; the clinic asks 60 minutes' notice and it is 08:00 there.
  const FIRST = 'prov-1.20260302T1400';
  const SECOND = 'prov-1.20260302T1430';
  const listed = async (t: string) => {
    const view = await openBookingLink(deps, KEY, t);
    return view.kind === 'choose' ? view.choice.slots.map((s) => s.slotId) : [];
  };

  it('too close for the notice by now: says so (APPOINTMENT.TOO_LITTLE_NOTICE), books nothing, and the link still books another time', async () => {
    const t = searchToken('token-notice');
    expect((await listed(t)).slice(0, 2)).toEqual([FIRST, SECOND]);
    deps.clock.advance({ minutes: 30 });
    expect(await confirmBookingLink(deps, workflow, KEY, t, FIRST)).toMatchObject({ kind: 'choose-again', code: 'APPOINTMENT.TOO_LITTLE_NOTICE' });
    expect(await listed(t)).not.toContain(FIRST);
    expect(await confirmBookingLink(deps, workflow, KEY, t, SECOND)).toMatchObject({ kind: 'booked' });
  });

  it("booked by someone else meanwhile: APPOINTMENT.SLOT_TAKEN; a time that was never the link's: LINK.SLOT_NOT_OFFERED", async () => {
    const t = searchToken('token-taken');
    expect(await listed(t)).toContain(SECOND);
    await bookAppointment(deps, {
      slotId: SECOND,
      patientId: 'pat-2',
      appointmentType: 'checkup',
      channel: 'api',
      actor: { kind: 'staff', principalId: 'desk-1' },
    });
    expect(await confirmBookingLink(deps, workflow, KEY, t, SECOND)).toMatchObject({ kind: 'choose-again', code: 'APPOINTMENT.SLOT_TAKEN' });
    // Not a slot of the schedule, a malformed id, another provider's slot, and a free slot outside the link's window.
    for (const other of ['prov-1.20260302T1415', 'nonsense', 'prov-2.20260302T1500', 'prov-1.20260305T1400']) {
      expect([other, await confirmBookingLink(deps, workflow, KEY, t, other)]).toEqual([
        other,
        expect.objectContaining({ kind: 'choose-again', code: 'LINK.SLOT_NOT_OFFERED' }),
      ]);
    }
    expect(await deps.appointments.listByPatient('pat-1', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z')).toHaveLength(0);
  });
});
