import type { AssignmentModel } from './model';

/** An independent part of the problem: no pair or side constraint links it to another component. */
export interface Component {
  pairs: Int32Array; // global pair numbers, ascending
  candidates: number[];
  slots: number[];
  constraints: number[];
}

/** Splits the pairs into connected components of the candidate-slot graph, side constraints counting as links. */
export function decompose(model: AssignmentModel): Component[] {
  const C = model.instance.candidates.length;
  const S = model.instance.slots.length;
  const parent = new Int32Array(C + S);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[ra] = rb;
  };
  const { pairCand, pairSlot } = model;
  for (let p = 0; p < pairCand.length; p++) union(pairCand[p]!, C + pairSlot[p]!);
  for (const k of model.constraints) {
    const first = C + pairSlot[k.pairs[0]!]!;
    for (const p of k.pairs) union(first, C + pairSlot[p]!);
  }

  // Component numbers by root, then pairs, candidates, slots and constraints bucketed by a counting sort
  // (typed arrays: no per-component maps or sets). Components are numbered by their first pair.
  const compOf = new Int32Array(C + S).fill(-1);
  const P = pairCand.length;
  const pairComp = new Int32Array(P);
  let count = 0;
  for (let p = 0; p < P; p++) {
    const r = find(C + pairSlot[p]!);
    if (compOf[r] === -1) compOf[r] = count++;
    pairComp[p] = compOf[r]!;
  }
  const pairStart = new Int32Array(count + 1);
  for (let p = 0; p < P; p++) pairStart[pairComp[p]! + 1]!++;
  for (let i = 0; i < count; i++) pairStart[i + 1]! += pairStart[i]!;
  const pairFill = pairStart.slice(0, count);
  const pairsSorted = new Int32Array(P);
  for (let p = 0; p < P; p++) pairsSorted[pairFill[pairComp[p]!]!++] = p;

  const out: Component[] = [];
  for (let i = 0; i < count; i++) out.push({ pairs: pairsSorted.subarray(pairStart[i]!, pairStart[i + 1]!), candidates: [], slots: [], constraints: [] });
  const seenCand = new Uint8Array(C);
  const seenSlot = new Uint8Array(S);
  for (let i = 0; i < count; i++) {
    const comp = out[i]!;
    for (const p of comp.pairs) {
      const c = pairCand[p]!;
      const s = pairSlot[p]!;
      if (!seenCand[c]) {
        seenCand[c] = 1;
        comp.candidates.push(c);
      }
      if (!seenSlot[s]) {
        seenSlot[s] = 1;
        comp.slots.push(s);
      }
    }
  }
  model.constraints.forEach((k, ki) => {
    out[compOf[find(C + pairSlot[k.pairs[0]!]!)]!]!.constraints.push(ki);
  });
  return out;
}
