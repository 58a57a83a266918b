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

  const byRoot = new Map<number, number[]>();
  for (let p = 0; p < pairCand.length; p++) {
    const r = find(C + pairSlot[p]!);
    let list = byRoot.get(r);
    if (!list) byRoot.set(r, (list = []));
    list.push(p);
  }
  const consByRoot = new Map<number, number[]>();
  model.constraints.forEach((k, ki) => {
    const r = find(C + pairSlot[k.pairs[0]!]!);
    let list = consByRoot.get(r);
    if (!list) consByRoot.set(r, (list = []));
    list.push(ki);
  });

  const out: Component[] = [];
  for (const [root, pairs] of byRoot) {
    const cands = new Set<number>();
    const slots = new Set<number>();
    for (const p of pairs) {
      cands.add(pairCand[p]!);
      slots.add(pairSlot[p]!);
    }
    out.push({ pairs: Int32Array.from(pairs), candidates: [...cands], slots: [...slots], constraints: consByRoot.get(root) ?? [] });
  }
  return out;
}
