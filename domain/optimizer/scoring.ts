import { URGENCY_LEVELS, type ScoreWeights, type Urgency } from './schema';

/** Default weights of the score formula (docs/optimizer.md, "Score"). */
export const DEFAULT_WEIGHTS: ScoreWeights = {
  base: 10,
  urgency: 40,
  waiting: 20,
  waitingCapDays: 90,
  continuity: 10,
  timeOfDay: 5,
  promptness: 10,
  noShowRisk: 10,
  moveUp: 30,
  moveUpCapDays: 60,
};

/** Urgency on the 0..10 scale: routine 2, soon 5, urgent 8 (absent: routine). */
export function urgencyLevel(u: Urgency | undefined): number {
  if (u === undefined) return URGENCY_LEVELS.routine;
  return typeof u === 'number' ? u : URGENCY_LEVELS[u];
}

/** The facts about one (candidate, slot) pair that the score depends on. */
export interface PairFacts {
  urgency: number; // 0..10
  daysWaiting: number;
  continuity: boolean; // slot is with the candidate's preferred provider
  timeOfDayMatch: boolean; // slot in the preferred part of the day, or no preference
  earliness: number; // 1 for the earliest slot start in the instance, 0 for the latest
  noShowRisk: number; // 0..1
  daysGained: number; // move-ups: days earlier than the appointment held (0 for other candidates)
}

/** One term of the score, for explanations. */
export interface ScoreTerm {
  term: keyof Omit<ScoreWeights, 'waitingCapDays' | 'moveUpCapDays'>;
  value: number;
}

/**
 * The score of placing a candidate in a slot:
 * base + urgency*u/10 + waiting*min(days, cap)/cap + continuity*[preferred provider]
 * + timeOfDay*[time-of-day matches] + promptness*(u/10)*earliness - noShowRisk*risk
 * + moveUp*min(daysGained, moveUpCap)/moveUpCap.
 */
export function scoreTerms(f: PairFacts, w: ScoreWeights): ScoreTerm[] {
  const u = f.urgency / 10;
  return [
    { term: 'base', value: w.base },
    { term: 'urgency', value: w.urgency * u },
    { term: 'waiting', value: (w.waiting * Math.min(f.daysWaiting, w.waitingCapDays)) / w.waitingCapDays },
    { term: 'continuity', value: f.continuity ? w.continuity : 0 },
    { term: 'timeOfDay', value: f.timeOfDayMatch ? w.timeOfDay : 0 },
    { term: 'promptness', value: w.promptness * u * f.earliness },
    { term: 'noShowRisk', value: -w.noShowRisk * f.noShowRisk },
    { term: 'moveUp', value: (w.moveUp * Math.min(f.daysGained, w.moveUpCapDays)) / w.moveUpCapDays },
  ];
}

/** Sum of scoreTerms, computed without allocating (hot path when building pairs). */
export function pairScore(f: PairFacts, w: ScoreWeights): number {
  const u = f.urgency / 10;
  return (
    w.base +
    w.urgency * u +
    (w.waiting * Math.min(f.daysWaiting, w.waitingCapDays)) / w.waitingCapDays +
    (f.continuity ? w.continuity : 0) +
    (f.timeOfDayMatch ? w.timeOfDay : 0) +
    w.promptness * u * f.earliness -
    w.noShowRisk * f.noShowRisk +
    (w.moveUp * Math.min(f.daysGained, w.moveUpCapDays)) / w.moveUpCapDays
  );
}

/** Rounds a score for output (scores are compared at full precision internally). */
export function roundScore(x: number): number {
  return Math.round(x * 1000) / 1000;
}
