import { z } from 'zod';
import {
  BASE_FEATURES,
  CONTINUOUS_FEATURES,
  featureNames,
  featurize,
  hourBand,
  type Example,
  type FeatureSpec,
  type HistoryCounts,
  type ParsedFacts,
  type PriorVisit,
  type RiskAppointmentFacts,
  countHistory,
  parseFacts,
  timeline,
  WEEKDAY_NAMES,
} from './features';
import type { PastAppointment } from './history';
import { fitLogistic } from './logistic';
import { evaluateScores, type EvaluationMetrics } from './metrics';

/** The model document: what was learned, from how much history, and how well it did on later appointments. */
export const RISK_MODEL_SCHEMA = 'slotflow.no-show-risk.v1';

export const riskBands = ['low', 'medium', 'high'] as const;
export type RiskBand = (typeof riskBands)[number];

export const riskFactorCodes = [
  'lead-time',
  'prior-no-shows',
  'prior-late-cancellations',
  'new-patient',
  'confirmation',
  'day-of-week',
  'hour-of-day',
  'appointment-type',
  'clinic-rate',
] as const;
export type RiskFactorCode = (typeof riskFactorCodes)[number];

/** One reason behind a score, in words for staff. */
export interface RiskFactor {
  code: RiskFactorCode;
  text: string;
  effect: 'raises' | 'lowers' | 'neutral';
}

/** What the API, reminders, the optimizer and overbooking see. */
export interface NoShowRisk {
  /** Probability of a no-show, 0..1 (3 decimals). */
  score: number;
  band: RiskBand;
  /** Up to three, strongest first. */
  factors: RiskFactor[];
  modelVersion: string;
}

/** Defaults (docs/no-show-risk.md explains each). */
export const RISK_DEFAULTS = {
  windowDays: 365,
  priorStrength: 4,
  l2: 1,
  testFraction: 0.2,
  minTypeCount: 30,
  /** Below this much training history a clinic gets its clinic-wide rate instead of a fitted model. */
  minimum: { labelled: 500, noShows: 50, attended: 50 },
  /** The rate assumed with no history at all (the mean across specialties in a systematic review), and its weight in pseudo-visits. */
  priorRate: 0.23,
  priorRateWeight: 20,
  /** Band limits as multiples of the clinic's rate. */
  mediumFromRatio: 2 / 3,
  highFromRatio: 5 / 3,
  /** A factor is named when it moves the log-odds by at least this much. */
  minFactorEffect: 0.05,
} as const;

const featureSpecSchema = z.object({
  windowDays: z.number().int().min(1).max(3650),
  priorStrength: z.number().min(0).max(1000),
  baseRate: z.number().min(0).max(1),
  lateCancelBaseRate: z.number().min(0).max(1),
  typeLevels: z.array(z.string().max(64)).max(200),
  timeZone: z.string().max(64).optional(),
});

const calibrationBinSchema = z.object({ group: z.string(), n: z.number(), meanScore: z.number(), observedRate: z.number() });
const metricsSchema = z.object({
  n: z.number(),
  noShows: z.number(),
  auc: z.number().nullable(),
  brier: z.number(),
  brierOfBaseRate: z.number(),
  deciles: z.array(calibrationBinSchema),
  maxDecileErrorPoints: z.number(),
  bands: z.array(calibrationBinSchema),
});

const modelBase = {
  schema: z.literal(RISK_MODEL_SCHEMA),
  modelVersion: z.string().min(1).max(100),
  clinicId: z.string().min(1).max(64),
  /** Version number of a stored model (1, 2, ...), set by the repository. */
  version: z.number().int().min(1).optional(),
  trainedAt: z.string(),
  /** Start of the latest training appointment: evaluation uses later ones. */
  trainedThrough: z.string().optional(),
  bands: z.object({ mediumFrom: z.number().min(0).max(1), highFrom: z.number().min(0).max(1) }),
  training: z.object({
    appointments: z.number().int(),
    /** Appointments that reached their day (attended or no-show): the examples. */
    labelled: z.number().int(),
    noShows: z.number().int(),
    lateCancels: z.number().int(),
    testFraction: z.number(),
    l2: z.number().optional(),
    iterations: z.number().int().optional(),
    converged: z.boolean().optional(),
  }),
  /** On the later (test) part of the history. */
  metrics: metricsSchema.optional(),
};

export const riskModelSchema = z.discriminatedUnion('kind', [
  z.object({
    ...modelBase,
    kind: z.literal('logistic'),
    features: featureSpecSchema,
    intercept: z.number(),
    /** Log-odds per unit of each feature (names: features.ts). */
    weights: z.record(z.string(), z.number()),
    /** Training means of the features: a factor's effect is measured against the average appointment. */
    means: z.record(z.string(), z.number()),
  }),
  z.object({
    ...modelBase,
    kind: z.literal('clinic-rate'),
    rate: z.number().min(0).max(1),
    /** Why there is no fitted model (too little history) and the minimum that applies. */
    reason: z.string(),
    minimum: z.object({ labelled: z.number().int(), noShows: z.number().int(), attended: z.number().int() }),
  }),
]);
export type RiskModel = z.infer<typeof riskModelSchema>;
export type LogisticRiskModel = Extract<RiskModel, { kind: 'logistic' }>;

export interface TrainingOptions {
  clinicId: string;
  /** ISO instant (from the Clock port). */
  trainedAt: string;
  testFraction?: number;
  windowDays?: number;
  priorStrength?: number;
  l2?: number;
  minTypeCount?: number;
  timeZone?: string;
  minimum?: { labelled: number; noShows: number; attended: number };
}

/** FNV-1a, for a short content hash in the model version (the domain has no crypto). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

const isLabelled = (e: Example) => e.appointment.outcome === 'attended' || e.appointment.outcome === 'noshow';

function bandsFor(rate: number) {
  const clamp = (v: number) => Math.round(Math.min(0.95, Math.max(0.01, v)) * 1000) / 1000;
  return { mediumFrom: clamp(rate * RISK_DEFAULTS.mediumFromRatio), highFrom: clamp(rate * RISK_DEFAULTS.highFromRatio) };
}

/**
 * Learns a clinic's model from its past appointments: examples are the appointments that reached
 * their day; the earliest (1 - testFraction) of them, by start, train it and the rest test it.
 * Below `minimum` of training history, the model is the clinic-wide rate and says so.
 */
export function trainRiskModel(appointments: readonly PastAppointment[], options: TrainingOptions): RiskModel {
  const testFraction = options.testFraction ?? RISK_DEFAULTS.testFraction;
  const windowDays = options.windowDays ?? RISK_DEFAULTS.windowDays;
  const priorStrength = options.priorStrength ?? RISK_DEFAULTS.priorStrength;
  const l2 = options.l2 ?? RISK_DEFAULTS.l2;
  const minimum = options.minimum ?? RISK_DEFAULTS.minimum;
  const examples = timeline(appointments, { windowDays, ...(options.timeZone ? { timeZone: options.timeZone } : {}) });
  const labelled = examples.filter(isLabelled);
  // Visits starting at the same instant as the last training one train too: the test part starts strictly later.
  let cut = labelled.length - Math.floor(labelled.length * testFraction);
  while (cut > 0 && cut < labelled.length && labelled[cut]!.facts.startMs === labelled[cut - 1]!.facts.startMs) cut++;
  const train = labelled.slice(0, cut);
  const test = labelled.slice(cut);
  const trainedThroughMs = train.length ? train[train.length - 1]!.facts.startMs : Number.NEGATIVE_INFINITY;
  const noShows = train.filter((e) => e.appointment.outcome === 'noshow').length;
  const upToCutoff = examples.filter((e) => e.facts.startMs <= trainedThroughMs && e.appointment.outcome !== 'cancel');
  const lateCancels = upToCutoff.filter((e) => e.appointment.outcome === 'late-cancel').length;
  const training = { appointments: appointments.length, labelled: train.length, noShows, lateCancels, testFraction };
  const trainedThrough = train.length ? new Date(trainedThroughMs).toISOString() : undefined;
  const base = {
    schema: RISK_MODEL_SCHEMA,
    clinicId: options.clinicId,
    trainedAt: options.trainedAt,
    ...(trainedThrough ? { trainedThrough } : {}),
  } as const;
  const attended = train.length - noShows;
  if (train.length < minimum.labelled || noShows < minimum.noShows || attended < minimum.attended) {
    const rate = (noShows + RISK_DEFAULTS.priorRateWeight * RISK_DEFAULTS.priorRate) / (train.length + RISK_DEFAULTS.priorRateWeight);
    const fallback: RiskModel = {
      ...base,
      kind: 'clinic-rate',
      modelVersion: `rate-${(trainedThrough ?? options.trainedAt).slice(0, 10).replaceAll('-', '')}-${fnv1a(`${rate}|${train.length}`)}`,
      rate,
      reason:
        `too little history for a fitted model: ${train.length} visits (${noShows} no-shows, ${attended} attended) in the training part; ` +
        `a model needs at least ${minimum.labelled} visits with ${minimum.noShows} no-shows and ${minimum.attended} attended`,
      minimum,
      bands: bandsFor(rate),
      training,
    };
    return test.length ? { ...fallback, metrics: evaluate(new RiskScorer(fallback), test) } : fallback;
  }
  const baseRate = noShows / train.length;
  const lateCancelBaseRate = upToCutoff.length ? lateCancels / upToCutoff.length : 0;
  const typeCounts = new Map<string, number>();
  for (const e of train) typeCounts.set(e.appointment.appointmentType, (typeCounts.get(e.appointment.appointmentType) ?? 0) + 1);
  const byCount = [...typeCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const minTypeCount = options.minTypeCount ?? RISK_DEFAULTS.minTypeCount;
  const typeLevels = byCount
    .slice(1)
    .filter(([, n]) => n >= minTypeCount)
    .map(([t]) => t)
    .sort();
  const features: FeatureSpec = {
    windowDays,
    priorStrength,
    baseRate,
    lateCancelBaseRate,
    typeLevels,
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  };
  const names = featureNames(features);
  const q = names.length;
  const p = q + 1;
  const n = train.length;
  const X = new Float64Array(n * p);
  const y = new Uint8Array(n);
  const typeIndex = new Map(typeLevels.map((t, i) => [t, i]));
  const row = new Float64Array(q);
  for (let i = 0; i < n; i++) {
    const e = train[i]!;
    featurize(features, typeIndex, e.facts, e.counts, row, 0);
    X[i * p] = 1;
    X.set(row, i * p + 1);
    y[i] = e.appointment.outcome === 'noshow' ? 1 : 0;
  }
  // Standardise the continuous columns so the penalty treats them alike and Newton steps are well conditioned.
  const mean = new Float64Array(q);
  const sd = new Float64Array(q).fill(1);
  for (let j = 0; j < q; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += X[i * p + 1 + j]!;
    mean[j] = s / n;
  }
  for (let j = 0; j < CONTINUOUS_FEATURES; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (X[i * p + 1 + j]! - mean[j]!) ** 2;
    const v = Math.sqrt(s / n);
    sd[j] = v > 1e-9 ? v : 1;
    for (let i = 0; i < n; i++) X[i * p + 1 + j] = (X[i * p + 1 + j]! - mean[j]!) / sd[j]!;
  }
  const fit = fitLogistic(X, y, n, p, { l2 });
  const weights: Record<string, number> = {};
  const means: Record<string, number> = {};
  let intercept = fit.coefficients[0]!;
  for (let j = 0; j < q; j++) {
    const w = fit.coefficients[j + 1]! / sd[j]!;
    if (j < CONTINUOUS_FEATURES) intercept -= w * mean[j]!;
    weights[names[j]!] = w;
    means[names[j]!] = mean[j]!;
  }
  const fitted: LogisticRiskModel = {
    ...base,
    kind: 'logistic',
    modelVersion: `lr-${trainedThrough!.slice(0, 10).replaceAll('-', '')}-${fnv1a(JSON.stringify([intercept, weights, features]))}`,
    features,
    intercept,
    weights,
    means,
    bands: bandsFor(baseRate),
    training: { ...training, l2, iterations: fit.iterations, converged: fit.converged },
  };
  return test.length ? { ...fitted, metrics: evaluate(new RiskScorer(fitted), test) } : fitted;
}

function evaluate(scorer: RiskScorer, examples: readonly Example[]): EvaluationMetrics {
  const scores = new Float64Array(examples.length);
  const outcomes = new Uint8Array(examples.length);
  const bands: RiskBand[] = [];
  examples.forEach((e, i) => {
    scores[i] = scorer.probability(e.facts, e.counts);
    outcomes[i] = e.appointment.outcome === 'noshow' ? 1 : 0;
    bands.push(scorer.bandOf(scores[i]!));
  });
  return evaluateScores(scores, outcomes, bands, riskBands);
}

/**
 * Scores `appointments` (past, with outcomes) with `model`: every appointment that reached its day,
 * or only those after `after` (ISO). Histories come from all of `appointments`.
 */
export function evaluateRiskModel(model: RiskModel, appointments: readonly PastAppointment[], after?: string): EvaluationMetrics {
  const windowDays = model.kind === 'logistic' ? model.features.windowDays : RISK_DEFAULTS.windowDays;
  const timeZone = model.kind === 'logistic' ? model.features.timeZone : undefined;
  const afterMs = after === undefined ? Number.NEGATIVE_INFINITY : Date.parse(after);
  const examples = timeline(appointments, { windowDays, ...(timeZone ? { timeZone } : {}) }).filter((e) => isLabelled(e) && e.facts.startMs > afterMs);
  return evaluate(new RiskScorer(model), examples);
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const windowWords = (days: number) => (days === 365 ? 'the last year' : days % 365 === 0 ? `the last ${days / 365} years` : `the last ${days} days`);

/** Feature groups whose effects are reported together (a one-hot group is one factor). */
const GROUPS: { code: RiskFactorCode; from: number; to: number }[] = [
  { code: 'lead-time', from: 0, to: 1 },
  { code: 'prior-no-shows', from: 1, to: 2 },
  { code: 'prior-late-cancellations', from: 2, to: 3 },
  { code: 'new-patient', from: 3, to: 4 },
  { code: 'confirmation', from: 4, to: 5 },
  { code: 'day-of-week', from: 5, to: 11 },
  { code: 'hour-of-day', from: 11, to: BASE_FEATURES.length },
];

/** A model ready to score: weights in vector order. Build once per model version. */
export class RiskScorer {
  readonly modelVersion: string;
  private readonly weights: Float64Array;
  private readonly means: Float64Array;
  private readonly intercept: number;
  private readonly spec?: FeatureSpec;
  private readonly typeIndex: Map<string, number>;
  private readonly x: Float64Array;
  private readonly groups: { code: RiskFactorCode; from: number; to: number }[];

  constructor(readonly model: RiskModel) {
    this.modelVersion = model.modelVersion;
    if (model.kind === 'logistic') {
      const names = featureNames(model.features);
      this.spec = model.features;
      this.weights = Float64Array.from(names, (n) => model.weights[n] ?? 0);
      this.means = Float64Array.from(names, (n) => model.means[n] ?? 0);
      this.intercept = model.intercept;
      this.typeIndex = new Map(model.features.typeLevels.map((t, i) => [t, i]));
      this.x = new Float64Array(names.length);
      this.groups = [...GROUPS, { code: 'appointment-type', from: BASE_FEATURES.length, to: names.length }];
    } else {
      this.weights = new Float64Array(0);
      this.means = new Float64Array(0);
      this.intercept = Math.log(model.rate / (1 - model.rate));
      this.typeIndex = new Map();
      this.x = new Float64Array(0);
      this.groups = [];
    }
  }

  get windowDays(): number {
    return this.spec?.windowDays ?? RISK_DEFAULTS.windowDays;
  }

  get timeZone(): string | undefined {
    return this.spec?.timeZone;
  }

  bandOf(score: number): RiskBand {
    const { mediumFrom, highFrom } = this.model.bands;
    return score >= highFrom ? 'high' : score >= mediumFrom ? 'medium' : 'low';
  }

  /** P(no-show) of parsed facts with the patient's counts. */
  probability(f: ParsedFacts, h: HistoryCounts): number {
    if (this.model.kind === 'clinic-rate' || !this.spec) return this.model.kind === 'clinic-rate' ? this.model.rate : 0;
    featurize(this.spec, this.typeIndex, f, h, this.x, 0);
    let z = this.intercept;
    for (let j = 0; j < this.x.length; j++) z += this.weights[j]! * this.x[j]!;
    return sigmoid(z);
  }

  /** Score, band and factors of one appointment given the patient's earlier visits (any order; only those in the window before it count). */
  score(facts: RiskAppointmentFacts, prior: readonly PriorVisit[]): NoShowRisk {
    return this.scoreParsedWith(this.parse(facts), prior);
  }

  /** The facts as this model reads them (in its zone): parse once, then score several patients' histories against them. */
  parse(facts: RiskAppointmentFacts): ParsedFacts {
    return parseFacts(facts, this.timeZone);
  }

  /** score() of facts parse() returned. */
  scoreParsedWith(f: ParsedFacts, prior: readonly PriorVisit[]): NoShowRisk {
    return this.scoreParsed(f, countHistory(prior, f.startMs, this.windowDays));
  }

  scoreParsed(f: ParsedFacts, h: HistoryCounts): NoShowRisk {
    const p = this.probability(f, h);
    return { score: Math.round(p * 1000) / 1000, band: this.bandOf(p), factors: this.factors(f, h), modelVersion: this.modelVersion };
  }

  /** The strongest effects against the average appointment of the clinic, in words. Call right after probability(). */
  private factors(f: ParsedFacts, h: HistoryCounts): RiskFactor[] {
    if (this.model.kind === 'clinic-rate') {
      return [{ code: 'clinic-rate', text: 'clinic-wide rate: too little history at this clinic for a personal score', effect: 'neutral' }];
    }
    const effects: { code: RiskFactorCode; effect: number }[] = [];
    for (const g of this.groups) {
      let c = 0;
      for (let j = g.from; j < g.to; j++) c += this.weights[j]! * (this.x[j]! - this.means[j]!);
      if (Math.abs(c) >= RISK_DEFAULTS.minFactorEffect) effects.push({ code: g.code, effect: c });
    }
    effects.sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect));
    return effects.slice(0, 3).map(({ code, effect }) => ({ code, text: this.describe(code, f, h), effect: effect > 0 ? 'raises' : 'lowers' }));
  }

  private describe(code: RiskFactorCode, f: ParsedFacts, h: HistoryCounts): string {
    const window = windowWords(this.windowDays);
    switch (code) {
      case 'lead-time': {
        const days = Math.round(f.leadDays);
        return days < 1 ? 'booked less than a day ahead' : `booked ${plural(days, 'day', 'days')} ahead`;
      }
      case 'prior-no-shows':
        if (h.visits === 0) return `no visits in ${window} (clinic rate assumed)`;
        return h.noShows > 0
          ? `${plural(h.noShows, 'no-show', 'no-shows')} in ${window}`
          : `no no-shows in ${plural(h.visits, 'visit', 'visits')} in ${window}`;
      case 'prior-late-cancellations':
        if (h.visits === 0) return `no visits in ${window} (clinic rate assumed)`;
        return h.lateCancels > 0
          ? `${plural(h.lateCancels, 'late cancellation', 'late cancellations')} in ${window}`
          : `no late cancellations in ${plural(h.visits, 'visit', 'visits')} in ${window}`;
      case 'new-patient':
        return h.visits === 0 ? `first visit in ${window}` : 'returning patient';
      case 'confirmation':
        return f.confirmed ? 'confirmed by the patient' : 'not confirmed by the patient';
      case 'day-of-week':
        return `on a ${WEEKDAY_NAMES[Math.floor(f.weekdayHour / 24)]}`;
      case 'hour-of-day': {
        const hour = f.weekdayHour % 24;
        return `${hourBand(hour)} visit (${String(hour).padStart(2, '0')}:00)`;
      }
      case 'appointment-type':
        return `appointment type ${f.appointmentType}`;
      default:
        return code;
    }
  }
}
