/**
 * Inbound SMS: carries out what the reply table (replies.ts) decides for one message: offer replies
 * go to the waiting workflow, C / X confirm and cancel, BOOK lists and books times, STOP / START
 * record consent. The webhook (functions/patient/sms-inbound.ts) verifies and dedupes before this.
 */
import type { DateTime } from 'luxon';
import { DomainError, ErrorCode, isDomainError } from '../errors';
import { parseSlotId } from '../ids';
import type { Actor, Appointment, Clinic } from '../model';
import type { PatientRecord } from '../ports';
import { bookAppointment, cancelAppointment, confirmAppointment, searchFreeSlots, type SchedulingDeps } from '../scheduling';
import { addMoveUpEntry } from '../waitlist/move-up';
import { isOfferOpenTo, settleOffer, type OfferDeps } from '../waitlist/offers';
import type { OfferReplyPayload, OfferReplyRaiser } from './offer-reply';
import { isTooLateToChange } from './link-booking';
import type { BookingLinkIssuer } from './links';
import { classifyOffer, decideReply, type OfferState, type ReplyAction } from './replies';
import { parseReply } from './keywords';
import { resolvePatientLocale, type PatientLocale } from './locale';
import { smsClinicOf } from './send';
import { renderSms, type SmsClinic, type SmsTemplate, type SmsTemplateParams } from './templates';

/** What reply handling touches: scheduling (confirm, cancel, BOOK), offers, the waitlist, BOOK lists, message records, audit. */
export type ReplyDeps = Pick<OfferDeps, keyof SchedulingDeps | 'offers' | 'waitlist' | 'idempotency' | 'audit' | 'smsMessages' | 'sms'>;

/** How long a BOOK list stays pickable. */
export const BOOK_LIST_TTL_MINUTES = 120;
/**
 * Time BOOK leaves for the reply: it lists times that still meet the clinic's minimum notice this
 * long after the list (else the first time listed could be refused a minute later, when the next
 * half hour passes before the patient's number arrives).
 */
export const BOOK_REPLY_MINUTES = 30;
/** How far ahead BOOK looks, and how many times it lists. */
export const BOOK_SEARCH_DAYS = 14;
export const BOOK_LIST_SIZE = 5;
/** Longest life of a reschedule link; it also ends when the visit enters the cancellation window. */
export const RESCHEDULE_LINK_TTL_MINUTES = 48 * 60;
/** How far ahead C and X look for "the next appointment". */
const UPCOMING_DAYS = 180;

/** The BOOK list is kept in the idempotency store (scope sms-inbound, key book-list:<patientId>). */
const bookListKey = (patientId: string) => `book-list:${patientId}`;
interface BookList {
  createdAt: string;
  expiresAt: string;
  consumed: boolean;
  clinicId: string;
  appointmentType: string;
  slots: { slotId: string; start: string }[];
}

export interface InboundSms {
  messageSid: string;
  from: string;
  body: string;
}

export interface ReplyOutcome {
  /** The SMS answer (TwiML), or none. */
  answer?: string;
  /** For logs and tests: the decision taken (a code, no PHI). */
  action: ReplyAction['kind'] | 'unknown-sender';
  patientId?: string;
}

type Answer = <T extends SmsTemplate>(template: T, params: Omit<SmsTemplateParams[T], 'clinic'>) => string;

/** Carries out the reply decision for one inbound SMS; `links` issues the signed link an R asks for. */
export async function handleInboundSms(deps: ReplyDeps, workflow: OfferReplyRaiser, sms: InboundSms, links: BookingLinkIssuer): Promise<ReplyOutcome> {
  const now = deps.clock.now().toUTC();
  const nowIso = now.toISO()!;
  const intent = parseReply(sms.body);
  const patient = await deps.patients.findByPhone(sms.from);
  if (!patient) {
    const template = intent.kind === 'opt-out' ? 'opted-out' : intent.kind === 'opt-in' ? 'opted-in' : 'help';
    // A stranger who wrote AYUDA or PARAR is answered in Spanish.
    return { answer: renderSms(template, {}, resolvePatientLocale(intent.language)), action: 'unknown-sender' };
  }

  const openOffers = await deps.offers.listOpenForPatient(patient.patientId);
  // The newest offer still open wins; an expired-but-unsettled one is still reported as expired.
  const offer = openOffers.find((o) => Date.parse(o.expiresAt) > now.toMillis()) ?? openOffers[0] ?? (await lastOfferedTo(deps, patient.patientId, now));
  const offerState = classifyOffer(offer, nowIso);
  const upcoming = await nextAppointment(deps, patient.patientId, now);
  const bookList = await readBookList(deps, patient.patientId, nowIso);
  const action = decideReply(intent, {
    optedOut: patient.smsOptedOutAt !== undefined,
    offer: offerState,
    hasUpcomingAppointment: upcoming !== undefined,
    ...(bookList ? { bookList: { size: bookList.slots.length, createdAt: bookList.createdAt } } : {}),
  });

  const clinicId =
    action.kind === 'offer-reply'
      ? offer?.clinicId
      : action.kind === 'book-from-list'
        ? bookList?.clinicId
        : (upcoming?.clinicId ?? offer?.clinicId ?? bookList?.clinicId);
  const clinic = await clinicFor(deps, patient, clinicId);
  const smsClinic: SmsClinic | undefined = clinic ? smsClinicOf(clinic) : undefined;
  // The patient's language; without one, the language of the word they wrote (AYUDA), then the clinic's default.
  const locale = resolvePatientLocale(patient.preferredLanguage ?? intent.language, clinic?.defaultLanguage);
  const answer: Answer = (template, params) => renderSms(template, { ...params, clinic: smsClinic } as SmsTemplateParams[typeof template], locale);
  const actor: Actor = { kind: 'patient', principalId: patient.patientId };
  const result = (text: string | undefined): ReplyOutcome => ({
    ...(text !== undefined ? { answer: text } : {}),
    action: action.kind,
    patientId: patient.patientId,
  });

  switch (action.kind) {
    case 'ignore':
      return result(undefined);
    case 'answer':
      return result(
        action.template === 'book-pick-invalid' ? answer('book-pick-invalid', { count: bookList?.slots.length ?? 0 }) : answer(action.template, {}),
      );
    case 'opt-out':
      if (!patient.smsOptedOutAt) {
        await deps.patients.put({ ...patient, smsOptedOutAt: nowIso, updatedAt: nowIso });
        await auditConsent(deps, patient.patientId, sms.messageSid, nowIso);
      }
      return result(answer('opted-out', {}));
    case 'opt-in': {
      // Texting START is the patient's own, explicit opt-in: it records consent as well.
      const { smsOptedOutAt: _cleared, ...rest } = patient;
      await deps.patients.put({ ...rest, smsConsent: true, updatedAt: nowIso });
      await auditConsent(deps, patient.patientId, sms.messageSid, nowIso);
      return result(answer('opted-in', {}));
    }
    case 'offer-reply':
      return result(await replyToOffer(deps, workflow, sms, patient, action, offerState, answer, nowIso));
    case 'confirm-appointment': {
      const confirmed = await confirmAppointment(deps, { appointmentId: upcoming!.appointmentId, actor, channel: 'sms' });
      return result(answer('confirmed', { start: confirmed.start }));
    }
    case 'cancel-appointment':
      try {
        const cancelled = await cancelAppointment(deps, { appointmentId: upcoming!.appointmentId, actor, reasonCode: 'patient-sms' });
        return result(answer('cancelled', { start: cancelled.start }));
      } catch (e) {
        if (isDomainError(e, ErrorCode.CANCELLATION_WINDOW_PASSED)) return result(answer('cancel-too-late', { start: upcoming!.start }));
        throw e;
      }
    case 'send-book-list':
      return result(await sendBookList(deps, patient, now, answer, locale));
    case 'join-move-up':
      try {
        // The same entry for the same appointment: EARLIER twice (or after the front desk added it) changes nothing.
        await addMoveUpEntry(deps, { appointmentId: upcoming!.appointmentId, patientId: patient.patientId });
        return result(answer('earlier-added', { start: upcoming!.start }));
      } catch (e) {
        if (e instanceof DomainError) return result(answer('no-upcoming-appointment', {}));
        throw e;
      }
    case 'send-reschedule-link': {
      const appointment = upcoming!;
      if (!clinic || isTooLateToChange(appointment, clinic, now)) return result(answer('reschedule-too-late', { start: appointment.start }));
      // The link ends when the visit enters the cancellation window: after that a pick would be refused anyway.
      const windowOpensMs = Date.parse(appointment.start) - clinic.bookingPolicy.cancellationWindowHours * 3_600_000;
      const ttlMinutes = Math.max(1, Math.min(RESCHEDULE_LINK_TTL_MINUTES, Math.floor((windowOpensMs - now.toMillis()) / 60_000)));
      const link = links.issue({ patientId: patient.patientId, scope: { kind: 'reschedule', appointmentId: appointment.appointmentId }, ttlMinutes });
      return result(answer('reschedule-link', { start: appointment.start, url: link.url, expiresAt: link.expiresAt }));
    }
    case 'book-from-list':
      return result(await bookFromList(deps, patient, bookList!, action.index, actor, answer, nowIso));
  }
}

/** Consent changes are patient-record updates made by the patient: audited with ids only. */
async function auditConsent(deps: ReplyDeps, patientId: string, messageSid: string, at: string): Promise<void> {
  await deps.audit.record({
    principalId: patientId,
    action: 'update',
    resourceType: 'Patient',
    resourceId: patientId,
    patientId,
    correlationId: messageSid,
    at,
    outcome: 'success',
  });
}

async function replyToOffer(
  deps: ReplyDeps,
  workflow: OfferReplyRaiser,
  sms: InboundSms,
  patient: PatientRecord,
  action: Extract<ReplyAction, { kind: 'offer-reply' }>,
  state: OfferState,
  answer: Answer,
  nowIso: string,
): Promise<string> {
  // Re-read: the workflow may have closed the offer since the list was read.
  const offer = await deps.offers.get(action.offerId);
  if (!isOfferOpenTo(offer, patient.patientId, nowIso)) {
    const fresh = classifyOffer(offer, nowIso);
    return answer(fresh.kind === 'taken' ? 'offer-taken' : fresh.kind === 'expired' || state.kind === 'expired' ? 'offer-expired' : 'no-open-offer', {});
  }
  const payload: OfferReplyPayload = { offerId: offer.offerId, patientId: patient.patientId, reply: action.reply, messageSid: sms.messageSid, channel: 'sms' };
  if ((await workflow.raiseOfferReply(offer.workflowInstanceId, payload)) === 'gone') return answerWorkflowGone(deps, offer.offerId, patient.patientId, answer);
  if (action.reply === 'no') return answer('offer-declined', {});
  const slotStart = await slotStartOf(offer.slotId);
  return answer('offer-checking', slotStart ? { start: slotStart } : {});
}

/**
 * The workflow that made the offer has ended or is missing, so nobody will act on the reply: the
 * answer says what the offer's record says now. An offer still `sent` (its workflow ended without
 * settling it, e.g. state restored from before the workflow's last steps) has ended: it is settled as
 * expired, so the patient's entry waits again and later replies do not find it open. An offer the
 * workflow accepted for this patient just before it ended is being booked (the workflow texts the result).
 */
async function answerWorkflowGone(deps: ReplyDeps, offerId: string, patientId: string, answer: Answer): Promise<string> {
  const offer = await deps.offers.get(offerId);
  if (offer?.status === 'accepted' && offer.patientId === patientId) {
    const slotStart = await slotStartOf(offer.slotId);
    return answer('offer-checking', slotStart ? { start: slotStart } : {});
  }
  if (offer?.status === 'unavailable') return answer('offer-taken', {});
  if (offer?.status === 'sent') await settleOffer(deps, offerId, 'expired', { notify: false });
  return answer('offer-expired', {});
}

async function slotStartOf(slotId: string): Promise<string | undefined> {
  try {
    return parseSlotId(slotId).startUtc.toISO()!;
  } catch {
    return undefined;
  }
}

/** The offer the patient was last texted about (any status), from the message records. */
async function lastOfferedTo(deps: ReplyDeps, patientId: string, now: DateTime) {
  const recent = await deps.smsMessages.listForPatient(patientId, now.minus({ days: 7 }).toISO()!);
  const last = recent.filter((m) => m.offerId).at(-1);
  return last?.offerId ? deps.offers.get(last.offerId) : undefined;
}

/** The patient's next booked (or pending) appointment. */
async function nextAppointment(deps: ReplyDeps, patientId: string, now: DateTime): Promise<Appointment | undefined> {
  const list = await deps.appointments.listByPatient(patientId, now.toISO()!, now.plus({ days: UPCOMING_DAYS }).toISO()!);
  return list
    .filter((a) => (a.status === 'booked' || a.status === 'pending') && Date.parse(a.start) > now.toMillis())
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))[0];
}

async function clinicFor(deps: ReplyDeps, patient: PatientRecord, clinicId: string | undefined): Promise<Clinic | undefined> {
  const id = clinicId ?? patient.clinicIds[0];
  if (id) return deps.config.getClinic(id);
  const clinics = await deps.config.listClinics();
  return clinics.length === 1 ? clinics[0] : undefined;
}

async function readBookList(deps: ReplyDeps, patientId: string, nowIso: string): Promise<BookList | undefined> {
  const record = await deps.idempotency.get('sms-inbound', bookListKey(patientId));
  const list = record?.response?.body as BookList | undefined;
  if (!list || list.consumed || Date.parse(list.expiresAt) <= Date.parse(nowIso)) return undefined;
  return list;
}

async function writeBookList(deps: ReplyDeps, patientId: string, list: BookList): Promise<void> {
  const record = { scope: 'sms-inbound' as const, key: bookListKey(patientId), createdAt: list.createdAt, response: { status: 200, body: list } };
  const ttl = BOOK_LIST_TTL_MINUTES * 60;
  if (!(await deps.idempotency.putIfAbsent(record, ttl))) await deps.idempotency.complete(record, ttl);
}

/**
 * What BOOK searches: the patient's active waitlist entry, else the clinic and type of their most
 * recent appointment. Without either there is nothing sensible to offer by text.
 */
async function bookScope(deps: ReplyDeps, patient: PatientRecord, now: DateTime) {
  const clinicIds = patient.clinicIds.length ? patient.clinicIds : (await deps.config.listClinics()).map((c) => c.clinicId);
  for (const clinicId of clinicIds) {
    const entry = (await deps.waitlist.listActive(clinicId)).find((e) => e.patientId === patient.patientId);
    if (entry) return { clinicId, appointmentType: entry.appointmentType, providerId: entry.providerIds.length === 1 ? entry.providerIds[0] : undefined };
  }
  const past = await deps.appointments.listByPatient(patient.patientId, now.minus({ days: 365 }).toISO()!, now.plus({ days: UPCOMING_DAYS }).toISO()!);
  const latest = past.sort((a, b) => Date.parse(b.start) - Date.parse(a.start))[0];
  return latest ? { clinicId: latest.clinicId, appointmentType: latest.appointmentType, providerId: undefined } : undefined;
}

async function sendBookList(deps: ReplyDeps, patient: PatientRecord, now: DateTime, answer: Answer, locale: PatientLocale): Promise<string> {
  const scope = await bookScope(deps, patient, now);
  const clinic = scope ? await deps.config.getClinic(scope.clinicId) : undefined;
  if (!scope || !clinic) return answer('book-none', {});
  const from = now.plus({ minutes: clinic.bookingPolicy.minNoticeMinutes + BOOK_REPLY_MINUTES });
  const slots = await searchFreeSlots(deps, {
    clinicId: scope.clinicId,
    appointmentType: scope.appointmentType,
    from: from.toISO()!,
    to: now.plus({ days: BOOK_SEARCH_DAYS }).toISO()!,
    ...(scope.providerId ? { providerId: scope.providerId } : {}),
  });
  const seen = new Set<number>();
  const picked = slots
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || a.slotId.localeCompare(b.slotId))
    .filter((s) => !seen.has(Date.parse(s.start)) && seen.add(Date.parse(s.start)))
    .slice(0, BOOK_LIST_SIZE);
  if (picked.length === 0) return renderSms('book-none', { clinic: smsClinicOf(clinic) }, locale);
  const createdAt = now.toISO()!;
  await writeBookList(deps, patient.patientId, {
    createdAt,
    expiresAt: now.plus({ minutes: BOOK_LIST_TTL_MINUTES }).toISO()!,
    consumed: false,
    clinicId: clinic.clinicId,
    appointmentType: scope.appointmentType,
    slots: picked.map((s) => ({ slotId: s.slotId, start: s.start })),
  });
  return renderSms('book-list', { clinic: smsClinicOf(clinic), starts: picked.map((s) => s.start) }, locale);
}

async function bookFromList(
  deps: ReplyDeps,
  patient: PatientRecord,
  list: BookList,
  index: number,
  actor: Actor,
  answer: Answer,
  nowIso: string,
): Promise<string> {
  const choice = list.slots[index]!;
  try {
    const booked = await bookAppointment(deps, {
      slotId: choice.slotId,
      patientId: patient.patientId,
      appointmentType: list.appointmentType,
      channel: 'sms',
      actor,
    });
    await writeBookList(deps, patient.patientId, { ...list, consumed: true, createdAt: nowIso });
    return answer('booked', { start: booked.start });
  } catch (e) {
    if (isDomainError(e, ErrorCode.SLOT_TAKEN)) return answer('book-slot-gone', {});
    if (e instanceof DomainError) return answer('book-failed', {});
    throw e;
  }
}
