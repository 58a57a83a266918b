import { DateTime } from 'luxon';
import { bookAppointment, DomainError, ErrorCode, isDomainError, resolveSlot, searchFreeSlots, type Clinic, type WaitlistOffer } from '../../domain';
import { OFFER_REPLY_EVENT, verifyLinkToken, type LinkClaims, type OfferReplyPayload } from '../../domain/sms';
import type { Services } from '../app/services';
import { bookedPage, pickPage, problemPage, type PageSlot } from './book-page';
import { claimOnce, findClaim, linkSigningKey, type OfferReplyRaiser } from './runtime';

/** Most times one page lists. */
const MAX_PAGE_SLOTS = 30;
/** Longest search window a link may open (the scheduling search limit). */
const MAX_LINK_SEARCH_DAYS = 31;

export interface PageResult {
  status: number;
  html: string;
  /** For logs and tests: a code, never PHI. */
  code: string;
}

interface Options {
  claims: LinkClaims;
  clinic: Clinic;
  appointmentType: string;
  slots: PageSlot[];
  offer?: WaitlistOffer;
}

const invalid = (status: number, code: string): PageResult => ({
  status,
  code,
  html: problemPage("This link isn't valid", 'We could not read this booking link. Please use the link exactly as we sent it.'),
});
const gone = (code: string, title: string, message: string): PageResult => ({ status: 410, code, html: problemPage(title, message) });

/** Verifies the token and works out what it lets the patient book right now. */
async function optionsFor(services: Services, token: string): Promise<Options | PageResult> {
  const now = services.clock.now().toUTC();
  const verified = verifyLinkToken(token, linkSigningKey(services.settings), now.toMillis());
  if (!verified.ok) {
    if (verified.reason === 'expired') return gone('LINK.EXPIRED', 'This link has expired', 'Booking links work for a limited time, and this one has run out.');
    return verified.reason === 'bad-signature' ? invalid(403, 'LINK.BAD_SIGNATURE') : invalid(400, 'LINK.MALFORMED');
  }
  const { claims } = verified;
  const used = await findClaim(services.idempotency, 'link', claims.tokenId);
  if (used)
    return gone('LINK.USED', 'This link has already been used', 'This booking link has already been used to book an appointment. Each link works once.');
  const patient = await services.patients.get(claims.patientId);
  if (!patient) return invalid(400, 'LINK.UNKNOWN_PATIENT');

  if (claims.scope.kind === 'offer') {
    const offer = await services.offers.get(claims.scope.offerId);
    if (!offer || offer.patientId !== claims.patientId) return invalid(400, 'LINK.UNKNOWN_OFFER');
    if (offer.status !== 'sent' || Date.parse(offer.expiresAt) <= now.toMillis()) {
      return gone('OFFER.NOT_OPEN', 'This offer is no longer available', 'Sorry, this time is no longer on offer. You stay on the waitlist.');
    }
    const entry = await services.waitlist.get(offer.waitlistEntryId);
    if (!entry) return invalid(400, 'LINK.UNKNOWN_OFFER');
    const { slot, clinic } = await resolveSlot(services, offer.slotId);
    const free = await searchFreeSlots(services, {
      clinicId: clinic.clinicId,
      appointmentType: entry.appointmentType,
      from: slot.start,
      to: slot.end,
      providerId: slot.providerId,
    });
    if (!free.some((s) => s.slotId === slot.slotId)) return gone('SLOT.TAKEN', 'This time has been taken', 'Sorry, someone else has just booked this time.');
    return { claims, clinic, appointmentType: entry.appointmentType, slots: [{ slotId: slot.slotId, start: slot.start }], offer };
  }

  const scope = claims.scope;
  const clinic = await services.config.getClinic(scope.clinicId);
  if (!clinic) return invalid(400, 'LINK.UNKNOWN_CLINIC');
  const earliest = DateTime.max(DateTime.fromISO(scope.from), now.plus({ minutes: clinic.bookingPolicy.minNoticeMinutes }));
  const latest = DateTime.min(DateTime.fromISO(scope.to), earliest.plus({ days: MAX_LINK_SEARCH_DAYS }));
  const found =
    latest > earliest
      ? await searchFreeSlots(services, {
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
  if (slots.length === 0) return gone('LINK.NO_SLOTS', 'No times available', 'Sorry, there are no open times left for this link.');
  return { claims, clinic, appointmentType: scope.appointmentType, slots };
}

const clinicName = (c: Clinic) => c.smsDisplayName ?? c.name;

/** GET /book/{token}: the slot picker, or a page saying why the link cannot be used. */
export async function openBookingLink(services: Services, token: string, action: string): Promise<PageResult> {
  const options = await optionsFor(services, token);
  if ('status' in options) return options;
  return {
    status: 200,
    code: 'LINK.OK',
    html: pickPage({ clinicName: clinicName(options.clinic), timeZone: options.clinic.timeZone, slots: options.slots, action }),
  };
}

/** Link claims live as long as the link could (plus a day), so a used link stays used. */
const LINK_CLAIM_TTL_SECONDS = 60 * 24 * 3600;

/** POST /book/{token}: books the chosen slot once; a failure that booked nothing leaves the link usable. */
export async function confirmBookingLink(services: Services, durable: OfferReplyRaiser, token: string, slotId: string, action: string): Promise<PageResult> {
  const options = await optionsFor(services, token);
  if ('status' in options) return options;
  const { claims, clinic } = options;
  const page = (notice: string, code: string): PageResult => ({
    status: 409,
    code,
    html: pickPage({ clinicName: clinicName(clinic), timeZone: clinic.timeZone, slots: options.slots, action, notice }),
  });
  if (!options.slots.some((s) => s.slotId === slotId)) return page('Please choose one of the times below.', 'LINK.SLOT_NOT_OFFERED');

  const at = services.clock.now().toUTC().toISO()!;
  const claim = await claimOnce(services.idempotency, 'link', claims.tokenId, at, LINK_CLAIM_TTL_SECONDS);
  if (claim.kind !== 'claimed')
    return gone('LINK.USED', 'This link has already been used', 'This booking link has already been used to book an appointment. Each link works once.');
  try {
    const booked = await bookAppointment(services, {
      slotId,
      patientId: claims.patientId,
      appointmentType: options.appointmentType,
      channel: 'link',
      actor: { kind: 'patient', principalId: claims.patientId },
    });
    await services.idempotency.complete(
      { ...claim.record, requestHash: slotId, response: { status: 200, body: { appointmentId: booked.appointmentId, start: booked.start } } },
      LINK_CLAIM_TTL_SECONDS,
    );
    if (options.offer) {
      await acceptOffer(services, options.offer, at);
      await tellWorkflow(durable, options.offer, booked.appointmentId);
    }
    return {
      status: 200,
      code: 'LINK.BOOKED',
      html: bookedPage({ clinicName: clinicName(clinic), timeZone: clinic.timeZone, start: booked.start, pending: booked.status === 'pending' }),
    };
  } catch (e) {
    await services.idempotency.complete(
      { ...claim.record, response: { status: 409, body: { failed: true, code: e instanceof DomainError ? e.code : 'error' } } },
      LINK_CLAIM_TTL_SECONDS,
    );
    if (isDomainError(e, ErrorCode.SLOT_TAKEN)) return page('Sorry, that time was just taken. Please choose another.', e.code);
    if (e instanceof DomainError) return page('Sorry, we could not book that time online. Please choose another or call the clinic.', e.code);
    throw e;
  }
}

/**
 * Records the offer as accepted (and the waitlist entry as booked) so the backfill workflow, on the
 * OfferReply below, sees the booking as done instead of booking again. Best effort: on a version
 * conflict the workflow settles the offer itself (its booking attempt finds the slot taken).
 */
async function acceptOffer(services: Services, offer: WaitlistOffer, at: string): Promise<void> {
  try {
    await services.offers.update({ ...offer, status: 'accepted', respondedAt: at, version: offer.version + 1 }, offer.version);
    const entry = await services.waitlist.get(offer.waitlistEntryId);
    if (entry && (entry.status === 'active' || entry.status === 'offered')) {
      await services.waitlist.update({ ...entry, status: 'booked', updatedAt: at, version: entry.version + 1 }, entry.version);
    }
  } catch (e) {
    if (!isDomainError(e, ErrorCode.CONCURRENT_MODIFICATION)) throw e;
  }
}

/** The backfill workflow waiting on this offer learns it was booked through the link (it must not book again). */
async function tellWorkflow(durable: OfferReplyRaiser, offer: WaitlistOffer, appointmentId: string): Promise<void> {
  const payload: OfferReplyPayload = { offerId: offer.offerId, patientId: offer.patientId, reply: 'yes', channel: 'link', appointmentId };
  try {
    await durable.raiseEvent(offer.workflowInstanceId, OFFER_REPLY_EVENT, payload);
  } catch {
    // The booking stands; the workflow's own booking of this slot will fail as taken and close the offer.
  }
}
