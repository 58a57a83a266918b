import type { SolverModel } from './model';

/**
 * Greedy assignment: pairs in order of (must-place first, score descending), each taken when its candidate
 * and slot are free and every side constraint it is in has room. Returns the chosen pair numbers.
 * Deterministic: ties broken by candidate, then slot position. With keepOrder, pairs are taken in the given order.
 */
export function greedyAssign(model: SolverModel, pairs?: ArrayLike<number>, keepOrder = false): number[] {
  const { pairCand, pairSlot, pairScore, mustPlace, consStart, consIndex, constraints } = model;
  const list = pairs ? Array.from(pairs) : Array.from({ length: pairCand.length }, (_, p) => p);
  if (!keepOrder)
    list.sort(
      (a, b) =>
        mustPlace[pairCand[b]!]! - mustPlace[pairCand[a]!]! || pairScore[b]! - pairScore[a]! || pairCand[a]! - pairCand[b]! || pairSlot[a]! - pairSlot[b]!,
    );
  // Typed flags and counters (sized by the model): no per-call maps or sets.
  const candUsed = new Uint8Array(model.candidateCount);
  const slotUsed = new Uint8Array(model.slotCount);
  const used = new Int32Array(constraints.length);
  const chosen: number[] = [];
  for (const p of list) {
    const c = pairCand[p]!;
    const s = pairSlot[p]!;
    if (candUsed[c] || slotUsed[s]) continue;
    let fits = true;
    for (let i = consStart[p]!; i < consStart[p + 1]!; i++) {
      const k = consIndex[i]!;
      if (used[k]! >= constraints[k]!.cap) {
        fits = false;
        break;
      }
    }
    if (!fits) continue;
    for (let i = consStart[p]!; i < consStart[p + 1]!; i++) used[consIndex[i]!]!++;
    candUsed[c] = 1;
    slotUsed[s] = 1;
    chosen.push(p);
  }
  return chosen;
}
