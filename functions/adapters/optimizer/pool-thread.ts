/**
 * Worker-thread entry of ParallelSlotOptimizer: loads glpk.js once for the life of the thread, then solves
 * the components it is handed (solveComponents) and posts their outcomes back.
 */
import { parentPort } from 'node:worker_threads';
import { loadGlpk, solveComponents, type Component, type ComponentJobOptions, type ComponentOutcome, type SolverModel } from '../../../domain/optimizer';

export interface ComponentJob {
  id: number;
  model: SolverModel;
  components: Component[];
  job: ComponentJobOptions;
}

export type ComponentReply = { id: number; ok: true; outcomes: ComponentOutcome[] } | { id: number; ok: false; message: string } | { ready: true };

if (parentPort) {
  const port = parentPort;
  loadGlpk().then(
    (glpk) => {
      port.postMessage({ ready: true } satisfies ComponentReply);
      port.on('message', (msg: ComponentJob) => {
        try {
          port.postMessage({ id: msg.id, ok: true, outcomes: solveComponents(msg.model, msg.components, glpk, msg.job) } satisfies ComponentReply);
        } catch (err) {
          port.postMessage({ id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies ComponentReply);
        }
      });
    },
    (err: unknown) => {
      throw err instanceof Error ? err : new Error(String(err));
    },
  );
}
