import { DateTime } from 'luxon';
import { LruMap } from '../lru';
import type { PastAppointment, VisitOutcome } from './history';

/**
 * The model's features. Everything a score may know comes through RiskAppointmentFacts (the
 * appointment being scored) and PriorVisit (the same patient's earlier visits at the clinic): times,
 * the appointment type code and outcomes. No name, phone, demographic, clinical or free-text field
 * exists in either type, and every caller copies fields one by one (docs/no-show-risk.md).
 */

export const DAY_MS = 86_400_000;

/** The appointment being scored: these four fields and nothing else. */
export interface RiskAppointmentFacts {
  start: string;
  createdAt: string;
  appointmentType: string;
  confirmedAt?: string;
}
/** The fields of RiskAppointmentFacts, for the test that keeps PHI out. */
export const RISK_APPOINTMENT_FIELDS = ['start', 'createdAt', 'appointmentType', 'confirmedAt'] as const;

/** One earlier visit of the same patient: when it was and how it ended. */
export interface PriorVisit {
  startMs: number;
  outcome: VisitOutcome;
}

/** The patient's record in the rolling window before the appointment. */
export interface HistoryCounts {
  /** Visits that reached their day or were cancelled late (attended + no-shows + late cancellations). */
  visits: number;
  noShows: number;
  lateCancels: number;
}

/** How features are computed: fixed at training time and stored with the model. */
export interface FeatureSpec {
  /** Rolling window of the patient's history, in days. */
  windowDays: number;
  /** Pseudo-visits at the clinic rate added to each patient's record (shrinkage for short histories). */
  priorStrength: number;
  /** The clinic's no-show rate among visits that reached their day (training data). */
  baseRate: number;
  /** The clinic's late-cancellation rate among visits (training data). */
  lateCancelBaseRate: number;
  /** Appointment types with their own weight; others share the reference level. */
  typeLevels: string[];
  /** The clinic's IANA zone for day of week and hour; absent: the wall-clock time written in `start`. */
  timeZone?: string;
}

export const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
export const HOUR_BANDS = ['early', 'morning', 'midday', 'afternoon', 'evening'] as const;
export type HourBand = (typeof HOUR_BANDS)[number];

/** Feature names in vector order (after the intercept); types follow as `type:<code>`. */
export const BASE_FEATURES = [
  'leadTime',
  'noShowHistory',
  'lateCancelHistory',
  'newPatient',
  'confirmed',
  'dow:tue',
  'dow:wed',
  'dow:thu',
  'dow:fri',
  'dow:sat',
  'dow:sun',
  'hour:early',
  'hour:midday',
  'hour:afternoon',
  'hour:evening',
] as const;
const DOW_OFFSET = 5;
const HOUR_OFFSET = 11;
const TYPE_OFFSET = BASE_FEATURES.length;
/** Features centred and scaled for fitting (the rest are 0/1 indicators). */
export const CONTINUOUS_FEATURES = 3;

export function featureNames(spec: Pick<FeatureSpec, 'typeLevels'>): string[] {
  return [...BASE_FEATURES, ...spec.typeLevels.map((t) => `type:${t}`)];
}

export function hourBand(hour: number): HourBand {
  if (hour < 9) return 'early';
  if (hour < 12) return 'morning';
  if (hour < 14) return 'midday';
  if (hour < 17) return 'afternoon';
  return 'evening';
}
const HOUR_BAND_INDEX: Record<HourBand, number> = { early: 0, morning: -1, midday: 1, afternoon: 2, evening: 3 };

const zonedMemo = new LruMap<string, number>(20_000);
const QUARTER_HOUR_MS = 900_000;

/** Day of week (0 = Monday) and hour of an instant, packed as weekday * 24 + hour, in `timeZone` or as written in `iso`. */
export function localWeekdayHour(iso: string, startMs: number, timeZone?: string): number {
  if (timeZone === undefined) {
    // Wall-clock digits of an ISO string with its own offset: YYYY-MM-DDTHH.
    const y = Number(iso.slice(0, 4));
    const m = Number(iso.slice(5, 7));
    const d = Number(iso.slice(8, 10));
    const hour = Number(iso.slice(11, 13));
    const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
    return weekday * 24 + hour;
  }
  // Offsets change on quarter-hour boundaries, so one lookup serves every instant of a quarter hour.
  const key = `${timeZone}|${Math.floor(startMs / QUARTER_HOUR_MS)}`;
  const known = zonedMemo.get(key);
  if (known !== undefined) return known;
  const local = DateTime.fromMillis(startMs, { zone: timeZone });
  const packed = (local.weekday - 1) * 24 + local.hour;
  zonedMemo.set(key, packed);
  return packed;
}

const clampRate = (r: number) => Math.min(0.99, Math.max(0.01, r));
const logit = (p: number) => Math.log(p / (1 - p));

/** The patient's rate shrunk towards the clinic's, as log-odds relative to the clinic's: 0 for a patient with no history. */
export function shrunkLogOdds(events: number, visits: number, clinicRate: number, priorStrength: number): number {
  const base = clampRate(clinicRate);
  const rate = (events + priorStrength * base) / (visits + priorStrength);
  return logit(clampRate(rate)) - logit(base);
}

/** Counts of the visits in [startMs - windowDays, startMs). */
export function countHistory(prior: readonly PriorVisit[], startMs: number, windowDays: number): HistoryCounts {
  const from = startMs - windowDays * DAY_MS;
  const counts: HistoryCounts = { visits: 0, noShows: 0, lateCancels: 0 };
  for (const v of prior) {
    if (v.startMs < from || v.startMs >= startMs || v.outcome === 'cancel') continue;
    counts.visits++;
    if (v.outcome === 'noshow') counts.noShows++;
    else if (v.outcome === 'late-cancel') counts.lateCancels++;
  }
  return counts;
}

/** What featurize needs, parsed once. */
export interface ParsedFacts {
  startMs: number;
  leadDays: number;
  /** weekday * 24 + hour, clinic-local. */
  weekdayHour: number;
  appointmentType: string;
  confirmed: boolean;
}

export function parseFacts(facts: RiskAppointmentFacts, timeZone?: string): ParsedFacts {
  const startMs = Date.parse(facts.start);
  const createdMs = Date.parse(facts.createdAt);
  const confirmedMs = facts.confirmedAt === undefined ? Number.NaN : Date.parse(facts.confirmedAt);
  return {
    startMs,
    leadDays: Math.max(0, (startMs - createdMs) / DAY_MS),
    weekdayHour: localWeekdayHour(facts.start, startMs, timeZone),
    appointmentType: facts.appointmentType,
    confirmed: confirmedMs < startMs,
  };
}

/** Writes the feature vector (without the intercept) of one appointment into `out` at `offset`. */
export function featurize(
  spec: FeatureSpec,
  typeIndex: ReadonlyMap<string, number>,
  f: ParsedFacts,
  h: HistoryCounts,
  out: Float64Array,
  offset: number,
): void {
  const p = TYPE_OFFSET + spec.typeLevels.length;
  out.fill(0, offset, offset + p);
  out[offset] = Math.log1p(f.leadDays);
  out[offset + 1] = shrunkLogOdds(h.noShows, h.visits, spec.baseRate, spec.priorStrength);
  out[offset + 2] = shrunkLogOdds(h.lateCancels, h.visits, spec.lateCancelBaseRate, spec.priorStrength);
  out[offset + 3] = h.visits === 0 ? 1 : 0;
  out[offset + 4] = f.confirmed ? 1 : 0;
  const weekday = Math.floor(f.weekdayHour / 24);
  if (weekday > 0) out[offset + DOW_OFFSET + weekday - 1] = 1;
  const band = HOUR_BAND_INDEX[hourBand(f.weekdayHour % 24)];
  if (band >= 0) out[offset + HOUR_OFFSET + band] = 1;
  const t = typeIndex.get(f.appointmentType);
  if (t !== undefined) out[offset + TYPE_OFFSET + t] = 1;
}

/** A training or evaluation example: one past appointment's facts and the patient's record before it. */
export interface Example {
  appointment: PastAppointment;
  facts: ParsedFacts;
  counts: HistoryCounts;
}

/**
 * Every appointment with the counts of its patient's visits in the window before it (strictly
 * earlier starts only: an outcome is known once its visit has happened), sorted by start.
 * Linear after sorting: one pass per patient with a moving window.
 */
export function timeline(appointments: readonly PastAppointment[], spec: Pick<FeatureSpec, 'windowDays' | 'timeZone'>): Example[] {
  const examples: Example[] = appointments.map((a) => ({
    appointment: a,
    facts: parseFacts(a, spec.timeZone),
    counts: { visits: 0, noShows: 0, lateCancels: 0 },
  }));
  examples.sort((x, y) => x.facts.startMs - y.facts.startMs || (x.appointment.appointmentId < y.appointment.appointmentId ? -1 : 1));
  const byPatient = new Map<string, Example[]>();
  for (const e of examples) {
    const list = byPatient.get(e.appointment.patientId);
    if (list) list.push(e);
    else byPatient.set(e.appointment.patientId, [e]);
  }
  const windowMs = spec.windowDays * DAY_MS;
  for (const list of byPatient.values()) {
    // Running totals over [lo, hi): hi = first visit not strictly before the current start.
    let lo = 0;
    let hi = 0;
    const c: HistoryCounts = { visits: 0, noShows: 0, lateCancels: 0 };
    const add = (e: Example, sign: number) => {
      const o = e.appointment.outcome;
      if (o === 'cancel') return;
      c.visits += sign;
      if (o === 'noshow') c.noShows += sign;
      else if (o === 'late-cancel') c.lateCancels += sign;
    };
    for (const e of list) {
      const start = e.facts.startMs;
      while (hi < list.length && list[hi]!.facts.startMs < start) add(list[hi++]!, 1);
      while (lo < hi && list[lo]!.facts.startMs < start - windowMs) add(list[lo++]!, -1);
      e.counts = { ...c };
    }
  }
  return examples;
}
