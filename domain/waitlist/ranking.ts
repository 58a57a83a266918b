import { DateTime } from 'luxon';
import type { Slot, WaitlistEntry } from '../model';
import { optimizeAssignment, type OptimizationInstance } from '../optimizer';
import type { Clock, ConfigRepository } from '../ports';
import { isEligibleForSlot, rankWaitlistSimple } from './eligibility';

/** Most candidates ranked by the optimizer per freed slot (later ones follow the simple ranking). */
const OPTIMIZER_PICKS = 10;

/** Maps waitlist entries to optimizer candidates (ids, windows, urgency, wait and preferences only). */
export function waitlistCandidates(entries: readonly WaitlistEntry[], now: DateTime): OptimizationInstance['candidates'] {
  return entries.map((e) => ({
    id: e.waitlistEntryId,
    appointmentType: e.appointmentType,
    ...(e.providerIds.length ? { providerIds: e.providerIds } : {}),
    ...(e.earliest ? { earliest: e.earliest } : {}),
    ...(e.latest ? { latest: e.latest } : {}),
    ...(e.clinicalDeadline ? { clinicalDeadline: e.clinicalDeadline } : {}),
    urgency: e.urgency,
    daysWaiting: Math.max(0, Math.floor(now.diff(DateTime.fromISO(e.createdAt), 'days').days)),
    timeOfDay: e.timeOfDay,
  }));
}

/**
 * Ranks eligible waitlist entries for one freed slot. The optimizer picks the best candidate for the
 * slot; repeating without the winner yields an order consistent with its score. Entries past the
 * first OPTIMIZER_PICKS follow the simple ranking. If the optimizer fails, the simple ranking is used.
 */
export async function rankCandidatesForSlot(
  services: { config: Pick<ConfigRepository, 'getClinic'>; clock: Clock },
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
    const remaining = waitlistCandidates(eligible, now);
    const picked: WaitlistEntry[] = [];
    while (picked.length < OPTIMIZER_PICKS && remaining.length > 0) {
      const result = await optimizeAssignment(
        {
          ...(clinic ? { timeZone: clinic.timeZone } : {}),
          slots: [{ id: slot.slotId, providerId: slot.providerId, start: slot.start, end: slot.end, appointmentType }],
          candidates: remaining,
        },
        { timeLimitMs: 500 },
      );
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
