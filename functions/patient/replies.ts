import { DateTime } from 'luxon';
import {
  bookAppointment,
  cancelAppointment,
  confirmAppointment,
  DomainError,
  ErrorCode,
  isDomainError,
  parseSlotId,
  searchFreeSlots,
  type Actor,
  type Appointment,
  type Clinic,
  type PatientRecord,
} from '../../domain';
import {
  classifyOffer,
  decideReply,
  OFFER_REPLY_EVENT,
  parseReply,
  renderSms,
  type OfferReplyPayload,
  type OfferState,
  type ReplyAction,
  type SmsClinic,
  type SmsTemplate,
  type SmsTemplateParams,
} from '../../domain/sms';
import type { Services } from '../app/services';
import { smsClinicOf, smsMessagesOf, type OfferReplyRaiser } from './runtime';

/** How long a BOOK list stays pickable. */
export const BOOK_LIST_TTL_MINUTES = 120;
/** How far ahead BOOK looks, and how many times it lists. */
export const BOOK_SEARCH_DAYS = 14;
export const BOOK_LIST_SIZE = 5;
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

/** Carries out the reply decision for one inbound SMS. */
export async function handleInboundSms(services: Services, durable: OfferReplyRaiser, sms: InboundSms): Promise<ReplyOutcome> {
  const now = services.clock.now().toUTC();
  const nowIso = now.toISO()!;
  const intent = parseReply(sms.body);
  const patient = await services.patients.findByPhone(sms.from);
  if (!patient) {
    const template = intent.kind === 'opt-out' ? 'opted-out' : intent.kind === 'opt-in' ? 'opted-in' : 'help';
    return { answer: renderSms(template, {}), action: 'unknown-sender' };
  }

  const openOffers = await services.offers.listOpenForPatient(patient.patientId);
  // The newest offer still open wins; an expired-but-unsettled one is still reported as expired.
  const offer = openOffers.find((o) => Date.parse(o.expiresAt) > now.toMillis()) ?? openOffers[0] ?? (await lastOfferedTo(services, patient.patientId, now));
  const offerState = classifyOffer(offer, nowIso);
  const upcoming = await nextAppointment(services, patient.patientId, now);
  const bookList = await readBookList(services, patient.patientId, nowIso);
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
  const clinic = await clinicFor(services, patient, clinicId);
  const smsClinic: SmsClinic | undefined = clinic ? smsClinicOf(clinic) : undefined;
  const answer: Answer = (template, params) => renderSms(template, { ...params, clinic: smsClinic } as SmsTemplateParams[typeof template]);
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
        await services.patients.put({ ...patient, smsOptedOutAt: nowIso, updatedAt: nowIso });
        await auditConsent(services, patient.patientId, sms.messageSid, nowIso);
      }
      return result(answer('opted-out', {}));
    case 'opt-in': {
      // Texting START is the patient's own, explicit opt-in: it records consent as well.
      const { smsOptedOutAt: _cleared, ...rest } = patient;
      await services.patients.put({ ...rest, smsConsent: true, updatedAt: nowIso });
      await auditConsent(services, patient.patientId, sms.messageSid, nowIso);
      return result(answer('opted-in', {}));
    }
    case 'offer-reply':
      return result(await replyToOffer(services, durable, sms, patient, action, offerState, answer, nowIso));
    case 'confirm-appointment': {
      const confirmed = await confirmAppointment(services, { appointmentId: upcoming!.appointmentId, actor, channel: 'sms' });
      return result(answer('confirmed', { start: confirmed.start }));
    }
    case 'cancel-appointment':
      try {
        const cancelled = await cancelAppointment(services, { appointmentId: upcoming!.appointmentId, actor, reasonCode: 'patient-sms' });
        return result(answer('cancelled', { start: cancelled.start }));
      } catch (e) {
        if (isDomainError(e, ErrorCode.CANCELLATION_WINDOW_PASSED)) return result(answer('cancel-too-late', { start: upcoming!.start }));
        throw e;
      }
    case 'send-book-list':
      return result(await sendBookList(services, patient, now, answer));
    case 'book-from-list':
      return result(await bookFromList(services, patient, bookList!, action.index, actor, answer, nowIso));
  }
}

/** Consent changes are patient-record updates made by the patient: audited with ids only. */
async function auditConsent(services: Services, patientId: string, messageSid: string, at: string): Promise<void> {
  await services.audit.record({
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
  services: Services,
  durable: OfferReplyRaiser,
  sms: InboundSms,
  patient: PatientRecord,
  action: Extract<ReplyAction, { kind: 'offer-reply' }>,
  state: OfferState,
  answer: Answer,
  nowIso: string,
): Promise<string> {
  // Re-read: the workflow may have closed the offer since the list was read.
  const offer = await services.offers.get(action.offerId);
  const fresh = classifyOffer(offer, nowIso);
  if (!offer || fresh.kind !== 'open' || offer.patientId !== patient.patientId) {
    return answer(fresh.kind === 'taken' ? 'offer-taken' : fresh.kind === 'expired' || state.kind === 'expired' ? 'offer-expired' : 'no-open-offer', {});
  }
  const payload: OfferReplyPayload = { offerId: offer.offerId, patientId: patient.patientId, reply: action.reply, messageSid: sms.messageSid, channel: 'sms' };
  try {
    await durable.raiseEvent(offer.workflowInstanceId, OFFER_REPLY_EVENT, payload);
  } catch (e) {
    // The workflow that made the offer is gone (durable client 404): the offer cannot be taken any more.
    if (e instanceof Error && e.message.startsWith('No instance with ID')) return answer('offer-expired', {});
    throw e;
  }
  if (action.reply === 'no') return answer('offer-declined', {});
  const slotStart = await slotStartOf(offer.slotId);
  return answer('offer-checking', slotStart ? { start: slotStart } : {});
}

async function slotStartOf(slotId: string): Promise<string | undefined> {
  try {
    return parseSlotId(slotId).startUtc.toISO()!;
  } catch {
    return undefined;
  }
}

/** The offer the patient was last texted about (any status), from the message records. */
async function lastOfferedTo(services: Services, patientId: string, now: DateTime) {
  const recent = await smsMessagesOf(services).listForPatient(patientId, now.minus({ days: 7 }).toISO()!);
  const last = recent.filter((m) => m.offerId).at(-1);
  return last?.offerId ? services.offers.get(last.offerId) : undefined;
}

/** The patient's next booked (or pending) appointment. */
async function nextAppointment(services: Services, patientId: string, now: DateTime): Promise<Appointment | undefined> {
  const list = await services.appointments.listByPatient(patientId, now.toISO()!, now.plus({ days: UPCOMING_DAYS }).toISO()!);
  return list
    .filter((a) => (a.status === 'booked' || a.status === 'pending') && Date.parse(a.start) > now.toMillis())
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))[0];
}

async function clinicFor(services: Services, patient: PatientRecord, clinicId: string | undefined): Promise<Clinic | undefined> {
  const id = clinicId ?? patient.clinicIds[0];
  if (id) return services.config.getClinic(id);
  const clinics = await services.config.listClinics();
  return clinics.length === 1 ? clinics[0] : undefined;
}

async function readBookList(services: Services, patientId: string, nowIso: string): Promise<BookList | undefined> {
  const record = await services.idempotency.get('sms-inbound', bookListKey(patientId));
  const list = record?.response?.body as BookList | undefined;
  if (!list || list.consumed || Date.parse(list.expiresAt) <= Date.parse(nowIso)) return undefined;
  return list;
}

async function writeBookList(services: Services, patientId: string, list: BookList): Promise<void> {
  const record = { scope: 'sms-inbound' as const, key: bookListKey(patientId), createdAt: list.createdAt, response: { status: 200, body: list } };
  const ttl = BOOK_LIST_TTL_MINUTES * 60;
  if (!(await services.idempotency.putIfAbsent(record, ttl))) await services.idempotency.complete(record, ttl);
}

/**
 * What BOOK searches: the patient's active waitlist entry, else the clinic and type of their most
 * recent appointment. Without either there is nothing sensible to offer by text.
 */
async function bookScope(services: Services, patient: PatientRecord, now: DateTime) {
  const clinicIds = patient.clinicIds.length ? patient.clinicIds : (await services.config.listClinics()).map((c) => c.clinicId);
  for (const clinicId of clinicIds) {
    const entry = (await services.waitlist.listActive(clinicId)).find((e) => e.patientId === patient.patientId);
    if (entry) return { clinicId, appointmentType: entry.appointmentType, providerId: entry.providerIds.length === 1 ? entry.providerIds[0] : undefined };
  }
  const past = await services.appointments.listByPatient(patient.patientId, now.minus({ days: 365 }).toISO()!, now.plus({ days: UPCOMING_DAYS }).toISO()!);
  const latest = past.sort((a, b) => Date.parse(b.start) - Date.parse(a.start))[0];
  return latest ? { clinicId: latest.clinicId, appointmentType: latest.appointmentType, providerId: undefined } : undefined;
}

async function sendBookList(services: Services, patient: PatientRecord, now: DateTime, answer: Answer): Promise<string> {
  const scope = await bookScope(services, patient, now);
  const clinic = scope ? await services.config.getClinic(scope.clinicId) : undefined;
  if (!scope || !clinic) return answer('book-none', {});
  const from = now.plus({ minutes: clinic.bookingPolicy.minNoticeMinutes });
  const slots = await searchFreeSlots(services, {
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
  if (picked.length === 0) return renderSms('book-none', { clinic: smsClinicOf(clinic) });
  const createdAt = now.toISO()!;
  await writeBookList(services, patient.patientId, {
    createdAt,
    expiresAt: now.plus({ minutes: BOOK_LIST_TTL_MINUTES }).toISO()!,
    consumed: false,
    clinicId: clinic.clinicId,
    appointmentType: scope.appointmentType,
    slots: picked.map((s) => ({ slotId: s.slotId, start: s.start })),
  });
  return renderSms('book-list', { clinic: smsClinicOf(clinic), starts: picked.map((s) => s.start) });
}

async function bookFromList(
  services: Services,
  patient: PatientRecord,
  list: BookList,
  index: number,
  actor: Actor,
  answer: Answer,
  nowIso: string,
): Promise<string> {
  const choice = list.slots[index]!;
  try {
    const booked = await bookAppointment(services, {
      slotId: choice.slotId,
      patientId: patient.patientId,
      appointmentType: list.appointmentType,
      channel: 'sms',
      actor,
    });
    await writeBookList(services, patient.patientId, { ...list, consumed: true, createdAt: nowIso });
    return answer('booked', { start: booked.start });
  } catch (e) {
    if (isDomainError(e, ErrorCode.SLOT_TAKEN)) return answer('book-slot-gone', {});
    if (e instanceof DomainError) return answer('book-failed', {});
    throw e;
  }
}
