import { buildModel } from './model';
import type { ValidOptimizationInstance } from './schema';

/**
 * The order in which repeated solves of a one-slot instance would pick its candidates: solve, take the
 * winner out, solve again. With one slot and no side constraints every component is trivial (one slot),
 * and the solver's answer is the greedy's first pair (must-place first, then score descending, ties by
 * position in the instance). A candidate's pair and score do not depend on the other candidates, and
 * taking one out keeps the others' relative positions, so the successive winners are the pairs in
 * exactly that order: one model build instead of one validation, model and solve per pick.
 * Returns the first `limit` candidate ids, or undefined when the shortcut does not apply (more than one
 * slot, or side constraints): the caller then solves one pick at a time.
 */
export function singleSlotPickOrder(instance: ValidOptimizationInstance, limit: number): string[] | undefined {
  if (instance.slots.length !== 1) return undefined;
  const model = buildModel(instance);
  if (model.constraints.length > 0) return undefined;
  const { pairCand, pairScore, mustPlace } = model;
  const pairs = Array.from({ length: pairCand.length }, (_, p) => p);
  // greedyAssign's comparator (one slot: the slot term is always equal).
  pairs.sort((a, b) => mustPlace[pairCand[b]!]! - mustPlace[pairCand[a]!]! || pairScore[b]! - pairScore[a]! || pairCand[a]! - pairCand[b]!);
  const out: string[] = [];
  const taken = new Uint8Array(model.candidateCount);
  for (const p of pairs) {
    if (out.length >= limit) break;
    const c = pairCand[p]!;
    if (taken[c]) continue;
    taken[c] = 1;
    out.push(instance.candidates[c]!.id);
  }
  return out;
}
