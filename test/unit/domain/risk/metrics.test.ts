import { auc, brier, calibrationDeciles, evaluateScores } from '../../../../domain/risk/metrics';

describe('risk metrics', () => {
  it('AUC is the probability that a no-show outranks an attended visit, ties counting half', () => {
    expect(auc([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.4, 0.3, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    // pairs (pos, neg): (0.3 vs 0.1) win, (0.3 vs 0.3) tie, (0.2 vs 0.1) win, (0.2 vs 0.3) loss => 2.5 / 4
    expect(auc([0.1, 0.3, 0.3, 0.2], [0, 0, 1, 1])).toBe(0.625);
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it('Brier score is the mean squared error', () => {
    expect(brier([0, 1, 0.5], [0, 1, 1])).toBeCloseTo(0.25 / 3, 12);
  });

  it('deciles are equal-count groups by score', () => {
    const scores = Array.from({ length: 100 }, (_, i) => i / 100);
    const outcomes = scores.map((s) => (s >= 0.9 ? 1 : 0));
    const bins = calibrationDeciles(scores, outcomes);
    expect(bins).toHaveLength(10);
    expect(bins.every((b) => b.n === 10)).toBe(true);
    expect(bins[9]).toMatchObject({ group: '10', observedRate: 1 });
    expect(bins[0]!.meanScore).toBeCloseTo(0.045, 10);
  });

  it('reports calibration per band and the largest decile error in points', () => {
    const m = evaluateScores([0.1, 0.1, 0.9, 0.9], [0, 0, 1, 1], ['low', 'low', 'high', 'high'], ['low', 'medium', 'high']);
    expect(m.bands.map((b) => b.group)).toEqual(['low', 'high']);
    expect(m.maxDecileErrorPoints).toBeCloseTo(10, 6);
    expect(m.brierOfBaseRate).toBe(0.25);
  });
});
