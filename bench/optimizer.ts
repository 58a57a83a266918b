/**
 * `npm run bench:optimizer [-- --large] [-- --plain-limit S] [-- --only label]`: plain glpk.js MIP vs our
 * optimizer vs greedy on seeded instances; --large adds the one-clinic and the 3,000 x 15,000 rows; --only
 * runs one row (exact label, else every label containing the text) and writes optimizer-partial.json. Every
 * (size, method) runs in a fresh child process, so timings and peak memory (maxRSS) are its own. Prints a
 * table and writes bench/results/optimizer.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { buildModel, loadGlpk, optimizeAssignment, parseInstance, type OptimizationInstance } from '../domain/optimizer';
import { ParallelSlotOptimizer } from '../functions/adapters/optimizer/pool';
import { absenceInstance, freedSlotInstance, generateInstance } from '../testkit/optimizer-instances';
import { solvePlainMip } from '../testkit/optimizer-plain';

interface Size {
  label: string;
  make: () => OptimizationInstance;
  large?: boolean;
  /** After the cold run, this many warm-up runs, then this many measured warm runs (latency-sensitive cases and the 1,000 x 5,000 target). */
  warmRuns?: number;
  /** The same for the plain MIP (so that warm is compared with warm). */
  plainWarmRuns?: number;
  /** Also measure ours on two threads (ParallelSlotOptimizer: components split between the caller and one worker). */
  parallel?: boolean;
}

const SIZES: Size[] = [
  { label: 'freed slot: 500 waitlist x 1 slot', make: () => freedSlotInstance(1, 500), warmRuns: 20 },
  { label: 'absence day: 30 displaced x 1,000 slots, side', make: () => absenceInstance(2, 30, 1000), warmRuns: 20 },
  { label: '250 x 1,000 pure', make: () => generateInstance({ candidates: 250, slots: 1000, sideConstraints: false, seed: 3 }) },
  { label: '250 x 1,000 side', make: () => generateInstance({ candidates: 250, slots: 1000, sideConstraints: true, seed: 3 }) },
  { label: '500 x 2,000 pure', make: () => generateInstance({ candidates: 500, slots: 2000, sideConstraints: false, seed: 4 }) },
  { label: '500 x 2,000 side', make: () => generateInstance({ candidates: 500, slots: 2000, sideConstraints: true, seed: 4 }) },
  { label: '1,000 x 5,000 pure', make: () => generateInstance({ candidates: 1000, slots: 5000, sideConstraints: false, seed: 5 }) },
  {
    label: '1,000 x 5,000 side',
    make: () => generateInstance({ candidates: 1000, slots: 5000, sideConstraints: true, seed: 5 }),
    warmRuns: 3,
    plainWarmRuns: 1,
    parallel: true,
  },
  {
    label: '1,000 x 5,000 side, one clinic (not decomposable)',
    make: () => generateInstance({ candidates: 1000, slots: 5000, sideConstraints: true, seed: 5, slotsPerClinic: 5000 }),
    large: true,
  },
  { label: '3,000 x 15,000 pure', make: () => generateInstance({ candidates: 3000, slots: 15000, sideConstraints: false, seed: 6 }), large: true },
  {
    label: '3,000 x 15,000 side',
    make: () => generateInstance({ candidates: 3000, slots: 15000, sideConstraints: true, seed: 6 }),
    large: true,
    parallel: true,
  },
];

type Method = 'plain' | 'ours' | 'ours2t' | 'greedy';

interface Measurement {
  ms: number;
  /** CPU time of the process over the timed region (user + system): less sensitive to other load on the machine. */
  cpuMs: number;
  objective: number | null;
  status: string;
  gap?: number | null;
  mustPlaced?: number | null;
  warmMedianMs?: number;
  /** Mean CPU time of the warm runs. */
  warmCpuMs?: number;
  maxRssMiB: number;
  pairs: number;
  components?: number;
  method?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Child process: one method on one size. glpk is loaded before the clock starts (a worker keeps it loaded). */
async function child(index: number, method: Method, plainLimitSeconds: number): Promise<Measurement> {
  const size = SIZES[index]!;
  const instance = size.make();
  const glpk = await loadGlpk();
  const maxRssMiB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
  const cpu0 = process.cpuUsage();
  const cpuMs = (): number => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1000;
  };
  if (method === 'plain') {
    const t0 = performance.now();
    const model = buildModel(parseInstance(instance));
    const plain = solvePlainMip(model, glpk, plainLimitSeconds);
    const ms = performance.now() - t0;
    const cpu = cpuMs();
    let warm: Pick<Measurement, 'warmMedianMs' | 'warmCpuMs'> = {};
    if (size.plainWarmRuns) {
      for (let i = 0; i < size.plainWarmRuns; i++) solvePlainMip(buildModel(parseInstance(instance)), glpk, plainLimitSeconds);
      const times: number[] = [];
      const warmCpu0 = process.cpuUsage();
      for (let i = 0; i < size.plainWarmRuns; i++) {
        const t = performance.now();
        solvePlainMip(buildModel(parseInstance(instance)), glpk, plainLimitSeconds);
        times.push(performance.now() - t);
      }
      const c = process.cpuUsage(warmCpu0);
      warm = { warmMedianMs: median(times), warmCpuMs: (c.user + c.system) / 1000 / size.plainWarmRuns };
    }
    return {
      ...warm,
      ms,
      cpuMs: cpu,
      objective: plain.objective,
      status:
        plain.status === 'optimal'
          ? 'optimal'
          : plain.status === 'feasible'
            ? `time limit ${plainLimitSeconds} s, feasible`
            : `no solution in ${plainLimitSeconds} s`,
      mustPlaced: plain.mustPlaced,
      maxRssMiB: maxRssMiB(),
      pairs: model.pairCand.length,
    };
  }
  // ours2t: the helper worker is started and glpk loaded on both threads before the clock starts (as in a
  // long-lived worker); CPU time then counts both threads.
  const parallel = method === 'ours2t' ? new ParallelSlotOptimizer() : undefined;
  if (parallel) await parallel.start();
  const run = () =>
    parallel ? parallel.assign(instance, { timeLimitMs: 60_000 }) : optimizeAssignment(instance, { timeLimitMs: 60_000, greedyOnly: method === 'greedy' });
  const t0 = performance.now();
  const result = await run();
  const ms = performance.now() - t0;
  const cpu = cpuMs();
  let warmMedianMs: number | undefined;
  let warmCpuMs: number | undefined;
  if (size.warmRuns) {
    // Steady state, as in a long-lived worker: as many unmeasured runs first (JIT warm-up), then the measured ones.
    for (let i = 0; i < size.warmRuns; i++) await run();
    const times: number[] = [];
    const warmCpu0 = process.cpuUsage();
    for (let i = 0; i < size.warmRuns; i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    const c = process.cpuUsage(warmCpu0);
    warmCpuMs = (c.user + c.system) / 1000 / size.warmRuns;
    warmMedianMs = median(times);
  }
  await parallel?.close();
  return {
    ms,
    cpuMs: cpu,
    objective: result.objective,
    status: result.status,
    gap: result.gap,
    mustPlaced: result.mustPlace.placed,
    ...(warmMedianMs !== undefined ? { warmMedianMs, warmCpuMs } : {}),
    maxRssMiB: maxRssMiB(),
    pairs: result.stats.eligiblePairs,
    components: result.stats.components,
    method: result.method,
  };
}

function fmtS(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    const m = await child(Number(argv[1]), argv[2] as Method, Number(argv[3]));
    process.stdout.write(JSON.stringify(m));
    return;
  }
  const large = argv.includes('--large');
  const limitArg = argv.indexOf('--plain-limit');
  const plainLimitSeconds = limitArg >= 0 ? Number(argv[limitArg + 1]) : 60;
  const onlyArg = argv.indexOf('--only');
  const only = onlyArg >= 0 ? argv[onlyArg + 1] : undefined;
  const loadBefore = loadavg();
  const startedAt = new Date().toISOString();
  const rows: Record<string, unknown>[] = [];
  console.log(
    `Optimizer bench: plain glpk.js MIP (limit ${plainLimitSeconds} s) vs ours vs greedy; ${cpus().length} CPUs, load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`,
  );
  console.log(
    'size | pairs | comps | plain MIP wall / cpu (warm) | plain obj | ours wall / cpu (warm wall / cpu) | ours status | ours obj | greedy wall | greedy obj (% of ours) | speed-up wall / cpu (warm) | ours maxRSS',
  );
  for (let i = 0; i < SIZES.length; i++) {
    const size = SIZES[i]!;
    if (size.large && !large) continue;
    // --only: the label itself when one matches exactly, else every label containing the text.
    if (only && (SIZES.some((x) => x.label === only) ? size.label !== only : !size.label.includes(only))) continue;
    const measure = (method: Method): Measurement =>
      JSON.parse(
        execFileSync(process.execPath, [__filename, '--child', String(i), method, String(plainLimitSeconds)], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
          stdio: ['ignore', 'pipe', 'inherit'],
        }),
      ) as Measurement;
    const ours = measure('ours');
    const ours2t = size.parallel ? measure('ours2t') : undefined;
    const greedy = measure('greedy');
    const plain = measure('plain');
    const speedup = plain.ms / ours.ms;
    const cpuSpeedup = plain.cpuMs / ours.cpuMs;
    // Warm against warm where both were measured (steady state of a long-lived worker).
    const warmSpeedup = plain.warmMedianMs !== undefined && ours.warmMedianMs !== undefined ? plain.warmMedianMs / ours.warmMedianMs : undefined;
    const greedyPct = ours.objective ? (100 * (greedy.objective ?? 0)) / ours.objective : null;
    const parallelSpeedup = ours2t ? plain.ms / ours2t.ms : undefined;
    const parallelWarmSpeedup = ours2t?.warmMedianMs !== undefined && plain.warmMedianMs !== undefined ? plain.warmMedianMs / ours2t.warmMedianMs : undefined;
    rows.push({
      size: size.label,
      pairs: ours.pairs,
      components: ours.components,
      plain,
      ours,
      ...(ours2t ? { oursTwoThreads: ours2t, parallelSpeedup, parallelWarmSpeedup } : {}),
      greedy,
      speedup,
      cpuSpeedup,
      warmSpeedup,
      greedyPctOfOurs: greedyPct,
    });
    console.log(
      [
        size.label,
        ours.pairs,
        ours.components,
        `${fmtS(plain.ms)} / ${fmtS(plain.cpuMs)}${plain.warmMedianMs !== undefined ? ` (warm ${fmtS(plain.warmMedianMs)} / ${fmtS(plain.warmCpuMs!)})` : ''} (${plain.status})`,
        plain.objective ?? '-',
        `${fmtS(ours.ms)} / ${fmtS(ours.cpuMs)}${ours.warmMedianMs !== undefined ? ` (warm ${fmtS(ours.warmMedianMs)} / ${fmtS(ours.warmCpuMs!)})` : ''}`,
        `${ours.status}${ours.gap ? ` gap ${(ours.gap * 100).toFixed(3)} %` : ''} [${ours.method}]`,
        ours.objective,
        fmtS(greedy.ms),
        `${greedy.objective} (${greedyPct?.toFixed(2)} %)`,
        `${speedup.toFixed(1)}x / ${cpuSpeedup.toFixed(1)}x${warmSpeedup !== undefined ? ` (warm ${warmSpeedup.toFixed(1)}x)` : ''}`,
        `${ours.maxRssMiB} MiB`,
      ].join(' | '),
    );
    if (ours2t) {
      console.log(
        `  ours on 2 threads: ${fmtS(ours2t.ms)} / CPU ${fmtS(ours2t.cpuMs)}${ours2t.warmMedianMs !== undefined ? ` (warm ${fmtS(ours2t.warmMedianMs)} / CPU ${fmtS(ours2t.warmCpuMs!)})` : ''} | ${ours2t.status} | ${ours2t.objective} | speed-up ${parallelSpeedup!.toFixed(1)}x${parallelWarmSpeedup !== undefined ? ` (warm ${parallelWarmSpeedup.toFixed(1)}x)` : ''} | ${ours2t.maxRssMiB} MiB`,
      );
    }
  }
  const out = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench:optimizer${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    totalMemMiB: Math.round(totalmem() / 1048576),
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
    plainLimitSeconds,
    largeIncluded: large,
    notes:
      'Each (size, method) ran in a fresh child process; glpk.js loaded before timing; "warm" = median of measured runs after as many unmeasured ones in the same process. "ours" = optimizeAssignment (validation, pairs, decomposition, slot groups, greedy, Hungarian, LP column generation priced by the assignment relaxation, MIP where fractional). "plain" = one glpk MIP over all eligible pairs and side constraints (pairs built by the same code). Times are wall clock on a shared machine.',
    rows,
  };
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  // A partial run (--only) does not replace the full table's results.
  const file = only ? 'optimizer-partial.json' : 'optimizer.json';
  writeFileSync(join(dir, file), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${join('bench', 'results', file)}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
