import type { IncrementalAssignment } from './assignment';
import type { ComponentProblem } from './component-problem';

/**
 * Upper bounds of a component from multipliers y >= 0 (candidate rows u, slot-group rows v, side rows
 * lambda): y.b + sum over all columns of max(0, d_j), d_j = w_j - u_c - v_s - sum lambda_k, valid for the
 * full component whatever the solver's tolerances (we compute it). Keeps the best bound and, per column,
 * the best bound on any solution that uses it: min over the multipliers tried of bound + min(0, d_j)
 * (reduced-cost fixing).
 */
export class DualBound {
  readonly u: Float64Array;
  readonly v: Float64Array;
  readonly lam: Float64Array;
  /** Reduced costs d_j of the last evaluation. */
  readonly reducedCost: Float64Array;
  /** Per column: no solution using it is worth more. */
  readonly pairCap: Float64Array;
  /** The best bound so far. */
  best = Infinity;

  constructor(private readonly problem: ComponentProblem) {
    this.u = new Float64Array(problem.nc);
    this.v = new Float64Array(problem.ns);
    this.lam = new Float64Array(problem.nk);
    this.reducedCost = new Float64Array(problem.n);
    this.pairCap = new Float64Array(problem.n).fill(Infinity);
  }

  /** Candidate and slot-group multipliers from the assignment solver's duals (lambda unchanged). */
  takeAssignmentDuals(solver: IncrementalAssignment): void {
    for (let i = 0; i < this.problem.nc; i++) this.u[i] = solver.rowDual(i);
    for (let i = 0; i < this.problem.ns; i++) this.v[i] = solver.colDual(i);
  }

  /**
   * All multipliers from an LP's row duals (rows absent from the LP have dual 0); negative duals of <= rows
   * are numerical noise, clamped so the bound stays valid.
   */
  takeLpDuals(duals: { u: Float64Array; v: Float64Array; lam: Float64Array }): void {
    for (let i = 0; i < this.u.length; i++) this.u[i] = Math.max(0, duals.u[i]!);
    for (let i = 0; i < this.v.length; i++) this.v[i] = Math.max(0, duals.v[i]!);
    for (let i = 0; i < this.lam.length; i++) this.lam[i] = Math.max(0, duals.lam[i]!);
  }

  /** Evaluates the bound of the current multipliers, updating best, reducedCost and pairCap. */
  evaluate(): number {
    const { n, nc, ns, nk, jc, js, w, kStart, kList, kCap } = this.problem;
    const { u, v, lam, reducedCost, pairCap } = this;
    let bound = 0;
    for (let i = 0; i < nc; i++) bound += u[i]!;
    for (let i = 0; i < ns; i++) bound += v[i]!;
    for (let i = 0; i < nk; i++) bound += lam[i]! * kCap[i]!;
    for (let j = 0; j < n; j++) {
      let dj = w[j]! - u[jc[j]!]! - v[js[j]!]!;
      for (let i = kStart[j]!; i < kStart[j + 1]!; i++) dj -= lam[kList[i]!]!;
      reducedCost[j] = dj;
      if (dj > 0) bound += dj;
    }
    if (bound < this.best) this.best = bound;
    for (let j = 0; j < n; j++) {
      const cap = bound + Math.min(0, reducedCost[j]!);
      if (cap < pairCap[j]!) pairCap[j] = cap;
    }
    return bound;
  }
}
