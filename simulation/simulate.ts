/**
 * Runs a scenario under each enabled policy on the same random stream and compares the outcomes
 * (docs/simulation.md). The policies differ only in how freed slots are refilled; demand, patients
 * and their answers are the same draws in every run.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { offerPolicySchema } from '../domain/model';
import { loadSimulatedApp } from './app';
import { computeMetrics, type PolicyMetrics } from './metrics';
import type { Scenario } from './scenario';
import { SimulatedWorld, type PolicySetup } from './world';

export interface SimulationOptions {
  seed?: number;
  weeks?: number;
  /** Policies run at the same time in worker threads (default 1: one after the other in this thread). */
  parallel?: number;
  /**
   * With `parallel` > 1: each worker thread's old-generation heap limit in MB (default
   * DEFAULT_WORKER_HEAP_MB). V8 grows a heap well past what is live when nothing caps it (a Slotflow run
   * of the calibrated scenario peaks at about 0.7 GB resident uncapped and runs as fast in 350 MB); the
   * cap keeps two workers under 1 GiB. A policy whose live heap does not fit fails with a
   * WorkerHeapError naming the policy and the limit.
   */
  workerHeapMb?: number;
  /** Called after each policy's run (progress). */
  onPolicyDone?: (metrics: PolicyMetrics, elapsedMs: number) => void;
}

export interface Comparison {
  /** Slotflow's refill rate over the baseline's. */
  refillRatio: number | null;
  smsPerFilledSlot: { slotflow: number | null; baseline: number | null };
  /** Urgent patients who waited longer under Slotflow than under the baseline (same patients, same draws). */
  urgentWaitingLonger: number;
  /** ... and those who were seen sooner under Slotflow. */
  urgentWaitingShorter: number;
  urgentCompared: number;
}

export interface SimulationReport {
  scenario: string;
  seed: number;
  weeks: number;
  policies: PolicyMetrics[];
  comparison?: Comparison;
  runtime: Record<
    string,
    {
      episodes: number;
      activities: number;
      deliveries: number;
      deadLettered: number;
      failedInstances: number;
      /** Wall time, and CPU time (user + system) of this process, or with `parallel` of the worker thread (GC helper threads not counted): the machine is shared, CPU time is the steadier figure. */
      elapsedMs: number;
      cpuMs: number;
      /** Appointments in the book at the end (all statuses). */
      appointments: number;
      timings: Record<string, number>;
    }
  >;
  /** Peak resident memory of the process over the whole run. */
  maxRssMb?: number;
}

/** Worker heap limit of `parallel` runs: the calibrated scenario's policies live in under 200 MB (docs/simulation.md). */
export const DEFAULT_WORKER_HEAP_MB = 384;

/** A policy's worker thread ran out of its heap limit (`SimulationOptions.workerHeapMb`). */
export class WorkerHeapError extends Error {
  constructor(
    readonly policy: string,
    readonly heapMb: number,
  ) {
    super(`the ${policy} policy ran out of its worker heap of ${heapMb} MB: raise --worker-heap-mb or run with --parallel 1`);
    this.name = 'WorkerHeapError';
  }
}

/** The enabled policies of a scenario, in report order (baseline, manual callback, Slotflow). */
export function policySetups(scenario: Scenario): PolicySetup[] {
  const out: PolicySetup[] = [];
  const p = scenario.policies;
  const baseline = p.baseline ?? { enabled: true, label: 'Fast Pass-like baseline', offerPolicy: undefined };
  if (baseline.enabled) {
    out.push({
      key: 'baseline',
      label: baseline.label,
      kind: 'backfill',
      offerPolicy: offerPolicySchema.parse(
        baseline.offerPolicy ?? { batchSize: 10, maxRounds: 1, expiryFraction: 1, minExpiryMinutes: 720, maxExpiryMinutes: 720, cascadeDepth: 1 },
      ),
    });
  }
  const manual = p.manualCallback;
  if (manual?.enabled) out.push({ key: 'manualCallback', label: manual.label, kind: 'manual', manual });
  const slotflow = p.slotflow ?? { enabled: true, label: 'Slotflow', offerPolicy: {} };
  if (slotflow.enabled)
    out.push({ key: 'slotflow', label: slotflow.label, kind: 'backfill', offerPolicy: offerPolicySchema.parse(slotflow.offerPolicy ?? {}) });
  return out;
}

type RuntimeEntry = SimulationReport['runtime'][string];

/**
 * Runs one policy of the scenario in this thread: its metrics and runtime figures (plain data: they
 * also cross from a worker). CPU time is the process's (one policy at a time), or with `inWorker` this
 * thread's own (GC helper threads not counted).
 */
export async function runPolicy(
  scenario: Scenario,
  setup: PolicySetup,
  seed: number,
  weeks: number,
  { registry = loadSimulatedApp(), inWorker = false }: { registry?: ReturnType<typeof loadSimulatedApp>; inWorker?: boolean } = {},
): Promise<{ metrics: PolicyMetrics; runtime: RuntimeEntry }> {
  const threadCpu = (): NodeJS.CpuUsage => (inWorker ? process.threadCpuUsage() : process.cpuUsage());
  const t0 = performance.now();
  const cpu0 = threadCpu();
  const world = new SimulatedWorld(scenario, setup, { registry, seed, weeks });
  const result = await world.run();
  const metrics = computeMetrics({
    key: setup.key,
    label: setup.label,
    startMs: result.startMs,
    endMs: result.endMs,
    log: result.log,
    appointments: result.appointments,
    waitlist: result.waitlist,
    capacityMinutesByWeek: result.capacityMinutesByWeek,
  });
  const elapsedMs = Math.round(performance.now() - t0);
  const cpu = threadCpu();
  const timings = Object.fromEntries(Object.entries(result.runtime.timings).map(([k, v]) => [k, Math.round(v)]));
  const cpuMs = Math.round((cpu.user - cpu0.user + cpu.system - cpu0.system) / 1000);
  return { metrics, runtime: { ...result.runtime, timings, elapsedMs, cpuMs, appointments: result.appointments.length } };
}

/**
 * Simulates the scenario under every enabled policy: one after the other in this process, or with
 * `parallel` > 1 in up to that many worker threads (simulation/policy-worker.ts; built code only),
 * each policy in a fresh thread with its own copy of the app. The outcomes are the same either way:
 * each policy's run depends only on the scenario, the seed and the policy.
 */
export async function simulateScenario(scenario: Scenario, options: SimulationOptions = {}): Promise<SimulationReport> {
  const seed = options.seed ?? scenario.seed;
  const weeks = options.weeks ?? scenario.weeks;
  const setups = policySetups(scenario);
  const results: { metrics: PolicyMetrics; runtime: RuntimeEntry }[] = new Array(setups.length);
  const parallel = Math.min(options.parallel ?? 1, setups.length);
  if (parallel > 1) {
    // Last policy first: Slotflow's run is the longest, the manual callback's the shortest, so the
    // lanes finish closer together (the report keeps the policies' order).
    const order = setups.map((_, i) => i).reverse();
    const heapMb = options.workerHeapMb ?? DEFAULT_WORKER_HEAP_MB;
    const workers = new Set<Worker>();
    const lane = async (): Promise<void> => {
      for (let i = order.shift(); i !== undefined; i = order.shift()) {
        const result = (results[i] = await runPolicyInWorker(scenario, i, seed, weeks, heapMb, setups[i]!.key, workers));
        options.onPolicyDone?.(result.metrics, result.runtime.elapsedMs);
      }
    };
    try {
      await Promise.all(Array.from({ length: parallel }, lane));
    } catch (e) {
      // One policy failed: the others' runs would be thrown away, so they stop now (and the process can exit).
      order.length = 0;
      await Promise.all([...workers].map((w) => w.terminate()));
      throw e;
    }
  } else {
    const registry = loadSimulatedApp();
    for (const [i, setup] of setups.entries()) {
      results[i] = await runPolicy(scenario, setup, seed, weeks, { registry });
      options.onPolicyDone?.(results[i].metrics, results[i].runtime.elapsedMs);
    }
  }
  const policies = results.map((r) => r.metrics);
  const runtime: SimulationReport['runtime'] = Object.fromEntries(setups.map((s, i) => [s.key, results[i]!.runtime]));
  return { scenario: scenario.name, seed, weeks, policies, ...comparisonOf(policies), runtime, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

/** Runs policy number `index` of the scenario in a worker thread whose old-generation heap is capped at `heapMb`. */
function runPolicyInWorker(
  scenario: Scenario,
  index: number,
  seed: number,
  weeks: number,
  heapMb: number,
  policy: string,
  workers: Set<Worker>,
): Promise<{ metrics: PolicyMetrics; runtime: RuntimeEntry }> {
  return new Promise((resolve, reject) => {
    // The worker runs built code: dist/simulation/policy-worker.js (also when this module is the TypeScript source, in tests).
    const entry = __filename.endsWith('.ts') ? join(__dirname, '..', 'dist', 'simulation', 'policy-worker.js') : join(__dirname, 'policy-worker.js');
    const worker = new Worker(entry, { workerData: { scenario, index, seed, weeks }, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
    workers.add(worker);
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      workers.delete(worker);
      f();
    };
    worker.once('message', (m: { metrics: PolicyMetrics; runtime: RuntimeEntry }) => settle(() => resolve(m)));
    worker.once('error', (e: Error & { code?: string }) =>
      settle(() => reject(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new WorkerHeapError(policy, heapMb) : e)),
    );
    worker.once('exit', (code) => settle(() => reject(new Error(`policy worker ${index} exited with code ${code} before answering`))));
  });
}

function comparisonOf(policies: PolicyMetrics[]): { comparison?: Comparison } {
  const baseline = policies.find((p) => p.policy === 'baseline');
  const slotflow = policies.find((p) => p.policy === 'slotflow');
  if (!baseline || !slotflow) return {};
  let longer = 0;
  let shorter = 0;
  let compared = 0;
  for (const [patientId, wait] of Object.entries(slotflow.urgentWaitByPatient)) {
    const base = baseline.urgentWaitByPatient[patientId];
    if (base === undefined) continue;
    compared++;
    // A quarter of an hour's tolerance (0.01 day): the same visit booked a few minutes apart is not a longer wait.
    if (wait > base + 0.01) longer++;
    else if (wait < base - 0.01) shorter++;
  }
  return {
    comparison: {
      refillRatio: baseline.refillRate && slotflow.refillRate !== null ? Number((slotflow.refillRate / baseline.refillRate).toFixed(2)) : null,
      smsPerFilledSlot: { slotflow: slotflow.smsPerFilledSlot, baseline: baseline.smsPerFilledSlot },
      urgentWaitingLonger: longer,
      urgentWaitingShorter: shorter,
      urgentCompared: compared,
    },
  };
}
