import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  OptimizerInputError,
  parseInstance,
  solveValidInstance,
  type OptimizationInstance,
  type OptimizationResult,
  type OptimizeOptions,
  type SlotOptimizer,
} from '../../../domain/optimizer';
import type { OptimizerJob, OptimizerReply } from './worker-thread';

export interface WorkerThreadSlotOptimizerOptions {
  /** Compiled worker entry (default: optimizer-worker-thread.js next to this file). */
  workerScript?: string | URL;
  /** Extra time beyond the job's time limit before the worker is terminated and greedy used (default 5 s). */
  graceMs?: number;
  /** Restart the worker after a job with more eligible pairs than this: the WASM heap never shrinks (default 300k). */
  recycleAfterPairs?: number;
  /** Restart the worker after this many jobs (default 500). */
  recycleAfterJobs?: number;
  /** Defaults for every job. */
  defaults?: Omit<OptimizeOptions, 'now'>;
}

/** The compiled entry next to this file; from TypeScript sources (tests), the one in dist/ (built by the test setup). */
function defaultWorkerScript(): string {
  return __filename.endsWith('.ts')
    ? join(__dirname, '..', '..', '..', 'dist', 'functions', 'adapters', 'optimizer', 'worker-thread.js')
    : join(__dirname, 'worker-thread.js');
}

interface Pending {
  resolve: (r: OptimizationResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  job: OptimizerJob;
}

/**
 * SlotOptimizer that solves in a worker thread so a long solve never blocks the event loop of the function
 * host. One worker, jobs queued in order; glpk.js is loaded once per worker. If a job overruns its time
 * limit by more than graceMs, the worker is terminated and the greedy solution (computed here) is returned
 * with status 'greedy-fallback'.
 */
export class WorkerThreadSlotOptimizer implements SlotOptimizer {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private jobsOnWorker = 0;
  private started = 0;
  private readonly opts: Required<Omit<WorkerThreadSlotOptimizerOptions, 'defaults'>> & { defaults: Omit<OptimizeOptions, 'now'> };

  constructor(options: WorkerThreadSlotOptimizerOptions = {}) {
    this.opts = {
      workerScript: options.workerScript ?? defaultWorkerScript(),
      graceMs: options.graceMs ?? 5000,
      recycleAfterPairs: options.recycleAfterPairs ?? 300_000,
      recycleAfterJobs: options.recycleAfterJobs ?? 500,
      defaults: options.defaults ?? {},
    };
  }

  assign(instance: OptimizationInstance, options: Omit<OptimizeOptions, 'now'> = {}): Promise<OptimizationResult> {
    const jobOptions = { ...this.opts.defaults, ...options };
    // Functions cannot cross the thread boundary.
    delete (jobOptions as OptimizeOptions).now;
    const job: OptimizerJob = { id: this.nextId++, instance, options: jobOptions };
    const worker = this.ensureWorker();
    return new Promise<OptimizationResult>((resolve, reject) => {
      // Jobs run one after another: the hard deadline counts from when this job can start at the latest.
      const queued = [...this.pending.values()].reduce((acc, p) => acc + (p.job.options.timeLimitMs ?? 10_000) + this.opts.graceMs, 0);
      const timer = setTimeout(() => this.overrun(job.id), queued + (jobOptions.timeLimitMs ?? 10_000) + this.opts.graceMs);
      timer.unref();
      this.pending.set(job.id, { resolve, reject, timer, job });
      worker.ref();
      worker.postMessage(job);
    });
  }

  /** How many worker threads this optimizer has started (recycling and overruns start new ones). */
  get workersStarted(): number {
    return this.started;
  }

  /** Terminates the worker; pending jobs are rejected. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('optimizer closed'));
      this.pending.delete(id);
    }
    if (worker) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.opts.workerScript);
    worker.unref();
    worker.on('message', (reply: OptimizerReply) => this.onReply(reply));
    worker.on('error', (err) => this.onWorkerGone(worker, err));
    worker.on('exit', (code) => this.onWorkerGone(worker, new Error(`optimizer worker exited with code ${code}`)));
    this.worker = worker;
    this.jobsOnWorker = 0;
    this.started++;
    return worker;
  }

  private onReply(reply: OptimizerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    // An idle worker must not keep the process alive.
    if (this.pending.size === 0) this.worker?.unref();
    this.jobsOnWorker++;
    if (reply.ok) {
      p.resolve(reply.result);
      if (reply.result.stats.eligiblePairs > this.opts.recycleAfterPairs || this.jobsOnWorker >= this.opts.recycleAfterJobs) this.recycle();
    } else if (reply.error.code === 'OPTIMIZER.INVALID_INSTANCE' && reply.error.issues) {
      p.reject(new OptimizerInputError(reply.error.issues));
    } else {
      p.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
    }
  }

  /** The job overran: kill the worker (the only way to stop a synchronous solve), answer it with greedy, requeue the rest. */
  private overrun(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
    this.pending.delete(id);
    this.answerWithGreedy(p);
    if (this.pending.size > 0) {
      const next = this.ensureWorker();
      for (const q of this.pending.values()) next.postMessage(q.job);
    }
  }

  private onWorkerGone(worker: Worker, err: Error): void {
    if (this.worker !== worker && this.worker !== undefined) return;
    if (this.worker === worker) this.worker = undefined;
    if (this.pending.size === 0) return;
    this.failOver(worker, err);
  }

  /** Answers every job that was on a dead worker with the greedy solution. */
  private failOver(_worker: Worker | undefined, err?: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      this.answerWithGreedy(p, err);
    }
  }

  private answerWithGreedy(p: Pending, err?: Error): void {
    clearTimeout(p.timer);
    try {
      const valid = parseInstance(p.job.instance);
      p.resolve(solveValidInstance(valid, undefined, { ...p.job.options, greedyOnly: false }));
    } catch (e) {
      p.reject(e instanceof Error ? e : (err ?? new Error(String(e))));
    }
  }

  private recycle(): void {
    if (this.pending.size > 0) return;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
  }
}
