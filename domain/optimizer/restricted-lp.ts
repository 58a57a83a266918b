import type { IncrementalAssignment } from './assignment';
import { greedyColumns, type ComponentProblem } from './component-problem';
import type { GLPK, LP } from './glpk';
import type { GlpkWasm } from './glpk-wasm';

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
export function roundRestrictedLp(problem: ComponentProblem, columns: RestrictedColumns, lpX: Float64Array, pairCap: Float64Array): number[] {
  const { n, nc, jc, w } = problem;
  const R = columns.list;
  const x = new Float64Array(R.length);
  const byLp: number[] = [];
  const restR: number[] = [];
  R.forEach((j, t) => {
    x[t] = lpX[j]!;
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

/** An optimal solution of a restricted LP: the value of every local column (0 outside the model) and the row duals. */
export interface RestrictedLpSolution {
  x: Float64Array;
  /** Duals of the candidate, slot-group and side rows (0 for rows not in the model). */
  u: Float64Array;
  v: Float64Array;
  lam: Float64Array;
}

/** Solves the restricted LP over the current columns; undefined when it is not solved to optimality (time, failure). */
export interface RestrictedLpSolver {
  solve(columns: RestrictedColumns, tmlimSeconds: number): RestrictedLpSolution | undefined;
  /** Releases solver memory (the WASM problem object of the incremental solver). */
  dispose(): void;
  /** LP solves that restarted from the previous optimal basis. */
  readonly warmSolves: number;
}

/** Every round a fresh glpk.js model over the columns (the fallback when the C API is not available). */
export class ColdRestrictedLp implements RestrictedLpSolver {
  readonly warmSolves = 0;
  constructor(
    private readonly problem: ComponentProblem,
    private readonly glpk: GLPK,
    private readonly builder: RestrictedLpBuilder,
  ) {}

  solve(columns: RestrictedColumns, tmlimSeconds: number): RestrictedLpSolution | undefined {
    const { glpk, problem } = this;
    const res = glpk.solve(this.builder.build(columns.list, columns.names, false), { msglev: glpk.GLP_MSG_OFF, presol: false, tmlim: tmlimSeconds });
    if (res.result.status !== glpk.GLP_OPT || !res.result.dual) return undefined;
    const x = new Float64Array(problem.n);
    for (const j of columns.list) x[j] = res.result.vars[columns.names[j]!] ?? 0;
    const u = new Float64Array(problem.nc);
    const v = new Float64Array(problem.ns);
    const lam = new Float64Array(problem.nk);
    const duals = res.result.dual;
    for (const row in duals) {
      const idx = Number(row.slice(1));
      const val = duals[row]!;
      if (row[0] === 'c') u[idx] = val;
      else if (row[0] === 's') v[idx] = val;
      else if (row[0] === 'k') lam[idx] = val;
    }
    return { x, u, v, lam };
  }

  dispose(): void {}
}

const GLP_MAX = 2;
const GLP_LO = 2;
const GLP_UP = 3;
const GLP_OPT = 5;
/** glp_simplex return code: time limit reached. */
const GLP_ETMLIM = 9;

/**
 * One GLPK problem object kept for the whole column generation (GLPK C API, glpk-wasm.ts): every round
 * appends the new columns (non-basic at 0) and restarts the primal simplex from the previous optimal
 * basis, which stays primal feasible, so a round that adds a few hundred columns costs a few pivots
 * instead of a full solve. A candidate or slot-group row joins with its first column (a new row is basic,
 * its slack, so the basis stays valid); side rows are all there from the start. If GLPK reports anything but an optimum or a
 * time limit, the rounds go on with the cold solver.
 */
export class IncrementalRestrictedLp implements RestrictedLpSolver {
  private prob: number;
  /** Local column of each GLPK column (index 0 unused), in the order they joined. */
  private readonly cols: number[] = [0];
  /** GLPK row of each candidate, slot group and side row (0 = not in the model yet). */
  private readonly candRow: Int32Array;
  private readonly slotRow: Int32Array;
  private readonly sideRow: Int32Array;
  private rows = 0;
  private fallback: RestrictedLpSolver | undefined;
  warmSolves = 0;

  constructor(
    private readonly problem: ComponentProblem,
    private readonly api: GlpkWasm,
    private readonly cold: () => RestrictedLpSolver,
  ) {
    this.candRow = new Int32Array(problem.nc);
    this.slotRow = new Int32Array(problem.ns);
    this.sideRow = new Int32Array(problem.nk);
    this.prob = api.createProb();
    api.setObjDir(this.prob, GLP_MAX);
    // Every side row from the start (as rows of the restricted LP they decide which optimal vertex the simplex
    // ends in, and so the fixings of RINS; with all of them present it ends where the cold solves did on the
    // held-out instances).
    for (let k = 0; k < problem.nk; k++) this.sideRow[k] = this.addRow(problem.kCap[k]!);
  }

  private addRow(ub: number): number {
    this.api.addRows(this.prob, 1);
    this.api.setRowBnds(this.prob, ++this.rows, GLP_UP, 0, ub);
    return this.rows;
  }

  private append(j: number): void {
    const { jc, js } = this.problem;
    this.cols.push(j);
    if (!this.candRow[jc[j]!]) this.candRow[jc[j]!] = this.addRow(1);
    if (!this.slotRow[js[j]!]) this.slotRow[js[j]!] = this.addRow(1);
  }

  /** The constraint matrix of the current columns and rows (1-based triplets). */
  private loadMatrix(): void {
    const { jc, js, kStart, kList } = this.problem;
    let ne = 0;
    for (let col = 1; col < this.cols.length; col++) {
      const j = this.cols[col]!;
      ne += 2;
      for (let i = kStart[j]!; i < kStart[j + 1]!; i++) if (this.sideRow[kList[i]!]) ne++;
    }
    const ia = new Int32Array(ne + 1);
    const ja = new Int32Array(ne + 1);
    let e = 0;
    for (let col = 1; col < this.cols.length; col++) {
      const j = this.cols[col]!;
      ia[++e] = this.candRow[jc[j]!]!;
      ja[e] = col;
      ia[++e] = this.slotRow[js[j]!]!;
      ja[e] = col;
      for (let i = kStart[j]!; i < kStart[j + 1]!; i++) {
        const row = this.sideRow[kList[i]!]!;
        if (!row) continue;
        ia[++e] = row;
        ja[e] = col;
      }
    }
    this.api.loadMatrix(this.prob, ne, ia, ja, new Float64Array(ne + 1).fill(1));
  }

  solve(columns: RestrictedColumns, tmlimSeconds: number): RestrictedLpSolution | undefined {
    if (this.fallback) return this.fallback.solve(columns, tmlimSeconds);
    const { api, prob: p, problem } = this;
    const { n, nc, ns, nk, w } = problem;
    const before = this.cols.length - 1;
    const added = columns.size - before;
    if (added > 0) {
      const first = api.addCols(p, added);
      for (let t = 0; t < added; t++) {
        const j = columns.list[before + t]!;
        this.append(j);
        api.setColBnds(p, first + t, GLP_LO, 0, 0);
        api.setObjCoef(p, first + t, w[j]!);
      }
      this.loadMatrix();
    }
    const warm = before > 0;
    const rc = api.simplex(p, 0, Math.max(1, Math.floor(tmlimSeconds * 1000)), 0);
    if (rc === GLP_ETMLIM) return undefined;
    if (rc !== 0 || api.getStatus(p) !== GLP_OPT) {
      // Not expected from a valid basis; the cold solver takes over for this and the later rounds.
      this.dispose();
      this.fallback = this.cold();
      return this.fallback.solve(columns, tmlimSeconds);
    }
    if (warm) this.warmSolves++;
    const x = new Float64Array(n);
    for (let col = 1; col < this.cols.length; col++) x[this.cols[col]!] = api.getColPrim(p, col);
    const u = new Float64Array(nc);
    const v = new Float64Array(ns);
    const lam = new Float64Array(nk);
    for (let i = 0; i < nc; i++) if (this.candRow[i]) u[i] = api.getRowDual(p, this.candRow[i]!);
    for (let i = 0; i < ns; i++) if (this.slotRow[i]) v[i] = api.getRowDual(p, this.slotRow[i]!);
    for (let k = 0; k < nk; k++) if (this.sideRow[k]) lam[k] = api.getRowDual(p, this.sideRow[k]!);
    return { x, u, v, lam };
  }

  dispose(): void {
    if (this.prob) this.api.deleteProb(this.prob);
    this.prob = 0;
  }
}

/** The incremental solver when glpk's C API is available, else the cold one. */
export function restrictedLpSolver(problem: ComponentProblem, glpk: GLPK, builder: RestrictedLpBuilder, api: GlpkWasm | undefined): RestrictedLpSolver {
  const cold = (): RestrictedLpSolver => new ColdRestrictedLp(problem, glpk, builder);
  return api ? new IncrementalRestrictedLp(problem, api, cold) : cold();
}
