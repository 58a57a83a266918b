/**
 * Refill outcomes of one simulated run, from what the system published (events), what it texted,
 * and the final appointment book. Definitions: docs/simulation.md, "Outputs".
 */
import type { Appointment, SchedulingEvent, WaitlistEntry } from '../domain';
import { EventType } from '../domain/events';
import type { OutboundSms } from '../domain/ports';
import { parseSlotId } from '../domain/ids';
import { OCCUPYING_STATUSES } from '../domain/slots';
import type { CompletedInstance } from './runtime';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * DAY_MS;

interface Release {
  slotId: string;
  startMs: number;
  endMs: number;
  atMs: number;
  reason: string;
}
interface Claim {
  slotId: string;
  atMs: number;
  /** The policy refilled it (backfill workflow, staff callback, a move-up), or someone booked it at the desk. */
  byPolicy: boolean;
}

/** What happened, in order, as the simulator saw it. */
export class EventLog {
  readonly releases: Release[] = [];
  readonly claims = new Map<string, Claim[]>();
  readonly moveUps: { patientId: string; atMs: number; startMs: number; daysSooner: number }[] = [];
  readonly offersSent: { patientId: string; atMs: number; slotStartMs: number }[] = [];
  readonly offersAccepted: { patientId: string; atMs: number; slotStartMs: number }[] = [];
  readonly calls: { patientId: string; slotId: string; atMs: number }[] = [];
  readonly callsBooked: { patientId: string; slotId: string; atMs: number }[] = [];

  readonly requests: { patientId: string; clinicId: string; atMs: number; urgent: boolean }[] = [];
  readonly smsByPurpose = new Map<string, number>();
  /** Offer-related SMS (offers, slot-taken notices, confirmations of a backfill) by the start of the slot offered. */
  readonly offerSms: { atMs: number; slotStartMs: number }[] = [];
  readonly noShows: { slotId: string; atMs: number }[] = [];
  readonly backfillOutcomes = new Map<string, number>();

  event(e: SchedulingEvent, atMs: number): void {
    const d = e.data as Record<string, unknown>;
    switch (e.type) {
      case EventType.slotReleased:
        this.releases.push({
          slotId: String(d.slotId),
          startMs: Date.parse(String(d.start)),
          endMs: Date.parse(String(d.end)),
          atMs,
          reason: String(d.reason),
        });
        break;
      case EventType.appointmentBooked:
        this.claim(String(d.slotId), atMs, d.channel === 'backfill' || d.channel === 'console');
        break;
      case EventType.appointmentRescheduled:
        // Only move-ups (backfill or staff callback) reschedule in the simulation.
        this.claim(String(d.slotId), atMs, true);
        this.moveUps.push({
          patientId: String(d.patientId),
          atMs,
          startMs: Date.parse(String(d.start)),
          daysSooner: (Date.parse(String(d.previousStart)) - Date.parse(String(d.start))) / DAY_MS,
        });
        break;
      case EventType.offerSent:
        this.offersSent.push({ patientId: String(d.patientId), atMs, slotStartMs: slotStartOf(String(d.slotId)) });
        break;
      case EventType.offerAccepted:
        this.offersAccepted.push({ patientId: String(d.patientId), atMs, slotStartMs: slotStartOf(String(d.slotId)) });
        break;
      case EventType.appointmentNoShow:
        this.noShows.push({ slotId: String(d.slotId), atMs });
        break;
      default:
        break;
    }
  }

  private claim(slotId: string, atMs: number, byPolicy: boolean): void {
    let list = this.claims.get(slotId);
    if (!list) this.claims.set(slotId, (list = []));
    list.push({ slotId, atMs, byPolicy });
  }

  sms(m: OutboundSms, atMs: number): void {
    this.smsByPurpose.set(m.purpose, (this.smsByPurpose.get(m.purpose) ?? 0) + 1);
    if (m.correlationId.startsWith('backfill-')) this.offerSms.push({ atMs, slotStartMs: slotStartOf(m.correlationId.slice('backfill-'.length)) });
  }
  call(patientId: string, slotId: string, atMs: number): void {
    this.calls.push({ patientId, slotId, atMs });
  }
  callBooked(patientId: string, slotId: string, atMs: number): void {
    this.callsBooked.push({ patientId, slotId, atMs });
  }
  request(patientId: string, clinicId: string, atMs: number, urgent: boolean): void {
    this.requests.push({ patientId, clinicId, atMs, urgent });
  }
  instanceDone(d: CompletedInstance): void {
    if (d.name !== 'backfillOrchestrator') return;
    const outcome = d.status === 'Failed' ? 'failed' : String((d.output as { outcome?: string } | undefined)?.outcome ?? 'unknown');
    this.backfillOutcomes.set(outcome, (this.backfillOutcomes.get(outcome) ?? 0) + 1);
  }
}

/** The UTC start of a slot from its id (NaN for an id that is not a slot's). */
function slotStartOf(slotId: string): number {
  try {
    return parseSlotId(slotId).startUtc.toMillis();
  } catch {
    return Number.NaN;
  }
}

/** The p-quantile (0..1) of values, linear between order statistics; undefined when empty. */
export function quantile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

const round = (v: number | undefined, digits = 2): number | null => (v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits)));
const share = (n: number, d: number): number | null => (d === 0 ? null : round(n / d, 4));

export interface PolicyMetrics {
  policy: string;
  label: string;
  freedSlots: number;
  freedByReason: Record<string, number>;
  /** Freed slots the policy refilled before they started (the comparison's figure). */
  refilledBeforeStart: number;
  refillRate: number | null;
  /** Freed slots taken before they started by anyone: the policy, or new patients booking at the desk. */
  refilledAnyBeforeStart: number;
  refillRateAny: number | null;
  timeToFillHours: { median: number | null; p90: number | null };
  moveUps: number;
  daysSoonerMedian: number | null;
  offers: number;
  offersAccepted: number;
  offerAcceptanceRate: number | null;
  offerSms: number;
  offersPerFilledSlot: number | null;
  smsPerFilledSlot: number | null;
  noShows: number;
  idleProviderHours: number | null;
  urgentPatients: number;
  urgentWaitDays: { median: number | null; p90: number | null; max: number | null };
  /** Patients with a waitlist entry in the run; the share of them offered (texted or called) at least once. */
  waitlistedPatients: number;
  offeredAtLeastOnceShare: number | null;
  weekly: { week: number; freed: number; refilled: number; refillRate: number | null; idleHours: number | null }[];
  backfillOutcomes: Record<string, number>;
  smsByPurpose: Record<string, number>;
  /** Per urgent patient: days from request to their visit (for the comparison across policies). */
  urgentWaitByPatient: Record<string, number>;
}

export interface MetricsInput {
  key: string;
  label: string;
  startMs: number;
  endMs: number;
  log: EventLog;
  appointments: readonly Appointment[];
  waitlist: readonly WaitlistEntry[];
  capacityMinutesByWeek: readonly number[];
}

/** Refill outcomes of one run: freed slots are releases (cancellations, moves) of slots starting inside the run. */
export function computeMetrics(input: MetricsInput): PolicyMetrics {
  const { log, startMs, endMs } = input;
  const weeks = input.capacityMinutesByWeek.length;
  const weekOf = (ms: number) => Math.floor((ms - startMs) / WEEK_MS);
  const freed = log.releases.filter((r) => r.reason !== 'noshow' && r.startMs >= startMs && r.startMs < endMs && r.atMs < r.startMs);
  const freedByReason: Record<string, number> = {};
  const fills: number[] = [];
  let refilledAny = 0;
  const weekly = Array.from({ length: weeks }, (_, week) => ({ week: week + 1, freed: 0, refilled: 0 }));
  for (const r of freed) {
    freedByReason[r.reason] = (freedByReason[r.reason] ?? 0) + 1;
    const claim = (log.claims.get(r.slotId) ?? []).find((c) => c.atMs >= r.atMs && c.atMs < r.startMs);
    const w = weekly[weekOf(r.startMs)];
    if (w) w.freed++;
    if (claim) refilledAny++;
    if (claim?.byPolicy) {
      fills.push((claim.atMs - r.atMs) / HOUR_MS);
      if (w) w.refilled++;
    }
  }
  // Offers, acceptances, SMS and move-ups count for the slots the freed figures count: those starting inside the run.
  const inRun = (ms: number) => ms >= startMs && ms < endMs;
  const moveUps = log.moveUps.filter((m) => inRun(m.startMs) && m.daysSooner > 0);
  const offers = log.offersSent.filter((o) => inRun(o.slotStartMs)).length + log.calls.filter((c) => inRun(slotStartOf(c.slotId))).length;
  const accepted = log.offersAccepted.filter((o) => inRun(o.slotStartMs)).length + log.callsBooked.filter((c) => inRun(slotStartOf(c.slotId))).length;
  const offerSms = log.offerSms.filter((s) => inRun(s.slotStartMs)).length;

  // Idle provider time: scheduled minutes minus minutes of visits that took place (booked at their start, not no-shows).
  const attended = new Array<number>(weeks).fill(0);
  const visitsOf = new Map<string, Appointment[]>();
  for (const a of input.appointments) {
    const list = visitsOf.get(a.patientId) ?? [];
    list.push(a);
    visitsOf.set(a.patientId, list);
    const s = Date.parse(a.start);
    if (!OCCUPYING_STATUSES.has(a.status) || s < startMs || s >= endMs) continue;
    attended[weekOf(s)]! += (Date.parse(a.end) - s) / 60_000;
  }
  const idleByWeek = input.capacityMinutesByWeek.map((cap, i) => Math.max(0, cap - attended[i]!) / 60);

  const urgentWaitByPatient: Record<string, number> = {};
  for (const r of log.requests) {
    if (!r.urgent || !inRun(r.atMs)) continue;
    const visits = (visitsOf.get(r.patientId) ?? []).filter((a) => OCCUPYING_STATUSES.has(a.status) || a.status === 'noshow');
    const first = visits.map((a) => Date.parse(a.start)).sort((a, b) => a - b)[0];
    // Without a visit by the end of the run the wait is at least until then (censored).
    urgentWaitByPatient[r.patientId] = ((first ?? endMs) - r.atMs) / DAY_MS;
  }
  const urgentWaits = Object.values(urgentWaitByPatient);

  const waitlisted = new Set(input.waitlist.map((e) => e.patientId));
  const offered = new Set([...log.offersSent.map((o) => o.patientId), ...log.calls.map((c) => c.patientId)].filter((p) => waitlisted.has(p)));
  const refilled = fills.length;
  return {
    policy: input.key,
    label: input.label,
    freedSlots: freed.length,
    freedByReason,
    refilledBeforeStart: refilled,
    refillRate: share(refilled, freed.length),
    refilledAnyBeforeStart: refilledAny,
    refillRateAny: share(refilledAny, freed.length),
    timeToFillHours: { median: round(quantile(fills, 0.5)), p90: round(quantile(fills, 0.9)) },
    moveUps: moveUps.length,
    daysSoonerMedian: round(
      quantile(
        moveUps.map((m) => m.daysSooner),
        0.5,
      ),
      1,
    ),
    offers,
    offersAccepted: accepted,
    offerAcceptanceRate: share(accepted, offers),
    offerSms,
    offersPerFilledSlot: refilled ? round(offers / refilled) : null,
    smsPerFilledSlot: refilled ? round(offerSms / refilled) : null,
    noShows: log.noShows.filter((n) => inRun(n.atMs)).length,
    idleProviderHours: round(
      idleByWeek.reduce((s, h) => s + h, 0),
      1,
    ),
    urgentPatients: urgentWaits.length,
    urgentWaitDays: { median: round(quantile(urgentWaits, 0.5), 1), p90: round(quantile(urgentWaits, 0.9), 1), max: round(quantile(urgentWaits, 1), 1) },
    waitlistedPatients: waitlisted.size,
    offeredAtLeastOnceShare: share(offered.size, waitlisted.size),
    weekly: weekly.map((w, i) => ({ ...w, refillRate: share(w.refilled, w.freed), idleHours: round(idleByWeek[i], 1) })),
    backfillOutcomes: Object.fromEntries([...log.backfillOutcomes].sort()),
    smsByPurpose: Object.fromEntries([...log.smsByPurpose].sort()),
    urgentWaitByPatient,
  };
}
