/** Evaluation of probability scores against 0/1 outcomes: AUC, Brier score, calibration. */

export interface CalibrationBin {
  /** 1-10 for deciles of the score; a band name for per-band tables. */
  group: string;
  n: number;
  /** Mean predicted probability in the group. */
  meanScore: number;
  /** Observed no-show rate in the group. */
  observedRate: number;
}

export interface EvaluationMetrics {
  n: number;
  noShows: number;
  /** Area under the ROC curve (ties count half). */
  auc: number;
  /** Mean squared error of the probabilities. */
  brier: number;
  /** Brier score of predicting the observed rate for everyone: the score to beat. */
  brierOfBaseRate: number;
  deciles: CalibrationBin[];
  /** Largest |meanScore - observedRate| over the deciles, in percentage points. */
  maxDecileErrorPoints: number;
  bands: CalibrationBin[];
}

/** AUC as the Mann-Whitney statistic, with average ranks for tied scores. */
export function auc(scores: ArrayLike<number>, outcomes: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (outcomes[order[k]!]) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function brier(scores: ArrayLike<number>, outcomes: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < scores.length; i++) s += (scores[i]! - outcomes[i]!) ** 2;
  return s / Math.max(1, scores.length);
}

/** Equal-count groups by score (the last takes the remainder). */
export function calibrationDeciles(scores: ArrayLike<number>, outcomes: ArrayLike<number>, groups = 10): CalibrationBin[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const bins: CalibrationBin[] = [];
  for (let g = 0; g < groups; g++) {
    const from = Math.floor((g * n) / groups);
    const to = Math.floor(((g + 1) * n) / groups);
    if (to <= from) continue;
    let s = 0;
    let o = 0;
    for (let k = from; k < to; k++) {
      s += scores[order[k]!]!;
      o += outcomes[order[k]!]!;
    }
    bins.push({ group: String(g + 1), n: to - from, meanScore: s / (to - from), observedRate: o / (to - from) });
  }
  return bins;
}

/** Calibration by a label per row (e.g. the risk band), in the order of `labels`. */
export function calibrationBy(
  labels: readonly string[],
  rowLabels: readonly string[],
  scores: ArrayLike<number>,
  outcomes: ArrayLike<number>,
): CalibrationBin[] {
  return labels
    .map((label) => {
      let n = 0;
      let s = 0;
      let o = 0;
      for (let i = 0; i < rowLabels.length; i++) {
        if (rowLabels[i] !== label) continue;
        n++;
        s += scores[i]!;
        o += outcomes[i]!;
      }
      return { group: label, n, meanScore: n ? s / n : 0, observedRate: n ? o / n : 0 };
    })
    .filter((b) => b.n > 0);
}

/** Every metric for one set of scores. */
export function evaluateScores(
  scores: ArrayLike<number>,
  outcomes: ArrayLike<number>,
  bands: readonly string[],
  bandNames: readonly string[],
): EvaluationMetrics {
  let noShows = 0;
  for (let i = 0; i < outcomes.length; i++) noShows += outcomes[i]!;
  const rate = noShows / Math.max(1, outcomes.length);
  const deciles = calibrationDeciles(scores, outcomes);
  return {
    n: scores.length,
    noShows,
    auc: auc(scores, outcomes),
    brier: brier(scores, outcomes),
    brierOfBaseRate: rate * (1 - rate),
    deciles,
    maxDecileErrorPoints: Math.max(0, ...deciles.map((d) => Math.abs(d.meanScore - d.observedRate) * 100)),
    bands: calibrationBy(bandNames, bands, scores, outcomes),
  };
}
