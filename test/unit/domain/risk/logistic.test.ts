import { choleskySolve, fitLogistic } from '../../../../domain/risk/logistic';

const logit = (p: number) => Math.log(p / (1 - p));

describe('choleskySolve', () => {
  it('solves a symmetric positive-definite system', () => {
    // A = [[4, 2, 0], [2, 5, 1], [0, 1, 3]], x = [1, -2, 3] => b = A x
    const A = Float64Array.from([4, 2, 0, 2, 5, 1, 0, 1, 3]);
    const b = Float64Array.from([0, -5, 7]);
    const x = choleskySolve(A, b, 3);
    expect([...x].map((v) => Number(v.toFixed(10)))).toEqual([1, -2, 3]);
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toThrow('not positive definite');
  });
});

describe('fitLogistic', () => {
  /** One binary feature: the maximum-likelihood fit is known in closed form (the log-odds of each group). */
  function twoGroups(n0: number, pos0: number, n1: number, pos1: number) {
    const n = n0 + n1;
    const X = new Float64Array(n * 2);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      X[i * 2] = 1;
      X[i * 2 + 1] = i < n0 ? 0 : 1;
      y[i] = i < n0 ? (i < pos0 ? 1 : 0) : i - n0 < pos1 ? 1 : 0;
    }
    return { X, y, n };
  }

  it('recovers the closed-form maximum-likelihood coefficients', () => {
    const { X, y, n } = twoGroups(1000, 200, 500, 250);
    const fit = fitLogistic(X, y, n, 2, { l2: 0 });
    expect(fit.converged).toBe(true);
    expect(fit.coefficients[0]).toBeCloseTo(logit(0.2), 6);
    expect(fit.coefficients[1]).toBeCloseTo(logit(0.5) - logit(0.2), 6);
    expect(fit.iterations).toBeLessThan(10);
  });

  it('keeps coefficients finite on perfectly separable data thanks to the penalty', () => {
    const { X, y, n } = twoGroups(100, 0, 100, 100);
    const fit = fitLogistic(X, y, n, 2, { l2: 1 });
    expect(Number.isFinite(fit.coefficients[1]!)).toBe(true);
    expect(fit.coefficients[1]!).toBeGreaterThan(3);
  });

  it('leaves a constant-zero column at zero', () => {
    const { X: X2, y, n } = twoGroups(300, 60, 300, 120);
    const X = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      X[i * 3] = X2[i * 2]!;
      X[i * 3 + 1] = X2[i * 2 + 1]!;
    }
    const fit = fitLogistic(X, y, n, 3, { l2: 1 });
    expect(fit.coefficients[2]).toBe(0);
  });
});
