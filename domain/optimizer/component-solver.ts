import { IncrementalAssignment } from './assignment';
import type { Component } from './decompose';
import type { GLPK, LP } from './glpk';
import { greedyAssign } from './greedy';
import type { SolverModel } from './model';

/** How one component was solved. */
export type ComponentMethod = 'trivial' | 'assignment' | 'lp' | 'mip' | 'greedy';

export interface ComponentSolveOptions {
  /** Clock value (ms) after which no new solver call starts; glpk calls get the remaining time as tmlim. */
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

/** Global-to-local index arrays, allocated once per model and reused by its components (owner stamps tell whose entries are current). */
interface Scratch {
  stamp: number;
  candLocal: Int32Array;
  slotLocal: Int32Array;
  slotOwner: Int32Array;
  consLocal: Int32Array;
  consOwner: Int32Array;
  pairLocal: Int32Array;
}
const scratchByModel = new WeakMap<SolverModel, Scratch>();
function scratchOf(model: SolverModel): Scratch {
  let s = scratchByModel.get(model);
  if (!s) {
    const S = model.slotCount;
    const K = model.constraints.length;
    s = {
      stamp: 0,
      candLocal: new Int32Array(model.candidateCount),
      slotLocal: new Int32Array(S),
      slotOwner: new Int32Array(S),
      consLocal: new Int32Array(K),
      consOwner: new Int32Array(K),
      pairLocal: new Int32Array(model.pairCand.length),
    };
    scratchByModel.set(model, s);
  }
  return s;
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
  const { pairCand, pairSlot, pairScore, mustPlace, consStart, consIndex, constraints } = model;
  const n = comp.pairs.length;
  const scratch = scratchOf(model);
  const stamp = ++scratch.stamp;
  const { candLocal, slotLocal, slotOwner, consLocal, consOwner, pairLocal } = scratch;
  comp.candidates.forEach((c, i) => (candLocal[c] = i));
  comp.slots.forEach((s, i) => {
    slotLocal[s] = i;
    slotOwner[s] = stamp;
  });
  const nc = comp.candidates.length;
  const nSlots = comp.slots.length;

  // Slot groups: a side constraint with cap 1 over whole slots (every pair of them) says that at most one
  // of those slots is used, exactly what a single slot's row says. Disjoint such constraints (smallest
  // first) each become one column of the assignment (a room-hour shared by two providers, say) and leave
  // the side constraints; the other slots are groups of their own. The problem is unchanged; the
  // assignment relaxation gets tighter and the LP smaller.
  const groupOf = new Int32Array(nSlots).fill(-1);
  let ns = 0;
  const mergeable = comp.constraints.filter((k) => constraints[k]!.cap === 1 && constraints[k]!.slots !== undefined);
  mergeable.sort((a, b) => constraints[a]!.slots!.length - constraints[b]!.slots!.length || a - b);
  const absorbed = new Set<number>();
  const members: number[] = [];
  for (const k of mergeable) {
    members.length = 0;
    let disjoint = true;
    for (const s of constraints[k]!.slots!) {
      if (slotOwner[s] !== stamp) continue;
      const l = slotLocal[s]!;
      if (groupOf[l]! >= 0) {
        disjoint = false;
        break;
      }
      members.push(l);
    }
    if (!disjoint || members.length === 0) continue;
    for (const l of members) groupOf[l] = ns;
    ns++;
    absorbed.add(k);
  }
  for (let l = 0; l < nSlots; l++) if (groupOf[l]! < 0) groupOf[l] = ns++;
  const sideConstraints = comp.constraints.filter((k) => !absorbed.has(k));
  sideConstraints.forEach((k, i) => {
    consLocal[k] = i;
    consOwner[k] = stamp;
  });
  const nk = sideConstraints.length;

  const jc = new Int32Array(n);
  const js = new Int32Array(n);
  const w = new Float64Array(n);
  // Lexicographic objective by big-M: one more must-place candidate outweighs every possible score total.
  const maxAbs = new Float64Array(nc);
  for (let j = 0; j < n; j++) {
    const p = comp.pairs[j]!;
    jc[j] = candLocal[pairCand[p]!]!;
    js[j] = groupOf[slotLocal[pairSlot[p]!]!]!;
    maxAbs[jc[j]!] = Math.max(maxAbs[jc[j]!]!, Math.abs(pairScore[p]!));
    pairLocal[p] = j;
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
    for (let i = consStart[p]!; i < consStart[p + 1]!; i++) {
      const k = consIndex[i]!;
      if (consOwner[k] === stamp) kList.push(consLocal[k]!);
    }
    kStart[j + 1] = kList.length;
  }
  const kCap = sideConstraints.map((k) => constraints[k]!.cap);

  const valueOf = (cols: number[]): number => cols.reduce((acc, j) => acc + w[j]!, 0);
  const greedy = greedyAssign(model, comp.pairs).map((p) => pairLocal[p]!);
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
    assignmentSolves,
    columns,
  });
  let lpSolves = 0;
  let mipSolves = 0;
  let assignmentSolves = 0;

  // One candidate or one slot: greedy takes the single best pair that fits, which is optimal.
  if (nc === 1 || nSlots === 1) return outcome(greedy, greedyValue, greedyValue, 'trivial', false, 0);

  const byCand: number[][] = Array.from({ length: nc }, () => []);
  for (let j = 0; j < n; j++) byCand[jc[j]!]!.push(j);

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
  const relaxed = new IncrementalAssignment(nc, ns, rowStart, edgeCol);
  relaxed.weight.set(edgeWeight);
  relaxed.solve();
  const matched: number[] = [];
  for (let i = 0; i < nc; i++) if (relaxed.edgeOfRow[i]! >= 0) matched.push(edgePair[relaxed.edgeOfRow[i]!]!);
  const matchedValue = valueOf(matched);
  const used = new Int32Array(nk);
  for (const j of matched) for (let i = kStart[j]!; i < kStart[j + 1]!; i++) used[kList[i]!]!++;
  if (used.every((u, k) => u <= kCap[k]!)) return outcome(matched, matchedValue, matchedValue, 'assignment', false, 0);
  const relaxationUpper = Math.min(simpleUpper, matchedValue);

  let best = greedy;
  let bestValue = greedyValue;

  // Initial restricted columns for the LP: the assignment optimum, the greedy solution, and per candidate
  // the pairs with the smallest reduced cost in the assignment optimum (the likely alternatives when side
  // constraints bind), at most initialColumns of them within pricingSlack of the mean score.
  const inR = new Uint8Array(n);
  const R: number[] = [];
  const names: string[] = new Array<string>(n); // glpk column names, for the columns in R
  const addColumn = (j: number): void => {
    if (inR[j]) return;
    inR[j] = 1;
    R.push(j);
    names[j] = `x${j}`;
  };
  for (const j of matched) addColumn(j);
  for (const j of greedy) addColumn(j);
  let meanScore = 0;
  for (let j = 0; j < n; j++) meanScore += Math.abs(pairScore[comp.pairs[j]!]!) / n;
  const slack = opts.pricingSlack * meanScore;
  const near: number[] = [];
  const rc = new Float64Array(n);
  for (let i = 0; i < nc; i++) {
    near.length = 0;
    const ui = relaxed.rowDual(i);
    for (let edge = rowStart[i]!; edge < rowStart[i + 1]!; edge++) {
      const j = edgePair[edge]!;
      rc[j] = ui + relaxed.colDual(js[j]!) - w[j]!;
      if (!inR[j] && rc[j]! <= slack) near.push(j);
    }
    if (near.length > opts.initialColumns) near.sort((a, b) => rc[a]! - rc[b]! || a - b);
    for (let t = 0; t < Math.min(opts.initialColumns, near.length); t++) addColumn(near[t]!);
  }

  /**
   * Greedy in order of LP value (then weight), then the other columns of the restricted model, then every
   * other pair of a candidate left out, most promising first (highest reduced-cost bound).
   */
  const roundLp = (vars: Record<string, number>): number[] => {
    const x = new Float64Array(R.length);
    const byLp: number[] = [];
    const restR: number[] = [];
    R.forEach((j, t) => {
      x[t] = vars[names[j]!] ?? 0;
      if (x[t]! > 1e-6) byLp.push(t);
      else restR.push(j);
    });
    byLp.sort((a, b) => x[b]! - x[a]! || w[R[b]!]! - w[R[a]!]! || R[a]! - R[b]!);
    restR.sort((a, b) => pairCap[b]! - pairCap[a]! || a - b);
    const order = byLp.map((t) => R[t]!).concat(restR);
    const chosen = greedyAssign(
      model,
      order.map((j) => comp.pairs[j]!),
      true,
    ).map((p) => pairLocal[p]!);
    // Candidates still without a slot may take any pair that fits.
    const placed = new Uint8Array(nc);
    for (const j of chosen) placed[jc[j]!] = 1;
    const extra: number[] = [];
    for (let j = 0; j < n; j++) if (!inR[j] && !placed[jc[j]!]) extra.push(j);
    if (extra.length === 0) return chosen;
    extra.sort((a, b) => pairCap[b]! - pairCap[a]! || a - b);
    return greedyAssign(
      model,
      chosen.concat(extra).map((j) => comp.pairs[j]!),
      true,
    ).map((p) => pairLocal[p]!);
  };

  const remainingSeconds = (): number => Math.max(0.01, (opts.deadline - opts.now()) / 1000);

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
  };

  // Column generation on the LP relaxation, priced by the assignment structure. After each restricted LP,
  // its side-constraint duals lambda go into the assignment relaxation: the exact assignment optimum with
  // weights w - lambda (incremental Hungarian re-solve) gives the best candidate and slot duals for that
  // lambda over ALL pairs, hence the bound L(lambda) = lambda.cap + assignment value, and its matching
  // holds a pair with positive reduced cost whenever the bound exceeds the restricted optimum. So the
  // restricted LP only ever gets the matching (plus the best few LP-priced pairs per candidate) and
  // stays small; it is optimal for the whole component once the bound meets it. glpk.js cannot
  // warm-start a modified LP, so each round is a fresh (small) solve.
  const dTry = new Float64Array(n);
  // Per pair, the best proven bound on any solution that uses it: min over the multipliers tried of
  // y.b + sum(max(0, d)) + min(0, d_j) (reduced-cost fixing).
  const pairCap = new Float64Array(n).fill(Infinity);
  const u = new Float64Array(nc);
  const v = new Float64Array(ns);
  const lam = new Float64Array(nk);
  let lpBound = Infinity;
  let lpVars: Record<string, number> | undefined;
  let converged = false;
  // y.b + sum(max(0, reduced cost)): valid for the full component for any y >= 0 (computed by us, so it
  // holds whatever the solver's tolerances). Keeps the best bound and its reduced costs.
  const tryBound = (): number => {
    let bound = 0;
    for (let i = 0; i < nc; i++) bound += u[i]!;
    for (let i = 0; i < ns; i++) bound += v[i]!;
    for (let i = 0; i < nk; i++) bound += lam[i]! * kCap[i]!;
    for (let j = 0; j < n; j++) {
      let dj = w[j]! - u[jc[j]!]! - v[js[j]!]!;
      for (let i = kStart[j]!; i < kStart[j + 1]!; i++) dj -= lam[kList[i]!]!;
      dTry[j] = dj;
      if (dj > 0) bound += dj;
    }
    if (bound < lpBound) lpBound = bound;
    for (let j = 0; j < n; j++) {
      const cap = bound + Math.min(0, dTry[j]!);
      if (cap < pairCap[j]!) pairCap[j] = cap;
    }
    return bound;
  };
  // The assignment optimum's own duals (lambda = 0) give the first bound.
  for (let i = 0; i < nc; i++) u[i] = relaxed.rowDual(i);
  for (let i = 0; i < ns; i++) v[i] = relaxed.colDual(i);
  tryBound();
  const perCandidate: number[][] = Array.from({ length: nc }, () => []);
  for (let round = 0; round < opts.maxPricingRounds; round++) {
    if (opts.now() >= opts.deadline) break;
    const res = glpk.solve(buildLp(R, false), { msglev: glpk.GLP_MSG_OFF, presol: false, tmlim: remainingSeconds() });
    lpSolves++;
    if (res.result.status !== glpk.GLP_OPT || !res.result.dual) break;
    u.fill(0);
    v.fill(0);
    lam.fill(0);
    // Rows absent from the LP have dual 0; negative duals of <= rows are numerical noise, clamped so the bound stays valid.
    const duals = res.result.dual;
    for (const row in duals) {
      const idx = Number(row.slice(1));
      const val = Math.max(0, duals[row]!);
      if (row[0] === 'c') u[idx] = val;
      else if (row[0] === 's') v[idx] = val;
      else if (row[0] === 'k') lam[idx] = val;
    }
    lpVars = res.result.vars;
    let restricted = 0;
    for (const j of R) restricted += w[j]! * (lpVars[names[j]!] ?? 0);
    // The LP duals price every pair...
    tryBound();
    let positive = 0;
    for (const list of perCandidate) list.length = 0;
    for (let j = 0; j < n; j++) {
      if (inR[j] || dTry[j]! <= EPS * Math.max(1, Math.abs(w[j]!))) continue;
      positive++;
      perCandidate[jc[j]!]!.push(j);
    }
    if (positive === 0) {
      converged = true;
      break;
    }
    // ...and the assignment relaxation with the LP's lambda gives the best duals for that lambda.
    for (let edge = 0; edge < n; edge++) {
      const j = edgePair[edge]!;
      let wj = w[j]!;
      for (let i = kStart[j]!; i < kStart[j + 1]!; i++) wj -= lam[kList[i]!]!;
      relaxed.weight[edge] = wj;
    }
    relaxed.resolve();
    assignmentSolves++;
    for (let i = 0; i < nc; i++) u[i] = relaxed.rowDual(i);
    for (let i = 0; i < ns; i++) v[i] = relaxed.colDual(i);
    tryBound();
    // An integral incumbent from this LP; optimal when it meets the bound, or when the reduced costs prove
    // that no pair outside the restricted model can take part in a better solution (reduced-cost fixing: a
    // solution using pair j is worth at most pairCap[j]) and the restricted LP cannot beat it.
    const rounded = roundLp(lpVars);
    const roundedValue = valueOf(rounded);
    if (roundedValue > bestValue) {
      best = rounded;
      bestValue = roundedValue;
    }
    const tol = EPS * Math.max(1, Math.abs(lpBound));
    if (lpBound - bestValue <= Math.max(tol, opts.mipGap * Math.abs(bestValue))) return outcome(best, bestValue, lpBound, 'lp', false, R.length);
    let added = 0;
    if (restricted <= bestValue + tol) {
      let upper = restricted;
      const missing: number[] = [];
      for (let j = 0; j < n; j++) {
        if (inR[j]) continue;
        if (pairCap[j]! > bestValue + tol)
          missing.push(j); // could still take part in a better solution
        else upper = Math.max(upper, pairCap[j]!);
      }
      if (missing.length === 0) return outcome(best, bestValue, upper, 'lp', false, R.length);
      if (missing.length <= 4 * nc) {
        for (const j of missing) addColumn(j);
        added += missing.length;
      }
    }
    // The re-solved assignment's matching holds a pair with positive reduced cost for the restricted LP
    // whenever the bound exceeds the restricted optimum: it joins, with the best LP-priced pairs.
    for (let i = 0; i < nc; i++) {
      const edge = relaxed.edgeOfRow[i]!;
      if (edge >= 0 && !inR[edgePair[edge]!]) {
        addColumn(edgePair[edge]!);
        added++;
      }
    }
    for (const list of perCandidate) {
      if (list.length > opts.maxColumnsPerRound) list.sort((a, b) => dTry[b]! - dTry[a]! || a - b);
      for (let t = 0; t < Math.min(opts.maxColumnsPerRound, list.length); t++) {
        if (!inR[list[t]!]) added++;
        addColumn(list[t]!);
      }
    }
    if (added === 0) {
      // Cannot happen while the bound exceeds the restricted optimum (the matching then holds an improving
      // pair); guards against rounding: every positively priced pair joins.
      for (const list of perCandidate) for (const j of list) addColumn(j);
    }
  }

  if (!converged || !lpVars) {
    // No proven LP optimum in time: the best incumbent (an LP rounding when one beat greedy, reported
    // with its proven gap; otherwise greedy, reported as the fallback), bounded by the best bound we have.
    const upper = Math.min(lpBound, relaxationUpper);
    if (best !== greedy && bestValue > greedyValue) return outcome(best, bestValue, upper, 'lp', false, R.length);
    return outcome(greedy, greedyValue, upper, 'greedy', true, R.length);
  }
  const x = (j: number): number => lpVars![names[j]!] ?? 0;
  const fractional = R.some((j) => x(j) > 1e-6 && x(j) < 1 - 1e-6);
  if (!fractional) {
    const cols = R.filter((j) => x(j) > 0.5);
    const value = valueOf(cols);
    if (value >= bestValue) return outcome(cols, value, lpBound, 'lp', false, R.length);
  }

  // Incumbent from the LP (close to the LP bound, so the reduced-cost test below keeps only a few extra
  // pairs for branch and bound).
  const rounded = roundLp(lpVars);
  if (valueOf(rounded) > bestValue) {
    best = rounded;
    bestValue = valueOf(rounded);
  }
  if (bestValue >= lpBound - EPS * Math.max(1, Math.abs(lpBound))) return outcome(best, bestValue, lpBound, 'lp', false, R.length);

  // Branch and bound. A solution using pair j is worth at most pairCap[j], so every pair with
  // pairCap[j] > incumbent joins the model and nothing better is left out.
  let upper = lpBound;
  let solvedByMip = false;
  for (let round = 0; round < 3; round++) {
    for (let j = 0; j < n; j++) if (!inR[j] && pairCap[j]! > bestValue + EPS) addColumn(j);
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
      if (pairCap[j]! > bestValue + EPS) missing++;
      else maxOut = Math.max(maxOut, pairCap[j]!);
    }
    if (missing === 0) {
      const restrictedUpper = opts.mipGap > 0 ? bestValue + opts.mipGap * Math.abs(bestValue) : bestValue;
      upper = Math.min(lpBound, Math.max(restrictedUpper, maxOut));
      break;
    }
  }
  if (!solvedByMip)
    return outcome(
      best,
      bestValue,
      upper,
      best === greedy ? 'greedy' : 'lp',
      best === greedy && upper - bestValue > EPS * Math.max(1, Math.abs(upper)),
      R.length,
    );
  return outcome(best, bestValue, upper, 'mip', false, R.length);
}
