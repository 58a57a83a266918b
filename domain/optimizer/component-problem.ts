import type { Component } from './decompose';
import { greedyAssign } from './greedy';
import type { SolverModel } from './model';

/**
 * One component in local numbering, as the exact solver sees it: columns j = 0..n-1 (the component's pairs,
 * in order), candidate rows 0..nc-1, slot-group rows 0..ns-1 and the side rows 0..nk-1 that remain after
 * slot grouping. Weights carry the must-place big-M.
 */
export interface ComponentProblem {
  model: SolverModel;
  comp: Component;
  /** Columns (pairs of the component). */
  n: number;
  /** Candidates. */
  nc: number;
  /** Slots of the component (before grouping). */
  nSlots: number;
  /** Slot groups: slots of an absorbed cap-1 constraint share one group, every other slot is its own. */
  ns: number;
  /** Side constraints left after slot grouping. */
  nk: number;
  /** Per column: local candidate, local slot group, weight (score + bigM for a must-place candidate). */
  jc: Int32Array;
  js: Int32Array;
  w: Float64Array;
  /** CSR: the local side rows of column j are kList[kStart[j] .. kStart[j+1]). */
  kStart: Int32Array;
  kList: number[];
  kCap: number[];
  /** Global constraint numbers of the local side rows. */
  sideConstraints: number[];
  /** One more placed must-place candidate is worth more than any difference in score. */
  bigM: number;
  /** Columns of each local candidate, ascending. */
  byCand: number[][];
  /** Maps global pair numbers of this component to local columns (valid until the next component of the model is prepared). */
  toLocal(pairs: readonly number[]): number[];
}

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
 * Slot groups: a side constraint with cap 1 over whole slots (every pair of them) says that at most one of
 * those slots is used, exactly what a single slot's row says. Disjoint such constraints (smallest first)
 * each become one column of the assignment (a room-hour shared by two providers, say) and leave the side
 * constraints; the other slots are groups of their own. The problem is unchanged; the assignment
 * relaxation gets tighter and the LP smaller. Returns the group of each local slot, the group count and
 * the absorbed constraints.
 */
export function groupSlots(
  model: SolverModel,
  comp: Component,
  slotLocal: Int32Array,
  isOwnSlot: (s: number) => boolean,
): { groupOf: Int32Array; groups: number; absorbed: Set<number> } {
  const { constraints } = model;
  const nSlots = comp.slots.length;
  const groupOf = new Int32Array(nSlots).fill(-1);
  let groups = 0;
  const mergeable = comp.constraints.filter((k) => constraints[k]!.cap === 1 && constraints[k]!.slots !== undefined);
  mergeable.sort((a, b) => constraints[a]!.slots!.length - constraints[b]!.slots!.length || a - b);
  const absorbed = new Set<number>();
  const members: number[] = [];
  for (const k of mergeable) {
    members.length = 0;
    let disjoint = true;
    for (const s of constraints[k]!.slots!) {
      if (!isOwnSlot(s)) continue;
      const l = slotLocal[s]!;
      if (groupOf[l]! >= 0) {
        disjoint = false;
        break;
      }
      members.push(l);
    }
    if (!disjoint || members.length === 0) continue;
    for (const l of members) groupOf[l] = groups;
    groups++;
    absorbed.add(k);
  }
  for (let l = 0; l < nSlots; l++) if (groupOf[l]! < 0) groupOf[l] = groups++;
  return { groupOf, groups, absorbed };
}

/**
 * The big-M of the lexicographic objective: larger than the difference between the score totals of any
 * two solutions, so that one more placed must-place candidate always wins. A candidate adds at most its
 * best score and takes away at most its worst (a must-place candidate's scores may be negative), so
 * M = 1 + sum over candidates of (max(0, best) - min(0, worst)). (1 + sum of max |score| was too small:
 * two must-place candidates with negative scores lost against one with a positive score.)
 */
export function mustPlaceBigM(nc: number, maxScore: Float64Array, minScore: Float64Array): number {
  let bigM = 1;
  for (let i = 0; i < nc; i++) bigM += Math.max(0, maxScore[i]!) - Math.min(0, minScore[i]!);
  return bigM;
}

/** Local numbering, slot groups, weights and side-row lists of one component. */
export function prepareComponent(model: SolverModel, comp: Component): ComponentProblem {
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

  const { groupOf, groups: ns, absorbed } = groupSlots(model, comp, slotLocal, (s) => slotOwner[s] === stamp);
  const sideConstraints = comp.constraints.filter((k) => !absorbed.has(k));
  sideConstraints.forEach((k, i) => {
    consLocal[k] = i;
    consOwner[k] = stamp;
  });
  const nk = sideConstraints.length;

  const jc = new Int32Array(n);
  const js = new Int32Array(n);
  const w = new Float64Array(n);
  const maxScore = new Float64Array(nc);
  const minScore = new Float64Array(nc);
  for (let j = 0; j < n; j++) {
    const p = comp.pairs[j]!;
    const c = candLocal[pairCand[p]!]!;
    jc[j] = c;
    js[j] = groupOf[slotLocal[pairSlot[p]!]!]!;
    maxScore[c] = Math.max(maxScore[c]!, pairScore[p]!);
    minScore[c] = Math.min(minScore[c]!, pairScore[p]!);
    pairLocal[p] = j;
  }
  const bigM = mustPlaceBigM(nc, maxScore, minScore);
  for (let j = 0; j < n; j++) {
    const p = comp.pairs[j]!;
    w[j] = pairScore[p]! + (mustPlace[pairCand[p]!] ? bigM : 0);
  }
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
  const byCand: number[][] = Array.from({ length: nc }, () => []);
  for (let j = 0; j < n; j++) byCand[jc[j]!]!.push(j);
  return {
    model,
    comp,
    n,
    nc,
    nSlots,
    ns,
    nk,
    jc,
    js,
    w,
    kStart,
    kList,
    kCap,
    sideConstraints,
    bigM,
    byCand,
    toLocal: (pairs) => pairs.map((p) => pairLocal[p]!),
  };
}

/** Sum of the weights of these columns. */
export function weightOf(problem: ComponentProblem, cols: readonly number[]): number {
  return cols.reduce((acc, j) => acc + problem.w[j]!, 0);
}

/** Greedy (must-place first, then score, side constraints respected) on these local columns, in this order when keepOrder. */
export function greedyColumns(problem: ComponentProblem, cols?: readonly number[], keepOrder = false): number[] {
  const pairs = cols ? cols.map((j) => problem.comp.pairs[j]!) : problem.comp.pairs;
  return problem.toLocal(greedyAssign(problem.model, pairs, keepOrder));
}

/** A bound that needs no solver: each candidate (or each slot group) contributes at most its best column. */
export function bestColumnBound(problem: ComponentProblem): number {
  const { n, nc, ns, jc, js, w } = problem;
  const bestOfCand = new Float64Array(nc);
  const bestOfSlot = new Float64Array(ns);
  for (let j = 0; j < n; j++) {
    bestOfCand[jc[j]!] = Math.max(bestOfCand[jc[j]!]!, w[j]!);
    bestOfSlot[js[j]!] = Math.max(bestOfSlot[js[j]!]!, w[j]!);
  }
  return Math.min(
    bestOfCand.reduce((a, b) => a + b, 0),
    bestOfSlot.reduce((a, b) => a + b, 0),
  );
}

/** True when these columns respect every remaining side row (candidate and slot-group rows are not checked). */
export function meetsSideConstraints(problem: ComponentProblem, cols: readonly number[]): boolean {
  const used = new Int32Array(problem.nk);
  for (const j of cols) for (let i = problem.kStart[j]!; i < problem.kStart[j + 1]!; i++) used[problem.kList[i]!]!++;
  return used.every((u, k) => u <= problem.kCap[k]!);
}
