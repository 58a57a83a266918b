/**
 * The reference MIP solver for the optimizer bench: HiGHS (MIT, WebAssembly, npm `highs`) on the same
 * eligible pairs and side constraints as ours (pairs built by buildModel), in CPLEX LP format. Two uses:
 * - lexicographic optimum, independently of our big-M: phase 1 maximizes the number of placed must-place
 *   candidates, phase 2 the score with that number as a constraint (relative gap 0): the fixtures;
 * - HiGHS's own MIP with its default options on the big-M model: the speed reference.
 */
import highsLoader, { type Highs } from 'highs';
import type { AssignmentModel } from '../domain/optimizer';

export type { Highs };

/** Loads HiGHS once (synchronous solves afterwards). */
export function loadHighs(): Promise<Highs> {
  return highsLoader();
}

interface Row {
  name: string;
  terms: string[];
  sense: '<=' | '>=';
  rhs: number;
}

function lpText(objective: string[], rows: Row[], columns: number): string {
  const lines: string[] = ['Maximize'];
  const wrap = (head: string, terms: string[]): void => {
    let line = head;
    for (let i = 0; i < terms.length; i++) {
      line += ` ${terms[i]}`;
      if ((i + 1) % 16 === 0) {
        lines.push(line);
        line = ' ';
      }
    }
    if (line.trim() !== '') lines.push(line);
  };
  wrap(' obj:', objective.length > 0 ? objective : ['0 x0']);
  lines.push('Subject To');
  for (const r of rows) {
    wrap(` ${r.name}:`, r.terms);
    lines.push(` ${r.sense} ${r.rhs}`);
  }
  lines.push('Binary');
  for (let p = 0; p < columns; p += 16) lines.push(` ${Array.from({ length: Math.min(16, columns - p) }, (_, i) => `x${p + i}`).join(' ')}`);
  lines.push('End');
  return lines.join('\n');
}

/** Candidate, slot and side-constraint rows of the model, as LP-format rows. */
function assignmentRows(model: AssignmentModel): Row[] {
  const { pairCand, pairSlot, constraints } = model;
  const byCand = new Map<number, string[]>();
  const bySlot = new Map<number, string[]>();
  for (let p = 0; p < pairCand.length; p++) {
    let c = byCand.get(pairCand[p]!);
    if (!c) byCand.set(pairCand[p]!, (c = []));
    c.push(`+ x${p}`);
    let s = bySlot.get(pairSlot[p]!);
    if (!s) bySlot.set(pairSlot[p]!, (s = []));
    s.push(`+ x${p}`);
  }
  const rows: Row[] = [];
  for (const [c, terms] of byCand) rows.push({ name: `c${c}`, terms, sense: '<=', rhs: 1 });
  for (const [s, terms] of bySlot) if (terms.length > 1) rows.push({ name: `s${s}`, terms, sense: '<=', rhs: 1 });
  constraints.forEach((k, i) => rows.push({ name: `k${i}`, terms: Array.from(k.pairs, (p) => `+ x${p}`), sense: '<=', rhs: k.cap }));
  return rows;
}

const coef = (x: number): string => (x >= 0 ? `+ ${x}` : `- ${-x}`);

export interface HighsOutcome {
  /** optimal: proven (within the relative gap used); feasible: a limit stopped it with a solution; none: no solution. */
  status: 'optimal' | 'feasible' | 'none';
  highsStatus: string;
  score: number | null;
  mustPlaced: number | null;
  ms: number;
}

function readSolution(model: AssignmentModel, columns: Record<string, { Primal: number }>): { score: number; mustPlaced: number } {
  let score = 0;
  let mustPlaced = 0;
  for (let p = 0; p < model.pairCand.length; p++) {
    if ((columns[`x${p}`]?.Primal ?? 0) > 0.5) {
      score += model.pairScore[p]!;
      mustPlaced += model.mustPlace[model.pairCand[p]!]!;
    }
  }
  return { score: Math.round(score * 1000) / 1000, mustPlaced };
}

function statusOf(s: string, hasSolution: boolean): HighsOutcome['status'] {
  if (s === 'Optimal') return 'optimal';
  return hasSolution ? 'feasible' : 'none';
}

/** The lexicographic optimum in two phases (must-place count, then score), relative gap 0. */
export function solveLexicographic(highs: Highs, model: AssignmentModel, timeLimitSeconds: number): HighsOutcome & { phase1Ms: number } {
  const t0 = performance.now();
  const rows = assignmentRows(model);
  const P = model.pairCand.length;
  const options = { time_limit: timeLimitSeconds, mip_rel_gap: 0, mip_abs_gap: 1e-9, output_flag: false } as const;
  const mustTerms: string[] = [];
  for (let p = 0; p < P; p++) if (model.mustPlace[model.pairCand[p]!]) mustTerms.push(`+ x${p}`);
  let mustAtLeast = 0;
  let phase1Ms = 0;
  if (mustTerms.length > 0) {
    const r1 = highs.solve(lpText(mustTerms, rows, P), options);
    phase1Ms = performance.now() - t0;
    if (r1.Status !== 'Optimal')
      return { status: 'none', highsStatus: `phase 1: ${r1.Status}`, score: null, mustPlaced: null, ms: performance.now() - t0, phase1Ms };
    mustAtLeast = Math.round(r1.ObjectiveValue);
  }
  const scoreTerms = Array.from({ length: P }, (_, p) => `${coef(model.pairScore[p]!)} x${p}`);
  const rows2 = mustTerms.length > 0 ? [...rows, { name: 'must', terms: mustTerms, sense: '>=' as const, rhs: mustAtLeast }] : rows;
  const r2 = highs.solve(lpText(scoreTerms, rows2, P), options);
  const hasSolution = r2.Status === 'Optimal' || (r2.Status === 'Time limit reached' && Object.keys(r2.Columns).length > 0);
  const sol = hasSolution ? readSolution(model, r2.Columns as Record<string, { Primal: number }>) : null;
  return {
    status: statusOf(r2.Status, hasSolution),
    highsStatus: r2.Status,
    score: sol?.score ?? null,
    mustPlaced: sol?.mustPlaced ?? null,
    ms: performance.now() - t0,
    phase1Ms,
  };
}

/** HiGHS's own MIP with its default options (relative gap 1e-4) on the big-M model, as a timing reference. */
export function solveBigMDefault(highs: Highs, model: AssignmentModel, timeLimitSeconds: number): HighsOutcome {
  const t0 = performance.now();
  const P = model.pairCand.length;
  const best = new Map<number, number>();
  const worst = new Map<number, number>();
  for (let p = 0; p < P; p++) {
    best.set(model.pairCand[p]!, Math.max(best.get(model.pairCand[p]!) ?? 0, model.pairScore[p]!));
    worst.set(model.pairCand[p]!, Math.min(worst.get(model.pairCand[p]!) ?? 0, model.pairScore[p]!));
  }
  let bigM = 1;
  for (const [c, v] of best) bigM += v - worst.get(c)!;
  const objective = Array.from({ length: P }, (_, p) => `${coef(model.pairScore[p]! + (model.mustPlace[model.pairCand[p]!] ? bigM : 0))} x${p}`);
  const r = highs.solve(lpText(objective, assignmentRows(model), P), { time_limit: timeLimitSeconds, output_flag: false });
  const hasSolution = r.Status === 'Optimal' || (r.Status === 'Time limit reached' && Object.keys(r.Columns).length > 0);
  const sol = hasSolution ? readSolution(model, r.Columns as Record<string, { Primal: number }>) : null;
  return {
    status: statusOf(r.Status, hasSolution),
    highsStatus: r.Status,
    score: sol?.score ?? null,
    mustPlaced: sol?.mustPlaced ?? null,
    ms: performance.now() - t0,
  };
}
