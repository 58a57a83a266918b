/**
 * Synthetic appointment histories drawn from a known no-show model (dev-only: tests and
 * bench/risk.ts). Each appointment's outcome is drawn from the generating model's probability given
 * the history generated before it, so a learner that recovers the model reaches the generating
 * model's own AUC. Base rate about 20 %, lead times from same-day to months, five appointment types.
 */
import { featureNames, parseFacts, countHistory, type PriorVisit } from '../domain/risk/features';
import type { Appointment } from '../domain/model';
import type { HistoryRow } from '../domain/risk/history';
import { RISK_MODEL_SCHEMA, RiskScorer, type LogisticRiskModel } from '../domain/risk/model';

/** Seeded PRNG (mulberry32). */
export function riskPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = [
  { code: 'FU', share: 0.45 },
  { code: 'NP', share: 0.2 },
  { code: 'PROC', share: 0.1 },
  { code: 'TELE', share: 0.15 },
  { code: 'LAB', share: 0.1 },
];

/** The generating model: realistic directions and sizes (lead time and prior no-shows strongest). */
export function generatingModel(): LogisticRiskModel {
  const features = { windowDays: 365, priorStrength: 4, baseRate: 0.21, lateCancelBaseRate: 0.05, typeLevels: ['LAB', 'NP', 'PROC', 'TELE'] };
  const weights: Record<string, number> = {
    leadTime: 0.38,
    noShowHistory: 1.0,
    lateCancelHistory: 0.45,
    newPatient: 0.35,
    confirmed: -0.9,
    'dow:tue': -0.05,
    'dow:wed': -0.1,
    'dow:thu': -0.05,
    'dow:fri': 0.15,
    'dow:sat': 0.25,
    'dow:sun': 0.3,
    'hour:early': 0.25,
    'hour:midday': 0.1,
    'hour:afternoon': 0.15,
    'hour:evening': 0.35,
    'type:LAB': 0.3,
    'type:NP': 0.2,
    'type:PROC': -0.45,
    'type:TELE': 0.1,
  };
  return {
    schema: RISK_MODEL_SCHEMA,
    kind: 'logistic',
    modelVersion: 'generating-v1',
    clinicId: 'synthetic',
    trainedAt: '2024-01-01T00:00:00Z',
    features,
    intercept: -1.9,
    weights,
    means: Object.fromEntries(featureNames(features).map((n) => [n, 0])),
    bands: { mediumFrom: 0.14, highFrom: 0.35 },
    training: { appointments: 0, labelled: 0, noShows: 0, lateCancels: 0, testFraction: 0 },
  };
}

export interface SyntheticHistoryOptions {
  appointments: number;
  seed: number;
  /** First day (UTC date), default 2024-01-01. */
  firstDay?: string;
  /** Days the starts spread over; default: about 50,000 appointments a year. */
  days?: number;
  /** Appointments per patient on average (default 8). */
  perPatient?: number;
  model?: LogisticRiskModel;
}

export interface SyntheticHistory {
  rows: HistoryRow[];
  /** The generating model's probability of each appointment that reached its day. */
  trueProbability: Map<string, number>;
  model: LogisticRiskModel;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Clinic offset written into every instant (wall-clock hours are what the model reads). */
const OFFSET = '-05:00';
const OFFSET_MS = -5 * HOUR_MS;

function isoAt(ms: number): string {
  return `${new Date(ms + OFFSET_MS).toISOString().slice(0, 19)}${OFFSET}`;
}

export function generateHistory(o: SyntheticHistoryOptions): SyntheticHistory {
  const rnd = riskPrng(o.seed);
  const model = o.model ?? generatingModel();
  const scorer = new RiskScorer(model);
  const days = o.days ?? Math.max(60, Math.round((o.appointments / 50_000) * 365));
  const patients = Math.max(1, Math.round(o.appointments / (o.perPatient ?? 8)));
  const firstMs = Date.parse(`${o.firstDay ?? '2024-01-01'}T00:00:00Z`) - OFFSET_MS;
  const dowWeight = [1, 1, 1, 1, 0.9, 0.3, 0.05];
  interface Draft {
    id: string;
    patient: string;
    startMs: number;
    createdMs: number;
    type: string;
    provider: string;
    confirmedMs?: number;
    cancelledMs?: number;
    late: boolean;
  }
  const drafts: Draft[] = [];
  for (let i = 0; i < o.appointments; i++) {
    let dayIndex: number;
    do dayIndex = Math.floor(rnd() * days);
    while (rnd() > dowWeight[(new Date(firstMs + dayIndex * DAY_MS).getUTCDay() + 6) % 7]!);
    const hour = 7 + Math.floor(rnd() * 12);
    const startMs = firstMs + dayIndex * DAY_MS + hour * HOUR_MS + (rnd() < 0.5 ? 0 : 30 * 60_000);
    const r = rnd();
    const leadDays = r < 0.25 ? rnd() * 2 : r < 0.7 ? 2 + rnd() * 19 : Math.min(180, -40 * Math.log(1 - rnd()));
    const createdMs = startMs - Math.round(leadDays * DAY_MS);
    let tr = rnd();
    let type = TYPES[0]!.code;
    for (const t of TYPES) {
      if ((tr -= t.share) < 0) {
        type = t.code;
        break;
      }
    }
    // Frequent patients: a skewed pick gives some patients many visits and many patients one or two.
    const patient = `p-${Math.floor(patients * rnd() ** 1.6)}`;
    const d: Draft = { id: `a-${i}`, patient, startMs, createdMs, type, provider: `dr-${1 + Math.floor(rnd() * 8)}`, late: false };
    const c = rnd();
    if (c < 0.05) {
      d.late = true;
      d.cancelledMs = Math.max(createdMs, startMs - Math.round((1 + rnd() * 20) * HOUR_MS));
    } else if (c < 0.13 && leadDays > 2) {
      d.cancelledMs = createdMs + Math.round(rnd() * (startMs - createdMs - 2 * DAY_MS));
    }
    if (d.cancelledMs === undefined && rnd() < 0.6) d.confirmedMs = createdMs + Math.round((0.3 + 0.6 * rnd()) * (startMs - createdMs));
    drafts.push(d);
  }
  drafts.sort((a, b) => a.startMs - b.startMs);
  const prior = new Map<string, PriorVisit[]>();
  const rows: HistoryRow[] = [];
  const trueProbability = new Map<string, number>();
  for (const d of drafts) {
    const visits = prior.get(d.patient) ?? [];
    const row: HistoryRow = {
      appointmentId: d.id,
      patientId: d.patient,
      clinicId: 'synthetic',
      providerId: d.provider,
      appointmentType: d.type,
      createdAt: isoAt(d.createdMs),
      start: isoAt(d.startMs),
      status: 'fulfilled',
      ...(d.confirmedMs !== undefined ? { confirmedAt: isoAt(d.confirmedMs) } : {}),
    };
    let outcome: PriorVisit['outcome'];
    if (d.cancelledMs !== undefined) {
      row.status = 'cancelled';
      row.cancelledAt = isoAt(d.cancelledMs);
      outcome = d.late ? 'late-cancel' : 'cancel';
    } else {
      const f = parseFacts(row);
      const p = scorer.probability(f, countHistory(visits, f.startMs, model.features.windowDays));
      trueProbability.set(d.id, p);
      outcome = rnd() < p ? 'noshow' : 'attended';
      row.status = outcome === 'noshow' ? 'noshow' : 'fulfilled';
    }
    visits.push({ startMs: d.startMs, outcome });
    prior.set(d.patient, visits);
    rows.push(row);
  }
  return { rows, trueProbability, model };
}

/** One JSON object a line, as `npm run risk` reads. */
export function toNdjson(rows: readonly object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** History rows as stored appointments of `clinicId` (for the training use case and the Cosmos adapter). */
export function toAppointments(rows: readonly HistoryRow[], clinicId: string, cancellationWindowHours = 24): Appointment[] {
  return rows.map((r) => {
    const startMs = Date.parse(r.start);
    const late = r.cancelledAt !== undefined && startMs - Date.parse(r.cancelledAt) < cancellationWindowHours * HOUR_MS;
    return {
      appointmentId: r.appointmentId,
      slotId: `slot-${r.appointmentId}`,
      clinicId,
      providerId: r.providerId,
      patientId: r.patientId,
      appointmentType: r.appointmentType,
      status: r.status,
      start: r.start,
      end: isoAt(startMs + 30 * 60_000),
      source: 'api',
      createdAt: r.createdAt,
      updatedAt: r.cancelledAt ?? r.start,
      version: 2,
      externalIds: [],
      ...(r.confirmedAt ? { confirmedAt: r.confirmedAt } : {}),
      ...(r.status === 'cancelled' ? { cancellation: { reasonCode: 'patient-request', at: r.cancelledAt ?? r.createdAt, by: 'patient' as const, late } } : {}),
      ...(r.status === 'noshow' ? { noShowAt: r.start } : {}),
    };
  });
}
