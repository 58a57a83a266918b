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
  dateTimeFromIso,
  DEFAULT_CASCADE_DEPTH,
  ErrorCode,
  isDomainError,
  isQuietHours,
  isTooCloseToOffer,
  nextSendTime,
  offerExpiresAt,
  offerPolicySchema,
  type OfferPolicy,
  type OfferStatus,
  type WaitlistEntry,
} from '../domain';
import { resolveSlot, searchFreeSlots } from '../domain/scheduling';
import { OFFER_REPLY_EVENT, type OfferReplyPayload as OfferReply } from '../domain/sms';
import * as offers from '../domain/waitlist/offers';
import type { OfferBooking, OfferRequest, OfferSettlement, SentOffer } from '../domain/waitlist/offers';
import { fitsSlot, knownCoverage } from '../domain/waitlist/eligibility';
import { refreshMoveUp } from '../domain/waitlist/move-up';
import { rankCandidatesForSlot } from '../domain/waitlist/ranking';
import { getServices } from '../functions/app/services';
import { Activities, BACKFILL_ORCHESTRATOR, backfillInstanceId, type BackfillInput, type CascadeLinkInput } from './names';
import { tracedOrchestrator } from './tracing';
import { telemetryMetrics } from '../functions/app/telemetry';

export { Activities, BACKFILL_ORCHESTRATOR, backfillInstanceId, type BackfillInput } from './names';

export interface BackfillOutput {
  outcome: 'booked' | 'slot-not-free' | 'too-close' | 'no-candidates' | 'max-rounds';
  appointmentId?: string;
  rounds: number;
  offers: { offerId: string; status: OfferStatus }[];
  /**
   * This backfill's place in a move-up cascade: its depth (move-ups before it), the link that freed
   * its slot (absent for a cancellation or no-show), and, when its YES was a move-up, the slot that
   * move released and the backfill that slot starts (the next link).
   */
  cascade: {
    depth: number;
    freedBy?: CascadeLinkInput;
    moved?: { offerId: string; appointmentId: string; releasedSlotId: string; nextInstanceId: string };
  };
}

interface CandidateList {
  slotFree: boolean;
  slotStart: string;
  timeZone: string;
  policy: OfferPolicy;
  candidates: { waitlistEntryId: string; patientId: string }[];
}

const activityRetry = new df.RetryOptions(2000, 5);
activityRetry.backoffCoefficient = 2;
activityRetry.maxRetryIntervalInMilliseconds = 60_000;

/** Deterministic orchestrator: time only from currentUtcDateTime, all I/O in activities. */
export const backfillOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<BackfillInput>();
  const offered = new Set(input.offeredEntryIds ?? []);
  const outcomes = new Map<string, OfferStatus>();
  const depth = input.cascade?.depth ?? 0;
  const cascade: BackfillOutput['cascade'] = { depth, ...(input.cascade ? { freedBy: input.cascade } : {}) };
  const result = (outcome: BackfillOutput['outcome'], extra: Partial<BackfillOutput> = {}): BackfillOutput => ({
    outcome,
    rounds: round,
    offers: [...outcomes].map(([offerId, status]) => ({ offerId, status })),
    ...extra,
    cascade,
  });
  let round = input.round ?? 0;

  for (;;) {
    const list: CandidateList = yield* loadList();
    const now = DateTime.fromJSDate(context.df.currentUtcDateTime, { zone: 'utc' });
    const slotStart = dateTimeFromIso(list.slotStart);
    if (!list.slotFree) return result('slot-not-free');
    if (isTooCloseToOffer(now, slotStart, list.policy)) return result('too-close');
    if (isQuietHours(now, list.timeZone, list.policy)) {
      context.df.setCustomStatus({ state: 'quiet-hours', round });
      yield context.df.createTimer(nextSendTime(now, list.timeZone, list.policy).toJSDate());
      continue;
    }
    if (list.candidates.length === 0) return result('no-candidates');
    if (round >= list.policy.maxRounds) return result('max-rounds');
    if (widens(list.policy)) return yield* widen(list);
    round += 1;

    const expiresAt = offerExpiresAt(now, slotStart, list.policy);
    const open: Map<string, SentOffer> = yield* sendRound(list, expiresAt);
    for (const s of open.values()) outcomes.set(s.offerId, 'sent');
    context.df.setCustomStatus({ state: 'offering', round, openOffers: [...open.keys()], expiresAt: expiresAt.toISO(), cascadeDepth: depth });
    if (open.size === 0) {
      // Nobody could be texted: not a round. The next load excludes everyone tried, so this ends.
      round -= 1;
      continue;
    }

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
        yield* decline(offer.offerId);
        continue;
      }
      const booking: OfferBooking = yield context.df.callActivityWithRetry(Activities.book, activityRetry, {
        offerId: offer.offerId,
      });
      open.delete(offer.offerId);
      if (!expiry.isCompleted) expiry.cancel();
      return yield* concludeYes(offer.offerId, booking, [...open.keys()], true);
    }
    if (open.size > 0) {
      yield* expire([...open.keys()]);
    } else if (!expiry.isCompleted) {
      expiry.cancel();
    }
  }

  /**
   * One round's offers: the next candidates up to the batch size, texted at once. A candidate who
   * cannot be texted (daily SMS limit, entry taken by another open offer or a concurrent backfill)
   * makes room for the next one in the same round.
   */
  function* sendRound(list: CandidateList, expiresAt: DateTime): Generator<Task, Map<string, SentOffer>, unknown> {
    const open = new Map<string, SentOffer>();
    let pending = list.candidates;
    while (open.size < list.policy.batchSize && pending.length > 0) {
      const batch = pending.slice(0, list.policy.batchSize - open.size);
      pending = pending.slice(batch.length);
      batch.forEach((c) => offered.add(c.waitlistEntryId));
      const sendTasks: Task[] = batch.map((c) =>
        context.df.callActivityWithRetry(Activities.sendOffer, activityRetry, {
          slotId: input.slotId,
          waitlistEntryId: c.waitlistEntryId,
          patientId: c.patientId,
          round,
          expiresAt: expiresAt.toISO(),
          workflowInstanceId: context.df.instanceId,
          ...(depth > 0 ? { cascadeDepth: depth } : {}),
        }),
      );
      const sent = (yield context.df.Task.all(sendTasks)) as SentOffer[];
      for (const s of sent) if (s.outcome === 'sent') open.set(s.offerId, s);
    }
    return open;
  }

  /** Is the slot still free, and who may be offered it now (everyone offered so far left out)? */
  function* loadList(): Generator<Task, CandidateList, unknown> {
    return (yield context.df.callActivityWithRetry(Activities.loadCandidates, activityRetry, {
      slotId: input.slotId,
      appointmentType: input.appointmentType,
      excludeEntryIds: [...offered],
      cascadeDepth: depth,
    })) as CandidateList;
  }

  /** Settles offers with one closeOffers step (none texted unless `notify`) and records the outcome. */
  function* close(offerIds: string[], status: OfferSettlement, notify: boolean): Generator<Task, void, unknown> {
    offerIds.forEach((id) => outcomes.set(id, status));
    yield context.df.callActivityWithRetry(Activities.closeOffers, activityRetry, { offerIds, status, notify });
  }

  function* decline(offerId: string): Generator<Task, void, unknown> {
    yield* close([offerId], 'declined', false);
  }

  function* expire(offerIds: string[]): Generator<Task, void, unknown> {
    yield* close(offerIds, 'expired', false);
  }

  /** Closes the other open offers as unavailable (texted or not); no step when there are none. */
  function* closeUnavailable(offerIds: string[], notify: boolean): Generator<Task, void, unknown> {
    if (offerIds.length) yield* close(offerIds, 'unavailable', notify);
  }

  /** After the book step for a YES: booked (the other open offers closed, texted if `notify`), or someone else got it first. */
  function* concludeYes(offerId: string, booking: OfferBooking, others: string[], notify: boolean): Generator<Task, BackfillOutput, unknown> {
    if (booking.booked) {
      outcomes.set(offerId, 'accepted');
      yield* closeUnavailable(others, notify);
      if (booking.moveUp && booking.appointmentId) {
        // The move released the patient's later slot: its slot.released (reason rescheduled) starts the next link.
        cascade.moved = {
          offerId,
          appointmentId: booking.appointmentId,
          releasedSlotId: booking.moveUp.previousSlotId,
          nextInstanceId: backfillInstanceId(booking.moveUp.previousSlotId),
        };
      }
      context.df.setCustomStatus({ state: 'booked', round, cascadeDepth: depth });
      return result('booked', booking.appointmentId ? { appointmentId: booking.appointmentId } : {});
    }
    // Someone else (front desk, another channel) took the slot meanwhile.
    outcomes.set(offerId, 'unavailable');
    yield* closeUnavailable(others, notify);
    return result('slot-not-free');
  }

  /**
   * Widening rounds (offerPolicy.roundIntervalFraction below 1): a round goes out, and after that
   * fraction of its offers' expiry the next one follows while the earlier offers stay open until
   * their own expiry, so a YES that comes late still finds its offer open. The first YES among all
   * open offers takes the slot; the other open offers close without a text (several rounds may be
   * open at once: a patient who answers later is told the slot is taken, as after any close).
   */
  function* widen(first: CandidateList): Generator<Task, BackfillOutput, unknown> {
    const open = new Map<string, { expiresAtMs: number }>();
    let list: CandidateList | undefined = first;
    let nextRoundMs = Number.NEGATIVE_INFINITY;
    /** Why no further round goes out (set once): the outcome if no YES comes. */
    let ended: BackfillOutput['outcome'] | undefined;
    for (;;) {
      const nowMs = context.df.currentUtcDateTime.getTime();
      if (ended === undefined && nowMs >= nextRoundMs) {
        const current: CandidateList = list ?? (yield* loadList());
        list = undefined;
        const now = DateTime.fromMillis(nowMs, { zone: 'utc' });
        const slotStart = dateTimeFromIso(current.slotStart);
        if (!current.slotFree) {
          yield* closeUnavailable([...open.keys()], false);
          return result('slot-not-free');
        }
        if (isTooCloseToOffer(now, slotStart, current.policy)) ended = 'too-close';
        else if (isQuietHours(now, current.timeZone, current.policy)) {
          context.df.setCustomStatus({ state: 'quiet-hours', round, openOffers: [...open.keys()] });
          nextRoundMs = nextSendTime(now, current.timeZone, current.policy).toMillis();
        } else if (current.candidates.length === 0) ended = 'no-candidates';
        else if (round >= current.policy.maxRounds) ended = 'max-rounds';
        else {
          round += 1;
          const expiresAt = offerExpiresAt(now, slotStart, current.policy);
          const sent: Map<string, SentOffer> = yield* sendRound(current, expiresAt);
          if (sent.size === 0) {
            round -= 1; // nobody could be texted: not a round; the next load excludes everyone tried
            continue;
          }
          for (const id of sent.keys()) {
            outcomes.set(id, 'sent');
            open.set(id, { expiresAtMs: expiresAt.toMillis() });
          }
          const interval = (expiresAt.toMillis() - nowMs) * (current.policy.roundIntervalFraction ?? 1);
          nextRoundMs = nowMs + Math.max(60_000, Math.round(interval));
          context.df.setCustomStatus({
            state: 'offering',
            round,
            openOffers: [...open.keys()],
            nextRoundAt: new Date(nextRoundMs).toISOString(),
            cascadeDepth: depth,
          });
        }
      }
      if (open.size === 0 && ended !== undefined) return result(ended);
      // Wake for the next round or the next expiry, whichever is first, unless a reply comes before.
      const wakeMs = Math.min(ended === undefined ? nextRoundMs : Number.POSITIVE_INFINITY, ...[...open.values()].map((o) => o.expiresAtMs));
      const timer: TimerTask = context.df.createTimer(new Date(wakeMs));
      const replyTask = context.df.waitForExternalEvent(OFFER_REPLY_EVENT);
      const winner = (yield context.df.Task.any([replyTask, timer])) as Task;
      if (winner === timer) {
        const at = context.df.currentUtcDateTime.getTime();
        const expired = [...open].filter(([, o]) => o.expiresAtMs <= at).map(([id]) => id);
        if (expired.length > 0) {
          for (const id of expired) open.delete(id);
          yield* expire(expired);
        }
        continue;
      }
      timer.cancel();
      const reply = replyTask.result as OfferReply;
      if (!open.has(reply.offerId)) continue; // settled already, or another slot's
      open.delete(reply.offerId);
      if (reply.reply === 'no') {
        yield* decline(reply.offerId);
        continue;
      }
      const booking = (yield context.df.callActivityWithRetry(Activities.book, activityRetry, { offerId: reply.offerId })) as OfferBooking;
      return yield* concludeYes(reply.offerId, booking, [...open.keys()], false);
    }
  }
};

/** True when the policy widens rounds (the next round goes out before the earlier offers expire). */
function widens(policy: OfferPolicy): boolean {
  return policy.roundIntervalFraction !== undefined && policy.roundIntervalFraction < 1;
}

// ---- activities: load the ports, call the domain (domain/waitlist/offers.ts) --------------------

/** Is the slot still free, what is the policy, and who may be offered it (ranked, consented, not yet offered)? */
export async function loadCandidates(input: {
  slotId: string;
  appointmentType: string;
  excludeEntryIds: string[];
  /** Move-ups before this backfill; at the clinic's cascade depth, move-up entries are left out (the chain ends here). */
  cascadeDepth?: number;
}): Promise<CandidateList> {
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
    to: dateTimeFromIso(slot.start).plus({ minutes: 1 }).toISO()!,
  });
  const slotFree = free.some((s) => s.slotId === slot.slotId);
  const base = { slotFree, slotStart: slot.start, timeZone: clinic.timeZone, policy: clinic.offerPolicy };
  if (!slotFree) return { ...base, candidates: [] };
  const exclude = new Set(input.excludeEntryIds);
  const moveUpsAllowed = (input.cascadeDepth ?? 0) < (clinic.offerPolicy.cascadeDepth ?? DEFAULT_CASCADE_DEPTH);
  const entries: WaitlistEntry[] = [];
  const slotStartMs = Date.parse(slot.start);
  // Only entries this provider's slot can serve (a patient waiting for another provider is not read); under
  // offerPolicy.replaceOpenOffers also those holding an open offer, after the waiting ones.
  const active = await services.waitlist.listActive(clinic.clinicId, input.appointmentType, slot.providerId);
  const listed =
    (clinic.offerPolicy.replaceOpenOffers ?? 'none') === 'none'
      ? active
      : [...active, ...(await services.waitlist.listOffered(clinic.clinicId, input.appointmentType, slot.providerId))];
  for (const candidate of listed) {
    if (exclude.has(candidate.waitlistEntryId) || (candidate.moveUp && !moveUpsAllowed)) continue;
    // An entry holding an offer of a later slot is ranked as a waiting one (sendOffer replaces that offer with this one).
    let waiting: WaitlistEntry | undefined = candidate;
    if (candidate.status === 'offered')
      waiting = (await offers.replacedOffer(services, clinic.offerPolicy, candidate, slot.slotId)) ? { ...candidate, status: 'active' } : undefined;
    // Only entries that can be eligible are refreshed (an appointment read each): the refresh changes nothing fitsSlot looks at.
    if (!waiting || !fitsSlot(waiting, slot, input.appointmentType, slotStartMs)) continue;
    // A move-up is ranked against where its appointment is now; one whose appointment is gone is left out (createOffer ends it).
    const entry = waiting.moveUp ? await refreshMoveUp(services, waiting) : waiting;
    if (entry) entries.push(entry); // rankCandidatesForSlot keeps only the eligible ones (the move-up's start as it is now)
  }
  const ranked = await rankCandidatesForSlot(services, slot, input.appointmentType, entries);
  const candidates: CandidateList['candidates'] = [];
  const now = services.clock.now();
  const historyFrom = now.minus({ days: 365 }).toISO()!;
  const historyTo = now.plus({ days: 365 }).toISO()!;
  for (const entry of ranked) {
    const patient = await services.patients.get(entry.patientId);
    if (!patient || !patient.smsConsent || patient.smsOptedOutAt) continue;
    // No offer while the last eligibility check for that date says the coverage is inactive; offered again once a check says active.
    const history = await services.appointments.listByPatient(entry.patientId, historyFrom, historyTo);
    if (knownCoverage(history, slot.start, clinic.timeZone) === 'inactive') continue;
    candidates.push({ waitlistEntryId: entry.waitlistEntryId, patientId: entry.patientId });
    if (candidates.length >= clinic.offerPolicy.batchSize * 2) break;
  }
  return { ...base, candidates };
}

/** Records the offer and texts the patient, once per offer (offers.sendOffer). */
export async function sendOffer(input: OfferRequest): Promise<SentOffer> {
  return offers.sendOffer(await getServices(), input);
}

/** Books the slot for the patient who said YES; `booked: false` means someone else got it first (offers.bookOffer). */
export async function bookForOffer(input: { offerId: string }): Promise<OfferBooking> {
  return offers.bookOffer(await getServices(), input.offerId);
}

/** Settles offers as expired, declined or unavailable, telling the patients if asked (offers.settleOffer). */
export async function closeOffers(input: { offerIds: string[]; status: OfferSettlement; notify: boolean }): Promise<void> {
  const services = await getServices();
  for (const offerId of input.offerIds) await offers.settleOffer(services, offerId, input.status, { notify: input.notify });
}

df.app.orchestration(
  BACKFILL_ORCHESTRATOR,
  tracedOrchestrator<BackfillOutput>(BACKFILL_ORCHESTRATOR, backfillOrchestrator, {
    // From the backfill's start (the slot.released event) to the booking: time to fill.
    completed: (output, { startedAt, endedAt }) => {
      if (output?.outcome === 'booked') telemetryMetrics.timeToFill((endedAt - startedAt) / 1000);
    },
  }),
);
df.app.activity(Activities.loadCandidates, { handler: (input: Parameters<typeof loadCandidates>[0], _ctx: InvocationContext) => loadCandidates(input) });
df.app.activity(Activities.sendOffer, { handler: (input: Parameters<typeof sendOffer>[0]) => sendOffer(input) });
df.app.activity(Activities.book, { handler: (input: { offerId: string }) => bookForOffer(input) });
df.app.activity(Activities.closeOffers, { handler: (input: Parameters<typeof closeOffers>[0]) => closeOffers(input) });
