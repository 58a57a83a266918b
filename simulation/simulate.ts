/**
 * Runs a scenario under each enabled policy on the same random stream and compares the outcomes
 * (docs/simulation.md). The policies differ only in how freed slots are refilled; demand, patients
 * and their answers are the same draws in every run.
 */
import { offerPolicySchema } from '../domain/model';
import { loadSimulatedApp } from './app';
import { computeMetrics, type PolicyMetrics } from './metrics';
import type { Scenario } from './scenario';
import { SimulatedWorld, type PolicySetup } from './world';

export interface SimulationOptions {
  seed?: number;
  weeks?: number;
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
      /** Wall time, and CPU time of this process (user + system): the machine is shared, CPU time is the steadier figure. */
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

/** Simulates the scenario under every enabled policy, one after the other in this process. */
export async function simulateScenario(scenario: Scenario, options: SimulationOptions = {}): Promise<SimulationReport> {
  const registry = loadSimulatedApp();
  const seed = options.seed ?? scenario.seed;
  const weeks = options.weeks ?? scenario.weeks;
  const policies: PolicyMetrics[] = [];
  const runtime: SimulationReport['runtime'] = {};
  for (const setup of policySetups(scenario)) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
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
    const cpu = process.cpuUsage(cpu0);
    policies.push(metrics);
    const timings = Object.fromEntries(Object.entries(result.runtime.timings).map(([k, v]) => [k, Math.round(v)]));
    runtime[setup.key] = { ...result.runtime, timings, elapsedMs, cpuMs: Math.round((cpu.user + cpu.system) / 1000), appointments: result.appointments.length };
    options.onPolicyDone?.(metrics, elapsedMs);
  }
  return { scenario: scenario.name, seed, weeks, policies, ...comparisonOf(policies), runtime, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
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
