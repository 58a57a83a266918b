import { DateTime, FixedOffsetZone, IANAZone, Interval } from 'luxon';
import { DomainError, ErrorCode } from './errors';

/** True for a valid IANA zone name ("Europe/Berlin"), false for offsets or abbreviations. */
export function isIanaZone(zone: string): boolean {
  // Region/City names (or UTC) only: offsets ("+02:00") and abbreviations ("CET") are not zones a clinic lives in.
  // Cached: luxon's check builds an Intl.DateTimeFormat each time, and every slot search validates the zone.
  let valid = validZones.get(zone);
  if (valid === undefined) {
    valid = (zone === 'UTC' || /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+$/.test(zone)) && IANAZone.isValidZone(zone);
    if (validZones.size > 1000) validZones.clear();
    validZones.set(zone, valid);
  }
  return valid;
}
const validZones = new Map<string, boolean>();

/** Validates an IANA zone name, throwing CLINIC.INVALID_TIME_ZONE. */
export function assertZone(zone: string): string {
  if (!isIanaZone(zone)) throw new DomainError(ErrorCode.INVALID_TIME_ZONE, 'Time zone must be an IANA zone name', { timeZone: 'invalid' });
  return zone;
}

/** Parses an ISO 8601 instant that carries an offset or Z. Local times without offset are rejected. */
export function parseInstant(iso: string, field = 'time'): DateTime {
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(iso)) {
    throw new DomainError(ErrorCode.INVALID_TIME, `${field} must be ISO 8601 with an offset`, { field });
  }
  const dt = dateTimeFromIso(iso);
  if (!dt.isValid) throw new DomainError(ErrorCode.INVALID_TIME, `${field} is not a valid ISO 8601 instant`, { field });
  return dt;
}

/**
 * The instant and offset (minutes) of an ISO string in the common shape (`YYYY-MM-DDTHH:mm[:ss[.s-sss]]`
 * and `Z` or `±HH:mm`, hours 00-23), read as `DateTime.fromISO(iso, { setZone: true })` reads it, without
 * luxon's ISO parse: Date.parse reads exactly this shape as luxon does, once the date is checked to
 * exist (Date.parse rolls 30 February over to March). Undefined for anything else (the caller then
 * asks luxon).
 */
function fastInstant(iso: string): { ms: number; offset: number } | undefined {
  if (!FAST_ISO.test(iso)) return undefined;
  const digits = (from: number, to: number) => {
    let n = 0;
    for (let i = from; i < to; i++) n = n * 10 + iso.charCodeAt(i) - 48;
    return n;
  };
  const y = digits(0, 4);
  const mo = digits(5, 7);
  const d = digits(8, 10);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[mo - 1]!)) return undefined;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return undefined;
  const n = iso.length;
  const offset = iso.charCodeAt(n - 1) === 90 /* Z */ ? 0 : (iso.charCodeAt(n - 6) === 45 /* - */ ? -1 : 1) * (digits(n - 5, n - 3) * 60 + digits(n - 2, n));
  return { ms, offset };
}
const FAST_ISO = /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `DateTime.fromISO(iso, { setZone: true })`, through the fast path where it applies (invalid stays invalid). */
export function dateTimeFromIso(iso: string): DateTime {
  const fast = fastInstant(iso);
  return fast ? DateTime.fromMillis(fast.ms, { zone: FixedOffsetZone.instance(fast.offset) }) : DateTime.fromISO(iso, { setZone: true });
}

/**
 * The instant of an ISO string in the fast path's shape (an offset or Z, a real date and time), as
 * luxon's fromISO reads it; undefined for any other string (the caller decides what those mean).
 */
export function fastInstantMs(iso: string): number | undefined {
  return fastInstant(iso)?.ms;
}

/**
 * `DateTime.fromISO(iso, { setZone: true }).toMillis()` (NaN when invalid), without a DateTime where the fast path
 * applies. Not the optimizer's `instantMs` (domain/optimizer/schema.ts), which rejects any string without an offset.
 */
export function isoEpochMs(iso: string): number {
  const fast = fastInstant(iso);
  if (fast) return fast.ms;
  const dt = DateTime.fromISO(iso, { setZone: true });
  return dt.isValid ? dt.toMillis() : Number.NaN;
}

/** An ISO 8601 string with offset, in the given zone, to the second. */
export function toIsoInZone(dt: DateTime, zone: string): string {
  // Whole seconds in 1970-9999 in a valid IANA zone with a whole-minute offset (every slot edge) are
  // formatted arithmetically, the same string; anything else (milliseconds, odd zones) by luxon.
  const ms = dt.isValid ? dt.toMillis() : Number.NaN;
  if (ms % 1000 === 0 && ms >= 0 && ms < MAX_FAST_MS && isIanaZone(zone)) {
    const offset = zone === 'UTC' ? 0 : zoneOffsetMinutes(ms, zone);
    if (Number.isInteger(offset)) return formatInstantInZone(ms, zone, offset);
  }
  return dt.setZone(zone).toISO({ suppressMilliseconds: true, includeOffset: true })!;
}
/** 9999-12-30T00:00Z: later years (and a day's offset past them) are written differently. */
const MAX_FAST_MS = Date.UTC(9999, 11, 30);

const zones = new Map<string, IANAZone>();
const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * toIsoInZone for an epoch-millisecond instant, without building DateTimes: the same string
 * (seconds, no milliseconds; `Z` for the zone named UTC, else the zone's offset at that instant,
 * or `knownOffsetMinutes` when the caller knows it).
 */
export function formatInstantInZone(ms: number, zone: string, knownOffsetMinutes?: number): string {
  if (zone === 'UTC') return `${new Date(ms).toISOString().slice(0, 19)}Z`;
  const offset = knownOffsetMinutes ?? zoneOffsetMinutes(ms, zone);
  const abs = Math.abs(offset);
  return `${new Date(ms + offset * 60_000).toISOString().slice(0, 19)}${offset < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

const offsets = new Map<string, number>();
const MAX_CACHED_OFFSETS = 50_000;
const HOUR_MS = 3_600_000;
/** Per zone and UTC hour: the zone's offset through that whole hour, or NaN when it changes inside it. */
const hourOffsets = new Map<string, Map<number, number>>();
const MAX_CACHED_HOURS = 100_000;
const MAX_CACHED_ZONES = 1_000;

function ianaZone(zone: string): IANAZone {
  let tz = zones.get(zone);
  if (!tz) {
    tz = IANAZone.create(zone);
    zones.set(zone, tz);
  }
  return tz;
}

/**
 * The zone's UTC offset in minutes at an instant (luxon's IANAZone.offset, which formats a date
 * through Intl). Answered per UTC hour: an hour whose first and last millisecond have the same offset
 * has it throughout (a zone changes its offset at most once in an hour: transitions are months
 * apart), so one pair of lookups serves every instant of that hour. An hour with a transition inside
 * is answered per instant. Both caches are bounded.
 */
export function zoneOffsetMinutes(ms: number, zone: string): number {
  const hour = Math.floor(ms / HOUR_MS);
  let byHour = hourOffsets.get(zone);
  if (!byHour) {
    if (hourOffsets.size >= MAX_CACHED_ZONES) hourOffsets.clear();
    hourOffsets.set(zone, (byHour = new Map()));
  }
  let offset = byHour.get(hour);
  if (offset === undefined) {
    const tz = ianaZone(zone);
    const first = tz.offset(hour * HOUR_MS);
    offset = first === tz.offset(hour * HOUR_MS + HOUR_MS - 1) ? first : Number.NaN;
    if (byHour.size >= MAX_CACHED_HOURS) byHour.clear();
    byHour.set(hour, offset);
  }
  return Number.isNaN(offset) ? offsetAtInstant(ms, zone) : offset;
}

/** The offset at exactly this instant (cached per zone and instant). */
function offsetAtInstant(ms: number, zone: string): number {
  const key = `${zone}|${ms}`;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  const offset = ianaZone(zone).offset(ms);
  if (offsets.size >= MAX_CACHED_OFFSETS) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

/** The zone's wall-clock time at instant `ms`, as the epoch milliseconds of a UTC clock showing it (what setZone reads fields from). */
export function localWallMs(ms: number, zone: string): number {
  return ms + zoneOffsetMinutes(ms, zone) * 60_000;
}

/** Milliseconds since the UTC midnight before `ms` (negative instants too); of a localWallMs, the local time of day. */
export function msIntoDay(ms: number): number {
  return ((ms % 86_400_000) + 86_400_000) % 86_400_000;
}

/** Builds [start, end) and rejects end <= start. */
export function interval(start: DateTime, end: DateTime): Interval<true> {
  if (end <= start) throw new DomainError(ErrorCode.END_BEFORE_START, 'End must be after start');
  return Interval.fromDateTimes(start, end) as Interval<true>;
}

/** Half-open overlap: [a1, a2) and [b1, b2) share at least one instant. */
export function overlaps(aStart: DateTime, aEnd: DateTime, bStart: DateTime, bEnd: DateTime): boolean {
  return aStart < bEnd && bStart < aEnd;
}

/** Parses "HH:mm" (00:00-24:00) to minutes after midnight. */
export function parseClockTime(hhmm: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(hhmm);
  if (!m || (m[1] === '24' && m[2] !== '00')) throw new DomainError(ErrorCode.INVALID_TIME, 'Clock time must be HH:mm', { field: 'clockTime' });
  return Number(m[1]) * 60 + Number(m[2]);
}
