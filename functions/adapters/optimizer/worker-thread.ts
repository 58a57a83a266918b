/**
 * Worker-thread entry of WorkerThreadSlotOptimizer: loads glpk.js once for the life of the thread and solves
 * one job at a time (glpk's solve is synchronous; here it blocks this thread, not the host's event loop).
 */
import { parentPort } from 'node:worker_threads';
import { loadGlpk, optimizeAssignment, OptimizerInputError, type OptimizeOptions } from '../../../domain/optimizer';

export interface OptimizerJob {
  id: number;
  instance: unknown;
  options: Omit<OptimizeOptions, 'now'>;
}

export type OptimizerReply =
  | { id: number; ok: true; result: Awaited<ReturnType<typeof optimizeAssignment>> }
  | { id: number; ok: false; error: { name: string; message: string; code?: string; issues?: OptimizerInputError['issues'] } };

if (parentPort) {
  const port = parentPort;
  // Load eagerly so the first job does not pay for it.
  void loadGlpk().catch(() => undefined);
  port.on('message', (job: OptimizerJob) => {
    optimizeAssignment(job.instance, job.options).then(
      (result) => port.postMessage({ id: job.id, ok: true, result } satisfies OptimizerReply),
      (err: unknown) => {
        const error =
          err instanceof OptimizerInputError
            ? { name: err.name, message: err.message, code: err.code, issues: err.issues }
            : { name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) };
        port.postMessage({ id: job.id, ok: false, error } satisfies OptimizerReply);
      },
    );
  });
}
