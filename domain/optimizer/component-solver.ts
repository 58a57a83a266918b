import { maxWeightMatching } from './assignment';
import type { Component } from './decompose';
import type { GLPK, LP } from './glpk';
import { greedyAssign } from './greedy';
import type { AssignmentModel } from './model';

/** How one component was solved. */
export type ComponentMethod = 'trivial' | 'assignment' | 'lp' | 'mip' | 'greedy';

export interface ComponentSolveOptions {
  /** Clock value (ms) after which no new solver call starts; glpk calls get the remaining time as tmlim. */
  deadline: number;
  now: () => number;
  /** Columns per candidate in the first restricted model (best-scoring pairs first). */
  initialColumns: number;
  /** Columns per slot added to the first restricted model. */
  initialColumnsPerSlot: number;
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
  columns: number;
}

const EPS = 1e-7;

/**
 * Solves one component exactly where time allows:
 * 1. greedy solution (incumbent and warm start: its pairs are always among the model's columns);
 * 2. LP over a restricted column set (best `initialColumns` pairs per candidate plus the greedy pairs),
 *    priced against every eligible pair with the LP duals until no pair has positive reduced cost, so
 *    the restricted LP optimum equals the full LP optimum (a proven upper bound);
 * 3. if that LP solution is integral it is optimal (assignment structure: usually the case);
 * 4. otherwise glpk branch and bound on the restricted columns, adding every left-out pair whose reduced
 *    cost could still beat the incumbent (reduced-cost argument), so nothing better is lost.
 */
export function solveComponent(model: AssignmentModel, comp: Component, glpk: GLPK, opts: ComponentSolveOptions): ComponentOutcome {
  const { pairCand, pairSlot, pairScore, mustPlace, consStart, consIndex, constraints } = model;
  const n = comp.pairs.length;
  const candLocal = new Map<number, number>();
  comp.candidates.forEach((c, i) => candLocal.set(c, i));
  const slotLocal = new Map<number, number>();
  comp.slots.forEach((s, i) => slotLocal.set(s, i));
  const consLocal = new Map<number, number>();
  comp.constraints.forEach((k, i) => consLocal.set(k, i));
  const nc = comp.candidates.length;
  const ns = comp.slots.length;
  const nk = comp.constraints.length;

  const jc = new Int32Array(n);
  const js = new Int32Array(n);
  const w = new Float64Array(n);
  const localOf = new Map<number, number>();
  // Lexicographic objective by big-M: one more must-place candidate outweighs every possible score total.
  const maxAbs = new Float64Array(nc);
  for (let j = 0; j < n; j++) {
    const p = comp.pairs[j]!;
    jc[j] = candLocal.get(pairCand[p]!)!;
    js[j] = slotLocal.get(pairSlot[p]!)!;
    maxAbs[jc[j]!] = Math.max(maxAbs[jc[j]!]!, Math.abs(pairScore[p]!));
    localOf.set(p, j);
  }
  let bigM = 1;
  for (let i = 0; i < nc; i++) bigM += maxAbs[i]!;
  for (let j = 0; j < n; j++) {
    const p = comp.pairs[j]!;
    w[j] = pairScore[p]! + (mustPlace[pairCand[p]!] ? bigM : 0);
  }
  // Local constraint lists per column (CSR).
  const kStart = new Int32Array(n + 1);
  const kList: number[] = [];
  for (let j = 0; j < n; j++) {
    const p = comp.pairs[j]!;
    for (let i = consStart[p]!; i < consStart[p + 1]!; i++) kList.push(consLocal.get(consIndex[i]!)!);
    kStart[j + 1] = kList.length;
  }
  const kCap = comp.constraints.map((k) => constraints[k]!.cap);

  const valueOf = (cols: number[]): number => cols.reduce((acc, j) => acc + w[j]!, 0);
  const greedy = greedyAssign(model, comp.pairs).map((p) => localOf.get(p)!);
  const greedyValue = valueOf(greedy);
  const greedyScore = greedy.reduce((acc, j) => acc + pairScore[comp.pairs[j]!]!, 0);

  // A bound that needs no solver: each candidate (or each slot) contributes at most its best pair.
  const bestOfCand = new Float64Array(nc);
  const bestOfSlot = new Float64Array(ns);
  for (let j = 0; j < n; j++) {
    bestOfCand[jc[j]!] = Math.max(bestOfCand[jc[j]!]!, w[j]!);
    bestOfSlot[js[j]!] = Math.max(bestOfSlot[js[j]!]!, w[j]!);
  }
  const simpleUpper = Math.min(
    bestOfCand.reduce((a, b) => a + b, 0),
    bestOfSlot.reduce((a, b) => a + b, 0),
  );

  const outcome = (cols: number[], value: number, upper: number, method: ComponentMethod, fallback: boolean, columns: number): ComponentOutcome => ({
    chosen: cols.map((j) => comp.pairs[j]!),
    value,
    upper: Math.max(upper, value),
    bigM,
    method,
    fallback,
    greedyScore,
    lpSolves,
    mipSolves,
    columns,
  });
  let lpSolves = 0;
  let mipSolves = 0;

  // One candidate or one slot: greedy takes the single best pair that fits, which is optimal.
  if (nc === 1 || ns === 1) return outcome(greedy, greedyValue, greedyValue, 'trivial', false, 0);

  const byCand: number[][] = Array.from({ length: nc }, () => []);
  for (let j = 0; j < n; j++) byCand[jc[j]!]!.push(j);
  for (const list of byCand) list.sort((a, b) => w[b]! - w[a]!);

  // The assignment optimum without side constraints (exact, Hungarian method). If it happens to satisfy
  // them, it is optimal; otherwise it is an upper bound and its pairs seed the LP.
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
  const matching = maxWeightMatching({ rows: nc, cols: ns, rowStart, edgeCol, edgeWeight });
  const matched = Array.from(matching.edgeOfRow)
    .filter((edge) => edge >= 0)
    .map((edge) => edgePair[edge]!);
  const matchedValue = valueOf(matched);
  const used = new Int32Array(nk);
  for (const j of matched) for (let i = kStart[j]!; i < kStart[j + 1]!; i++) used[kList[i]!]!++;
  if (used.every((u, k) => u <= kCap[k]!)) return outcome(matched, matchedValue, matchedValue, 'assignment', false, 0);
  const relaxationUpper = Math.min(simpleUpper, matchedValue);

  // Initial restricted columns: the best pairs of each candidate, plus the greedy solution (warm start).
  const inR = new Uint8Array(n);
  const R: number[] = [];
  for (const j of matched) {
    inR[j] = 1;
    R.push(j);
  }
  // Pairs nearly as good as the assignment optimum (small reduced cost) are the likely alternatives when
  // side constraints bind.
  let meanScore = 0;
  for (let j = 0; j < n; j++) meanScore += Math.abs(pairScore[comp.pairs[j]!]!) / n;
  // At most initialColumns of them per candidate (lowest reduced cost first): dense components stay small.
  for (let i = 0; i < nc; i++) {
    const near: number[] = [];
    for (let edge = rowStart[i]!; edge < rowStart[i + 1]!; edge++) {
      if (!inR[edgePair[edge]!] && matching.reducedCost[edge]! <= opts.pricingSlack * meanScore) near.push(edge);
    }
    near.sort((a, b) => matching.reducedCost[a]! - matching.reducedCost[b]!);
    for (const edge of near.slice(0, opts.initialColumns)) {
      inR[edgePair[edge]!] = 1;
      R.push(edgePair[edge]!);
    }
  }
  for (const list of byCand) {
    for (let i = 0; i < Math.min(opts.initialColumns, list.length); i++) {
      if (inR[list[i]!]) continue;
      inR[list[i]!] = 1;
      R.push(list[i]!);
    }
  }
  // ...and the best pairs of each slot, so that every slot gets a meaningful dual in the first LP (a slot
  // absent from the LP has dual 0 and makes all its pairs look attractive to the pricing step).
  const bySlot: number[][] = Array.from({ length: ns }, () => []);
  for (let j = 0; j < n; j++) bySlot[js[j]!]!.push(j);
  for (const list of bySlot) {
    list.sort((a, b) => w[b]! - w[a]!);
    for (let i = 0; i < Math.min(opts.initialColumnsPerSlot, list.length); i++) {
      if (inR[list[i]!]) continue;
      inR[list[i]!] = 1;
      R.push(list[i]!);
    }
  }
  for (const j of greedy) {
    if (!inR[j]) {
      inR[j] = 1;
      R.push(j);
    }
  }

  const remainingSeconds = (): number => Math.max(0.01, (opts.deadline - opts.now()) / 1000);

  const names = Array.from({ length: n }, (_, j) => `x${j}`);
  const slotStamp = new Int32Array(ns).fill(-1);
  const candStamp = new Int32Array(nc).fill(-1);
  const buildLp = (cols: number[], binary: boolean): LP => {
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
    candRows.forEach((vars, i) => vars.length > 1 && subjectTo.push({ name: `c${i}`, vars, bnds: up }));
    slotRows.forEach((vars, i) => vars.length > 1 && subjectTo.push({ name: `s${i}`, vars, bnds: up }));
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
    // Rows with a single column are bounds; an explicit upper bound of 1 keeps the LP bounded.
    const bounds = cols.map((j) => ({ name: names[j]!, type: glpk.GLP_DB, lb: 0, ub: 1 }));
    const lp: LP = { name: 'assign', objective: { direction: glpk.GLP_MAX, name: 'z', vars: objective }, subjectTo, bounds };
    if (binary) lp.binaries = cols.map((j) => names[j]!);
    return lp;
  };

  // Column generation on the LP relaxation. glpk.js cannot warm-start a modified LP, so every round is a
  // fresh solve: each round also adds near-miss pairs (reduced cost above -slack) to need fewer rounds.
  const d = new Float64Array(n);
  // Slack on the score scale: the must-place bonus is common to all of a candidate's pairs.
  const slack = opts.pricingSlack * meanScore;
  let lpBound = Infinity;
  let lpVars: Record<string, number> | undefined;
  let converged = false;
  for (let round = 0; round < opts.maxPricingRounds; round++) {
    if (opts.now() >= opts.deadline) break;
    const res = glpk.solve(buildLp(R, false), { msglev: glpk.GLP_MSG_OFF, presol: false, tmlim: remainingSeconds() });
    lpSolves++;
    if (res.result.status !== glpk.GLP_OPT || !res.result.dual) break;
    const u = new Float64Array(nc);
    const v = new Float64Array(ns);
    const lam = new Float64Array(nk);
    // Rows absent from the LP have dual 0; negative duals of <= rows are numerical noise, clamped so the bound stays valid.
    for (const [row, y] of Object.entries(res.result.dual)) {
      const idx = Number(row.slice(1));
      const val = Math.max(0, y);
      if (row[0] === 'c') u[idx] = val;
      else if (row[0] === 's') v[idx] = val;
      else if (row[0] === 'k') lam[idx] = val;
    }
    // Lagrangian bound y.b + sum(max(0, reduced cost)): valid for the full component for any y >= 0.
    let bound = 0;
    for (let i = 0; i < nc; i++) bound += u[i]!;
    for (let i = 0; i < ns; i++) bound += v[i]!;
    for (let i = 0; i < nk; i++) bound += lam[i]! * kCap[i]!;
    let positive = 0;
    const nearMiss: number[][] = Array.from({ length: nc }, () => []);
    for (let j = 0; j < n; j++) {
      let dj = w[j]! - u[jc[j]!]! - v[js[j]!]!;
      for (let i = kStart[j]!; i < kStart[j + 1]!; i++) dj -= lam[kList[i]!]!;
      d[j] = dj;
      if (dj > 0) bound += dj;
      if (inR[j]) continue;
      if (dj > EPS * Math.max(1, Math.abs(w[j]!))) positive++;
      if (dj > -slack) nearMiss[jc[j]!]!.push(j);
    }
    lpBound = Math.min(lpBound, bound);
    lpVars = res.result.vars;
    if (positive === 0) {
      converged = true;
      break;
    }
    // Partial pricing: at most maxColumnsPerRound pairs per candidate, best reduced cost first. While any
    // pair has a positive reduced cost at least one is added, so the loop still ends at the full LP optimum.
    for (const list of nearMiss) {
      if (list.length > opts.maxColumnsPerRound) list.sort((a, b) => d[b]! - d[a]!);
      for (const j of list.slice(0, opts.maxColumnsPerRound)) {
        inR[j] = 1;
        R.push(j);
      }
    }
  }

  if (!converged || !lpVars) {
    // No proven LP optimum in time: greedy, bounded by the best bound we have.
    return outcome(greedy, greedyValue, Math.min(lpBound, relaxationUpper), 'greedy', true, R.length);
  }
  const x = (j: number): number => lpVars![names[j]!] ?? 0;
  const fractional = R.some((j) => x(j) > 1e-6 && x(j) < 1 - 1e-6);
  if (!fractional) {
    const cols = R.filter((j) => x(j) > 0.5);
    const value = valueOf(cols);
    if (value >= greedyValue) return outcome(cols, value, lpBound, 'lp', false, R.length);
  }

  // Incumbent from the LP: greedy in order of LP value, then weight. Close to the LP bound, so the
  // reduced-cost test below keeps only a few extra pairs for branch and bound.
  const byLp = R.filter((j) => x(j) > 1e-6).sort((a, b) => x(b) - x(a) || w[b]! - w[a]!);
  const rounded = greedyAssign(model, byLp.map((j) => comp.pairs[j]!), true).map((p) => localOf.get(p)!);
  let best = greedy;
  let bestValue = greedyValue;
  if (valueOf(rounded) > bestValue) {
    best = rounded;
    bestValue = valueOf(rounded);
  }
  if (bestValue >= lpBound - EPS * Math.max(1, Math.abs(lpBound))) return outcome(best, bestValue, lpBound, 'lp', false, R.length);

  // Branch and bound. A solution using pair j is worth at most lpBound + d[j] (Lagrangian bound with the LP
  // duals), so every pair with lpBound + d[j] > incumbent joins the model and nothing better is left out.
  let upper = lpBound;
  let solvedByMip = false;
  for (let round = 0; round < 3; round++) {
    const threshold = bestValue - lpBound;
    for (let j = 0; j < n; j++) {
      if (!inR[j] && d[j]! > threshold + EPS) {
        inR[j] = 1;
        R.push(j);
      }
    }
    if (opts.now() >= opts.deadline) break;
    const res = glpk.solve(buildLp(R, true), { msglev: glpk.GLP_MSG_OFF, presol: true, tmlim: remainingSeconds(), mipgap: opts.mipGap });
    mipSolves++;
    const status = res.result.status;
    if (status !== glpk.GLP_OPT && status !== glpk.GLP_FEAS) break;
    const cols = R.filter((j) => (res.result.vars[names[j]!] ?? 0) > 0.5);
    const value = valueOf(cols);
    if (value >= bestValue) {
      best = cols;
      bestValue = value;
      solvedByMip = true;
    }
    if (status !== glpk.GLP_OPT) break; // time limit: feasible, bounded by the LP bound
    let maxOut = -Infinity;
    let missing = 0;
    for (let j = 0; j < n; j++) {
      if (inR[j]) continue;
      if (d[j]! > bestValue - lpBound + EPS) missing++;
      else maxOut = Math.max(maxOut, d[j]!);
    }
    if (missing === 0) {
      const restrictedUpper = opts.mipGap > 0 ? bestValue + opts.mipGap * Math.abs(bestValue) : bestValue;
      upper = Math.min(lpBound, Math.max(restrictedUpper, lpBound + maxOut));
      break;
    }
  }
  if (!solvedByMip) return outcome(best, bestValue, upper, best === greedy ? 'greedy' : 'lp', best === greedy, R.length);
  return outcome(best, bestValue, upper, 'mip', false, R.length);
}
