import { DateTime, Settings, type Zone } from 'luxon';
import type { Appointment, Slot, WaitlistEntry } from '../model';
import { fromAppointment } from '../risk/history';
import { fastInstantMs } from '../time';
import { loadGlpk, optimizeAssignment, parseInstance, type OptimizationInstance } from '../optimizer';
import { singleSlotPickOrder } from '../optimizer/single-slot';
import { notifySolved } from '../optimizer/observe';
import type { Clock, ConfigRepository } from '../ports';
import { DAY_MS } from '../risk/features';
import { candidateRisks, type RiskScoringDeps } from '../risk/scoring';
import { isEligibleForSlot, rankWaitlistSimple } from './eligibility';

/** Most candidates ranked by the optimizer per freed slot (later ones follow the simple ranking). */
const OPTIMIZER_PICKS = 10;

/** Maps waitlist entries to optimizer candidates (ids, windows, urgency, wait and preferences; the no-show score by patient when known). */
export function waitlistCandidates(
  entries: readonly WaitlistEntry[],
  now: DateTime,
  noShowRisk: ReadonlyMap<string, number> = new Map(),
): OptimizationInstance['candidates'] {
  const waited = daysWaitingSince(now);
  return entries.map((e) => ({
    id: e.waitlistEntryId,
    appointmentType: e.appointmentType,
    ...(e.providerIds.length ? { providerIds: e.providerIds } : {}),
    ...(e.earliest ? { earliest: e.earliest } : {}),
    ...(e.latest ? { latest: e.latest } : {}),
    ...(e.clinicalDeadline ? { clinicalDeadline: e.clinicalDeadline } : {}),
    urgency: e.urgency,
    daysWaiting: waited(e.createdAt),
    timeOfDay: e.timeOfDay,
    ...(noShowRisk.has(e.patientId) ? { noShowRisk: noShowRisk.get(e.patientId)! } : {}),
    ...(e.moveUp ? { currentStart: e.moveUp.start } : {}),
  }));
}

/** Names of the zones whose days all last 24 hours (with FixedOffsetZone, luxon's isUniversal zones). */
const FIXED_DAY_ZONES = /^(Etc\/)?(UTC|UCT|GMT|GMT[+-]?0|Greenwich|Universal|Zulu)$|^Etc\/GMT[+-]\d{1,2}$/;

/**
 * Whether every day of the zone lasts 24 hours. The system zone's name is read through a new
 * Intl.DateTimeFormat per call (luxon), so the answer is remembered per zone object and TZ setting
 * (Node re-reads the zone when process.env.TZ is assigned).
 */
function hasFixedDays(zone: Zone): boolean {
  if (zone.isUniversal) return true;
  const tz = process.env.TZ;
  if (fixedDays && fixedDays.zone === zone && fixedDays.tz === tz) return fixedDays.fixed;
  const fixed = FIXED_DAY_ZONES.test(zone.name);
  fixedDays = { zone, tz, fixed };
  return fixed;
}
let fixedDays: { zone: Zone; tz: string | undefined; fixed: boolean } | undefined;

/**
 * Whole days from each `createdAt` to `now`, at least 0: `now.diff(DateTime.fromISO(createdAt), 'days')`
 * floored. That diff adds calendar days in createdAt's zone (luxon's default zone); where every day
 * of that zone lasts 24 hours (UTC, the Functions host's zone) it is the elapsed milliseconds over a
 * day, computed here without building a DateTime per entry. Other zones, and strings that are not
 * an instant with an offset, take luxon's path.
 */
export function daysWaitingSince(now: DateTime): (createdAt: string) => number {
  const viaLuxon = (createdAt: string) => Math.max(0, Math.floor(now.diff(DateTime.fromISO(createdAt), 'days').days));
  if (!now.isValid || !hasFixedDays(Settings.defaultZone)) return viaLuxon;
  const nowMs = now.toMillis();
  return (createdAt) => {
    // An instant with an offset is the same instant with or without setZone.
    const createdMs = fastInstantMs(createdAt);
    return createdMs === undefined ? viaLuxon(createdAt) : Math.max(0, Math.floor((nowMs - createdMs) / DAY_MS));
  };
}

/**
 * Ranks eligible waitlist entries for one freed slot. The optimizer picks the best candidate for the
 * slot; repeating without the winner yields an order consistent with its score. Entries past the
 * first OPTIMIZER_PICKS follow the simple ranking. If the optimizer fails, the simple ranking is used.
 * With the risk ports, each candidate's no-show score for this slot feeds the optimizer's noShowRisk
 * term; without them, or if scoring fails, the term is 0.
 */
export async function rankCandidatesForSlot(
  services: { config: Pick<ConfigRepository, 'getClinic'>; clock: Clock } & Partial<Pick<RiskScoringDeps, 'appointments' | 'riskModels'>>,
  slot: Slot,
  appointmentType: string,
  entries: readonly WaitlistEntry[],
): Promise<WaitlistEntry[]> {
  const eligible = entries.filter((e) => isEligibleForSlot(e, slot, appointmentType));
  const simple = rankWaitlistSimple(eligible, slot, appointmentType);
  try {
    const clinic = await services.config.getClinic(slot.clinicId);
    const now = services.clock.now();
    const byId = new Map(eligible.map((e) => [e.waitlistEntryId, e]));
    const remaining = waitlistCandidates(eligible, now, await slotRisks(services, slot, appointmentType, eligible));
    const picked: WaitlistEntry[] = [];
    // One slot: the picks of repeated solves come from one model build (singleSlotPickOrder, same
    // order). glpk is still loaded, so that a missing solver falls back to the simple ranking as before.
    const fastStarted = performance.now();
    const instance: OptimizationInstance = {
      ...(clinic ? { timeZone: clinic.timeZone } : {}),
      slots: [{ id: slot.slotId, providerId: slot.providerId, start: slot.start, end: slot.end, appointmentType }],
      candidates: remaining,
    };
    const order = remaining.length > 0 ? (await loadGlpk(), singleSlotPickOrder(parseInstance(instance), OPTIMIZER_PICKS)) : [];
    if (order) {
      if (remaining.length > 0)
        notifySolved({ solveMs: performance.now() - fastStarted, status: order.length > 0 ? 'optimal' : 'empty', purpose: 'waitlist-ranking' });
      for (const id of order) picked.push(byId.get(id)!);
      remaining.length = 0;
    }
    while (picked.length < OPTIMIZER_PICKS && remaining.length > 0) {
      // `instance.candidates` is `remaining`: each solve sees the candidates not picked yet.
      const result = await optimizeAssignment(instance, { timeLimitMs: 500 });
      notifySolved({ solveMs: result.solveMs, status: result.status, purpose: 'waitlist-ranking' });
      const winner = result.assignments[0]?.candidateId;
      if (!winner) break;
      picked.push(byId.get(winner)!);
      remaining.splice(
        remaining.findIndex((c) => c.id === winner),
        1,
      );
    }
    const seen = new Set(picked.map((e) => e.waitlistEntryId));
    return [...picked, ...simple.filter((e) => !seen.has(e.waitlistEntryId))];
  } catch (e) {
    // Never block a backfill on the solver: the simple ranking is a sound order, and the log says why.
    console.warn(`ranking for slot ${slot.slotId}: optimizer unavailable (${e instanceof Error ? e.name : 'error'}), simple ranking used`);
    return simple;
  }
}

/** Prior visits a patient's own rate counts as (shrinkage towards the clinic's rate): with 2 visits the patient's history weighs as much as the prior. */
export const HISTORY_PRIOR_VISITS = 2;

/**
 * A patient's no-show rate from their appointment history at one clinic: no-shows over finished
 * visits (attended, no-show, late cancellation), shrunk towards `prior` (the clinic's score for them)
 * by HISTORY_PRIOR_VISITS pseudo-visits. Undefined without finished visits. docs/optimizer.md,
 * "Move-up and no-show risk".
 */
export function historyNoShowRate(history: readonly Appointment[], clinicId: string, prior: number): number | undefined {
  let visits = 0;
  let noShows = 0;
  for (const a of history) {
    if (a.clinicId !== clinicId) continue;
    const past = fromAppointment(a);
    if (!past || past.outcome === 'cancel') continue;
    visits++;
    if (past.outcome === 'noshow') noShows++;
  }
  if (visits === 0) return undefined;
  return (noShows + HISTORY_PRIOR_VISITS * prior) / (visits + HISTORY_PRIOR_VISITS);
}

/**
 * Each eligible patient's no-show score for the slot, by patient id; empty without the risk ports or
 * when scoring fails. A clinic without a trained model scores everyone at its rate; then the
 * patient's own history rate (historyNoShowRate) is used where there is one.
 */
async function slotRisks(
  services: Parameters<typeof rankCandidatesForSlot>[0],
  slot: Slot,
  appointmentType: string,
  eligible: readonly WaitlistEntry[],
): Promise<Map<string, number>> {
  const { appointments, riskModels, clock } = services;
  if (!appointments || !riskModels || eligible.length === 0) return new Map();
  try {
    const risks = await candidateRisks(
      { appointments, riskModels, clock },
      slot.clinicId,
      { start: slot.start, appointmentType },
      eligible.map((e) => e.patientId),
    );
    const out = new Map([...risks].map(([patientId, r]) => [patientId, r.score]));
    const untrained = [...risks.values()].some((r) => r.modelVersion === 'untrained' || r.factors.length === 0);
    if (untrained) {
      const now = clock.now();
      const from = now.minus({ days: 365 }).toISO()!;
      const to = now.toISO()!;
      for (const [patientId, prior] of out) {
        const history = await appointments.listByPatient(patientId, from, to);
        const rate = historyNoShowRate(history, slot.clinicId, prior);
        if (rate !== undefined) out.set(patientId, Math.min(1, Math.max(0, rate)));
      }
    }
    return out;
  } catch (e) {
    console.warn(`ranking for slot ${slot.slotId}: no-show risk unavailable (${e instanceof Error ? e.name : 'error'})`);
    return new Map();
  }
}
