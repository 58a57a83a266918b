/** Slot optimization: who gets which open slots (docs/optimizer.md). */
export {
  optimizeAssignment,
  solveValidInstance,
  solveValidInstanceParallel,
  solveComponents,
  InProcessSlotOptimizer,
  explainAssignment,
  type ComponentOffload,
  type ComponentJobOptions,
} from './optimize';
export type { ComponentOutcome } from './component-solver';
export { parseInstance, instanceSchema, OptimizerInputError, URGENCY_LEVELS } from './schema';
export type { OptimizationInstance, ValidOptimizationInstance, OptimizerSlot, OptimizerCandidate, ScoreWeights, Urgency, InstanceIssue } from './schema';
export type { Assignment, OptimizationResult, OptimizationStatus, OptimizeOptions, SlotOptimizer, UnassignedCandidate, UnassignedCode } from './types';
export { DEFAULT_WEIGHTS, scoreTerms, pairScore, urgencyLevel } from './scoring';
export { buildModel, solverModelOf, type AssignmentModel, type SideConstraint, type SolverModel } from './model';
export { greedyAssign } from './greedy';
export { decompose, type Component } from './decompose';
export { loadGlpk, provideGlpk, glpkWasmOf } from './glpk';
export { loadCapturingGlpkWasm, type GlpkWasm } from './glpk-wasm';
