/**
 * Reschedule by SMS (issue 22) and the booking page's "earlier time" box (issue 15), on in-memory
 * ports with a fixed clock: R answers a signed reschedule link; the link lists other times (same
 * provider first) and moves the appointment through the reschedule use case, which releases the
 * old slot (slot.released, reason rescheduled) for backfill; the box puts a booked visit on the
 * move-up list. The pages are covered through HTTP in test/e2e/book-link.test.ts.
 */
import { bookAppointment, cancelAppointment, EventType, type SchedulingEvent } from '../../../../domain';
import { InMemoryAudit, InMemoryIdempotency, InMemoryOffers, InMemoryWaitlist, RecordingSms } from '../../../../domain/memory';
import {
  confirmBookingLink,
  createLinkToken,
  handleInboundSms,
  InMemorySmsMessages,
  openBookingLink,
  rescheduleAlternatives,
  verifyLinkToken,
  type BookingLinkIssuer,
  type BookingLinkRequest,
  type LinkScope,
} from '../../../../domain/sms';
import { moveUpEntryId } from '../../../../domain/waitlist/move-up';
import type { OfferDeps } from '../../../../domain/waitlist/offers';
import { demoDeps, NOW, staff, type TestDeps } from '../../../fixtures/domain/builders';

const KEY = 'k'.repeat(40);
let deps: OfferDeps & TestDeps;
let issued: BookingLinkRequest[];
let n = 0;
const workflow = { raiseOfferReply: async () => 'raised' as const };
const issuer: BookingLinkIssuer = {
  issue: (req) => {
    issued.push(req);
    const expiresAt = NOW.plus({ minutes: req.ttlMinutes ?? 60 }).toISO()!;
    const token = createLinkToken(
      { tokenId: `token-${String(++n).padStart(4, '0')}`, patientId: req.patientId, scope: req.scope, issuedAt: NOW.toISO()!, expiresAt },
      KEY,
    );
    return { url: `https://slotflow.example.org/book/${token}`, tokenId: `token-${n}`, expiresAt };
  },
};
const text = (body: string, from = '+14155550123') =>
  handleInboundSms(deps, workflow, { messageSid: `SM${String(++n).padStart(32, '0')}`, from, body }, issuer);
const tokenOf = (answer: string | undefined) => /\/book\/([A-Za-z0-9_.-]+)/.exec(answer ?? '')![1]!;
const book = (slotId: string, patientId = 'pat-1') => bookAppointment(deps, { slotId, patientId, appointmentType: 'checkup', channel: 'api', actor: staff });
const released = () =>
  deps.publisher.published.filter((e): e is Extract<SchedulingEvent, { type: typeof EventType.slotReleased }> => e.type === EventType.slotReleased);

beforeEach(async () => {
  issued = [];
  deps = {
    ...(await demoDeps()),
    waitlist: new InMemoryWaitlist(),
    offers: new InMemoryOffers(),
    idempotency: new InMemoryIdempotency(),
    audit: new InMemoryAudit(),
    sms: new RecordingSms(),
    smsMessages: new InMemorySmsMessages(),
  };
});

describe('R to a reminder', () => {
  it('answers a reschedule link for the next appointment; the page lists other times and a pick moves it', async () => {
    // Thu 5 Mar 10:00 New York; now is Mon 2 Mar 08:00.
    const appointment = await book('prov-1.20260305T1500');
    const r = await text('R');
    expect(r.action).toBe('send-reschedule-link');
    expect(r.answer).toMatch(
      /^Demo Clinic: to move your Thu 5 Mar 10:00 AM visit, pick a new time here: https:\/\/slotflow\.example\.org\/book\/\S+ \(link valid until Wed 4 Mar 8:00 AM\)\. Your visit stays booked until you pick\.$/,
    );
    // At most 48 h (the 24-hour cancellation window opens later, Wed 4 Mar 10:00, so it does not shorten this one).
    expect(issued).toEqual([{ patientId: 'pat-1', scope: { kind: 'reschedule', appointmentId: appointment.appointmentId }, ttlMinutes: 48 * 60 }]);
    const token = tokenOf(r.answer);
    expect(verifyLinkToken(token, KEY, NOW.toMillis())).toMatchObject({
      ok: true,
      claims: { scope: { kind: 'reschedule', appointmentId: appointment.appointmentId } },
    });

    const view = await openBookingLink(deps, KEY, token);
    if (view.kind !== 'choose') throw new Error(`expected choose, got ${view.code}`);
    expect(view.choice.reschedule?.appointmentId).toBe(appointment.appointmentId);
    expect(view.choice.earlierOption).toBe(false);
    const ids = view.choice.slots.map((s) => s.slotId);
    expect(ids).not.toContain('prov-1.20260305T1500');
    expect(ids[0]).toBe('prov-1.20260302T1400'); // Mon 09:00, after the 60-minute notice
    expect(ids.every((id) => id.startsWith('prov-1.'))).toBe(true); // 30 times of the same provider fill the page

    const done = await confirmBookingLink(deps, workflow, KEY, token, 'prov-1.20260303T1500');
    expect(done).toMatchObject({
      kind: 'moved',
      previousStart: appointment.start,
      appointment: { appointmentId: appointment.appointmentId, slotId: 'prov-1.20260303T1500' },
    });
    const stored = await deps.appointments.get(appointment.appointmentId);
    expect(stored).toMatchObject({ status: 'booked', slotId: 'prov-1.20260303T1500', start: '2026-03-03T10:00:00-05:00' });
    // One appointment, the old slot released for backfill (reason rescheduled).
    expect(await deps.appointments.listByPatient('pat-1', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z')).toHaveLength(1);
    expect(released().map((e) => [e.data.slotId, e.data.reason])).toEqual([['prov-1.20260305T1500', 'rescheduled']]);
    expect(deps.publisher.published.map((e) => e.type)).toContain(EventType.appointmentRescheduled);
    // One confirmation text: the new time and the released one.
    expect((deps.sms as RecordingSms).sent.map((m) => m.body)).toEqual([
      "Demo Clinic: you're moved to Tue 3 Mar 10:00 AM. Your Thu 5 Mar 10:00 AM time is released. Reply X to cancel.",
    ]);
    // Single use.
    expect(await confirmBookingLink(deps, workflow, KEY, token, 'prov-1.20260303T1530')).toMatchObject({ kind: 'problem', code: 'LINK.USED' });
  });

  it('inside the cancellation window: call instead, no link', async () => {
    await book('prov-1.20260302T1900'); // today 14:00, six hours away
    expect(await text('r')).toMatchObject({
      action: 'send-reschedule-link',
      answer: 'Demo Clinic: your appointment on Mon 2 Mar 2:00 PM is too soon to change by text. Please call the clinic.',
    });
    expect(issued).toEqual([]);
  });

  it('without an upcoming appointment, in Spanish too', async () => {
    expect(await text('CAMBIAR', '+14155550124')).toMatchObject({
      action: 'answer',
      answer: expect.stringMatching(/^Demo Clinic: no encontramos ninguna cita/),
    });
    expect(issued).toEqual([]);
  });

  it('a link whose appointment was cancelled, or that the clock caught up with, moves nothing', async () => {
    const appointment = await book('prov-1.20260305T1500');
    const token = tokenOf((await text('R')).answer);
    await cancelAppointment(deps, { appointmentId: appointment.appointmentId, actor: staff, reasonCode: 'patient-call' });
    expect(await openBookingLink(deps, KEY, token)).toMatchObject({ kind: 'problem', code: 'APPOINTMENT.NOT_MOVABLE' });
    expect(await confirmBookingLink(deps, workflow, KEY, token, 'prov-1.20260303T1500')).toMatchObject({ kind: 'problem', code: 'APPOINTMENT.NOT_MOVABLE' });

    const second = await book('prov-1.20260306T1500'); // Fri 6 Mar 10:00
    const later = tokenOf((await text('R')).answer);
    deps.clock.advance({ hours: 75 }); // Thu 11:00; the link ended Wed 8:00 (48 h)
    expect(await openBookingLink(deps, KEY, later)).toMatchObject({ kind: 'problem', code: 'LINK.EXPIRED' });
    expect((await deps.appointments.get(second.appointmentId))?.slotId).toBe('prov-1.20260306T1500');
  });

  it("another patient's appointment in a link is refused", async () => {
    const other = await book('prov-1.20260305T1500', 'pat-2');
    const scope: LinkScope = { kind: 'reschedule', appointmentId: other.appointmentId };
    const token = createLinkToken(
      { tokenId: 'token-forged1', patientId: 'pat-1', scope, issuedAt: NOW.toISO()!, expiresAt: NOW.plus({ hours: 1 }).toISO()! },
      KEY,
    );
    expect(await openBookingLink(deps, KEY, token)).toMatchObject({ kind: 'problem', code: 'LINK.UNKNOWN_APPOINTMENT' });
  });
});

describe('rescheduleAlternatives', () => {
  const current = { slotId: 'a.1000', providerId: 'a', start: '2026-03-05T10:00:00Z' };
  const s = (providerId: string, hh: string) => ({ slotId: `${providerId}.${hh}`, providerId, start: `2026-03-05T${hh}:00:00Z` });
  it('same provider first, then others; one per start time; never the current time; shown in time order', () => {
    const free = [s('b', '08'), s('a', '09'), s('b', '09'), s('a', '10'), s('b', '10'), s('a', '11'), s('b', '12')];
    expect(rescheduleAlternatives(free, current, 10).map((x) => x.slotId)).toEqual(['b.08', 'a.09', 'a.11', 'b.12']);
    // With room for two, the same provider's times win.
    expect(rescheduleAlternatives(free, current, 2).map((x) => x.slotId)).toEqual(['a.09', 'a.11']);
    expect(rescheduleAlternatives(free, current, 3).map((x) => x.slotId)).toEqual(['b.08', 'a.09', 'a.11']);
  });
});

describe('the "earlier time" box of the booking page', () => {
  const searchToken = (tokenId: string) =>
    createLinkToken(
      {
        tokenId,
        patientId: 'pat-1',
        scope: { kind: 'search', clinicId: 'clinic-1', appointmentType: 'checkup', from: NOW.toISO()!, to: NOW.plus({ days: 20 }).toISO()! },
        issuedAt: NOW.toISO()!,
        expiresAt: NOW.plus({ hours: 2 }).toISO()!,
      },
      KEY,
    );

  it('ticked: the booked visit gets a move-up entry; unticked: none', async () => {
    const view = await openBookingLink(deps, KEY, searchToken('token-box-01'));
    expect(view.kind === 'choose' && view.choice.earlierOption).toBe(true);
    const ticked = await confirmBookingLink(deps, workflow, KEY, searchToken('token-box-01'), 'prov-1.20260303T1400', { earlier: true });
    if (ticked.kind !== 'booked') throw new Error(ticked.kind);
    expect(ticked.earlier).toBe(true);
    expect(await deps.waitlist.get(moveUpEntryId(ticked.appointment.appointmentId))).toMatchObject({
      status: 'active',
      patientId: 'pat-1',
      appointmentType: 'checkup',
      moveUp: { appointmentId: ticked.appointment.appointmentId, slotId: 'prov-1.20260303T1400' },
    });

    const plain = await confirmBookingLink(deps, workflow, KEY, searchToken('token-box-02'), 'prov-1.20260303T1430');
    if (plain.kind !== 'booked') throw new Error(plain.kind);
    expect(plain.earlier).toBe(false);
    expect(await deps.waitlist.get(moveUpEntryId(plain.appointment.appointmentId))).toBeUndefined();
  });
});

it('a reschedule link whose 48 hours outlast the window is cut at the window', async () => {
  await book('prov-1.20260303T1500'); // Tue 3 Mar 10:00: window opens Mon 10:00 (15:00Z), two hours from now
  await text('R');
  expect(issued.map((r) => r.ttlMinutes)).toEqual([120]);
});
