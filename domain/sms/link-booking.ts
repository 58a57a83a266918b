import { DateTime } from 'luxon';
import { DomainError } from '../errors';
import { claimOnce, findClaim } from '../idempotency';
import type { Appointment, Clinic, WaitlistOffer } from '../model';
import { bookAppointment, resolveSlot, searchFreeSlots, type SchedulingDeps } from '../scheduling';
import { acceptOffer, isEntryWaiting, isOfferOpenTo, type OfferDeps } from '../waitlist/offers';
import { verifyLinkToken, type LinkClaims } from './links';
import { resolvePatientLocale, type PatientLocale } from './locale';
import type { OfferReplyPayload, OfferReplyRaiser } from './offer-reply';

/**
 * Self-scheduling links (GET/POST /book/{token}): what a signed link lets the patient book right
 * now, and booking it once. The pages (functions/patient/book-link.ts) render these outcomes.
 */

/** Most times one page lists. */
const MAX_PAGE_SLOTS = 30;
/** Longest search window a link may open (the scheduling search limit). */
const MAX_LINK_SEARCH_DAYS = 31;
/** Link claims live as long as the link could (plus a day), so a used link stays used. */
const LINK_CLAIM_TTL_SECONDS = 60 * 24 * 3600;

export type LinkDeps = Pick<OfferDeps, keyof SchedulingDeps | 'offers' | 'waitlist' | 'idempotency'>;

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
  /** The patient's language (else the clinic's default, else English): the page is in it. */
  locale: PatientLocale;
}

/** A problem found once the patient is known carries their language; earlier ones leave it to the browser's. */
export type LinkView = { kind: 'choose'; choice: LinkChoice } | { kind: 'problem'; code: LinkProblem; locale?: PatientLocale };

export type LinkConfirmation =
  | { kind: 'problem'; code: LinkProblem; locale?: PatientLocale }
  | { kind: 'booked'; clinic: Clinic; appointment: Appointment; locale: PatientLocale }
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
    return { kind: 'choose', choice: { claims, clinic, appointmentType: entry.appointmentType, slots, offer, locale: localeAt(clinic) } };
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
  return { kind: 'choose', choice: { claims, clinic, appointmentType: scope.appointmentType, slots, locale: localeAt(clinic) } };
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
): Promise<LinkConfirmation> {
  const view = await openBookingLink(deps, signingKey, token);
  if (view.kind === 'problem') return view;
  const { choice } = view;
  const { claims, clinic } = choice;
  if (!choice.slots.some((s) => s.slotId === slotId)) return { kind: 'choose-again', choice, code: 'LINK.SLOT_NOT_OFFERED' };

  const at = deps.clock.now().toUTC().toISO()!;
  const claim = await claimOnce(deps.idempotency, 'link', claims.tokenId, at, LINK_CLAIM_TTL_SECONDS);
  if (claim.kind !== 'claimed') return problem('LINK.USED', choice.locale);
  const failed = (code: string) =>
    deps.idempotency.complete({ ...claim.record, response: { status: 409, body: { failed: true, code } } }, LINK_CLAIM_TTL_SECONDS);
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
    return { kind: 'booked', clinic, appointment, locale: choice.locale };
  } catch (e) {
    await failed(e instanceof DomainError ? e.code : 'error');
    if (e instanceof DomainError) return { kind: 'choose-again', choice, code: e.code };
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
