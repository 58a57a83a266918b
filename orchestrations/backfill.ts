/**
 * Backfill: a freed slot is offered to waitlisted patients by SMS, in rounds, until one says YES.
 *
 * One instance per slot (`backfill-<slotId>`). Each round offers the slot to the next `batchSize`
 * ranked candidates, waits for the first YES or the offer expiry (durable timer, shorter as the slot
 * gets closer), books atomically for the first YES and tells the others the slot is gone. Quiet
 * hours defer a round; a slot too close to offer ends the workflow. Every offer's outcome is
 * recorded (accepted, declined, expired, unavailable).
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task, TimerTask } from 'durable-functions';
import { DateTime } from 'luxon';
import {
  DomainError,
  ErrorCode,
  EventType,
  makeEvent,
  type SchedulingEvent,
  isDomainError,
  isQuietHours,
  isTooCloseToOffer,
  nextSendTime,
  offerExpiresAt,
  offerPolicySchema,
  type OfferPolicy,
  type OfferStatus,
} from '../domain';
import { bookAppointment, resolveSlot, searchFreeSlots } from '../domain/scheduling';
import { getServices } from '../functions/app/services';
import { notifyPatient } from '../functions/patient/notify';
import { rankCandidatesForSlot } from '../domain/waitlist/ranking';
import { OFFER_REPLY_EVENT, type OfferReplyPayload as OfferReply } from '../domain/sms';
import { Activities, BACKFILL_ORCHESTRATOR, type BackfillInput } from './names';

export { Activities, BACKFILL_ORCHESTRATOR, backfillInstanceId, type BackfillInput } from './names';

export interface BackfillOutput {
  outcome: 'booked' | 'slot-not-free' | 'too-close' | 'no-candidates' | 'max-rounds';
  appointmentId?: string;
  rounds: number;
  offers: { offerId: string; status: OfferStatus }[];
}

interface CandidateList {
  slotFree: boolean;
  slotStart: string;
  timeZone: string;
  policy: OfferPolicy;
  candidates: { waitlistEntryId: string; patientId: string }[];
}

interface SentOffer {
  offerId: string;
  waitlistEntryId: string;
  patientId: string;
  outcome: 'sent' | 'not-sent';
}

const activityRetry = new df.RetryOptions(2000, 5);
activityRetry.backoffCoefficient = 2;
activityRetry.maxRetryIntervalInMilliseconds = 60_000;

/** Deterministic orchestrator: time only from currentUtcDateTime, all I/O in activities. */
export const backfillOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<BackfillInput>();
  const offered = new Set(input.offeredEntryIds ?? []);
  const outcomes = new Map<string, OfferStatus>();
  const result = (outcome: BackfillOutput['outcome'], extra: Partial<BackfillOutput> = {}): BackfillOutput => ({
    outcome,
    rounds: round,
    offers: [...outcomes].map(([offerId, status]) => ({ offerId, status })),
    ...extra,
  });
  let round = input.round ?? 0;

  for (;;) {
    const list: CandidateList = yield context.df.callActivityWithRetry(Activities.loadCandidates, activityRetry, {
      slotId: input.slotId,
      appointmentType: input.appointmentType,
      excludeEntryIds: [...offered],
    });
    const now = DateTime.fromJSDate(context.df.currentUtcDateTime, { zone: 'utc' });
    const slotStart = DateTime.fromISO(list.slotStart, { setZone: true });
    if (!list.slotFree) return result('slot-not-free');
    if (isTooCloseToOffer(now, slotStart, list.policy)) return result('too-close');
    if (isQuietHours(now, list.timeZone, list.policy)) {
      context.df.setCustomStatus({ state: 'quiet-hours', round });
      yield context.df.createTimer(nextSendTime(now, list.timeZone, list.policy).toJSDate());
      continue;
    }
    if (list.candidates.length === 0) return result('no-candidates');
    if (round >= list.policy.maxRounds) return result('max-rounds');
    round += 1;

    const batch = list.candidates.slice(0, list.policy.batchSize);
    batch.forEach((c) => offered.add(c.waitlistEntryId));
    const expiresAt = offerExpiresAt(now, slotStart, list.policy);
    const sendTasks: Task[] = batch.map((c) =>
      context.df.callActivityWithRetry(Activities.sendOffer, activityRetry, {
        slotId: input.slotId,
        waitlistEntryId: c.waitlistEntryId,
        patientId: c.patientId,
        round,
        expiresAt: expiresAt.toISO(),
        workflowInstanceId: context.df.instanceId,
      }),
    );
    const sent: SentOffer[] = yield context.df.Task.all(sendTasks);
    const open = new Map(sent.filter((s) => s.outcome === 'sent').map((s) => [s.offerId, s]));
    for (const s of open.values()) outcomes.set(s.offerId, 'sent');
    context.df.setCustomStatus({ state: 'offering', round, openOffers: [...open.keys()], expiresAt: expiresAt.toISO() });
    if (open.size === 0) continue;

    const expiry: TimerTask = context.df.createTimer(expiresAt.toJSDate());
    while (open.size > 0) {
      const replyTask = context.df.waitForExternalEvent(OFFER_REPLY_EVENT);
      const winner: Task = yield context.df.Task.any([replyTask, expiry]);
      if (winner === expiry) break;
      const reply = replyTask.result as OfferReply;
      const offer = open.get(reply.offerId);
      if (!offer) continue; // a reply to an earlier round or another slot: already settled
      if (reply.reply === 'no') {
        open.delete(offer.offerId);
        outcomes.set(offer.offerId, 'declined');
        yield context.df.callActivityWithRetry(Activities.closeOffers, activityRetry, { offerIds: [offer.offerId], status: 'declined', notify: false });
        continue;
      }
      const booking: { booked: boolean; appointmentId?: string } = yield context.df.callActivityWithRetry(Activities.book, activityRetry, {
        offerId: offer.offerId,
      });
      open.delete(offer.offerId);
      if (!expiry.isCompleted) expiry.cancel();
      const others = [...open.keys()];
      if (booking.booked) {
        outcomes.set(offer.offerId, 'accepted');
        others.forEach((id) => outcomes.set(id, 'unavailable'));
        if (others.length)
          yield context.df.callActivityWithRetry(Activities.closeOffers, activityRetry, { offerIds: others, status: 'unavailable', notify: true });
        context.df.setCustomStatus({ state: 'booked', round });
        return result('booked', booking.appointmentId ? { appointmentId: booking.appointmentId } : {});
      }
      // Someone else (front desk, another channel) took the slot meanwhile.
      outcomes.set(offer.offerId, 'unavailable');
      others.forEach((id) => outcomes.set(id, 'unavailable'));
      if (others.length)
        yield context.df.callActivityWithRetry(Activities.closeOffers, activityRetry, { offerIds: others, status: 'unavailable', notify: true });
      return result('slot-not-free');
    }
    if (open.size > 0) {
      const expired = [...open.keys()];
      expired.forEach((id) => outcomes.set(id, 'expired'));
      yield context.df.callActivityWithRetry(Activities.closeOffers, activityRetry, { offerIds: expired, status: 'expired', notify: false });
    } else if (!expiry.isCompleted) {
      expiry.cancel();
    }
  }
};

// ---- activities -----------------------------------------------------------------------------

/**
 * Publishes an offer lifecycle event. Event ids are derived from the offer, so a retried activity
 * republishes the same id and Service Bus duplicate detection drops it.
 */
async function publishOfferEvent(services: Awaited<ReturnType<typeof getServices>>, event: SchedulingEvent): Promise<void> {
  await services.publisher.publish([event]);
}

const offerEventMeta = (offerId: string, kind: string, time: string) => ({ id: `evt-${kind}-${offerId}`.slice(0, 64), time, subject: offerId });

/** Is the slot still free, what is the policy, and who may be offered it (ranked, consented, not yet offered)? */
export async function loadCandidates(input: { slotId: string; appointmentType: string; excludeEntryIds: string[] }): Promise<CandidateList> {
  const services = await getServices();
  let resolved: Awaited<ReturnType<typeof resolveSlot>>;
  try {
    resolved = await resolveSlot(services, input.slotId);
  } catch (e) {
    // The slot left the schedule (provider absence, changed hours): nothing to backfill.
    if (isDomainError(e, ErrorCode.SLOT_NOT_FOUND))
      return { slotFree: false, slotStart: '1970-01-01T00:00:00Z', timeZone: 'UTC', policy: offerPolicySchema.parse({}), candidates: [] };
    throw e;
  }
  const { slot, clinic } = resolved;
  const free = await searchFreeSlots(services, {
    clinicId: clinic.clinicId,
    appointmentType: input.appointmentType,
    providerId: slot.providerId,
    from: slot.start,
    to: DateTime.fromISO(slot.start, { setZone: true }).plus({ minutes: 1 }).toISO()!,
  });
  const slotFree = free.some((s) => s.slotId === slot.slotId);
  const base = { slotFree, slotStart: slot.start, timeZone: clinic.timeZone, policy: clinic.offerPolicy };
  if (!slotFree) return { ...base, candidates: [] };
  const exclude = new Set(input.excludeEntryIds);
  const entries = (await services.waitlist.listActive(clinic.clinicId, input.appointmentType)).filter((e) => !exclude.has(e.waitlistEntryId));
  const ranked = await rankCandidatesForSlot(services, slot, input.appointmentType, entries);
  const candidates: CandidateList['candidates'] = [];
  for (const entry of ranked) {
    const patient = await services.patients.get(entry.patientId);
    if (patient && patient.smsConsent && !patient.smsOptedOutAt) candidates.push({ waitlistEntryId: entry.waitlistEntryId, patientId: entry.patientId });
    if (candidates.length >= clinic.offerPolicy.batchSize * 2) break;
  }
  return { ...base, candidates };
}

/**
 * Records the offer (create-only) and texts the patient. A retried activity finds the offer and
 * texts only if the earlier attempt had not (a marker is written after each successful send), so a
 * patient gets one offer SMS per offer, or at worst two if a crash falls between send and marker.
 */
export async function sendOffer(input: {
  slotId: string;
  waitlistEntryId: string;
  patientId: string;
  round: number;
  expiresAt: string;
  workflowInstanceId: string;
}): Promise<SentOffer> {
  const services = await getServices();
  const offerId = `ofr-${input.slotId.replace(/\./g, '-')}-${input.waitlistEntryId}`.slice(0, 64);
  const result = (outcome: SentOffer['outcome']): SentOffer => ({ offerId, waitlistEntryId: input.waitlistEntryId, patientId: input.patientId, outcome });
  const { slot, clinic } = await resolveSlot(services, input.slotId);
  let offer = await services.offers.get(offerId);
  if (!offer) {
    const entry = await services.waitlist.get(input.waitlistEntryId);
    if (!entry || entry.status !== 'active') return result('not-sent');
    const now = services.clock.now().toUTC().toISO()!;
    offer = {
      offerId,
      clinicId: clinic.clinicId,
      slotId: slot.slotId,
      waitlistEntryId: entry.waitlistEntryId,
      patientId: entry.patientId,
      workflowInstanceId: input.workflowInstanceId,
      round: input.round,
      status: 'sent',
      sentAt: now,
      expiresAt: input.expiresAt,
      version: 1,
    };
    await services.offers.create(offer);
    await services.waitlist.update({ ...entry, status: 'offered', updatedAt: now, version: entry.version + 1 }, entry.version);
  }
  if (offer.status !== 'sent') return result('not-sent');
  const marker = `offer-sms:${offerId}`;
  if (await services.idempotency.get('event', marker)) return result('sent');
  const outcome = await notifyPatient(services, {
    patientId: offer.patientId,
    clinic,
    template: 'offer',
    params: { start: slot.start, expiresAt: input.expiresAt },
    offerId,
    purpose: 'offer',
    correlationId: input.workflowInstanceId,
  });
  if (outcome !== 'sent') {
    await settleOffer(offerId, 'unavailable', false);
    return result('not-sent');
  }
  await services.idempotency.putIfAbsent({ scope: 'event', key: marker, createdAt: services.clock.now().toUTC().toISO()! }, 30 * 24 * 3600);
  await publishOfferEvent(
    services,
    makeEvent(
      EventType.offerSent,
      {
        offerId,
        waitlistEntryId: offer.waitlistEntryId,
        patientId: offer.patientId,
        slotId: offer.slotId,
        clinicId: offer.clinicId,
        expiresAt: offer.expiresAt,
        round: offer.round,
      },
      offerEventMeta(offerId, 'sent', offer.sentAt),
    ),
  );
  return result('sent');
}

/** Books the slot for the patient who said YES; SLOT_TAKEN means someone else got it first. */
export async function bookForOffer(input: { offerId: string }): Promise<{ booked: boolean; appointmentId?: string }> {
  const services = await getServices();
  const offer = await services.offers.get(input.offerId);
  if (!offer) throw new DomainError(ErrorCode.OFFER_NOT_FOUND, 'Unknown offer', { offerId: input.offerId });
  if (offer.status === 'accepted') {
    // A retried activity: the booking already happened.
    const mine = await services.appointments.listByPatient(offer.patientId, '1970-01-01T00:00:00Z', '9999-01-01T00:00:00Z');
    return {
      booked: true,
      ...(mine.find((a) => a.slotId === offer.slotId) ? { appointmentId: mine.find((a) => a.slotId === offer.slotId)!.appointmentId } : {}),
    };
  }
  const entry = await services.waitlist.get(offer.waitlistEntryId);
  const { clinic } = await resolveSlot(services, offer.slotId);
  try {
    const appointment = await bookAppointment(services, {
      slotId: offer.slotId,
      patientId: offer.patientId,
      appointmentType: entry?.appointmentType ?? '',
      channel: 'backfill',
      actor: { kind: 'system', principalId: offer.workflowInstanceId },
    });
    const now = services.clock.now().toUTC().toISO()!;
    await services.offers.update({ ...offer, status: 'accepted', respondedAt: now, version: offer.version + 1 }, offer.version);
    if (entry) await services.waitlist.update({ ...entry, status: 'booked', updatedAt: now, version: entry.version + 1 }, entry.version);
    await publishOfferEvent(
      services,
      makeEvent(
        EventType.offerAccepted,
        {
          offerId: offer.offerId,
          waitlistEntryId: offer.waitlistEntryId,
          patientId: offer.patientId,
          slotId: offer.slotId,
          clinicId: offer.clinicId,
          appointmentId: appointment.appointmentId,
        },
        offerEventMeta(offer.offerId, 'accepted', now),
      ),
    );
    await notifyPatient(services, {
      patientId: offer.patientId,
      clinic,
      template: 'booked',
      params: { start: appointment.start },
      purpose: 'confirmation',
      correlationId: offer.workflowInstanceId,
    });
    return { booked: true, appointmentId: appointment.appointmentId };
  } catch (e) {
    const gone =
      isDomainError(e) && ([ErrorCode.SLOT_TAKEN, ErrorCode.PATIENT_OVERLAP, ErrorCode.IN_THE_PAST, ErrorCode.SLOT_NOT_FOUND] as string[]).includes(e.code);
    if (!gone) throw e;
    await settleOffer(offer.offerId, 'unavailable', true);
    return { booked: false };
  }
}

/** Settles an offer (expired, declined, unavailable), frees the waitlist entry, and tells the patient if asked. */
async function settleOffer(offerId: string, status: Exclude<OfferStatus, 'sent' | 'accepted'>, notify: boolean): Promise<void> {
  const services = await getServices();
  const offer = await services.offers.get(offerId);
  if (!offer || offer.status !== 'sent') return;
  const now = services.clock.now().toUTC().toISO()!;
  await services.offers.update({ ...offer, status, ...(status === 'declined' ? { respondedAt: now } : {}), version: offer.version + 1 }, offer.version);
  const entry = await services.waitlist.get(offer.waitlistEntryId);
  if (entry && entry.status === 'offered') {
    await services.waitlist.update({ ...entry, status: 'active', updatedAt: now, version: entry.version + 1 }, entry.version);
  }
  if (status === 'expired') {
    await publishOfferEvent(
      services,
      makeEvent(
        EventType.offerExpired,
        {
          offerId,
          waitlistEntryId: offer.waitlistEntryId,
          patientId: offer.patientId,
          slotId: offer.slotId,
          clinicId: offer.clinicId,
          appointmentType: entry?.appointmentType ?? 'unknown',
        },
        offerEventMeta(offerId, 'expired', now),
      ),
    );
  }
  if (notify) {
    const { clinic } = await resolveSlot(services, offer.slotId);
    await notifyPatient(services, {
      patientId: offer.patientId,
      clinic,
      template: 'offer-taken',
      params: {},
      offerId: offer.offerId,
      purpose: 'offer-taken',
      correlationId: offer.workflowInstanceId,
    });
  }
}

export async function closeOffers(input: { offerIds: string[]; status: 'expired' | 'declined' | 'unavailable'; notify: boolean }): Promise<void> {
  for (const offerId of input.offerIds) await settleOffer(offerId, input.status, input.notify);
}

df.app.orchestration(BACKFILL_ORCHESTRATOR, backfillOrchestrator);
df.app.activity(Activities.loadCandidates, { handler: (input: Parameters<typeof loadCandidates>[0], _ctx: InvocationContext) => loadCandidates(input) });
df.app.activity(Activities.sendOffer, { handler: (input: Parameters<typeof sendOffer>[0]) => sendOffer(input) });
df.app.activity(Activities.book, { handler: (input: { offerId: string }) => bookForOffer(input) });
df.app.activity(Activities.closeOffers, { handler: (input: Parameters<typeof closeOffers>[0]) => closeOffers(input) });
