import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  loadGlpk,
  parseInstance,
  solveValidInstance,
  solveValidInstanceParallel,
  type Component,
  type ComponentJobOptions,
  type ComponentOutcome,
  type OptimizationInstance,
  type OptimizationResult,
  type OptimizeOptions,
  type SlotOptimizer,
  type SolverModel,
} from '../../../domain/optimizer';
import type { ComponentJob, ComponentReply } from './pool-thread';

export interface ParallelSlotOptimizerOptions {
  /** Compiled worker entry (default: optimizer-worker-pool-thread.js next to this file). */
  workerScript?: string | URL;
  /** Defaults for every job. */
  defaults?: Omit<OptimizeOptions, 'now'>;
}

function defaultWorkerScript(): string {
  return __filename.endsWith('.ts')
    ? join(__dirname, '..', '..', '..', 'dist', 'functions', 'adapters', 'optimizer', 'pool-thread.js')
    : join(__dirname, 'pool-thread.js');
}

/**
 * SlotOptimizer that solves independent components on two threads: the calling thread and one worker
 * (glpk.js loaded in both, once). Same answers as the single-threaded solver; less wall time when an
 * instance has several large components and a second core is free (CPU time is the same or a little more).
 * Meant to run inside an optimizer worker (it blocks the calling thread for its own share), e.g. in the
 * benchmark. A helper that cannot start, fails or crashes leaves its share to the calling thread.
 */
export class ParallelSlotOptimizer implements SlotOptimizer {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: ComponentOutcome[]) => void; reject: (e: Error) => void }>();
  private readonly workerScript: string | URL;
  private readonly defaults: Omit<OptimizeOptions, 'now'>;

  constructor(options: ParallelSlotOptimizerOptions = {}) {
    this.workerScript = options.workerScript ?? defaultWorkerScript();
    this.defaults = options.defaults ?? {};
  }

  /** Starts the helper worker and loads glpk.js on both threads (call before timing, as a long-lived worker would). */
  start(): Promise<void> {
    if (!this.ready) {
      const worker = new Worker(this.workerScript);
      this.worker = worker;
      this.ready = Promise.all([
        loadGlpk(),
        new Promise<void>((resolve, reject) => {
          worker.once('error', reject);
          worker.on('message', (msg: ComponentReply) => {
            if ('ready' in msg) {
              resolve();
              return;
            }
            const p = this.pending.get(msg.id);
            if (!p) return;
            this.pending.delete(msg.id);
            if (msg.ok) p.resolve(msg.outcomes);
            else p.reject(new Error(msg.message));
          });
        }),
      ]).then(() => {
        // Idle helper does not keep the process alive (it is ref'd while it works on a job).
        worker.unref();
      });
      worker.on('error', (err) => this.failAll(err));
      worker.on('exit', () => this.failAll(new Error('optimizer helper worker exited')));
    }
    return this.ready;
  }

  async assign(instance: OptimizationInstance, options: Omit<OptimizeOptions, 'now'> = {}): Promise<OptimizationResult> {
    const valid = parseInstance(instance);
    const opts = { ...this.defaults, ...options };
    const glpk = opts.greedyOnly ? undefined : await loadGlpk();
    let helper = true;
    await this.start().catch(() => {
      // No helper thread: everything on this one (and a fresh attempt to start it next time).
      helper = false;
      void this.close();
    });
    if (!helper) return solveValidInstance(valid, glpk, opts);
    return solveValidInstanceParallel(valid, glpk, opts, (model, components, job) => this.offload(model, components, job));
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (worker) await worker.terminate();
  }

  private offload(model: SolverModel, components: Component[], job: ComponentJobOptions): Promise<ComponentOutcome[]> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error('optimizer helper worker not running'));
    const id = this.nextId++;
    return new Promise<ComponentOutcome[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      // Posted synchronously: the worker starts while this thread solves its own share.
      worker.postMessage({ id, model, components, job } satisfies ComponentJob);
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    });
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
