import { IncrementalAssignment } from './assignment';
import { bestColumnBound, greedyColumns, meetsSideConstraints, prepareComponent, weightOf, type ComponentProblem } from './component-problem';
import type { Component } from './decompose';
import { DualBound } from './dual-bound';
import { glpkWasmOf, type GLPK } from './glpk';
import type { SolverModel } from './model';
import {
  matchedColumns,
  RestrictedColumns,
  RestrictedLpBuilder,
  restrictedLpSolver,
  roundRestrictedLp,
  seedColumns,
  type AssignmentRelaxation,
  type RestrictedLpSolver,
} from './restricted-lp';

/** How one component was solved. */
export type ComponentMethod = 'trivial' | 'assignment' | 'lp' | 'mip' | 'greedy';

export interface ComponentSolveOptions {
  /** Clock value (ms) after which no new solver call starts; glpk calls get a share of the remaining time as tmlim. */
  deadline: number;
  now: () => number;
  /** Columns per candidate in the first restricted model (best-scoring pairs first). */
  initialColumns: number;
  /** Relative MIP gap handed to glpk's branch and bound (0 = prove optimality). */
  mipGap: number;
  maxPricingRounds: number;
  /** Pairs whose reduced cost is within this fraction of the mean score below zero join the model early. */
  pricingSlack: number;
  /** Most pairs per candidate added in one pricing round. */
  maxColumnsPerRound: number;
}

export interface ComponentOutcome {
  chosen: number[]; // global pair numbers
  /** Value and proven upper bound of the lexicographic objective: score + bigM per placed must-place candidate. */
  value: number;
  upper: number;
  bigM: number;
  method: ComponentMethod;
  /** True when the greedy solution is returned because the solver ran out of time or failed. */
  fallback: boolean;
  /** Score of the greedy solution of this component (for comparison). */
  greedyScore: number;
  lpSolves: number;
  mipSolves: number;
  /** Assignment re-solves with the LP's side-constraint duals (pricing). */
  assignmentSolves: number;
  columns: number;
}

const EPS = 1e-7;
/** With a mipGap, column generation counts as converged when the restricted optimum is within this share (relative to the score) of the bound, at most mipGap. */
const LP_CONVERGENCE = 1e-5;

/** What one component's solve carries from step to step: the incumbent, the greedy reference and the solver counters. */
export interface ComponentSearch {
  problem: ComponentProblem;
  glpk: GLPK;
  opts: ComponentSolveOptions;
  greedy: number[];
  greedyValue: number;
  greedyScore: number;
  /** Best solution found (local columns) and its weight. */
  best: number[];
  bestValue: number;
  lpSolves: number;
  mipSolves: number;
  assignmentSolves: number;
}

/** The outcome of a component in global pair numbers. */
export function componentOutcome(
  search: ComponentSearch,
  cols: readonly number[],
  value: number,
  upper: number,
  method: ComponentMethod,
  fallback: boolean,
  columns: number,
): ComponentOutcome {
  return {
    chosen: cols.map((j) => search.problem.comp.pairs[j]!),
    value,
    upper: Math.max(upper, value),
    bigM: search.problem.bigM,
    method,
    fallback,
    greedyScore: search.greedyScore,
    lpSolves: search.lpSolves,
    mipSolves: search.mipSolves,
    assignmentSolves: search.assignmentSolves,
    columns,
  };
}

/**
 * The absolute slack that opts.mipGap allows: mipGap is relative to the incumbent's score, not to the
 * weighted objective (whose must-place big-M terms would make any relative gap meaningless).
 */
export function allowedGap(search: ComponentSearch): number {
  if (search.opts.mipGap <= 0) return 0;
  const { problem } = search;
  let must = 0;
  for (const j of search.best) must += problem.model.mustPlace[problem.model.pairCand[problem.comp.pairs[j]!]!]!;
  return search.opts.mipGap * Math.abs(search.bestValue - must * problem.bigM);
}

/** glpk's mipgap (relative to its weighted incumbent) for the gap allowed on the score. */
function glpkMipGap(search: ComponentSearch): number {
  return allowedGap(search) / Math.max(1, Math.abs(search.bestValue));
}

/** Keeps cols as the incumbent when strictly better. */
function offerIncumbent(search: ComponentSearch, cols: number[], value: number): void {
  if (value > search.bestValue) {
    search.best = cols;
    search.bestValue = value;
  }
}

/**
 * Share of the remaining time handed to one glpk call as tmlim. glpk overruns its limit (loading the model,
 * presolve and the node in progress are not interrupted), so a call that gets all of it ends past the
 * deadline; with this share a call may overrun by 40 % and still end in time.
 */
export const SOLVER_TIME_SHARE = 0.7;
/** No glpk call starts with less time than this left (ms). */
const MIN_SOLVER_MS = 5;

/** The tmlim (seconds) for the next glpk call, or undefined when no call should start. */
export function solverTimeLimit(opts: Pick<ComponentSolveOptions, 'deadline' | 'now'>): number | undefined {
  const left = opts.deadline - opts.now();
  if (left < MIN_SOLVER_MS) return undefined;
  return (SOLVER_TIME_SHARE * left) / 1000;
}

/**
 * The assignment optimum without side constraints (exact, Hungarian method). If it happens to satisfy them,
 * it is optimal; otherwise it is an upper bound and its pairs seed the LP.
 */
export function solveAssignmentRelaxation(problem: ComponentProblem): AssignmentRelaxation {
  const { n, nc, ns, js, w, byCand } = problem;
  const rowStart = new Int32Array(nc + 1);
  const edgeCol = new Int32Array(n);
  const edgeWeight = new Float64Array(n);
  const edgePair = new Int32Array(n);
  let e = 0;
  for (let i = 0; i < nc; i++) {
    for (const j of byCand[i]!) {
      edgeCol[e] = js[j]!;
      edgeWeight[e] = w[j]!;
      edgePair[e++] = j;
    }
    rowStart[i + 1] = e;
  }
  const solver = new IncrementalAssignment(nc, ns, rowStart, edgeCol);
  solver.weight.set(edgeWeight);
  solver.solve();
  return { solver, rowStart, edgePair };
}

/** Re-solves the assignment relaxation with weights w - lambda (the side rows' multipliers moved into the objective). */
function resolveWithMultipliers(problem: ComponentProblem, relaxation: AssignmentRelaxation, lam: Float64Array): void {
  const { n, w, kStart, kList } = problem;
  for (let edge = 0; edge < n; edge++) {
    const j = relaxation.edgePair[edge]!;
    let wj = w[j]!;
    for (let i = kStart[j]!; i < kStart[j + 1]!; i++) wj -= lam[kList[i]!]!;
    relaxation.solver.weight[edge] = wj;
  }
  relaxation.solver.resolve();
}

type ColumnGenerationEnd =
  /** The incumbent is proven optimal (within the tolerance or mipGap); upper is its proven bound. */
  | { kind: 'proven'; upper: number }
  /** No pair has a positive reduced cost: the restricted LP (solution lpVars) is the component's LP optimum. */
  | { kind: 'converged'; lpX: Float64Array }
  /** Time, rounds or the solver ran out first. */
  | { kind: 'unfinished' };

/**
 * Column generation on the LP relaxation, priced by the assignment structure. After each restricted LP,
 * its side-constraint duals lambda go into the assignment relaxation: the exact assignment optimum with
 * weights w - lambda (incremental Hungarian re-solve) gives the best candidate and slot duals for that
 * lambda over ALL pairs, hence the bound L(lambda) = lambda.cap + assignment value, and its matching
 * holds a pair with positive reduced cost whenever the bound exceeds the restricted optimum. So the
 * restricted LP only ever gets the matching (plus the best few LP-priced pairs per candidate) and
 * stays small; it is optimal for the whole component once the bound meets it. The restricted LP
 * keeps its GLPK problem object between rounds (IncrementalRestrictedLp): new columns join non-basic and
 * the simplex restarts from the previous optimal basis. Every round also rounds the LP to an
 * integral incumbent and stops as soon as that is proven optimal.
 */
export function generateColumns(
  search: ComponentSearch,
  relaxation: AssignmentRelaxation,
  columns: RestrictedColumns,
  bound: DualBound,
  builder: RestrictedLpBuilder,
  lp: RestrictedLpSolver,
): ColumnGenerationEnd {
  const { problem, opts } = search;
  const { n, nc, w, jc } = problem;
  const dTry = bound.reducedCost;
  const pairCap = bound.pairCap;
  const perCandidate: number[][] = Array.from({ length: nc }, () => []);
  let rinsDone = false;
  for (let round = 0; round < opts.maxPricingRounds; round++) {
    const tmlim = solverTimeLimit(opts);
    if (tmlim === undefined) break;
    const sol = lp.solve(columns, tmlim);
    search.lpSolves++;
    if (!sol) break;
    bound.takeLpDuals(sol);
    const lpX = sol.x;
    let restricted = 0;
    for (const j of columns.list) restricted += w[j]! * lpX[j]!;
    // The LP duals price every pair...
    bound.evaluate();
    let positive = 0;
    for (const list of perCandidate) list.length = 0;
    for (let j = 0; j < n; j++) {
      if (columns.has[j] || dTry[j]! <= EPS * Math.max(1, Math.abs(w[j]!))) continue;
      positive++;
      perCandidate[jc[j]!]!.push(j);
    }
    if (positive === 0) return { kind: 'converged', lpX };
    // ...and the assignment relaxation with the LP's lambda gives the best duals for that lambda.
    resolveWithMultipliers(problem, relaxation, bound.lam);
    search.assignmentSolves++;
    bound.takeAssignmentDuals(relaxation.solver);
    bound.evaluate();
    // The LP optimum lies between the restricted optimum and the bound: once they nearly meet, more rounds
    // only move the bound by less than the gap asked for, at one full LP solve each. (Proving optimality,
    // mipGap 0, needs the exact LP: then only rounding noise counts as met.)
    const scoreTolerance = opts.mipGap > 0 ? (Math.min(LP_CONVERGENCE, opts.mipGap) / opts.mipGap) * allowedGap(search) : 0;
    const lpTolerance = Math.max(EPS * Math.max(1, Math.abs(bound.best)), scoreTolerance);
    if (bound.best - restricted <= lpTolerance) return { kind: 'converged', lpX };
    // Proving optimality, the last rounds only polish the bound: a strong incumbent from the nearly
    // converged LP (RINS) is worth having before them, in case the time runs out (and it sharpens the
    // reduced-cost test below).
    if (!rinsDone && bound.best - restricted <= LP_CONVERGENCE * Math.max(1, Math.abs(bound.best))) {
      rinsDone = true;
      improveByRins(search, columns, builder, lpX);
    }
    // An integral incumbent from this LP; optimal when it meets the bound, or when the reduced costs prove
    // that no pair outside the restricted model can take part in a better solution (reduced-cost fixing: a
    // solution using pair j is worth at most pairCap[j]) and the restricted LP cannot beat it.
    const rounded = roundRestrictedLp(problem, columns, lpX, pairCap);
    offerIncumbent(search, rounded, weightOf(problem, rounded));
    const bestValue = search.bestValue;
    const tol = EPS * Math.max(1, Math.abs(bound.best));
    if (bound.best - bestValue <= Math.max(tol, allowedGap(search))) return { kind: 'proven', upper: bound.best };
    let added = 0;
    if (restricted <= bestValue + tol) {
      let upper = restricted;
      const missing: number[] = [];
      for (let j = 0; j < n; j++) {
        if (columns.has[j]) continue;
        if (pairCap[j]! > bestValue + tol)
          missing.push(j); // could still take part in a better solution
        else upper = Math.max(upper, pairCap[j]!);
      }
      if (missing.length === 0) return { kind: 'proven', upper };
      if (missing.length <= 4 * nc) {
        for (const j of missing) columns.add(j);
        added += missing.length;
      }
    }
    // The re-solved assignment's matching holds a pair with positive reduced cost for the restricted LP
    // whenever the bound exceeds the restricted optimum: it joins, with the best LP-priced pairs.
    for (let i = 0; i < nc; i++) {
      const edge = relaxation.solver.edgeOfRow[i]!;
      if (edge >= 0 && columns.add(relaxation.edgePair[edge]!)) added++;
    }
    for (const list of perCandidate) {
      if (list.length > opts.maxColumnsPerRound) list.sort((a, b) => dTry[b]! - dTry[a]! || a - b);
      for (let t = 0; t < Math.min(opts.maxColumnsPerRound, list.length); t++) if (columns.add(list[t]!)) added++;
    }
    if (added === 0) {
      // Cannot happen while the bound exceeds the restricted optimum (the matching then holds an improving
      // pair); guards against rounding: every positively priced pair joins.
      for (const list of perCandidate) for (const j of list) columns.add(j);
    }
  }
  return { kind: 'unfinished' };
}

/**
 * Branch and bound (glpk MIP). A solution using pair j is worth at most pairCap[j] (reduced-cost fixing),
 * so the MIP gets exactly the pairs with pairCap[j] above the incumbent plus the gap allowed (restricted
 * or not): every solution it leaves out is worth at most that, within the gap asked for (with mipGap 0,
 * no better than the incumbent). The incumbent only improves, so one MIP settles it.
 */
export function branchAndBound(search: ComponentSearch, columns: RestrictedColumns, bound: DualBound, builder: RestrictedLpBuilder): ComponentOutcome {
  const { problem, glpk, opts } = search;
  const { n } = problem;
  const pairCap = bound.pairCap;
  let upper = bound.best;
  let solvedByMip = false;
  const threshold = search.bestValue + Math.max(EPS * Math.max(1, Math.abs(search.bestValue)), allowedGap(search));
  const mipCols: number[] = [];
  let maxOut = -Infinity;
  for (let j = 0; j < n; j++) {
    if (pairCap[j]! > threshold) {
      mipCols.push(j);
      columns.add(j);
    } else maxOut = Math.max(maxOut, pairCap[j]!);
  }
  const tmlim = mipCols.length > 0 ? solverTimeLimit(opts) : undefined;
  if (mipCols.length === 0) upper = Math.min(bound.best, Math.max(search.bestValue, maxOut));
  else if (tmlim !== undefined) {
    const gapRel = glpkMipGap(search);
    const called = opts.now();
    const res = glpk.solve(builder.build(mipCols, columns.names, true), { msglev: glpk.GLP_MSG_OFF, presol: true, tmlim, mipgap: gapRel });
    search.mipSolves++;
    const status = res.result.status;
    if (status === glpk.GLP_OPT || status === glpk.GLP_FEAS) {
      // glpk reports a search it stopped at the relative gap asked for as feasible, like one stopped by the
      // time limit; well before the limit it was the gap: glpk's own bound is then within gapRel of its incumbent.
      const stoppedAtGap = status === glpk.GLP_FEAS && gapRel > 0 && opts.now() - called < 0.9 * tmlim * 1000;
      const cols = mipCols.filter((j) => (res.result.vars[columns.names[j]!] ?? 0) > 0.5);
      const value = weightOf(problem, cols);
      if (value >= search.bestValue) {
        search.best = cols;
        search.bestValue = value;
        solvedByMip = true;
      }
      // Time limit: feasible, bounded by the LP bound only.
      if (status === glpk.GLP_OPT || stoppedAtGap) {
        const mipUpper = stoppedAtGap ? Math.max(value + gapRel * Math.abs(value), search.bestValue) : search.bestValue + allowedGap(search);
        upper = Math.min(bound.best, Math.max(mipUpper, maxOut));
      }
    }
  }
  const { best, bestValue, greedy } = search;
  if (!solvedByMip) {
    const isGreedy = best === greedy;
    return componentOutcome(
      search,
      best,
      bestValue,
      upper,
      isGreedy ? 'greedy' : 'lp',
      isGreedy && upper - bestValue > EPS * Math.max(1, Math.abs(upper)),
      columns.size,
    );
  }
  return componentOutcome(search, best, bestValue, upper, 'mip', false, columns.size);
}

/** True when the incumbent meets this upper bound (within the tolerance, or the relative mipGap asked for). */
function provenBy(search: ComponentSearch, upper: number): boolean {
  const tol = Math.max(EPS * Math.max(1, Math.abs(upper)), allowedGap(search));
  return search.bestValue >= upper - tol;
}

/**
 * A primal heuristic (RINS, relaxation-induced neighbourhood search): where the converged LP and the
 * incumbent agree on a pair, it stays; a small MIP over the restricted columns of the other candidates
 * (slot groups and side-row capacity left by the fixed pairs) decides the rest. Mostly a few hundred
 * columns, so glpk solves it quickly; its answer is usually close to the component's optimum, and a strong
 * incumbent lets reduced-cost fixing keep few pairs for the full branch and bound.
 */
export function improveByRins(search: ComponentSearch, columns: RestrictedColumns, builder: RestrictedLpBuilder, lpX: Float64Array): void {
  const { glpk, problem } = search;
  const { n, nc, ns, jc, js, kStart, kList, kCap } = problem;
  const candFixed = new Uint8Array(nc);
  const slotFixed = new Uint8Array(ns);
  const capLeft = Float64Array.from(kCap);
  const fixed: number[] = [];
  for (const j of search.best) {
    if (lpX[j]! < 1 - 1e-6) continue;
    fixed.push(j);
    candFixed[jc[j]!] = 1;
    slotFixed[js[j]!] = 1;
    for (let i = kStart[j]!; i < kStart[j + 1]!; i++) capLeft[kList[i]!]!--;
  }
  const inSub = new Uint8Array(n);
  const sub: number[] = [];
  const consider = (j: number): void => {
    if (inSub[j] || candFixed[jc[j]!] || slotFixed[js[j]!]) return;
    for (let i = kStart[j]!; i < kStart[j + 1]!; i++) if (capLeft[kList[i]!]! < 1) return;
    inSub[j] = 1;
    sub.push(j);
  };
  for (const j of search.best) {
    columns.add(j);
    consider(j);
  }
  for (const j of columns.list) consider(j);
  if (sub.length === 0) return;
  const tmlim = solverTimeLimit(search.opts);
  if (tmlim === undefined) return;
  const lp = builder.build(sub, columns.names, true, capLeft);
  const res = glpk.solve(lp, { msglev: glpk.GLP_MSG_OFF, presol: true, tmlim, mipgap: glpkMipGap(search) });
  search.mipSolves++;
  if (res.result.status !== glpk.GLP_OPT && res.result.status !== glpk.GLP_FEAS) return;
  const cols = fixed.concat(sub.filter((j) => (res.result.vars[columns.names[j]!] ?? 0) > 0.5));
  offerIncumbent(search, cols, weightOf(problem, cols));
}

/** After column generation converged: the LP solution itself when integral, else its rounding, else branch and bound. */
function finishConvergedLp(
  search: ComponentSearch,
  columns: RestrictedColumns,
  bound: DualBound,
  builder: RestrictedLpBuilder,
  lpX: Float64Array,
): ComponentOutcome {
  const { problem } = search;
  const x = (j: number): number => lpX[j]!;
  const fractional = columns.list.some((j) => x(j) > 1e-6 && x(j) < 1 - 1e-6);
  if (!fractional) {
    const cols = columns.list.filter((j) => x(j) > 0.5);
    const value = weightOf(problem, cols);
    if (value >= search.bestValue) return componentOutcome(search, cols, value, bound.best, 'lp', false, columns.size);
  }
  // Incumbent from the LP (close to the LP bound, so the reduced-cost test keeps only a few extra pairs
  // for branch and bound).
  const rounded = roundRestrictedLp(problem, columns, lpX, bound.pairCap);
  offerIncumbent(search, rounded, weightOf(problem, rounded));
  if (provenBy(search, bound.best)) return componentOutcome(search, search.best, search.bestValue, bound.best, 'lp', false, columns.size);
  improveByRins(search, columns, builder, lpX);
  if (provenBy(search, bound.best)) return componentOutcome(search, search.best, search.bestValue, bound.best, 'mip', false, columns.size);
  return branchAndBound(search, columns, bound, builder);
}

/**
 * Solves one component exactly where time allows:
 * 1. greedy solution (incumbent);
 * 2. slot groups: cap-1 side constraints over whole slots become single columns (exact reformulation);
 * 3. the assignment optimum ignoring side constraints (Hungarian method): optimal if it meets them;
 * 4. otherwise column generation on the LP relaxation with small restricted LPs (glpk.js simplex), priced
 *    by the LP duals and by the assignment relaxation re-solved with the LP's side-constraint duals
 *    (incremental Hungarian: the best candidate and slot duals for those multipliers, over all pairs);
 *    every round rounds the LP to an integral incumbent and stops as soon as it is proven optimal: bound
 *    met, or every left-out pair's reduced-cost bound below the incumbent while the restricted LP cannot
 *    beat it;
 * 5. if the converged LP is fractional and rounding does not meet it, glpk branch and bound on the
 *    restricted columns plus every pair whose reduced-cost bound could still beat the incumbent.
 */
export function solveComponent(model: SolverModel, comp: Component, glpk: GLPK, opts: ComponentSolveOptions): ComponentOutcome {
  const problem = prepareComponent(model, comp);
  const greedy = greedyColumns(problem);
  const greedyValue = weightOf(problem, greedy);
  const greedyScore = greedy.reduce((acc, j) => acc + model.pairScore[comp.pairs[j]!]!, 0);
  const search: ComponentSearch = {
    problem,
    glpk,
    opts,
    greedy,
    greedyValue,
    greedyScore,
    best: greedy,
    bestValue: greedyValue,
    lpSolves: 0,
    mipSolves: 0,
    assignmentSolves: 0,
  };

  // One candidate or one slot: greedy takes the single best pair that fits, which is optimal.
  if (problem.nc === 1 || problem.nSlots === 1) return componentOutcome(search, greedy, greedyValue, greedyValue, 'trivial', false, 0);

  const relaxation = solveAssignmentRelaxation(problem);
  const matched = matchedColumns(problem, relaxation);
  const matchedValue = weightOf(problem, matched);
  if (meetsSideConstraints(problem, matched)) return componentOutcome(search, matched, matchedValue, matchedValue, 'assignment', false, 0);
  const relaxationUpper = Math.min(bestColumnBound(problem), matchedValue);

  const columns = new RestrictedColumns(problem.n);
  seedColumns(problem, relaxation, columns, matched, greedy, opts);
  const builder = new RestrictedLpBuilder(problem, glpk);
  // The assignment optimum's own duals (lambda = 0) give the first bound.
  const bound = new DualBound(problem);
  bound.takeAssignmentDuals(relaxation.solver);
  bound.evaluate();

  const lp = restrictedLpSolver(problem, glpk, builder, glpkWasmOf(glpk));
  let end: ColumnGenerationEnd;
  try {
    end = generateColumns(search, relaxation, columns, bound, builder, lp);
  } finally {
    lp.dispose();
  }
  if (end.kind === 'proven') return componentOutcome(search, search.best, search.bestValue, end.upper, 'lp', false, columns.size);
  if (end.kind === 'unfinished') {
    // No proven LP optimum in time: the best incumbent (an LP rounding when one beat greedy, reported
    // with its proven gap; otherwise greedy, reported as the fallback), bounded by the best bound we have.
    const upper = Math.min(bound.best, relaxationUpper);
    if (search.best !== greedy && search.bestValue > greedyValue)
      return componentOutcome(search, search.best, search.bestValue, upper, 'lp', false, columns.size);
    return componentOutcome(search, greedy, greedyValue, upper, 'greedy', true, columns.size);
  }
  return finishConvergedLp(search, columns, bound, builder, end.lpX);
}
