import { solveComponent, type ComponentMethod, type ComponentOutcome } from './component-solver';
import { decompose, type Component } from './decompose';
import { loadGlpk, type GLPK } from './glpk';
import { greedyAssign } from './greedy';
import { buildModel, pairFacts, solverModelOf, type AssignmentModel, type SolverModel } from './model';
import { parseInstance, type OptimizationInstance } from './schema';
import { roundScore } from './scoring';
import type { Assignment, OptimizationResult, OptimizationStatus, OptimizeOptions, SlotOptimizer, UnassignedCandidate, UnassignedCode } from './types';

const DEFAULT_TIME_LIMIT_MS = 10_000;
const METHOD_ORDER: ComponentMethod[] = ['trivial', 'assignment', 'lp', 'mip', 'greedy'];

const defaultNow = (): number => performance.now();

/** Validates and solves an instance with glpk.js (loaded once per thread). Throws OptimizerInputError for invalid input. */
export async function optimizeAssignment(instance: OptimizationInstance | unknown, options: OptimizeOptions = {}): Promise<OptimizationResult> {
  // The time limit is a wall-clock budget for the call: validation counts.
  const startedAt = options.startedAt ?? (options.now ?? defaultNow)();
  const valid = parseInstance(instance);
  const glpk = options.greedyOnly ? undefined : await loadGlpk();
  return solveValidInstance(valid, glpk, { ...options, startedAt });
}

/** The in-process SlotOptimizer: solves on the calling thread (blocks it for the solve time). */
export class InProcessSlotOptimizer implements SlotOptimizer {
  constructor(private readonly defaults: OptimizeOptions = {}) {}

  assign(instance: OptimizationInstance, options?: OptimizeOptions): Promise<OptimizationResult> {
    return optimizeAssignment(instance, { ...this.defaults, ...options });
  }
}

/** Per-job settings of the component solver (plain data: they also travel to worker threads). */
export interface ComponentJobOptions {
  /** Time left for these components (ms); glpk gets what remains as its time limit. */
  remainingMs: number;
  initialColumns: number;
  mipGap: number;
}

/** Solves components one after another on this thread (the worker side of a parallel solve, too). */
export function solveComponents(
  model: SolverModel,
  components: Component[],
  glpk: GLPK,
  job: ComponentJobOptions,
  now: () => number = defaultNow,
): ComponentOutcome[] {
  const deadline = now() + job.remainingMs;
  return components.map((comp) =>
    solveComponent(model, comp, glpk, {
      deadline,
      now,
      initialColumns: job.initialColumns,
      mipGap: job.mipGap,
      maxPricingRounds: 25,
      pricingSlack: 0.1,
      // With the incremental LP a round is cheap: fewer columns per round keep the restricted LP smaller.
      maxColumnsPerRound: 20,
    }),
  );
}

/**
 * Hands components to another thread: must post them synchronously (before returning its promise), so that
 * they are solved while this thread solves its own share. Implemented by the worker-thread adapter.
 */
export type ComponentOffload = (model: SolverModel, components: Component[], job: ComponentJobOptions) => Promise<ComponentOutcome[]>;

interface Plan {
  model: AssignmentModel;
  /** Components, small ones first: a time limit then hurts as few candidates as possible. */
  order: Component[];
  componentCount: number;
  started: number;
  /** When the components must be done (the limit less the reserve for building the result). */
  deadline: number;
  modelMs: number;
  now: () => number;
  job: ComponentJobOptions;
}

/** Time kept back from the components for building the result (ms; at most this share of the limit). */
const RESULT_RESERVE_MS = 150;
const RESULT_RESERVE_SHARE = 0.05;

function plan(instance: ReturnType<typeof parseInstance>, options: OptimizeOptions): Plan {
  const now = options.now ?? defaultNow;
  const started = options.startedAt ?? now();
  const limit = options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const deadline = started + limit;
  const modelStarted = now();
  const model = buildModel(instance);
  const components = decompose(model);
  const modelMs = now() - modelStarted;
  const order = [...components].sort((a, b) => a.pairs.length - b.pairs.length);
  const reserve = Math.min(RESULT_RESERVE_MS, RESULT_RESERVE_SHARE * limit);
  const job = { remainingMs: deadline - reserve - now(), initialColumns: options.initialColumns ?? 6, mipGap: options.mipGap ?? 0 };
  return { model, order, componentCount: components.length, started, deadline: deadline - reserve, modelMs, now, job };
}

function finish(p: Plan, outcomes: ComponentOutcome[]): OptimizationResult {
  const greedyObjective = outcomes.reduce((acc, o) => acc + o.greedyScore, 0);
  return buildResult(p.model, p.componentCount, p.order, outcomes, { started: p.started, now: p.now, modelMs: p.modelMs, greedyObjective });
}

/** Synchronous core: solves a parsed instance with an already loaded glpk (or greedy only without one). */
export function solveValidInstance(instance: ReturnType<typeof parseInstance>, glpk: GLPK | undefined, options: OptimizeOptions = {}): OptimizationResult {
  const p = plan(instance, options);
  const outcomes = glpk ? solveComponents(p.model, p.order, glpk, p.job, p.now) : p.order.map((comp) => greedyOutcome(p.model, comp.pairs));
  return finish(p, outcomes);
}

/**
 * Like solveValidInstance, with the components split between this thread and another one (offload): the
 * larger components are dealt alternately to the less loaded side (by eligible pairs), so both finish at
 * about the same time. The answer is the same as on one thread; wall time drops, CPU time does not. Falls
 * back to this thread alone for a single component, an injected clock (tests) or a failed offload.
 */
export async function solveValidInstanceParallel(
  instance: ReturnType<typeof parseInstance>,
  glpk: GLPK | undefined,
  options: OptimizeOptions,
  offload: ComponentOffload,
): Promise<OptimizationResult> {
  if (!glpk || options.now) return solveValidInstance(instance, glpk, options);
  const p = plan(instance, options);
  const solverComponents = p.order.filter((c) => c.candidates.length > 1 && c.slots.length > 1);
  if (solverComponents.length < 2) return finish(p, solveComponents(p.model, p.order, glpk, p.job, p.now));
  const local: number[] = [];
  const remote: number[] = [];
  let localLoad = 0;
  let remoteLoad = 0;
  const bySize = p.order.map((_, i) => i).sort((a, b) => p.order[b]!.pairs.length - p.order[a]!.pairs.length || a - b);
  for (const i of bySize) {
    const c = p.order[i]!;
    // Trivial components (one candidate or one slot) stay here: not worth the trip.
    if (remoteLoad < localLoad && c.candidates.length > 1 && c.slots.length > 1) {
      remote.push(i);
      remoteLoad += c.pairs.length;
    } else {
      local.push(i);
      localLoad += c.pairs.length;
    }
  }
  const job = { ...p.job, remainingMs: p.deadline - p.now() };
  // Pairs as compact copies: a view would drag the whole pair buffer through the structured clone.
  const remoteComponents = remote.map((i) => ({ ...p.order[i]!, pairs: p.order[i]!.pairs.slice() }));
  const pending = offload(solverModelOf(p.model), remoteComponents, job).then(
    (r) => r,
    () => undefined,
  );
  const outcomes = new Array<ComponentOutcome>(p.order.length);
  solveComponents(
    p.model,
    local.map((i) => p.order[i]!),
    glpk,
    { ...job, remainingMs: p.deadline - p.now() },
    p.now,
  ).forEach((o, t) => (outcomes[local[t]!] = o));
  const fromRemote = await pending;
  const remoteOutcomes =
    fromRemote && fromRemote.length === remote.length
      ? fromRemote
      : solveComponents(
          p.model,
          remote.map((i) => p.order[i]!),
          glpk,
          { ...job, remainingMs: Math.max(0, p.deadline - p.now()) },
          p.now,
        );
  remoteOutcomes.forEach((o, t) => (outcomes[remote[t]!] = o));
  return finish(p, outcomes);
}

/** Greedy for one component (greedyOnly, or no solver available): reported as 'greedy-fallback'. */
function greedyOutcome(model: AssignmentModel, pairs: Int32Array): ComponentOutcome {
  const chosen = greedyAssign(model, pairs);
  const value = chosen.reduce((acc, p) => acc + model.pairScore[p]!, 0);
  // Bound without a solver: every candidate (or every slot) contributes at most its best pair. Only valid
  // for the score when no must-place candidate is involved (their big-M bonus is not part of the score).
  const bestOfCand = new Map<number, number>();
  const bestOfSlot = new Map<number, number>();
  let hasMust = false;
  for (const p of pairs) {
    const c = model.pairCand[p]!;
    const s = model.pairSlot[p]!;
    if (model.mustPlace[c]) hasMust = true;
    bestOfCand.set(c, Math.max(bestOfCand.get(c) ?? 0, model.pairScore[p]!));
    bestOfSlot.set(s, Math.max(bestOfSlot.get(s) ?? 0, model.pairScore[p]!));
  }
  const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  return {
    chosen,
    value,
    upper: hasMust ? Infinity : Math.min(sum(bestOfCand), sum(bestOfSlot)),
    bigM: Infinity,
    method: 'greedy',
    fallback: true,
    greedyScore: value,
    lpSolves: 0,
    mipSolves: 0,
    assignmentSolves: 0,
    columns: 0,
  };
}

function buildResult(
  model: AssignmentModel,
  componentCount: number,
  components: { candidates: number[]; slots: number[]; pairs: Int32Array }[],
  outcomes: ComponentOutcome[],
  ctx: { started: number; now: () => number; modelMs: number; greedyObjective: number },
): OptimizationResult {
  const { instance, pairCand, pairSlot, pairScore, mustPlace } = model;
  const C = instance.candidates.length;
  const S = instance.slots.length;
  const candSlot = new Int32Array(C).fill(-1);
  const slotTaken = new Uint8Array(S);
  const chosenPairOf = new Int32Array(C).fill(-1);
  const eligibleCount = new Int32Array(C);
  for (let p = 0; p < pairCand.length; p++) eligibleCount[pairCand[p]!]!++;

  let objective = 0;
  let absGap = 0;
  let boundKnown = true;
  let fallback = false;
  let mustUnplacedProven = false;
  /** Candidates of components whose must-place count is proven maximal. */
  const provenMaximal = new Uint8Array(C);
  const methods = new Set<ComponentMethod>();
  let solverColumns = 0;
  let lpSolves = 0;
  let mipSolves = 0;
  let assignmentSolves = 0;
  outcomes.forEach((o, i) => {
    methods.add(o.method);
    solverColumns += o.columns;
    lpSolves += o.lpSolves;
    mipSolves += o.mipSolves;
    assignmentSolves += o.assignmentSolves;
    if (o.fallback) fallback = true;
    if (!Number.isFinite(o.upper)) boundKnown = false;
    else absGap += Math.max(0, o.upper - o.value);
    for (const p of o.chosen) {
      candSlot[pairCand[p]!] = pairSlot[p]!;
      chosenPairOf[pairCand[p]!] = p;
      slotTaken[pairSlot[p]!] = 1;
      objective += pairScore[p]!;
    }
    const comp = components[i]!;
    const unplacedMust = comp.candidates.some((c) => mustPlace[c] && candSlot[c] === -1);
    // The must-place count is proven maximal when the remaining gap is smaller than one must-place bonus.
    if (unplacedMust && !o.fallback && o.upper - o.value < o.bigM) {
      mustUnplacedProven = true;
      for (const c of comp.candidates) provenMaximal[c] = 1;
    }
  });

  const assignments: Assignment[] = [];
  const unassigned: UnassignedCandidate[] = [];
  const used = new Int32Array(model.constraints.length);
  for (let c = 0; c < C; c++) {
    const p = chosenPairOf[c]!;
    if (p < 0) continue;
    for (let i = model.consStart[p]!; i < model.consStart[p + 1]!; i++) used[model.consIndex[i]!]!++;
  }
  const mustUnassignedAt: [number, number][] = [];
  const pairsOfUnassigned = new Map<number, number[]>();
  for (let p = 0; p < pairCand.length; p++) {
    const c = pairCand[p]!;
    if (candSlot[c] !== -1) continue;
    let list = pairsOfUnassigned.get(c);
    if (!list) pairsOfUnassigned.set(c, (list = []));
    list.push(p);
  }

  let mustPlaced = 0;
  let mustTotal = 0;
  for (let c = 0; c < C; c++) {
    const cand = instance.candidates[c]!;
    if (mustPlace[c]) mustTotal++;
    const p = chosenPairOf[c]!;
    if (p >= 0) {
      if (mustPlace[c]) mustPlaced++;
      const s = pairSlot[p]!;
      assignments.push({
        candidateId: cand.id,
        slotId: instance.slots[s]!.id,
        score: roundScore(pairScore[p]!),
        mustPlace: mustPlace[c] === 1,
        reason: explainAssignment(model, c, s, pairScore[p]!, eligibleCount[c]!),
      });
      continue;
    }
    if (mustPlace[c] && eligibleCount[c] === 0) mustUnplacedProven = true;
    if (mustPlace[c]) mustUnassignedAt.push([unassigned.length, c]);
    unassigned.push({ candidateId: cand.id, mustPlace: mustPlace[c] === 1, ...explainUnassigned(model, c, pairsOfUnassigned.get(c) ?? [], slotTaken, used) });
  }
  // An unplaced must-place candidate with eligible slots: say whether leaving it out is proven necessary.
  for (const [i, c] of mustUnassignedAt) {
    const u = unassigned[i]!;
    if (u.code !== 'SLOTS_TAKEN' && u.code !== 'CAPACITY_REACHED') continue;
    u.reason += provenMaximal[c]
      ? '; must-place, but no assignment places every must-place candidate (proven)'
      : '; must-place, left out by an unfinished solve (time limit or greedy; not proven necessary)';
  }

  const largest = components.reduce(
    (acc, comp) => (comp.pairs.length > acc.pairs ? { candidates: comp.candidates.length, slots: comp.slots.length, pairs: comp.pairs.length } : acc),
    { candidates: 0, slots: 0, pairs: 0 },
  );
  const bound = boundKnown ? objective + absGap : null;
  const gap = bound === null ? null : absGap <= 1e-6 * Math.max(1, Math.abs(objective)) ? 0 : absGap / Math.max(Math.abs(objective), 1e-9);

  // 'infeasible' is a certificate like 'optimal': the must-place count is proven maximal and the rest optimal.
  // Without the certificate for the rest, the status says how good the answer is and mustPlaceInfeasible keeps the proof.
  const empty = C === 0 || (S === 0 && mustTotal === 0);
  let status: OptimizationStatus;
  if (empty) status = 'empty';
  else if (fallback) status = 'greedy-fallback';
  else if (gap !== 0) status = 'feasible-with-gap';
  else if (mustUnplacedProven) status = 'infeasible';
  else status = 'optimal';

  const method = empty || S === 0 ? 'empty' : METHOD_ORDER.filter((m) => methods.has(m)).join('+') || 'trivial';
  return {
    status,
    objective: roundScore(objective),
    bound: bound === null ? null : roundScore(bound),
    gap,
    solveMs: Math.round((ctx.now() - ctx.started) * 100) / 100,
    method,
    assignments,
    unassigned,
    mustPlace: { total: mustTotal, placed: mustPlaced },
    mustPlaceInfeasible: mustUnplacedProven,
    stats: {
      candidates: C,
      slots: S,
      eligiblePairs: pairCand.length,
      sideConstraints: model.constraints.length,
      components: componentCount,
      largestComponent: largest,
      solverColumns,
      lpSolves,
      mipSolves,
      assignmentSolves,
      greedyObjective: roundScore(ctx.greedyObjective),
      modelMs: Math.round(ctx.modelMs * 100) / 100,
    },
  };
}

function urgencyLabel(u: number): string {
  if (u >= 8) return 'urgent';
  if (u >= 5) return 'soon';
  return 'routine';
}

/** A one-line, PHI-free explanation of why this candidate got this slot. */
export function explainAssignment(model: AssignmentModel, c: number, s: number, score: number, eligible: number): string {
  const cand = model.instance.candidates[c]!;
  const f = pairFacts(model, c, s);
  const parts: string[] = [];
  if (cand.mustPlace) parts.push('must be placed (displaced)');
  parts.push(`${urgencyLabel(f.urgency)} (urgency ${f.urgency})`);
  if (f.daysWaiting > 0) parts.push(`waiting ${Math.round(f.daysWaiting)} d`);
  if (f.continuity) parts.push('with preferred provider');
  if (cand.timeOfDay && cand.timeOfDay !== 'any' && f.timeOfDayMatch) parts.push(`${cand.timeOfDay} as preferred`);
  if (f.daysGained >= 1) parts.push(`${Math.floor(f.daysGained)} d earlier`);
  if (f.noShowRisk >= 0.3) parts.push(`no-show risk ${Math.round(f.noShowRisk * 100)}%`);
  parts.push(`score ${roundScore(score)}`);
  parts.push(`best joint choice among ${eligible} eligible slot${eligible === 1 ? '' : 's'}`);
  return parts.join('; ');
}

function explainUnassigned(
  model: AssignmentModel,
  c: number,
  pairs: number[],
  slotTaken: Uint8Array,
  used: Int32Array,
): { code: UnassignedCode; reason: string } {
  const cand = model.instance.candidates[c]!;
  const cause = model.noPairCause[c];
  if (cause === 'NO_SLOT_OF_TYPE') return { code: cause, reason: `no open slot of appointment type ${cand.appointmentType}` };
  if (cause === 'NO_SLOT_IN_WINDOW') return { code: cause, reason: 'no slot of the type within the earliest/latest window or before the clinical deadline' };
  if (cause === 'NO_ALLOWED_PROVIDER_OR_LOCATION') return { code: cause, reason: 'no slot in the window with an allowed provider or location' };
  if (cause === 'NO_POSITIVE_SCORE') return { code: cause, reason: 'every eligible slot scores 0 or less (e.g. high no-show risk weight)' };
  for (const p of pairs) {
    if (slotTaken[model.pairSlot[p]!]) continue;
    for (let i = model.consStart[p]!; i < model.consStart[p + 1]!; i++) {
      const k = model.consIndex[i]!;
      if (used[k]! >= model.constraints[k]!.cap) {
        return { code: 'CAPACITY_REACHED', reason: `a free eligible slot is blocked by: ${model.constraints[k]!.label}` };
      }
    }
  }
  const which = pairs.length === 1 ? 'the only eligible slot' : `all ${pairs.length} eligible slots`;
  return { code: 'SLOTS_TAKEN', reason: `${which} went to candidates with a higher joint score or must-place priority` };
}
