import type { AssignmentModel } from '../domain/optimizer';
import type { GLPK, LP } from '../domain/optimizer/glpk';

export interface PlainMipOutcome {
  /** glpk status name: optimal, feasible (time limit with incumbent) or none (no solution). */
  status: 'optimal' | 'feasible' | 'none';
  objective: number | null;
  mustPlaced: number | null;
  ms: number;
  buildMs: number;
}

/**
 * The reference: one glpk.js MIP over every eligible pair and every side constraint, no decomposition, no
 * pruning, same lexicographic objective (big-M over the whole instance). What a straightforward implementation does.
 */
export function solvePlainMip(model: AssignmentModel, glpk: GLPK, timeLimitSeconds: number): PlainMipOutcome {
  const t0 = performance.now();
  const { pairCand, pairSlot, pairScore, mustPlace, constraints } = model;
  const P = pairCand.length;
  // big-M: more than any difference between two solutions' score totals (see mustPlaceBigM).
  const best = new Map<number, number>();
  const worst = new Map<number, number>();
  for (let p = 0; p < P; p++) {
    best.set(pairCand[p]!, Math.max(best.get(pairCand[p]!) ?? 0, pairScore[p]!));
    worst.set(pairCand[p]!, Math.min(worst.get(pairCand[p]!) ?? 0, pairScore[p]!));
  }
  let bigM = 1;
  for (const [c, v] of best) bigM += v - worst.get(c)!;
  const candRows = new Map<number, { name: string; coef: number }[]>();
  const slotRows = new Map<number, { name: string; coef: number }[]>();
  const objective: { name: string; coef: number }[] = [];
  for (let p = 0; p < P; p++) {
    const v = { name: `x${p}`, coef: 1 };
    objective.push({ name: v.name, coef: pairScore[p]! + (mustPlace[pairCand[p]!] ? bigM : 0) });
    let c = candRows.get(pairCand[p]!);
    if (!c) candRows.set(pairCand[p]!, (c = []));
    c.push(v);
    let s = slotRows.get(pairSlot[p]!);
    if (!s) slotRows.set(pairSlot[p]!, (s = []));
    s.push(v);
  }
  const up1 = { type: glpk.GLP_UP, lb: 0, ub: 1 };
  const subjectTo: LP['subjectTo'] = [];
  for (const [c, vars] of candRows) subjectTo.push({ name: `c${c}`, vars, bnds: up1 });
  for (const [s, vars] of slotRows) subjectTo.push({ name: `s${s}`, vars, bnds: up1 });
  constraints.forEach((k, i) =>
    subjectTo.push({ name: `k${i}`, vars: Array.from(k.pairs, (p) => ({ name: `x${p}`, coef: 1 })), bnds: { type: glpk.GLP_UP, lb: 0, ub: k.cap } }),
  );
  const lp: LP = {
    name: 'plain',
    objective: { direction: glpk.GLP_MAX, name: 'z', vars: objective },
    subjectTo,
    binaries: objective.map((v) => v.name),
  };
  const buildMs = performance.now() - t0;
  const res = glpk.solve(lp, { msglev: glpk.GLP_MSG_OFF, presol: true, tmlim: timeLimitSeconds });
  const ms = performance.now() - t0;
  const st = res.result.status;
  if (st !== glpk.GLP_OPT && st !== glpk.GLP_FEAS) return { status: 'none', objective: null, mustPlaced: null, ms, buildMs };
  let score = 0;
  let must = 0;
  for (let p = 0; p < P; p++) {
    if ((res.result.vars[`x${p}`] ?? 0) > 0.5) {
      score += pairScore[p]!;
      must += mustPlace[pairCand[p]!]!;
    }
  }
  return { status: st === glpk.GLP_OPT ? 'optimal' : 'feasible', objective: Math.round(score * 1000) / 1000, mustPlaced: must, ms, buildMs };
}
