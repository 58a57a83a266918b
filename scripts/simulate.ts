/**
 * `npm run -s simulate -- <scenario.json> [--seed N] [--weeks W] [--parallel N] [--worker-heap-mb M] [--json] [--out report.json]`: runs
 * the clinic simulator (docs/simulation.md) under each policy of the scenario and prints a table
 * (or, with --json, the report as JSON). The report JSON and the plot (SVG) are written next to each
 * other: --out names the JSON (default: bench/results/simulate-<scenario>.json), the plot is the
 * same name with .svg.
 * Exit codes: 0 done, 2 invalid scenario (each bad field named, nothing run), 3 a policy's worker ran out of
 * its heap (--parallel), 64 usage error.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { PolicyMetrics } from '../simulation/metrics';
import { renderPlot } from '../simulation/plot';
import { parseScenario, ScenarioError } from '../simulation/scenario';
import { simulateScenario, type SimulationReport, WorkerHeapError } from '../simulation/simulate';
import { type CliIo, processIo, runAsMain, UsageError } from './cli';

const USAGE = `usage: npm run -s simulate -- <scenario.json> [--seed N] [--weeks W] [--parallel N] [--worker-heap-mb M] [--json] [--out report.json]
(writes the report JSON and, beside it, the plot as .svg; --json also prints the report on stdout)`;

interface Args {
  file: string;
  seed?: number;
  weeks?: number;
  parallel?: number;
  workerHeapMb?: number;
  json: boolean;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  let file: string | undefined;
  const args: Partial<Args> = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const integer = (min: number, max: number) => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${a} must be an integer from ${min} to ${max}`);
      return n;
    };
    if (a === '--seed') args.seed = integer(0, 2 ** 31 - 1);
    else if (a === '--weeks') args.weeks = integer(1, 52);
    else if (a === '--parallel') args.parallel = integer(1, 3);
    else if (a === '--worker-heap-mb') args.workerHeapMb = integer(16, 65_536);
    else if (a === '--json') args.json = true;
    else if (a === '--out') args.out = value();
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (file === undefined) file = a;
    else throw new UsageError('only one scenario file');
  }
  if (!file) throw new UsageError('a scenario file is required');
  return { ...args, file } as Args;
}

/**
 * Without --parallel: two policies at a time when the machine has two cores or more (each worker's heap
 * is capped, so two stay under 1 GiB on the calibrated scenario; docs/simulation.md), else one.
 */
export function defaultParallel(cores = availableParallelism()): number {
  return cores >= 2 ? 2 : 1;
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)} %`);
const num = (v: number | null) => (v === null ? '-' : String(v));

/** The table printed without --json: one column per policy. */
export function formatTable(report: SimulationReport): string {
  const rows: [string, (p: PolicyMetrics) => string][] = [
    ['freed slots', (p) => String(p.freedSlots)],
    ['refilled before start by the policy', (p) => `${p.refilledBeforeStart} (${pct(p.refillRate)})`],
    ['... by anyone (incl. new bookings)', (p) => `${p.refilledAnyBeforeStart} (${pct(p.refillRateAny)})`],
    ['time to fill, median / p90 (h)', (p) => `${num(p.timeToFillHours.median)} / ${num(p.timeToFillHours.p90)}`],
    ['move-ups; median days sooner', (p) => `${p.moveUps}; ${num(p.daysSoonerMedian)}`],
    ['offers (texts or calls); accepted', (p) => `${p.offers}; ${pct(p.offerAcceptanceRate)}`],
    ['offers per filled slot', (p) => num(p.offersPerFilledSlot)],
    ['offer SMS per filled slot', (p) => num(p.smsPerFilledSlot)],
    ['no-shows', (p) => String(p.noShows)],
    ['idle provider hours', (p) => num(p.idleProviderHours)],
    ['urgent wait days, median / p90 / max', (p) => `${num(p.urgentWaitDays.median)} / ${num(p.urgentWaitDays.p90)} / ${num(p.urgentWaitDays.max)}`],
    ['waitlisted offered at least once', (p) => pct(p.offeredAtLeastOnceShare)],
  ];
  const header = ['', ...report.policies.map((p) => p.label)];
  const body = rows.map(([name, f]) => [name, ...report.policies.map(f)]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const out = [`${report.scenario}: ${report.weeks} weeks, seed ${report.seed}`, line(header), ...body.map(line)];
  const c = report.comparison;
  if (c) {
    out.push(
      `Slotflow / baseline refill: ${num(c.refillRatio)}x; urgent patients seen later under Slotflow than under the baseline: ${c.urgentWaitingLonger} of ${c.urgentCompared} (sooner: ${c.urgentWaitingShorter})`,
    );
  }
  return out.join('\n') + '\n';
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err.write(`simulate: ${e.message}\n${USAGE}\n`);
      return 64;
    }
    throw e;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(args.file, 'utf8'));
  } catch (e) {
    io.err.write(`simulate: cannot read ${args.file} as JSON: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  let scenario;
  try {
    scenario = parseScenario(doc);
  } catch (e) {
    if (e instanceof ScenarioError) {
      io.err.write(`simulate: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let report: SimulationReport;
  try {
    report = await simulateScenario(scenario, {
      ...(args.seed !== undefined ? { seed: args.seed } : {}),
      ...(args.weeks !== undefined ? { weeks: args.weeks } : {}),
      parallel: args.parallel ?? defaultParallel(),
      ...(args.workerHeapMb !== undefined ? { workerHeapMb: args.workerHeapMb } : {}),
      onPolicyDone: (m, ms) => io.err.write(`simulate: ${m.label} done in ${(ms / 1000).toFixed(1)} s\n`),
    });
  } catch (e) {
    if (e instanceof WorkerHeapError) {
      io.err.write(`simulate: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
  const out = resolve(args.out ?? `bench/results/simulate-${scenario.name}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const { policies, ...rest } = report;
  // Per-patient waits feed the comparison; the file keeps the summary.
  const written = { ...rest, policies: policies.map(({ urgentWaitByPatient: _u, ...p }) => p) };
  writeFileSync(out, JSON.stringify(written, null, 2) + '\n');
  const svg = out.replace(/\.json$/, '') + '.svg';
  writeFileSync(svg, renderPlot(report.policies, `${scenario.name}: ${report.weeks} weeks, seed ${report.seed}`));
  if (args.json) io.out.write(JSON.stringify(written, null, 2) + '\n');
  else io.out.write(formatTable(report));
  io.err.write(`simulate: wrote ${out} and ${svg}\n`);
  return 0;
}

runAsMain(module, 'simulate', main);
