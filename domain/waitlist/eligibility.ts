import { DateTime } from 'luxon';
import type { Appointment, OfferPolicy, Slot, TimeOfDay, Urgency, WaitlistEntry } from '../model';
import { resolveLocalEndTimeMs } from '../slots';
import { localWallMs, msIntoDay, parseClockTime, parseInstant } from '../time';

/**
 * True if the entry may be offered the slot: active, same clinic, type, provider and time window;
 * a move-up entry only for a slot that starts before the appointment it would move.
 */
export function isEligibleForSlot(entry: WaitlistEntry, slot: Slot, appointmentType: string): boolean {
  if (!fitsSlot(entry, slot, appointmentType)) return false;
  return !(entry.moveUp && Date.parse(slot.start) >= Date.parse(entry.moveUp.start));
}

/** The waitlist's listing order: created, then id (the repositories' listActive and listOffered). */
export function byCreated(a: Pick<WaitlistEntry, 'createdAt' | 'waitlistEntryId'>, b: Pick<WaitlistEntry, 'createdAt' | 'waitlistEntryId'>): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.waitlistEntryId.localeCompare(b.waitlistEntryId);
}

/** True if a slot of `providerId` can serve the entry: it asks for no provider, or for that one among others. */
export function acceptsProvider(entry: Pick<WaitlistEntry, 'providerIds'>, providerId: string): boolean {
  return entry.providerIds.length === 0 || entry.providerIds.includes(providerId);
}

/**
 * isEligibleForSlot without the move-up test: status, clinic, type, provider and time window, the
 * fields refreshMoveUp leaves as they are. An entry failing it is not eligible whatever its
 * appointment's start now is, so it needs no appointment read. `slotStartMs`: `Date.parse(slot.start)`,
 * for a caller testing many entries against one slot.
 */
export function fitsSlot(entry: WaitlistEntry, slot: Slot, appointmentType: string, slotStartMs?: number): boolean {
  if (entry.status !== 'active' || entry.clinicId !== slot.clinicId) return false;
  if (entry.appointmentType !== appointmentType || !slot.appointmentTypes.includes(appointmentType)) return false;
  if (!acceptsProvider(entry, slot.providerId)) return false;
  if (!entry.earliest && !entry.latest && !entry.clinicalDeadline) return true;
  const start = slotStartMs ?? Date.parse(slot.start);
  if (entry.earliest && start < Date.parse(entry.earliest)) return false;
  if (entry.latest && start > Date.parse(entry.latest)) return false;
  if (entry.clinicalDeadline && start > Date.parse(entry.clinicalDeadline)) return false;
  return true;
}

const URGENCY_RANK: Record<Urgency, number> = { urgent: 0, soon: 1, routine: 2 };

/** Local hour bands for time-of-day preferences. */
export function timeOfDayOf(localHour: number): Exclude<TimeOfDay, 'any'> {
  return localHour < 12 ? 'morning' : localHour < 17 ? 'afternoon' : 'evening';
}

/** Whole days a move-up entry would gain by taking a slot starting at `slotStart` (0 for other entries). */
export function daysGained(entry: Pick<WaitlistEntry, 'moveUp'>, slotStart: string): number {
  if (!entry.moveUp) return 0;
  return Math.max(0, Math.floor((Date.parse(entry.moveUp.start) - Date.parse(slotStart)) / 86_400_000));
}

/**
 * What the system knows of a patient's coverage for a visit on `slotStart`: the eligibility check
 * recorded on their appointment that day if there is one, else their latest check. `inactive`
 * means no offer until a later check says active (the eligibility workflow records every check).
 */
export function knownCoverage(
  appointments: readonly Pick<Appointment, 'start' | 'eligibility'>[],
  slotStart: string,
  zone: string,
): 'active' | 'inactive' | 'error' | 'unknown' {
  const checked = appointments.filter((a) => a.eligibility !== undefined);
  if (checked.length === 0) return 'unknown';
  const day = DateTime.fromISO(slotStart, { setZone: true }).setZone(zone).toISODate();
  const sameDay = checked.filter((a) => DateTime.fromISO(a.start, { setZone: true }).setZone(zone).toISODate() === day);
  const pool = sameDay.length > 0 ? sameDay : checked;
  const latest = pool.reduce((best, a) => (Date.parse(a.eligibility!.checkedAt) > Date.parse(best.eligibility!.checkedAt) ? a : best));
  return latest.eligibility!.status;
}

/**
 * Simple ranking used when the optimizer is unavailable: urgency, then nearest clinical deadline,
 * then most days gained (move-ups), then time-of-day match, then longest wait. Deterministic (ties
 * broken by entry id).
 */
export function rankWaitlistSimple(entries: readonly WaitlistEntry[], slot: Slot, appointmentType: string): WaitlistEntry[] {
  const slotTime = timeOfDayOf(parseInstant(slot.start).hour);
  // Sort keys computed once per entry (the comparator runs n log n times), the same values in the same order of precedence.
  const keyed = entries
    .filter((e) => isEligibleForSlot(e, slot, appointmentType))
    .map((e) => ({
      e,
      urgency: URGENCY_RANK[e.urgency],
      deadline: e.clinicalDeadline ? Date.parse(e.clinicalDeadline) : Number.POSITIVE_INFINITY,
      gained: daysGained(e, slot.start),
      time: e.timeOfDay === 'any' || e.timeOfDay === slotTime ? 0 : 1,
      created: Date.parse(e.createdAt),
    }));
  keyed.sort(
    (a, b) =>
      a.urgency - b.urgency ||
      a.deadline - b.deadline ||
      b.gained - a.gained ||
      a.time - b.time ||
      a.created - b.created ||
      a.e.waitlistEntryId.localeCompare(b.e.waitlistEntryId),
  );
  return keyed.map((k) => k.e);
}

/** Offer expiry shrinks as the slot gets closer: clamp(fraction x lead time, min, max), never past the offer cut-off. */
export function offerExpiresAt(now: DateTime, slotStart: DateTime, policy: OfferPolicy): DateTime {
  // Minutes are elapsed time in luxon (diff, plus and minus): epoch arithmetic gives the same instants without a Duration per call.
  const leadMinutes = (slotStart.toMillis() - now.toMillis()) / 60_000;
  const minutes = Math.min(policy.maxExpiryMinutes, Math.max(policy.minExpiryMinutes, Math.floor(leadMinutes * policy.expiryFraction)));
  const cutoffMs = slotStart.toMillis() - policy.minLeadMinutes * 60_000;
  const expiresMs = now.toMillis() + minutes * 60_000;
  return expiresMs < cutoffMs ? now.plus({ minutes }) : slotStart.minus({ minutes: policy.minLeadMinutes });
}

/** True once the slot starts too soon to offer it (or has started). */
export function isTooCloseToOffer(now: DateTime, slotStart: DateTime, policy: Pick<OfferPolicy, 'minLeadMinutes' | 'minExpiryMinutes'>): boolean {
  return slotStart.toMillis() - (policy.minLeadMinutes + policy.minExpiryMinutes) * 60_000 < now.toMillis();
}

/** True if `now` falls in the clinic's quiet hours (no SMS). Handles windows across midnight. */
export function isQuietHours(now: DateTime, zone: string, policy: Pick<OfferPolicy, 'quietStart' | 'quietEnd'>): boolean {
  // The local minute of day from the zone's offset (what setZone computes, without a DateTime per call).
  const minute = Math.floor(msIntoDay(localWallMs(now.toMillis(), zone)) / 60_000);
  const start = parseClockTime(policy.quietStart);
  const end = parseClockTime(policy.quietEnd);
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** The first instant at or after `now` outside quiet hours. */
export function nextSendTime(now: DateTime, zone: string, policy: Pick<OfferPolicy, 'quietStart' | 'quietEnd'>): DateTime {
  if (!isQuietHours(now, zone, policy)) return now;
  const nowMs = now.toMillis();
  const end = parseClockTime(policy.quietEnd);
  // Wall-clock time (not elapsed minutes), so a DST change overnight does not shift the end of quiet hours;
  // an end inside a spring-forward gap is the end of the gap, the first instant that is no longer quiet.
  // The clinic-local date from the zone's offset (what setZone reads), the next one by calendar day.
  const wall = new Date(localWallMs(nowMs, zone));
  const atEnd = (days: number) =>
    resolveLocalEndTimeMs({ year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() + days }, end, zone);
  let candidate = atEnd(0);
  if (candidate <= nowMs) candidate = atEnd(1);
  return DateTime.fromMillis(candidate, { zone: 'utc' });
}
