import type { IncrementalAssignment } from './assignment';
import { greedyColumns, type ComponentProblem } from './component-problem';
import type { GLPK, LP } from './glpk';

/** The columns of the restricted model (a subset of the component's pairs), in the order they joined. */
export class RestrictedColumns {
  /** Membership flags per local column. */
  readonly has: Uint8Array;
  /** The columns, in joining order. */
  readonly list: number[] = [];
  /** glpk variable names of the member columns. */
  readonly names: string[];

  constructor(n: number) {
    this.has = new Uint8Array(n);
    this.names = new Array<string>(n);
  }

  /** Adds column j (no-op when present); returns whether it was new. */
  add(j: number): boolean {
    if (this.has[j]) return false;
    this.has[j] = 1;
    this.list.push(j);
    this.names[j] = `x${j}`;
    return true;
  }

  get size(): number {
    return this.list.length;
  }
}

/** The assignment relaxation of a component: candidates x slot groups, side rows ignored, solved exactly (Hungarian). */
export interface AssignmentRelaxation {
  solver: IncrementalAssignment;
  /** Edges of candidate i are rowStart[i] .. rowStart[i+1]) of the solver; edgePair maps an edge to its column. */
  rowStart: Int32Array;
  edgePair: Int32Array;
}

/** Columns matched by the relaxation's current optimum. */
export function matchedColumns(problem: ComponentProblem, relaxation: AssignmentRelaxation): number[] {
  const matched: number[] = [];
  for (let i = 0; i < problem.nc; i++) if (relaxation.solver.edgeOfRow[i]! >= 0) matched.push(relaxation.edgePair[relaxation.solver.edgeOfRow[i]!]!);
  return matched;
}

/**
 * Initial restricted columns for the LP: the assignment optimum, the greedy solution, and per candidate the
 * pairs with the smallest reduced cost in the assignment optimum (the likely alternatives when side
 * constraints bind), at most initialColumns of them within pricingSlack of the mean score.
 */
export function seedColumns(
  problem: ComponentProblem,
  relaxation: AssignmentRelaxation,
  columns: RestrictedColumns,
  matched: readonly number[],
  greedy: readonly number[],
  opts: { initialColumns: number; pricingSlack: number },
): void {
  const { n, nc, js, w, model, comp } = problem;
  const { solver, rowStart, edgePair } = relaxation;
  for (const j of matched) columns.add(j);
  for (const j of greedy) columns.add(j);
  let meanScore = 0;
  for (let j = 0; j < n; j++) meanScore += Math.abs(model.pairScore[comp.pairs[j]!]!) / n;
  const slack = opts.pricingSlack * meanScore;
  const near: number[] = [];
  const rc = new Float64Array(n);
  for (let i = 0; i < nc; i++) {
    near.length = 0;
    const ui = solver.rowDual(i);
    for (let edge = rowStart[i]!; edge < rowStart[i + 1]!; edge++) {
      const j = edgePair[edge]!;
      rc[j] = ui + solver.colDual(js[j]!) - w[j]!;
      if (!columns.has[j] && rc[j]! <= slack) near.push(j);
    }
    if (near.length > opts.initialColumns) near.sort((a, b) => rc[a]! - rc[b]! || a - b);
    for (let t = 0; t < Math.min(opts.initialColumns, near.length); t++) columns.add(near[t]!);
  }
}

/** Builds glpk models over restricted columns of one component (reusable stamp arrays). */
export class RestrictedLpBuilder {
  private readonly slotStamp: Int32Array;
  private readonly candStamp: Int32Array;

  constructor(
    private readonly problem: ComponentProblem,
    private readonly glpk: GLPK,
  ) {
    this.slotStamp = new Int32Array(problem.ns).fill(-1);
    this.candStamp = new Int32Array(problem.nc).fill(-1);
  }

  /**
   * The LP (or, with binary, the MIP) over these columns: candidate, slot-group and non-redundant side rows
   * (with these capacities, default the problem's).
   */
  build(cols: readonly number[], names: readonly string[], binary: boolean, kCap: ArrayLike<number> = this.problem.kCap): LP {
    const { nc, ns, nk, jc, js, w, kStart, kList } = this.problem;
    const { glpk, slotStamp, candStamp } = this;
    const candRows: { name: string; coef: number }[][] = Array.from({ length: nc }, () => []);
    const slotRows: { name: string; coef: number }[][] = Array.from({ length: ns }, () => []);
    const consCols: number[][] = Array.from({ length: nk }, () => []);
    const objective: { name: string; coef: number }[] = [];
    for (const j of cols) {
      const v = { name: names[j]!, coef: 1 };
      objective.push({ name: v.name, coef: w[j]! });
      candRows[jc[j]!]!.push(v);
      slotRows[js[j]!]!.push(v);
      for (let i = kStart[j]!; i < kStart[j + 1]!; i++) consCols[kList[i]!]!.push(j);
    }
    const subjectTo: LP['subjectTo'] = [];
    const up = { type: glpk.GLP_UP, lb: 0, ub: 1 };
    // Every candidate and slot group with a column gets its row, even with a single column: without it that
    // row's dual would be 0 and the pricing step would see all its other pairs as attractive. The rows then
    // bound every column by 1, so columns only need x >= 0 (glpk's default).
    candRows.forEach((vars, i) => vars.length > 0 && subjectTo.push({ name: `c${i}`, vars, bnds: up }));
    slotRows.forEach((vars, i) => vars.length > 0 && subjectTo.push({ name: `s${i}`, vars, bnds: up }));
    consCols.forEach((list, i) => {
      if (list.length <= kCap[i]!) return;
      // Redundant within these columns when fewer distinct slots or candidates than the cap.
      let slots = 0;
      let cands = 0;
      for (const j of list) {
        if (slotStamp[js[j]!] !== i) {
          slotStamp[js[j]!] = i;
          slots++;
        }
        if (candStamp[jc[j]!] !== i) {
          candStamp[jc[j]!] = i;
          cands++;
        }
      }
      if (Math.min(slots, cands) > kCap[i]!) {
        subjectTo.push({ name: `k${i}`, vars: list.map((j) => ({ name: names[j]!, coef: 1 })), bnds: { type: glpk.GLP_UP, lb: 0, ub: kCap[i]! } });
      }
    });
    slotStamp.fill(-1);
    candStamp.fill(-1);
    const lp: LP = { name: 'assign', objective: { direction: glpk.GLP_MAX, name: 'z', vars: objective }, subjectTo };
    if (binary) lp.binaries = cols.map((j) => names[j]!);
    return lp;
  }
}

/**
 * An integral solution from an LP solution over the restricted columns: greedy in order of LP value (then
 * weight), then the other restricted columns, then every other pair of a candidate left out, most
 * promising first (highest reduced-cost bound pairCap).
 */
export function roundRestrictedLp(problem: ComponentProblem, columns: RestrictedColumns, vars: Record<string, number>, pairCap: Float64Array): number[] {
  const { n, nc, jc, w } = problem;
  const R = columns.list;
  const x = new Float64Array(R.length);
  const byLp: number[] = [];
  const restR: number[] = [];
  R.forEach((j, t) => {
    x[t] = vars[columns.names[j]!] ?? 0;
    if (x[t]! > 1e-6) byLp.push(t);
    else restR.push(j);
  });
  byLp.sort((a, b) => x[b]! - x[a]! || w[R[b]!]! - w[R[a]!]! || R[a]! - R[b]!);
  restR.sort((a, b) => pairCap[b]! - pairCap[a]! || a - b);
  const order = byLp.map((t) => R[t]!).concat(restR);
  const chosen = greedyColumns(problem, order, true);
  // Candidates still without a slot may take any pair that fits.
  const placed = new Uint8Array(nc);
  for (const j of chosen) placed[jc[j]!] = 1;
  const extra: number[] = [];
  for (let j = 0; j < n; j++) if (!columns.has[j] && !placed[jc[j]!]) extra.push(j);
  if (extra.length === 0) return chosen;
  extra.sort((a, b) => pairCap[b]! - pairCap[a]! || a - b);
  return greedyColumns(problem, chosen.concat(extra), true);
}
