import { DateTime } from 'luxon';
import { DomainError, ErrorCode } from './errors';
import { stableJson } from './frozen';
import { slotIdForMs } from './ids';
import type { AppointmentStatus, AppointmentType, Clinic, Provider, Slot, Weekday } from './model';
import { LruMap } from './lru';
import type { BusyAppointment } from './ports';
import { weekdays } from './model';
import { assertZone, formatInstantInZone, localWallMs, msIntoDay, parseClockTime, parseInstant, zoneOffsetMinutes } from './time';

export const MAX_SLOT_RANGE_DAYS = 366;

/**
 * The instant of a clinic-local wall-clock time, following RFC 5545 (3.3.5): an ambiguous time
 * (fall-back) means its first occurrence; a time in a spring-forward gap is read with the offset
 * before the gap, which lands after the gap (02:30 -> 03:30).
 */
export function resolveLocalTime(date: LocalDate, minutesAfterMidnight: number, zone: string): DateTime {
  return DateTime.fromMillis(resolveLocalTimeMs(date, minutesAfterMidnight, zone), { zone });
}

/** A clinic-local calendar date (a DateTime in the clinic zone has these fields too). */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** resolveLocalTime as epoch milliseconds (no DateTime: slot generation calls it per block). */
function resolveLocalTimeMs(date: LocalDate, minutesAfterMidnight: number, zone: string): number {
  // Millisecond arithmetic with the zone's offset function: luxon formatting per call made slot generation slow.
  const wall = wallClockMs(date, minutesAfterMidnight);
  const offsetBefore = zoneOffsetMinutes(wall - 86_400_000, zone);
  const offsetAfter = zoneOffsetMinutes(wall + 86_400_000, zone);
  // An instant is a reading of the wall time if its own offset maps it back there; the earliest is the first occurrence.
  const readings = [...new Set([offsetBefore, offsetAfter])].map((o) => wall - o * 60_000).filter((ms) => ms + zoneOffsetMinutes(ms, zone) * 60_000 === wall);
  return readings.length > 0 ? Math.min(...readings) : wall - offsetBefore * 60_000;
}

/** A clinic-local date and minute of day as milliseconds of a UTC clock showing that wall time. */
function wallClockMs(date: LocalDate, minutesAfterMidnight: number): number {
  return Date.UTC(date.year, date.month - 1, date.day) + minutesAfterMidnight * 60_000;
}

/**
 * The instant a block ending at this clinic-local wall time ends: as resolveLocalTime, except that an
 * end inside a spring-forward gap is the end of the gap (02:30 -> 03:00, not 03:30). Read the start
 * way, a block ending 02:30 would reach past a block starting 03:00 and their slots would overlap.
 */
export function resolveLocalEndTime(date: LocalDate, minutesAfterMidnight: number, zone: string): DateTime {
  return DateTime.fromMillis(resolveLocalEndTimeMs(date, minutesAfterMidnight, zone), { zone });
}

/** resolveLocalEndTime as epoch milliseconds (a day past the month's last is the next month's: Date.UTC rolls over). */
export function resolveLocalEndTimeMs(date: LocalDate, minutesAfterMidnight: number, zone: string): number {
  const instant = resolveLocalTimeMs(date, minutesAfterMidnight, zone);
  // How far the wall clock at `instant` is past the wall time asked for: the part of the gap skipped.
  const skippedMs = instant + zoneOffsetMinutes(instant, zone) * 60_000 - wallClockMs(date, minutesAfterMidnight);
  if (!(skippedMs > 0)) return instant;
  // The gap began within `skippedMs` before `instant`: find the first minute with the later offset.
  const before = zoneOffsetMinutes(instant - skippedMs, zone);
  let ms = instant - skippedMs + 60_000;
  while (ms < instant && zoneOffsetMinutes(ms, zone) === before) ms += 60_000;
  return ms;
}

/** Slot length of a provider: explicit, else the longest of their appointment types. */
export function slotMinutesOf(provider: Provider, types: ReadonlyMap<string, AppointmentType>): number {
  if (provider.slotMinutes) return provider.slotMinutes;
  return Math.max(...provider.appointmentTypes.map((code) => requireType(types, code).durationMinutes));
}

/** The appointment type with this code, or APPOINTMENT_TYPE.UNKNOWN. */
export function requireType(types: ReadonlyMap<string, AppointmentType>, code: string): AppointmentType {
  const type = types.get(code);
  if (!type) throw new DomainError(ErrorCode.APPOINTMENT_TYPE_UNKNOWN, 'Unknown appointment type', { appointmentType: code });
  return type;
}

export interface SlotGenerationInput {
  clinic: Pick<Clinic, 'clinicId' | 'timeZone'>;
  provider: Provider;
  /** Every appointment type the provider offers, by code. */
  appointmentTypes: ReadonlyMap<string, AppointmentType>;
  /** Slots starting in [from, to). */
  from: DateTime;
  to: DateTime;
}

/**
 * Whether [from, to) spans more than `days` calendar days as luxon's diff counts them (in `to`'s zone, so
 * a DST day is one day). Elapsed time decides unless it is within a day of the limit; luxon's diff, which
 * builds several DateTimes, is asked only then (slot generation and search check every call).
 */
export function longerThanDays(from: DateTime, to: DateTime, days: number): boolean {
  const elapsed = to.toMillis() - from.toMillis();
  if (elapsed <= (days - 1) * 86_400_000) return false;
  if (elapsed > (days + 1) * 86_400_000) return true;
  return to.diff(from, 'days').days > days;
}

/** Midnight UTC of the clinic-local calendar date at instant `ms` (a plain calendar day, as generateSlots walks them). */
function localDayMs(ms: number, zone: string): number {
  const wall = localWallMs(ms, zone);
  return wall - msIntoDay(wall);
}

/**
 * Generates a provider's slots for [from, to) from weekly hours and exceptions, in the clinic's zone.
 * Slots are laid back to back from each block's start in elapsed time, so they never overlap and no
 * instant is produced twice on fall-back; nor does any slot start at a wall time that does not exist.
 */
export function generateSlots(input: SlotGenerationInput): Slot[] {
  const { clinic, provider, appointmentTypes, from, to } = input;
  const zone = assertZone(clinic.timeZone);
  if (!from.isValid || !to.isValid) throw new DomainError(ErrorCode.INVALID_TIME, 'Invalid range');
  if (to <= from) throw new DomainError(ErrorCode.END_BEFORE_START, 'Range end must be after its start');
  if (longerThanDays(from, to, MAX_SLOT_RANGE_DAYS)) {
    throw new DomainError(ErrorCode.RANGE_TOO_LONG, `Range may span at most ${MAX_SLOT_RANGE_DAYS} days`);
  }
  const slotMinutes = slotMinutesOf(provider, appointmentTypes);
  const holidays = new Set(provider.exceptions.flatMap((e) => (e.kind === 'holiday' ? [e.date] : [])));
  const absences = provider.exceptions.flatMap((e) =>
    e.kind === 'absence' ? [{ from: parseInstant(e.from, 'exception.from').toMillis(), to: parseInstant(e.to, 'exception.to').toMillis() }] : [],
  );
  const slotMs = slotMinutes * 60_000;
  const fromMs = from.toMillis();
  const toMs = to.toMillis();

  const slots: Slot[] = [];
  const startsMs: number[] = [];
  // Start a day early and end a day late: a block of one local day may start before `from` in UTC.
  // Local dates are walked as plain calendar days (UTC date arithmetic), not zoned DateTimes.
  // The clinic-local dates of `from` and `to`: the UTC dates of the instants shifted by the zone's offset.
  const lastDayMs = localDayMs(toMs, zone) + 86_400_000;
  for (let dayMs = localDayMs(fromMs, zone) - 86_400_000; dayMs <= lastDayMs; dayMs += 86_400_000) {
    const date = new Date(dayMs);
    const day: LocalDate = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
    if (holidays.has(date.toISOString().slice(0, 10))) continue;
    const weekday: Weekday = weekdays[(date.getUTCDay() + 6) % 7]!;
    for (const block of provider.weeklyHours.filter((b) => b.day === weekday)) {
      const typesHere = (block.appointmentTypes ?? provider.appointmentTypes).filter((code) => {
        const type = requireType(appointmentTypes, code);
        return provider.appointmentTypes.includes(code) && type.durationMinutes <= slotMinutes;
      });
      if (typesHere.length === 0) continue;
      // Elapsed-time arithmetic in epoch milliseconds: the same instants as stepping DateTimes, with
      // one zone-offset lookup per slot edge instead of a luxon object per step (slot search is hot).
      const blockStart = resolveLocalTimeMs(day, parseClockTime(block.start), zone);
      const blockEnd = resolveLocalEndTimeMs(day, parseClockTime(block.end), zone);
      // One offset for the whole block unless a DST transition falls inside it (at most one can:
      // blocks are shorter than a day and transitions are months apart).
      const startOffset = zoneOffsetMinutes(blockStart, zone);
      const blockOffset = startOffset === zoneOffsetMinutes(blockEnd, zone) ? startOffset : undefined;
      for (let start = blockStart; start + slotMs <= blockEnd; start += slotMs) {
        const end = start + slotMs;
        if (start < fromMs || start >= toMs) continue;
        if (absences.some((a) => start < a.to && a.from < end)) continue;
        startsMs.push(start);
        slots.push({
          slotId: slotIdForMs(provider.providerId, start),
          clinicId: clinic.clinicId,
          providerId: provider.providerId,
          start: formatInstantInZone(start, zone, blockOffset),
          end: formatInstantInZone(end, zone, blockOffset),
          appointmentTypes: typesHere,
        });
      }
    }
  }
  // Blocks of one weekday may be listed in any order; overlapping blocks would double slots, so dedupe by id.
  const unique = new Map(slots.map((s, i) => [s.slotId, { slot: s, ms: startsMs[i]! }]));
  return [...unique.values()].sort((a, b) => a.ms - b.ms).map((u) => u.slot);
}

/**
 * Remembers generated slots for identical inputs. Slot search is the hottest read of the product and
 * mostly asks for the same few days with the same configuration; generation is deterministic in its
 * input (clinic id and zone, the provider's whole record, the appointment types, the window), so the key
 * is that input itself: a configuration change gives a new key, never a stale answer. Bounded (least
 * recently used entries go first); results are frozen, callers copy what they change.
 */
export class SlotGenerationMemo {
  private readonly entries: LruMap<string, readonly Slot[]>;
  hits = 0;
  misses = 0;
  constructor(capacity = 2_000) {
    this.entries = new LruMap(capacity);
  }

  /** `typesKey`: a caller generating for many providers can pass `appointmentTypesKey(types)` once. */
  generate(input: SlotGenerationInput, typesKey = appointmentTypesKey(input.appointmentTypes)): readonly Slot[] {
    // A short key: the provider's record and the types stand in by their interned JSON's number (the
    // record's JSON is computed once when the configuration hands out frozen records).
    const key = `${input.clinic.clinicId}|${input.clinic.timeZone}|${input.from.toMillis()}|${input.to.toMillis()}|${jsonKeyOf(typesKey)}|${jsonKeyOf(stableJson(input.provider))}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const generated = generateSlots(input);
    const startsMs = new Float64Array(generated.length);
    const endsMs = new Float64Array(generated.length);
    const slots = Object.freeze(
      generated.map((slot, i) => {
        const frozen = Object.freeze({ ...slot, appointmentTypes: Object.freeze([...slot.appointmentTypes]) as string[] });
        const span = { startMs: Date.parse(slot.start), endMs: Date.parse(slot.end) };
        spans.set(frozen, span);
        startsMs[i] = span.startMs;
        endsMs[i] = span.endMs;
        return frozen;
      }),
    );
    listSpans.set(slots, { startsMs, endsMs });
    this.entries.set(key, slots);
    return slots;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Start and end instants of the memo's frozen slots (they cannot change), so searches need not parse them per read. */
const spans = new WeakMap<Slot, { startMs: number; endMs: number }>();
/** The same per generated list, in its order (a search reads a provider's list in one pass). */
const listSpans = new WeakMap<readonly Slot[], { startsMs: Float64Array; endsMs: Float64Array }>();

/** Interned memo key parts: a long JSON (a provider record, the types) becomes a short number, the same for equal JSON. */
const jsonKeys = new Map<string, number>();
let nextJsonKey = 0;
function jsonKeyOf(json: string): number {
  let n = jsonKeys.get(json);
  if (n === undefined) {
    // Forgetting only costs misses: numbers are never reused, so no two JSONs share one.
    if (jsonKeys.size >= 10_000) jsonKeys.clear();
    jsonKeys.set(json, (n = nextJsonKey++));
  }
  return n;
}

/** A slot's start as epoch milliseconds (remembered for the memo's slots, parsed for any other). */
export function slotStartMs(slot: Slot): number {
  return spans.get(slot)?.startMs ?? Date.parse(slot.start);
}

/** The appointment types as a memo key part (codes in a stable order). */
export function appointmentTypesKey(types: ReadonlyMap<string, AppointmentType>): string {
  return JSON.stringify([...types.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Statuses in which an appointment holds its time (so its slot is not free). */
export const OCCUPYING_STATUSES: ReadonlySet<AppointmentStatus> = new Set(['proposed', 'pending', 'booked', 'arrived', 'checked-in', 'fulfilled']);

/**
 * Slots not overlapped by any occupying appointment of the same provider. Busy intervals are grouped
 * by provider and sorted by start, so each slot looks only at its provider's intervals that start
 * before it ends (a clinic-wide search of weeks would otherwise compare every slot with every booking).
 */
export function freeSlots(slots: readonly Slot[], appointments: readonly BusyAppointment[]): Slot[] {
  const index = busyIndex(appointments);
  return slots.filter((s) => {
    const busy = index.get(s.providerId);
    if (!busy) return true;
    const span = spans.get(s);
    return !isTaken(busy, span ? span.startMs : Date.parse(s.start), span ? span.endMs : Date.parse(s.end));
  });
}

/** One provider's occupying intervals: starts ascending, with the running maximum of ends (so a long booking earlier still counts). */
export interface ProviderBusy {
  starts: number[];
  maxEnd: number[];
}

/**
 * The occupying appointments' intervals per provider (see freeSlots). A provider whose intervals come
 * in order of start (as a store that keeps each day's bookings sorted hands them out) is indexed in
 * one pass; any other order is sorted first.
 */
export function busyIndex(appointments: readonly BusyAppointment[]): Map<string, ProviderBusy> {
  const index = new Map<string, ProviderBusy & { sorted: boolean }>();
  for (const a of appointments) {
    if (!OCCUPYING_STATUSES.has(a.status)) continue;
    const start = a.startMs ?? Date.parse(a.start);
    const end = a.endMs ?? Date.parse(a.end);
    const busy = index.get(a.providerId);
    if (!busy) {
      index.set(a.providerId, { starts: [start], maxEnd: [end], sorted: true });
      continue;
    }
    // maxEnd holds the plain ends until the running maximum is taken below.
    if (start < busy.starts[busy.starts.length - 1]!) busy.sorted = false;
    busy.starts.push(start);
    busy.maxEnd.push(end);
  }
  for (const busy of index.values()) {
    if (!busy.sorted) {
      const order = busy.starts.map((_, i) => i).sort((x, y) => busy.starts[x]! - busy.starts[y]!);
      const starts = order.map((i) => busy.starts[i]!);
      const ends = order.map((i) => busy.maxEnd[i]!);
      busy.starts = starts;
      busy.maxEnd = ends;
    }
    let max = Number.NEGATIVE_INFINITY;
    const ends = busy.maxEnd;
    for (let i = 0; i < ends.length; i++) ends[i] = max = Math.max(max, ends[i]!);
  }
  return index;
}

/** Whether an interval of `busy` overlaps [start, end): the last one starting before `end` decides, through the running maximum of ends. */
export function isTaken(busy: ProviderBusy, start: number, end: number): boolean {
  let lo = 0;
  let hi = busy.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (busy.starts[mid]! < end) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && busy.maxEnd[lo - 1]! > start;
}

/**
 * The start and end instants of a generated list's slots, in its order: remembered for the memo's
 * lists, parsed for any other.
 */
export function slotSpans(slots: readonly Slot[]): { startsMs: ArrayLike<number>; endsMs: ArrayLike<number> } {
  return listSpans.get(slots) ?? { startsMs: slots.map((s) => slotStartMs(s)), endsMs: slots.map((s) => spans.get(s)?.endMs ?? Date.parse(s.end)) };
}

/**
 * Finds the generated slot with this id, or throws SLOT.NOT_FOUND (e.g. outside hours or on a holiday).
 * With `memo`, generation goes through it (the slot is then frozen).
 */
export function findSlot(input: Omit<SlotGenerationInput, 'from' | 'to'>, slotStartUtc: DateTime, slotId: string, memo?: SlotGenerationMemo): Slot {
  // The minute after the start, as plus({ minutes: 1 }) gives it (elapsed time), without luxon's Duration.
  const window = { ...input, from: slotStartUtc, to: DateTime.fromMillis(slotStartUtc.toMillis() + 60_000, { zone: slotStartUtc.zone }) };
  const slot = (memo ? memo.generate(window) : generateSlots(window)).find((s) => s.slotId === slotId);
  if (!slot) throw new DomainError(ErrorCode.SLOT_NOT_FOUND, 'No such slot in the provider schedule', { slotId });
  return slot;
}
