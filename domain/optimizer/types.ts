import type { OptimizationInstance } from './schema';

/**
 * optimal: proven optimal (lexicographic: most must-place candidates, then highest total score), every must-place candidate placed.
 * feasible-with-gap: a solver solution with a proven bound, gap > 0 (e.g. the time limit); mustPlaceInfeasible tells whether
 *   placing every must-place candidate is proven impossible.
 * greedy-fallback: greedy was used for some component: the solver did not finish in time, failed, or greedyOnly was asked for.
 * infeasible: proven that no assignment places every must-place candidate (mustPlaceInfeasible), and the answer is the proven
 *   lexicographic optimum (as many must-place candidates as possible, then the best score); the unassigned must-place ones say why.
 * empty: no candidates, or no slots and no must-place candidate.
 */
export type OptimizationStatus = 'optimal' | 'feasible-with-gap' | 'greedy-fallback' | 'infeasible' | 'empty';

/** Why a candidate got no slot. */
export type UnassignedCode =
  'NO_SLOT_OF_TYPE' | 'NO_SLOT_IN_WINDOW' | 'NO_ALLOWED_PROVIDER_OR_LOCATION' | 'NO_POSITIVE_SCORE' | 'SLOTS_TAKEN' | 'CAPACITY_REACHED';

export interface Assignment {
  candidateId: string;
  slotId: string;
  score: number;
  mustPlace: boolean;
  /** Short human-readable explanation (no PHI: ids, levels and numbers only). */
  reason: string;
}

export interface UnassignedCandidate {
  candidateId: string;
  mustPlace: boolean;
  code: UnassignedCode;
  reason: string;
}

export interface OptimizationResult {
  status: OptimizationStatus;
  /** Sum of the scores of the assignments. */
  objective: number;
  /** Proven upper bound on the objective among solutions placing as many must-place candidates; null if unknown. */
  bound: number | null;
  /** (bound - objective) / max(objective, 1e-9); 0 when optimal. */
  gap: number | null;
  solveMs: number;
  /** Solver path: 'empty', 'trivial', 'assignment', 'lp', 'mip', 'greedy', or e.g. 'assignment+lp' when components differ. */
  method: string;
  assignments: Assignment[];
  unassigned: UnassignedCandidate[];
  mustPlace: { total: number; placed: number };
  /** Proven that no assignment places every must-place candidate (with status 'infeasible', `mustPlace.placed` is proven maximal). */
  mustPlaceInfeasible: boolean;
  stats: {
    candidates: number;
    slots: number;
    eligiblePairs: number;
    sideConstraints: number;
    components: number;
    largestComponent: { candidates: number; slots: number; pairs: number };
    /** Columns (pairs) handed to glpk over all components. */
    solverColumns: number;
    lpSolves: number;
    mipSolves: number;
    /** Assignment re-solves that priced the LP with its side-constraint duals. */
    assignmentSolves: number;
    greedyObjective: number;
    modelMs: number;
  };
}

export interface OptimizeOptions {
  /**
   * Wall-clock budget from the call (validation included) to the answer; when exhausted, unfinished components keep
   * their best incumbent (default 10 s). glpk gets a share of what remains, since it overruns its own limit.
   */
  timeLimitMs?: number;
  /** Clock value (of `now`) at which the budget started, when the caller spent some of it already (e.g. reading the input). */
  startedAt?: number;
  /** Relative gap at which glpk's branch and bound may stop (default 0: prove optimality). */
  mipGap?: number;
  /** Best pairs per candidate in the first restricted model (default 6). */
  initialColumns?: number;
  /** Skip the solver: greedy only (for comparison and as the time-limit fallback). */
  greedyOnly?: boolean;
  /** Monotonic clock in ms (default performance.now); injectable for tests. */
  now?: () => number;
}

/** The port the backfill and provider-absence workflows call (as an activity). */
export interface SlotOptimizer {
  assign(instance: OptimizationInstance, options?: OptimizeOptions): Promise<OptimizationResult>;
}
