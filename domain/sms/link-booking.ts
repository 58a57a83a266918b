import { DateTime } from 'luxon';
import { bookableWindow, bookingTimeRuleBroken } from '../booking-rules';
import { DomainError, ErrorCode, isDomainError } from '../errors';
import { claimOnce, findClaim } from '../idempotency';
import type { Appointment, Clinic, WaitlistOffer } from '../model';
import { bookAppointment, rescheduleAppointment, resolveSlot, searchFreeSlots, type SchedulingDeps } from '../scheduling';
import { addMoveUpEntry, isMovable } from '../waitlist/move-up';
import { acceptOffer, isEntryWaiting, isOfferOpenTo, type OfferDeps } from '../waitlist/offers';
import { verifyLinkToken, type LinkClaims } from './links';
import { resolvePatientLocale, type PatientLocale } from './locale';
import type { OfferReplyPayload, OfferReplyRaiser } from './offer-reply';
import { notifyPatient } from './send';

/**
 * Self-scheduling links (GET/POST /book/{token}): what a signed link lets the patient book right
 * now, and booking it once. The pages (functions/patient/book-link.ts) render these outcomes.
 */

/** Most times one page lists. */
const MAX_PAGE_SLOTS = 30;
/** Longest search window a link may open (the scheduling search limit). */
const MAX_LINK_SEARCH_DAYS = 31;
/** How far ahead a reschedule link looks for another time (as BOOK does). */
export const RESCHEDULE_SEARCH_DAYS = 14;
/** Link claims live as long as the link could (plus a day), so a used link stays used. */
const LINK_CLAIM_TTL_SECONDS = 60 * 24 * 3600;

export type LinkDeps = Pick<OfferDeps, keyof SchedulingDeps | 'offers' | 'waitlist' | 'idempotency' | 'sms' | 'smsMessages' | 'audit'>;

/** Why a link cannot be used (a stable code; the page explains it). */
export type LinkProblem =
  | 'LINK.MALFORMED'
  | 'LINK.BAD_SIGNATURE'
  | 'LINK.EXPIRED'
  | 'LINK.USED'
  | 'LINK.UNKNOWN_PATIENT'
  | 'LINK.UNKNOWN_OFFER'
  | 'LINK.UNKNOWN_CLINIC'
  | 'LINK.NO_SLOTS'
  | 'LINK.UNKNOWN_APPOINTMENT'
  /** Reschedule link: the appointment was cancelled, moved already, or is past. */
  | 'APPOINTMENT.NOT_MOVABLE'
  /** Reschedule link: inside the clinic's cancellation window (patients call instead). */
  | 'RESCHEDULE.TOO_LATE'
  | 'OFFER.NOT_OPEN'
  | 'SLOT.TAKEN';

export interface LinkSlot {
  slotId: string;
  start: string;
}

/** The times a valid link offers. */
export interface LinkChoice {
  claims: LinkClaims;
  clinic: Clinic;
  appointmentType: string;
  slots: LinkSlot[];
  offer?: WaitlistOffer;
  /** A reschedule link: the appointment the pick moves (it stays booked until then). */
  reschedule?: Appointment;
  /** The page may offer "text me if an earlier time opens up" (a move-up entry for the booked visit). */
  earlierOption: boolean;
  /** The patient's language (else the clinic's default, else English): the page is in it. */
  locale: PatientLocale;
}

/** A problem found once the patient is known carries their language; earlier ones leave it to the browser's. */
export type LinkView = { kind: 'choose'; choice: LinkChoice } | { kind: 'problem'; code: LinkProblem; locale?: PatientLocale };

export type LinkConfirmation =
  | { kind: 'problem'; code: LinkProblem; locale?: PatientLocale }
  /** `earlier`: the booked visit is also on the move-up list (the patient ticked the box). */
  | { kind: 'booked'; clinic: Clinic; appointment: Appointment; locale: PatientLocale; earlier: boolean }
  /** A reschedule link moved the appointment; `previousStart` is released (and backfilled as any freed slot). */
  | { kind: 'moved'; clinic: Clinic; appointment: Appointment; previousStart: string; locale: PatientLocale }
  /** Nothing was booked and the link stays usable; `code` is LINK.SLOT_NOT_OFFERED or the booking's error code. */
  | { kind: 'choose-again'; choice: LinkChoice; code: string };

const problem = (code: LinkProblem, locale?: PatientLocale) => ({ kind: 'problem' as const, code, ...(locale ? { locale } : {}) });

/** Verifies the token and works out what it lets the patient book right now. */
export async function openBookingLink(deps: LinkDeps, signingKey: string, token: string): Promise<LinkView> {
  const now = deps.clock.now().toUTC();
  const verified = verifyLinkToken(token, signingKey, now.toMillis());
  if (!verified.ok) {
    if (verified.reason === 'expired') return problem('LINK.EXPIRED');
    return problem(verified.reason === 'bad-signature' ? 'LINK.BAD_SIGNATURE' : 'LINK.MALFORMED');
  }
  const { claims } = verified;
  const used = await findClaim(deps.idempotency, 'link', claims.tokenId);
  const patient = await deps.patients.get(claims.patientId);
  const own = patient ? resolvePatientLocale(patient.preferredLanguage) : undefined;
  if (used) return problem('LINK.USED', own);
  if (!patient) return problem('LINK.UNKNOWN_PATIENT');
  const localeAt = (clinic: Clinic) => resolvePatientLocale(patient.preferredLanguage, clinic.defaultLanguage);

  if (claims.scope.kind === 'offer') {
    const offer = await deps.offers.get(claims.scope.offerId);
    if (!offer || offer.patientId !== claims.patientId) return problem('LINK.UNKNOWN_OFFER');
    if (!isOfferOpenTo(offer, claims.patientId, now.toISO()!)) return problem('OFFER.NOT_OPEN', own);
    const entry = await deps.waitlist.get(offer.waitlistEntryId);
    if (!entry) return problem('LINK.UNKNOWN_OFFER');
    if (!isEntryWaiting(entry)) return problem('OFFER.NOT_OPEN', own);
    const { slot, clinic } = await resolveSlot(deps, offer.slotId);
    const free = await searchFreeSlots(deps, {
      clinicId: clinic.clinicId,
      appointmentType: entry.appointmentType,
      from: slot.start,
      to: slot.end,
      providerId: slot.providerId,
    });
    if (!free.some((s) => s.slotId === slot.slotId)) return problem('SLOT.TAKEN', localeAt(clinic));
    const slots = [{ slotId: slot.slotId, start: slot.start }];
    const earlierOption = !offer.moveUp;
    return { kind: 'choose', choice: { claims, clinic, appointmentType: entry.appointmentType, slots, offer, earlierOption, locale: localeAt(clinic) } };
  }

  if (claims.scope.kind === 'reschedule') {
    const appointment = await deps.appointments.get(claims.scope.appointmentId);
    if (!appointment || appointment.patientId !== claims.patientId) return problem('LINK.UNKNOWN_APPOINTMENT');
    const clinic = await deps.config.getClinic(appointment.clinicId);
    if (!clinic) return problem('LINK.UNKNOWN_CLINIC');
    if (!isMovable(appointment, now.toMillis())) return problem('APPOINTMENT.NOT_MOVABLE', localeAt(clinic));
    if (isTooLateToChange(appointment, clinic, now)) return problem('RESCHEDULE.TOO_LATE', localeAt(clinic));
    const found = await searchFreeSlots(deps, {
      clinicId: clinic.clinicId,
      appointmentType: appointment.appointmentType,
      from: now.plus({ minutes: clinic.bookingPolicy.minNoticeMinutes }).toISO()!,
      to: now.plus({ days: RESCHEDULE_SEARCH_DAYS }).toISO()!,
    });
    const slots = rescheduleAlternatives(found, appointment, MAX_PAGE_SLOTS);
    if (slots.length === 0) return problem('LINK.NO_SLOTS', localeAt(clinic));
    return {
      kind: 'choose',
      choice: { claims, clinic, appointmentType: appointment.appointmentType, slots, reschedule: appointment, earlierOption: false, locale: localeAt(clinic) },
    };
  }

  const scope = claims.scope;
  const clinic = await deps.config.getClinic(scope.clinicId);
  if (!clinic) return problem('LINK.UNKNOWN_CLINIC');
  const earliest = DateTime.max(DateTime.fromISO(scope.from), now.plus({ minutes: clinic.bookingPolicy.minNoticeMinutes }));
  const latest = DateTime.min(DateTime.fromISO(scope.to), earliest.plus({ days: MAX_LINK_SEARCH_DAYS }));
  const found =
    latest > earliest
      ? await searchFreeSlots(deps, {
          clinicId: clinic.clinicId,
          appointmentType: scope.appointmentType,
          from: earliest.toISO()!,
          to: latest.toISO()!,
          ...(scope.providerId ? { providerId: scope.providerId } : {}),
        })
      : [];
  const seen = new Set<number>();
  const slots = found
    .filter((s) => !scope.slotIds || scope.slotIds.includes(s.slotId))
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.slotId.localeCompare(b.slotId))
    .filter((s) => !seen.has(Date.parse(s.start)) && seen.add(Date.parse(s.start)))
    .slice(0, MAX_PAGE_SLOTS)
    .map((s) => ({ slotId: s.slotId, start: s.start }));
  if (slots.length === 0) return problem('LINK.NO_SLOTS', localeAt(clinic));
  return { kind: 'choose', choice: { claims, clinic, appointmentType: scope.appointmentType, slots, earlierOption: true, locale: localeAt(clinic) } };
}

/** Inside the clinic's cancellation window a patient may not give the time back by text or link (staff can). */
export function isTooLateToChange(appointment: Pick<Appointment, 'start'>, clinic: Pick<Clinic, 'bookingPolicy'>, now: DateTime): boolean {
  return Date.parse(appointment.start) < now.plus({ hours: clinic.bookingPolicy.cancellationWindowHours }).toMillis();
}

/**
 * The times a reschedule link offers instead of `current`: the current provider's first, then
 * others', one per start time (the current provider's wins a tie), never the current slot, at most
 * `max`; shown in time order.
 */
export function rescheduleAlternatives(
  free: readonly { slotId: string; start: string; providerId: string }[],
  current: Pick<Appointment, 'slotId' | 'providerId' | 'start'>,
  max: number,
): LinkSlot[] {
  const byStart = (a: { start: string; slotId: string }, b: { start: string; slotId: string }) =>
    Date.parse(a.start) - Date.parse(b.start) || a.slotId.localeCompare(b.slotId);
  const candidates = free.filter((s) => s.slotId !== current.slotId && Date.parse(s.start) !== Date.parse(current.start));
  const ranked = [
    ...candidates.filter((s) => s.providerId === current.providerId).sort(byStart),
    ...candidates.filter((s) => s.providerId !== current.providerId).sort(byStart),
  ];
  const seen = new Set<number>();
  return ranked
    .filter((s) => !seen.has(Date.parse(s.start)) && seen.add(Date.parse(s.start)))
    .slice(0, max)
    .sort(byStart)
    .map((s) => ({ slotId: s.slotId, start: s.start }));
}

/**
 * Books the chosen slot once: the token id is claimed create-only, and a failure that booked nothing
 * completes the claim as failed, so the link stays usable. An offer link accepts the offer
 * (acceptOffer, channel `link`) and then tells the waiting backfill workflow.
 */
export async function confirmBookingLink(
  deps: LinkDeps,
  workflow: OfferReplyRaiser,
  signingKey: string,
  token: string,
  slotId: string,
  options: { earlier?: boolean } = {},
): Promise<LinkConfirmation> {
  const view = await openBookingLink(deps, signingKey, token);
  if (view.kind === 'problem') return view;
  const { choice } = view;
  const { claims, clinic } = choice;
  if (!choice.slots.some((s) => s.slotId === slotId)) return { kind: 'choose-again', choice, code: await whyNotListed(deps, choice, slotId) };

  const at = deps.clock.now().toUTC().toISO()!;
  const claim = await claimOnce(deps.idempotency, 'link', claims.tokenId, at, LINK_CLAIM_TTL_SECONDS);
  if (claim.kind !== 'claimed') return problem('LINK.USED', choice.locale);
  const failed = (code: string) =>
    deps.idempotency.complete({ ...claim.record, response: { status: 409, body: { failed: true, code } } }, LINK_CLAIM_TTL_SECONDS);
  if (choice.reschedule) return moveByLink(deps, choice, slotId, claim.record, failed);
  try {
    let appointment: Appointment;
    if (choice.offer) {
      const acceptance = await acceptOffer(deps, { offerId: choice.offer.offerId, channel: 'link', patientId: claims.patientId });
      if (acceptance.outcome === 'slot-taken') {
        await failed(acceptance.code);
        return { kind: 'choose-again', choice, code: acceptance.code };
      }
      if (acceptance.outcome !== 'accepted') {
        await failed('OFFER.NOT_OPEN');
        return problem('OFFER.NOT_OPEN', choice.locale);
      }
      appointment = acceptance.appointment;
    } else {
      appointment = await bookAppointment(deps, {
        slotId,
        patientId: claims.patientId,
        appointmentType: choice.appointmentType,
        channel: 'link',
        actor: { kind: 'patient', principalId: claims.patientId },
      });
    }
    await deps.idempotency.complete(
      { ...claim.record, requestHash: slotId, response: { status: 200, body: { appointmentId: appointment.appointmentId, start: appointment.start } } },
      LINK_CLAIM_TTL_SECONDS,
    );
    if (choice.offer) await tellWorkflow(workflow, choice.offer, appointment.appointmentId);
    const earlier = options.earlier === true && choice.earlierOption && (await joinMoveUp(deps, appointment));
    return { kind: 'booked', clinic, appointment, locale: choice.locale, earlier };
  } catch (e) {
    await failed(e instanceof DomainError ? e.code : 'error');
    if (e instanceof DomainError) return { kind: 'choose-again', choice, code: e.code };
    throw e;
  }
}

/**
 * Why a pick is not among the times the link lists now (the list is made again at each pick): the
 * time has come too close for the clinic's minimum notice while the page was open
 * (APPOINTMENT.TOO_LITTLE_NOTICE), it was booked meanwhile (APPOINTMENT.SLOT_TAKEN), or it was
 * never one of the link's times (LINK.SLOT_NOT_OFFERED: another type, provider or window, a form
 * changed by hand). The page then names the reason above the fresh list.
 */
async function whyNotListed(deps: LinkDeps, choice: LinkChoice, slotId: string): Promise<string> {
  try {
    // A malformed or unknown id throws a DomainError (below).
    const { slot, clinic } = await resolveSlot(deps, slotId);
    const foreign = clinic.clinicId !== choice.clinic.clinicId || !slot.appointmentTypes.includes(choice.appointmentType);
    if (foreign || slotId === choice.reschedule?.slotId) return 'LINK.SLOT_NOT_OFFERED';
    // The booking's own timing rule, for the link channel at this moment.
    const window = bookableWindow(deps.clock.now(), clinic.bookingPolicy, 'link');
    if (bookingTimeRuleBroken(Date.parse(slot.start), window) === ErrorCode.TOO_LITTLE_NOTICE) return ErrorCode.TOO_LITTLE_NOTICE;
    const free = await searchFreeSlots(deps, {
      clinicId: clinic.clinicId,
      appointmentType: choice.appointmentType,
      from: slot.start,
      to: slot.end,
      providerId: slot.providerId,
    });
    return free.some((s) => s.slotId === slotId) ? 'LINK.SLOT_NOT_OFFERED' : ErrorCode.SLOT_TAKEN;
  } catch (e) {
    if (e instanceof DomainError) return 'LINK.SLOT_NOT_OFFERED';
    throw e;
  }
}

type ClaimRecord = Extract<Awaited<ReturnType<typeof claimOnce>>, { kind: 'claimed' }>['record'];

/**
 * A reschedule link's pick: the existing reschedule use case moves the appointment in one write
 * (new slot claimed, old released with slot.released reason `rescheduled`, which backfills it), and
 * only if it still is where the link found it (else APPOINTMENT.ALREADY_MOVED, nothing written).
 */
async function moveByLink(
  deps: LinkDeps,
  choice: LinkChoice,
  slotId: string,
  record: ClaimRecord,
  failed: (code: string) => Promise<unknown>,
): Promise<LinkConfirmation> {
  const current = choice.reschedule!;
  try {
    const moved = await rescheduleAppointment(deps, {
      appointmentId: current.appointmentId,
      newSlotId: slotId,
      expectedSlotId: current.slotId,
      actor: { kind: 'patient', principalId: choice.claims.patientId },
      channel: 'link',
    });
    await deps.idempotency.complete(
      { ...record, requestHash: slotId, response: { status: 200, body: { appointmentId: moved.appointmentId, start: moved.start } } },
      LINK_CLAIM_TTL_SECONDS,
    );
    // One text naming the new time and that the old one is released (the page says it too, so a failed send changes nothing).
    await notifyPatient(deps, {
      patientId: moved.patientId,
      clinic: choice.clinic,
      template: 'moved',
      params: { start: moved.start, previousStart: current.start },
      purpose: 'confirmation',
      correlationId: moved.appointmentId,
      inReplyToPatient: true,
    }).catch(() => undefined);
    return { kind: 'moved', clinic: choice.clinic, appointment: moved, previousStart: current.start, locale: choice.locale };
  } catch (e) {
    await failed(e instanceof DomainError ? e.code : 'error');
    if (isDomainError(e, ErrorCode.ALREADY_MOVED) || isDomainError(e, ErrorCode.INVALID_TRANSITION)) return problem('APPOINTMENT.NOT_MOVABLE', choice.locale);
    if (e instanceof DomainError) return { kind: 'choose-again', choice, code: e.code };
    throw e;
  }
}

/** The box "text me if an earlier time opens up": a move-up entry for the visit just booked. False if it cannot be (nothing else changes). */
async function joinMoveUp(deps: LinkDeps, appointment: Appointment): Promise<boolean> {
  try {
    await addMoveUpEntry(deps, { appointmentId: appointment.appointmentId, patientId: appointment.patientId });
    return true;
  } catch (e) {
    if (e instanceof DomainError) return false;
    throw e;
  }
}

/** The backfill workflow waiting on this offer learns it was booked through the link (it must not book again). */
async function tellWorkflow(workflow: OfferReplyRaiser, offer: WaitlistOffer, appointmentId: string): Promise<void> {
  const payload: OfferReplyPayload = { offerId: offer.offerId, patientId: offer.patientId, reply: 'yes', channel: 'link', appointmentId };
  try {
    await workflow.raiseOfferReply(offer.workflowInstanceId, payload);
  } catch {
    // The booking stands and the offer is accepted; the workflow's round runs out and settling skips an accepted offer.
  }
}
