/**
 * The waitlist offer lifecycle, in one place: a freed slot is offered to a waitlist entry (create and
 * text), the patient takes it (accept) or not (decline), it runs out (expire) or goes to someone else
 * (unavailable). Only this module changes an offer's or a waitlist entry's status, and it emits the
 * offer events through the Outbox port.
 *
 *   entry:  active --offer--> offered --accept--> booked
 *                             offered --decline / expire / unavailable--> active
 *           active | offered --the appointment a move-up would move is gone--> removed
 *
 * A move-up offer (the entry names an appointment the patient holds) is accepted by moving that
 * appointment (rescheduleAppointment: one write, new slot claimed and old released), never by
 * booking a second one; the released slot carries the cascade link to its own backfill.
 *   offer:  sent --> accepted | declined | expired | unavailable   (all final)
 */
import { DomainError, ErrorCode, isDomainError } from '../errors';
import { EventType, makeEvent, type SchedulingEvent } from '../events';
import type { Appointment, Clinic, OfferStatus, WaitlistEntry, WaitlistOffer } from '../model';
import type { IdempotencyStore, OfferRepository, WaitlistRepository } from '../ports';
import { bookAppointment, dispatchQuietly, rescheduleAppointment, resolveSlot, type SchedulingDeps } from '../scheduling';
import { OCCUPYING_STATUSES } from '../slots';
import { classifyOffer } from '../sms/replies';
import { notifyPatient, type SmsDeps } from '../sms/send';
import { isMovable, moveUpOf } from './move-up';
import { parseSlotId, parseSlotIdMs } from '../ids';

/** Everything the offer use cases touch; each takes only the ports it needs. */
export interface OfferDeps extends SchedulingDeps, SmsDeps {
  waitlist: WaitlistRepository;
  offers: OfferRepository;
  idempotency: IdempotencyStore;
}
/** What settling an offer needs (it may text the patient). */
type SettleDeps = Pick<OfferDeps, keyof SmsDeps | 'offers' | 'waitlist' | 'outbox'>;
/** What accepting an offer needs (it books through the scheduling domain). */
type AcceptDeps = Pick<OfferDeps, keyof SchedulingDeps | 'offers' | 'waitlist'>;

/** The offer of one slot to one waitlist entry: deterministic, so a retried activity finds it. */
export function offerIdFor(slotId: string, waitlistEntryId: string): string {
  return `ofr-${slotId.replace(/\./g, '-')}-${waitlistEntryId}`.slice(0, 64);
}

/** True while `offer` can be taken by `patientId` at `nowIso`: theirs, still `sent`, not run out. */
export function isOfferOpenTo(offer: WaitlistOffer | undefined, patientId: string, nowIso: string): offer is WaitlistOffer {
  return offer !== undefined && offer.patientId === patientId && classifyOffer(offer, nowIso).kind === 'open';
}

/** Entries an offer may still be made to or booked from. */
export function isEntryWaiting(entry: WaitlistEntry | undefined): entry is WaitlistEntry {
  return entry !== undefined && (entry.status === 'active' || entry.status === 'offered');
}

/** Optimistic-concurrency retries of one status change before the conflict is reported. */
const MAX_CONFLICT_RETRIES = 3;

/** The states a waitlist entry may leave for each target state. */
const ENTRY_MOVES: Record<'offered' | 'booked' | 'active' | 'removed', readonly WaitlistEntry['status'][]> = {
  offered: ['active'],
  booked: ['active', 'offered'],
  active: ['offered'],
  removed: ['active', 'offered'],
};

/**
 * The one write of a waitlist entry's status: to `to`, if the entry is in a state that may move
 * there. A concurrent change is re-read and re-checked, so two writers never undo each other.
 * Returns the moved entry, or undefined when it was missing or elsewhere.
 */
async function moveEntry(
  deps: Pick<OfferDeps, 'waitlist'>,
  waitlistEntryId: string,
  to: keyof typeof ENTRY_MOVES,
  at: string,
  known?: WaitlistEntry,
): Promise<WaitlistEntry | undefined> {
  let entry = known ?? (await deps.waitlist.get(waitlistEntryId));
  for (let attempt = 1; ; attempt++) {
    if (!entry || !ENTRY_MOVES[to].includes(entry.status)) return undefined;
    try {
      return await deps.waitlist.update({ ...entry, status: to, updatedAt: at, version: entry.version + 1 }, entry.version);
    } catch (e) {
      if (!isDomainError(e, ErrorCode.CONCURRENT_MODIFICATION) || attempt >= MAX_CONFLICT_RETRIES) throw e;
      entry = await deps.waitlist.get(waitlistEntryId);
    }
  }
}

/**
 * The one write of an offer's status: a `sent` offer becomes final. Returns undefined when the
 * offer is no longer `sent` (another writer settled it first; theirs stands).
 */
async function closeOffer(
  deps: Pick<OfferDeps, 'offers'>,
  offer: WaitlistOffer,
  status: Exclude<OfferStatus, 'sent'>,
  at: string,
): Promise<WaitlistOffer | undefined> {
  let current: WaitlistOffer | undefined = offer;
  for (let attempt = 1; ; attempt++) {
    if (!current || current.status !== 'sent') return undefined;
    const responded = status === 'accepted' || status === 'declined' ? { respondedAt: at } : {};
    try {
      return await deps.offers.update({ ...current, status, ...responded, version: current.version + 1 }, current.version);
    } catch (e) {
      if (!isDomainError(e, ErrorCode.CONCURRENT_MODIFICATION) || attempt >= MAX_CONFLICT_RETRIES) throw e;
      current = await deps.offers.get(offer.offerId);
    }
  }
}

/** Event ids derive from the offer, so a retried step repeats the same id and Service Bus duplicate detection drops it. */
const offerEventMeta = (offerId: string, kind: string, time: string) => ({ id: `evt-${kind}-${offerId}`.slice(0, 64), time, subject: offerId });

/**
 * Offer events go out through the outbox like every other event. No document carries them (the
 * offer repository stores none), so a failed publish is not retried: the workflow goes on either way.
 */
async function emit(deps: Pick<OfferDeps, 'outbox'>, event: SchedulingEvent): Promise<void> {
  await dispatchQuietly(deps, [event]);
}

const ref = (o: WaitlistOffer) => ({ offerId: o.offerId, waitlistEntryId: o.waitlistEntryId, patientId: o.patientId, slotId: o.slotId, clinicId: o.clinicId });

async function clinicOf(deps: Pick<OfferDeps, 'config'>, offer: WaitlistOffer): Promise<Clinic> {
  const clinic = await deps.config.getClinic(offer.clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId: offer.clinicId });
  return clinic;
}

// ---- create ----------------------------------------------------------------------------------

export interface NewOffer {
  slotId: string;
  clinicId: string;
  waitlistEntryId: string;
  /** The backfill workflow instance that waits for the reply. */
  workflowInstanceId: string;
  round: number;
  expiresAt: string;
  /** Move-ups before this backfill in its cascade (0 or absent: the slot was freed by a cancellation or no-show). */
  cascadeDepth?: number;
  /** The entry's open offer this one replaces (replacedOffer): the entry may be `offered` and stays so. */
  replaces?: string;
}

/**
 * Records the offer of a slot to a waitlist entry (create-only) and marks the entry offered. A
 * repeat returns the offer already recorded, whatever its status; undefined when there is none and
 * the entry is no longer waiting to be offered (only `active` entries are, and with `replaces` an
 * `offered` one).
 */
export async function createOffer(
  deps: Pick<OfferDeps, 'offers' | 'waitlist' | 'clock'> & { appointments: Pick<OfferDeps['appointments'], 'get'> },
  req: NewOffer,
): Promise<WaitlistOffer | undefined> {
  const offerId = offerIdFor(req.slotId, req.waitlistEntryId);
  const existing = await deps.offers.get(offerId);
  if (existing) return existing;
  const entry = await deps.waitlist.get(req.waitlistEntryId);
  if (!entry || !(entry.status === 'active' || (req.replaces !== undefined && entry.status === 'offered'))) return undefined;
  const now = deps.clock.now().toUTC().toISO()!;
  // A move-up offer names the appointment where it stands now; one whose appointment is gone ends the entry.
  let moveUp = entry.moveUp;
  if (moveUp) {
    const appointment = await deps.appointments.get(moveUp.appointmentId);
    if (!isMovable(appointment, deps.clock.now().toMillis())) {
      await moveEntry(deps, entry.waitlistEntryId, 'removed', now, entry);
      return undefined;
    }
    moveUp = moveUpOf(appointment);
  }
  const offer: WaitlistOffer = {
    offerId,
    clinicId: req.clinicId,
    slotId: req.slotId,
    waitlistEntryId: entry.waitlistEntryId,
    patientId: entry.patientId,
    workflowInstanceId: req.workflowInstanceId,
    round: req.round,
    status: 'sent',
    sentAt: now,
    expiresAt: req.expiresAt,
    ...(moveUp ? { moveUp } : {}),
    ...(req.cascadeDepth ? { cascadeDepth: req.cascadeDepth } : {}),
    version: 1,
  };
  await deps.offers.create(offer);
  if (entry.status === 'active') await moveEntry(deps, entry.waitlistEntryId, 'offered', now, entry);
  return offer;
}

/** Whether an offer-policy mode (`relistMoveUps`, `replaceOpenOffers`) covers the entry: `all`, or `urgent` for urgent and soon entries. */
function modeCovers(mode: 'none' | 'urgent' | 'all' | undefined, entry: Pick<WaitlistEntry, 'urgency'>): boolean {
  return mode === 'all' || (mode === 'urgent' && entry.urgency !== 'routine');
}

/** Whether the clinic's policy lets an earlier slot replace this entry's open offer (offerPolicy.replaceOpenOffers). */
export function replacesOpenOffers(policy: Clinic['offerPolicy'] | undefined, entry: Pick<WaitlistEntry, 'urgency'>): boolean {
  return modeCovers(policy?.replaceOpenOffers, entry);
}

/**
 * The open offer of an `offered` entry that an offer of `slotId` would replace under the clinic's
 * policy: the entry's open offer of a later slot (other than the offer of `slotId` itself, which a
 * repeat finds open too). Undefined otherwise.
 */
export async function replacedOffer(
  deps: Pick<OfferDeps, 'offers'>,
  policy: Clinic['offerPolicy'] | undefined,
  entry: WaitlistEntry,
  slotId: string,
): Promise<WaitlistOffer | undefined> {
  if (entry.status !== 'offered' || !replacesOpenOffers(policy, entry)) return undefined;
  const startMs = parseSlotIdMs(slotId).startMs;
  const self = offerIdFor(slotId, entry.waitlistEntryId);
  return (await deps.offers.listOpenForPatient(entry.patientId)).find(
    (o) => o.waitlistEntryId === entry.waitlistEntryId && o.offerId !== self && parseSlotIdMs(o.slotId).startMs > startMs,
  );
}

export interface OfferRequest {
  slotId: string;
  waitlistEntryId: string;
  patientId: string;
  round: number;
  expiresAt: string;
  workflowInstanceId: string;
  cascadeDepth?: number;
}

export interface SentOffer {
  offerId: string;
  waitlistEntryId: string;
  patientId: string;
  outcome: 'sent' | 'not-sent';
}

/** Keeps the offer-SMS marker as long as any offer can be open. */
const OFFER_SMS_MARKER_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Makes an offer: records it (createOffer) and texts the patient. A repeat finds the offer and texts
 * only if the earlier attempt had not (a marker is written after each successful send), so a patient
 * gets one offer SMS per offer, or at worst two if a crash falls between send and marker. An offer
 * that cannot be texted (consent, quiet hours, rate limit...) is settled as unavailable.
 */
export async function sendOffer(deps: SettleDeps & Pick<OfferDeps, 'idempotency' | 'appointments'>, req: OfferRequest): Promise<SentOffer> {
  const offerId = offerIdFor(req.slotId, req.waitlistEntryId);
  const result = (outcome: SentOffer['outcome']): SentOffer => ({ offerId, waitlistEntryId: req.waitlistEntryId, patientId: req.patientId, outcome });
  const { slot, clinic } = await resolveSlot(deps, req.slotId);
  // An offered entry's open offer of a later slot, replaced by this one (offerPolicy.replaceOpenOffers):
  // it closes once this offer's text is out, so the entry has one open offer again and a YES is unambiguous.
  const entry = (clinic.offerPolicy.replaceOpenOffers ?? 'none') !== 'none' ? await deps.waitlist.get(req.waitlistEntryId) : undefined;
  const replaced = entry ? await replacedOffer(deps, clinic.offerPolicy, entry, slot.slotId) : undefined;
  const replacedId = replaced?.offerId;
  const closeReplaced = async () => {
    if (replacedId) await settleOffer(deps, replacedId, 'unavailable', { notify: false, entryStays: true });
  };
  const offer = await createOffer(deps, {
    slotId: slot.slotId,
    clinicId: clinic.clinicId,
    waitlistEntryId: req.waitlistEntryId,
    workflowInstanceId: req.workflowInstanceId,
    round: req.round,
    expiresAt: req.expiresAt,
    ...(req.cascadeDepth ? { cascadeDepth: req.cascadeDepth } : {}),
    ...(replacedId ? { replaces: replacedId } : {}),
  });
  if (!offer || offer.status !== 'sent') return result('not-sent');
  const marker = `offer-sms:${offerId}`;
  if (await deps.idempotency.get('event', marker)) {
    await closeReplaced(); // a repeat after the text went out and before the replaced offer closed
    return result('sent');
  }
  const outcome = await notifyPatient(deps, {
    patientId: offer.patientId,
    clinic,
    // A replacing offer says so and names the offer it closes, so the earlier text is not left standing.
    ...offerNotice(slot.start, req.expiresAt, offer.moveUp?.start, replaced ? parseSlotId(replaced.slotId).startUtc.toISO()! : undefined),
    offerId,
    purpose: 'offer',
    correlationId: req.workflowInstanceId,
  });
  if (outcome !== 'sent') {
    // Not texted: the replaced offer stays open and the entry offered with it.
    await settleOffer(deps, offerId, 'unavailable', { notify: false, entryStays: replacedId !== undefined });
    return result('not-sent');
  }
  await deps.idempotency.putIfAbsent({ scope: 'event', key: marker, createdAt: deps.clock.now().toUTC().toISO()! }, OFFER_SMS_MARKER_TTL_SECONDS);
  await closeReplaced();
  await emit(
    deps,
    makeEvent(EventType.offerSent, { ...ref(offer), expiresAt: offer.expiresAt, round: offer.round }, offerEventMeta(offerId, 'sent', offer.sentAt)),
  );
  return result('sent');
}

/** The offer text's template and times: a move-up names the visit it would move, a replacement the offer it closes. */
function offerNotice(start: string, expiresAt: string, currentStart: string | undefined, replacedStart: string | undefined) {
  if (currentStart !== undefined) {
    return replacedStart !== undefined
      ? { template: 'offer-move-up-replacement' as const, params: { start, currentStart, replacedStart, expiresAt } }
      : { template: 'offer-move-up' as const, params: { start, currentStart, expiresAt } };
  }
  return replacedStart !== undefined
    ? { template: 'offer-replacement' as const, params: { start, replacedStart, expiresAt } }
    : { template: 'offer' as const, params: { start, expiresAt } };
}

// ---- accept ----------------------------------------------------------------------------------

export interface AcceptOffer {
  offerId: string;
  /**
   * `backfill`: the workflow carries out a YES that reached it before its expiry timer fired, so the
   * offer's status decides. `link`: the patient books through an offer link now, so the offer must
   * also not have run out by the clock (and must be theirs).
   */
  channel: 'backfill' | 'link';
  /** The patient accepting (links). */
  patientId?: string;
}

export type OfferAcceptance =
  /** `moved`: a move-up, the appointment left this slot and start (released). */
  | { outcome: 'accepted'; offer: WaitlistOffer; appointment: Appointment; moved?: { previousSlotId: string; previousStart: string } }
  /** Move-ups: the appointment was moved by another offer (or staff) first. */
  | { outcome: 'already-moved'; offer: WaitlistOffer }
  /** Move-ups: the appointment to move was cancelled (or has passed) while the offer was out. */
  | { outcome: 'withdrawn'; offer: WaitlistOffer }
  /** Accepted before (a retried step, or a link booking the workflow now hears of). */
  | { outcome: 'already-accepted'; offer: WaitlistOffer; appointmentId?: string }
  | { outcome: 'not-open'; offer: WaitlistOffer; reason: 'declined' | 'expired' | 'unavailable' | 'other-patient' }
  /** The waitlist entry was booked or removed meanwhile. */
  | { outcome: 'entry-not-waiting'; offer: WaitlistOffer }
  /** The booking was refused because the time is gone (taken, overlapping, past, off the schedule); `code` says which. */
  | { outcome: 'slot-taken'; offer: WaitlistOffer; code: string };

/** Booking refusals that mean the offered time is gone, not that the request was wrong. */
const SLOT_GONE: readonly string[] = [ErrorCode.SLOT_TAKEN, ErrorCode.PATIENT_OVERLAP, ErrorCode.IN_THE_PAST, ErrorCode.SLOT_NOT_FOUND];

/** The patient's appointment on the offer's slot, if any (`holding`: only one that still holds the time). */
async function appointmentOnSlot(deps: Pick<OfferDeps, 'appointments'>, offer: WaitlistOffer, holding: boolean): Promise<Appointment | undefined> {
  const mine = await deps.appointments.listByPatient(offer.patientId, '1970-01-01T00:00:00Z', '9999-01-01T00:00:00Z');
  return mine.find((a) => a.slotId === offer.slotId && (!holding || OCCUPYING_STATUSES.has(a.status)));
}

/**
 * Accepts an offer: books its slot for the patient (channel `backfill` or `link`), then marks the
 * offer accepted and the entry booked and emits `offer.accepted`. Guards, in order: the offer is the
 * patient's, not accepted already, still `sent`, not run out (links), its entry still waiting, and
 * its slot still free. A booking refused because the patient already holds this very slot (an
 * earlier attempt that stopped before recording the acceptance) completes the acceptance instead.
 * Other booking errors are thrown. Throws OFFER.NOT_FOUND for an unknown offer.
 */
export async function acceptOffer(deps: AcceptDeps, cmd: AcceptOffer): Promise<OfferAcceptance> {
  const offer = await deps.offers.get(cmd.offerId);
  if (!offer) throw new DomainError(ErrorCode.OFFER_NOT_FOUND, 'Unknown offer', { offerId: cmd.offerId });
  if (cmd.patientId !== undefined && cmd.patientId !== offer.patientId) return { outcome: 'not-open', offer, reason: 'other-patient' };
  const at = deps.clock.now().toUTC().toISO()!;
  if (offer.status === 'accepted') {
    // In case an earlier attempt stopped between the two writes; an entry relisted at this slot (relistMoveUps) stays listed.
    const listed = await deps.waitlist.get(offer.waitlistEntryId);
    if (!(listed?.status === 'active' && listed.moveUp?.slotId === offer.slotId)) await moveEntry(deps, offer.waitlistEntryId, 'booked', at, listed);
    const booked = await appointmentOnSlot(deps, offer, false);
    return { outcome: 'already-accepted', offer, ...(booked ? { appointmentId: booked.appointmentId } : {}) };
  }
  if (offer.status !== 'sent') return { outcome: 'not-open', offer, reason: offer.status };
  if (cmd.channel === 'link' && !isOfferOpenTo(offer, offer.patientId, at)) return { outcome: 'not-open', offer, reason: 'expired' };
  const entry = await deps.waitlist.get(offer.waitlistEntryId);
  if (offer.moveUp) return acceptMoveUp(deps, offer, entry, at);
  if (!isEntryWaiting(entry)) return { outcome: 'entry-not-waiting', offer };

  let appointment: Appointment;
  try {
    appointment = await bookAppointment(deps, {
      slotId: offer.slotId,
      patientId: offer.patientId,
      appointmentType: entry.appointmentType,
      channel: cmd.channel,
      actor: cmd.channel === 'link' ? { kind: 'patient', principalId: offer.patientId } : { kind: 'system', principalId: offer.workflowInstanceId },
    });
  } catch (e) {
    if (!isDomainError(e) || !SLOT_GONE.includes(e.code)) throw e;
    const own = await appointmentOnSlot(deps, offer, true);
    if (!own) return { outcome: 'slot-taken', offer, code: e.code };
    appointment = own;
  }
  const accepted = await completeAcceptance(deps, offer, entry, at, { appointmentId: appointment.appointmentId, moveUp: false });
  return { outcome: 'accepted', offer: accepted ?? offer, appointment };
}

/**
 * The end of every acceptance, booking or move: the offer closed as accepted, the entry booked, and
 * `waitlist.offer.accepted` published once (only by the step that closed the offer). The booking
 * stands even if the workflow settled the offer meanwhile: the patient holds the slot.
 */
async function completeAcceptance(
  deps: AcceptDeps,
  offer: WaitlistOffer,
  entry: WaitlistEntry | undefined,
  at: string,
  accepted: { appointmentId: string; moveUp: boolean; previousSlotId?: string },
): Promise<WaitlistOffer | undefined> {
  const closed = await closeOffer(deps, offer, 'accepted', at);
  await moveEntry(deps, offer.waitlistEntryId, 'booked', at, entry);
  if (closed) await emit(deps, makeEvent(EventType.offerAccepted, { ...ref(offer), ...accepted }, offerEventMeta(offer.offerId, 'accepted', at)));
  return closed;
}

/**
 * The move-up branch of acceptOffer: moves the appointment the offer names into the offered slot
 * with one reschedule (If-Match on the appointment, expected to still be in the slot it was offered
 * from), so the patient holds exactly one appointment before, during and after. Of two offers to one
 * patient at once at most one moves it; the other is `already-moved`. A cancelled appointment
 * withdraws the offer (and ends the entry). A retried step finds the appointment already in the
 * slot and completes the acceptance.
 */
async function acceptMoveUp(deps: AcceptDeps, offer: WaitlistOffer, entry: WaitlistEntry | undefined, at: string): Promise<OfferAcceptance> {
  const moveUp = offer.moveUp!;
  const current = await deps.appointments.get(moveUp.appointmentId);
  const alreadyHere = current !== undefined && current.slotId === offer.slotId && OCCUPYING_STATUSES.has(current.status);
  if (!alreadyHere) {
    if (!isMovable(current, deps.clock.now().toMillis())) {
      await moveEntry(deps, offer.waitlistEntryId, 'removed', at, entry);
      return { outcome: 'withdrawn', offer };
    }
    if (!isEntryWaiting(entry) || current.slotId !== moveUp.slotId) return { outcome: 'already-moved', offer };
  }
  let appointment: Appointment;
  if (alreadyHere) appointment = current;
  else {
    try {
      appointment = await rescheduleAppointment(deps, {
        appointmentId: moveUp.appointmentId,
        newSlotId: offer.slotId,
        expectedSlotId: moveUp.slotId,
        actor: { kind: 'system', principalId: offer.workflowInstanceId },
        channel: 'backfill',
        cascade: { depth: (offer.cascadeDepth ?? 0) + 1, offerId: offer.offerId, workflowInstanceId: offer.workflowInstanceId },
      });
    } catch (e) {
      if (isDomainError(e, ErrorCode.ALREADY_MOVED)) return { outcome: 'already-moved', offer };
      if (isDomainError(e, ErrorCode.INVALID_TRANSITION)) {
        await moveEntry(deps, offer.waitlistEntryId, 'removed', at, entry);
        return { outcome: 'withdrawn', offer };
      }
      if (!isDomainError(e) || !SLOT_GONE.includes(e.code)) throw e;
      return { outcome: 'slot-taken', offer, code: e.code };
    }
  }
  const accepted = await completeAcceptance(deps, offer, entry, at, {
    appointmentId: appointment.appointmentId,
    moveUp: true,
    previousSlotId: moveUp.slotId,
  });
  await relistIfPolicy(deps, offer, appointment, at);
  return { outcome: 'accepted', offer: accepted ?? offer, appointment, moved: { previousSlotId: moveUp.slotId, previousStart: moveUp.start } };
}

/** Whether the clinic's policy keeps this move-up entry listed after a move (offerPolicy.relistMoveUps). */
function relists(policy: Clinic['offerPolicy'] | undefined, entry: WaitlistEntry): boolean {
  return modeCovers(policy?.relistMoveUps, entry);
}

/**
 * After a move: under offerPolicy.relistMoveUps the booked move-up entry goes back on the list at the
 * appointment's new time, so an even earlier slot can move the patient again (only slots before the
 * new time are offered). Done once: an entry already listed at the new slot is left as it is.
 */
async function relistIfPolicy(deps: AcceptDeps, offer: WaitlistOffer, appointment: Appointment, at: string): Promise<void> {
  const clinic = await deps.config.getClinic(offer.clinicId);
  for (let attempt = 1; ; attempt++) {
    const entry = await deps.waitlist.get(offer.waitlistEntryId);
    if (!entry || entry.status !== 'booked' || !entry.moveUp || !relists(clinic?.offerPolicy, entry)) return;
    if (!isMovable(appointment, deps.clock.now().toMillis())) return;
    try {
      await deps.waitlist.update({ ...entry, status: 'active', moveUp: moveUpOf(appointment), updatedAt: at, version: entry.version + 1 }, entry.version);
      return;
    } catch (e) {
      if (!isDomainError(e, ErrorCode.CONCURRENT_MODIFICATION) || attempt >= MAX_CONFLICT_RETRIES) throw e;
    }
  }
}

/** What the backfill workflow's YES led to; `moveUp`: the appointment moved here and left `previousSlotId` (released). */
export interface OfferBooking {
  booked: boolean;
  appointmentId?: string;
  moveUp?: { previousSlotId: string };
}

/**
 * The backfill workflow's YES: accepts the offer and texts the patient the booking (one SMS; for a
 * move-up it names the new time and that the old one is released); if the offer cannot be accepted
 * any more (slot gone, entry no longer waiting, appointment already moved or cancelled) it is
 * settled as unavailable and the patient told why. `booked: true` also when it was accepted before
 * (a link, or a retry).
 */
export async function bookOffer(deps: AcceptDeps & SettleDeps, offerId: string): Promise<OfferBooking> {
  const acceptance = await acceptOffer(deps, { offerId, channel: 'backfill' });
  switch (acceptance.outcome) {
    case 'accepted': {
      const { offer, appointment, moved } = acceptance;
      const clinic = await clinicOf(deps, offer);
      const common = { patientId: offer.patientId, clinic, purpose: 'confirmation' as const, correlationId: offer.workflowInstanceId };
      if (moved) await notifyPatient(deps, { ...common, template: 'moved', params: { start: appointment.start, previousStart: moved.previousStart } });
      else await notifyPatient(deps, { ...common, template: 'booked', params: { start: appointment.start } });
      return { booked: true, appointmentId: appointment.appointmentId, ...(moved ? { moveUp: { previousSlotId: moved.previousSlotId } } : {}) };
    }
    case 'already-accepted':
      return {
        booked: true,
        ...(acceptance.appointmentId ? { appointmentId: acceptance.appointmentId } : {}),
        ...(acceptance.offer.moveUp ? { moveUp: { previousSlotId: acceptance.offer.moveUp.slotId } } : {}),
      };
    case 'already-moved':
      await settleOffer(deps, offerId, 'unavailable', { notify: true, inReplyToPatient: true, template: 'already-moved' });
      return { booked: false };
    case 'withdrawn':
      await settleOffer(deps, offerId, 'unavailable', { notify: true, inReplyToPatient: true, template: 'offer-withdrawn' });
      return { booked: false };
    default:
      // The patient said YES and waits for the answer: it goes out past the daily limit and quiet hours.
      await settleOffer(deps, offerId, 'unavailable', { notify: true, inReplyToPatient: true });
      return { booked: false };
  }
}

// ---- decline, expire, unavailable -------------------------------------------------------------

/** How an open offer can end other than accepted. */
export type OfferSettlement = Exclude<OfferStatus, 'sent' | 'accepted'>;

/**
 * Settles a `sent` offer as declined (the patient said NO), expired (nobody answered in time) or
 * unavailable (the slot went elsewhere, or the offer could not be texted), puts an offered entry back
 * on the waitlist, emits `offer.expired` for expiries, and texts `offer-taken` when `notify` is set
 * (`inReplyToPatient`: it answers the patient's own YES, so neither the daily limit nor quiet hours
 * hold it back). An offer that is not `sent` any more is left as it is (returns undefined).
 */
export async function settleOffer(
  deps: SettleDeps,
  offerId: string,
  status: OfferSettlement,
  opts: {
    notify: boolean;
    inReplyToPatient?: boolean;
    template?: 'offer-taken' | 'already-moved' | 'offer-withdrawn';
    /** The entry holds another open offer (one replaces the other, sendOffer): it stays offered. */
    entryStays?: boolean;
  },
): Promise<WaitlistOffer | undefined> {
  const offer = await deps.offers.get(offerId);
  if (!offer || offer.status !== 'sent') return undefined;
  const at = deps.clock.now().toUTC().toISO()!;
  const settled = await closeOffer(deps, offer, status, at);
  if (!settled) return undefined;
  const entry = await deps.waitlist.get(offer.waitlistEntryId);
  // A withdrawn move-up's entry was ended already (removed); an already-moved one stays booked.
  if (!opts.entryStays) await moveEntry(deps, offer.waitlistEntryId, 'active', at, entry);
  if (status === 'expired') {
    await emit(
      deps,
      makeEvent(EventType.offerExpired, { ...ref(offer), appointmentType: entry?.appointmentType ?? 'unknown' }, offerEventMeta(offerId, 'expired', at)),
    );
  }
  if (opts.notify) {
    await notifyPatient(deps, {
      patientId: offer.patientId,
      clinic: await clinicOf(deps, offer),
      template: opts.template ?? 'offer-taken',
      params: {},
      offerId: offer.offerId,
      purpose: 'offer-taken',
      correlationId: offer.workflowInstanceId,
      ...(opts.inReplyToPatient ? { inReplyToPatient: true } : {}),
    });
  }
  return settled;
}
