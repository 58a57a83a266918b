/**
 * `npm run bench:optimizer-heldout [-- --large] [-- --only text] [-- --write-fixtures]`: the optimizer on the
 * held-out family (testkit/optimizer-heldout.ts) against references measured in the same run: HiGHS's own MIP
 * (default options, relative gap 1e-4) and plain glpk.js MIP on the same pairs, and greedy; ours is checked
 * against the stored lexicographic optima (bench/fixtures/optimizer-heldout.json, HiGHS two-phase, gap 0).
 * --write-fixtures recomputes those optima instead. Every (case, method) runs in a fresh child process.
 * Prints a table and writes bench/results/optimizer-heldout.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { buildModel, loadGlpk, optimizeAssignment, parseInstance } from '../domain/optimizer';
import { HELD_OUT_CASES } from '../testkit/optimizer-heldout';
import { loadHighs, solveBigMDefault, solveLexicographic } from './optimizer-highs';
import { solvePlainMip } from '../testkit/optimizer-plain';

type Method = 'ours' | 'ours-gap' | 'greedy' | 'plain' | 'highs' | 'lex';

/** The gap of the target rows ("proven optimal, or within 0.01 % with a proven bound"), and HiGHS's default. */
const TARGET_GAP = 1e-4;
const FIXTURES = join(__dirname, '..', '..', 'bench', 'fixtures', 'optimizer-heldout.json');

interface Measurement {
  ms: number;
  cpuMs: number;
  warmMedianMs?: number;
  warmCpuMs?: number;
  status: string;
  score: number | null;
  mustPlaced: number | null;
  gap?: number | null;
  bound?: number | null;
  method?: string;
  pairs: number;
  maxRssMiB: number;
}

interface Fixture {
  label: string;
  pairs: number;
  mustPlaced: number;
  score: number;
  highsStatus: string;
  ms: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function child(index: number, method: Method, limitSeconds: number): Promise<Measurement> {
  const c = HELD_OUT_CASES[index]!;
  const instance = c.make();
  const glpk = await loadGlpk();
  const highs = method === 'highs' || method === 'lex' ? await loadHighs() : undefined;
  const cpu0 = process.cpuUsage();
  const cpuMs = (from = cpu0): number => {
    const u = process.cpuUsage(from);
    return (u.user + u.system) / 1000;
  };
  const rss = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
  if (method === 'plain' || method === 'highs' || method === 'lex') {
    const t0 = performance.now();
    const model = buildModel(parseInstance(instance));
    const r =
      method === 'plain'
        ? (() => {
            const x = solvePlainMip(model, glpk, limitSeconds);
            return { status: x.status, score: x.objective, mustPlaced: x.mustPlaced };
          })()
        : method === 'highs'
          ? solveBigMDefault(highs!, model, limitSeconds)
          : solveLexicographic(highs!, model, limitSeconds);
    const ms = performance.now() - t0;
    const cpu = cpuMs();
    // Plain glpk warm as well on the short cases (the absence-day target compares warm with warm).
    let warm: Pick<Measurement, 'warmMedianMs' | 'warmCpuMs'> = {};
    if (method === 'plain' && c.warmRuns && ms < 2_000) {
      const run = (): unknown => solvePlainMip(buildModel(parseInstance(instance)), glpk, limitSeconds);
      for (let i = 0; i < c.warmRuns; i++) run();
      const times: number[] = [];
      const w0 = process.cpuUsage();
      for (let i = 0; i < c.warmRuns; i++) {
        const t = performance.now();
        run();
        times.push(performance.now() - t);
      }
      warm = { warmMedianMs: median(times), warmCpuMs: cpuMs(w0) / c.warmRuns };
    }
    return { ms, cpuMs: cpu, ...warm, status: r.status, score: r.score, mustPlaced: r.mustPlaced, pairs: model.pairCand.length, maxRssMiB: rss() };
  }
  const options = { timeLimitMs: limitSeconds * 1000, greedyOnly: method === 'greedy', ...(method === 'ours-gap' ? { mipGap: TARGET_GAP } : {}) };
  const t0 = performance.now();
  const result = await optimizeAssignment(instance, options);
  const ms = performance.now() - t0;
  const cpu = cpuMs();
  let warm: Pick<Measurement, 'warmMedianMs' | 'warmCpuMs'> = {};
  // Warm runs only where a run is short (a time-limited exact run would repeat its limit 2 x warmRuns times).
  if (c.warmRuns && method !== 'greedy' && ms < 15_000) {
    for (let i = 0; i < c.warmRuns; i++) await optimizeAssignment(instance, options);
    const times: number[] = [];
    const w0 = process.cpuUsage();
    for (let i = 0; i < c.warmRuns; i++) {
      const t = performance.now();
      await optimizeAssignment(instance, options);
      times.push(performance.now() - t);
    }
    warm = { warmMedianMs: median(times), warmCpuMs: cpuMs(w0) / c.warmRuns };
  }
  return {
    ms,
    cpuMs: cpu,
    ...warm,
    status: result.status,
    score: result.objective,
    mustPlaced: result.mustPlace.placed,
    gap: result.gap,
    bound: result.bound,
    method: result.method,
    pairs: result.stats.eligiblePairs,
    maxRssMiB: rss(),
  };
}

const fmt = (ms: number | undefined): string => (ms === undefined ? '-' : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`);

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    process.stdout.write(JSON.stringify(await child(Number(argv[1]), argv[2] as Method, Number(argv[3]))));
    return;
  }
  const large = argv.includes('--large');
  const writeFixtures = argv.includes('--write-fixtures');
  const onlyArg = argv.indexOf('--only');
  const only = onlyArg >= 0 ? argv[onlyArg + 1] : undefined;
  const limitArg = argv.indexOf('--reference-limit');
  const referenceLimit = limitArg >= 0 ? Number(argv[limitArg + 1]) : 120;
  // --methods ours-gap,highs: only these methods (the others are reported as not run).
  const methodsArg = argv.indexOf('--methods');
  const methods = methodsArg >= 0 ? new Set(argv[methodsArg + 1]!.split(',')) : undefined;
  const skipped: Measurement = { ms: NaN, cpuMs: NaN, status: 'not run', score: null, mustPlaced: null, pairs: 0, maxRssMiB: 0 };
  const measure = (i: number, method: Method, limitSeconds: number): Measurement =>
    methods && !methods.has(method) && method !== 'lex' ? skipped : measureChild(i, method, limitSeconds);
  const measureChild = (i: number, method: Method, limitSeconds: number): Measurement =>
    JSON.parse(
      execFileSync(process.execPath, [__filename, '--child', String(i), method, String(limitSeconds)], {
        encoding: 'utf8',
        maxBuffer: 1 << 22,
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    ) as Measurement;
  const selected = HELD_OUT_CASES.map((c, i) => ({ c, i })).filter(({ c }) => (large || c.small) && (!only || c.label.includes(only)));
  const loadBefore = loadavg();
  const startedAt = new Date().toISOString();

  if (writeFixtures) {
    const existing: Fixture[] = existsSync(FIXTURES) ? (JSON.parse(readFileSync(FIXTURES, 'utf8')) as { cases: Fixture[] }).cases : [];
    const byLabel = new Map(existing.map((f) => [f.label, f]));
    for (const { c, i } of selected) {
      const r = measure(i, 'lex', 1800);
      console.log(`${c.label}: ${r.status} must ${r.mustPlaced} score ${r.score} in ${fmt(r.ms)}`);
      if (r.status !== 'optimal') throw new Error(`no proven optimum for ${c.label}`);
      byLabel.set(c.label, { label: c.label, pairs: r.pairs, mustPlaced: r.mustPlaced!, score: r.score!, highsStatus: r.status, ms: Math.round(r.ms) });
    }
    mkdirSync(join(FIXTURES, '..'), { recursive: true });
    const cases = HELD_OUT_CASES.map((c) => byLabel.get(c.label)).filter((f): f is Fixture => f !== undefined);
    writeFileSync(
      FIXTURES,
      `${JSON.stringify({ reference: 'HiGHS 1.15.3 (npm highs), two-phase lexicographic MIP (must-place count, then score), mip_rel_gap 0', generatedAt: startedAt, cases }, null, 2)}\n`,
    );
    console.log(`wrote ${FIXTURES}`);
    return;
  }

  const fixtures = existsSync(FIXTURES)
    ? new Map((JSON.parse(readFileSync(FIXTURES, 'utf8')) as { cases: Fixture[] }).cases.map((f) => [f.label, f]))
    : new Map<string, Fixture>();
  console.log(
    `Held-out optimizer bench; ${cpus().length} CPUs, load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}; references limited to ${referenceLimit} s`,
  );
  console.log(
    'case | pairs | optimum (must, score) | ours exact: cold / warm, status | ours gap 1e-4: cold / warm, status, gap | greedy % | HiGHS default MIP | plain glpk MIP (cold / warm) | HiGHS / ours(1e-4, warm) | glpk / ours exact (warm where both)',
  );
  const rows: Record<string, unknown>[] = [];
  for (const { c, i } of selected) {
    const fixture = fixtures.get(c.label);
    const loadAtStart = loadavg();
    const ours = measure(i, 'ours', 10); // the CLI's default limit
    const oursGap = measure(i, 'ours-gap', 60);
    const greedy = measure(i, 'greedy', 60);
    const highs = measure(i, 'highs', referenceLimit);
    const plain = measure(i, 'plain', referenceLimit);
    const oursWarm = ours.warmMedianMs ?? ours.ms;
    const gapWarm = oursGap.warmMedianMs ?? oursGap.ms;
    const matches = (m: Measurement): boolean | null =>
      fixture && m !== skipped ? m.mustPlaced === fixture.mustPlaced && m.score !== null && Math.abs(m.score - fixture.score) <= 2e-3 : null; // scores are rounded to 3 decimals
    const row = {
      label: c.label,
      loadAverage: { start: loadAtStart, end: loadavg() },
      pairs: ours.pairs || oursGap.pairs,
      optimum: fixture ? { mustPlaced: fixture.mustPlaced, score: fixture.score } : null,
      ours,
      oursMatchesOptimum: matches(ours),
      oursGap,
      oursGapWithinTarget:
        fixture && oursGap.score !== null ? (fixture.score - oursGap.score) / Math.max(1e-9, Math.abs(fixture.score)) <= TARGET_GAP + 1e-12 : null,
      greedy,
      greedyPctOfOptimum: fixture && greedy.score !== null ? (100 * greedy.score) / fixture.score : null,
      highs,
      plain,
      ratioHighsOverOursGap: highs.ms / gapWarm,
      ratioHighsOverOursGapCpu: highs.cpuMs / (oursGap.warmCpuMs ?? oursGap.cpuMs),
      ratioHighsOverOursExact: highs.ms / oursWarm,
      ratioPlainOverOurs: (plain.warmMedianMs ?? plain.ms) / oursWarm,
    };
    rows.push(row);
    console.log(
      [
        c.label,
        row.pairs,
        fixture ? `${fixture.mustPlaced}, ${fixture.score}` : '-',
        `${fmt(ours.ms)} / ${fmt(ours.warmMedianMs)} ${ours.status} [${ours.method}] ${ours.score}${row.oursMatchesOptimum === false ? ' (NOT the optimum)' : ''}`,
        `${fmt(oursGap.ms)} / ${fmt(oursGap.warmMedianMs)} (CPU ${fmt(oursGap.warmCpuMs)}) ${oursGap.status} gap ${oursGap.gap === null || oursGap.gap === undefined ? '-' : (oursGap.gap * 100).toFixed(4)} %`,
        row.greedyPctOfOptimum === null ? '-' : `${row.greedyPctOfOptimum.toFixed(2)} %`,
        `${fmt(highs.ms)} (CPU ${fmt(highs.cpuMs)}) ${highs.status} ${highs.score}`,
        `${fmt(plain.ms)}${plain.warmMedianMs !== undefined ? ` / warm ${fmt(plain.warmMedianMs)}` : ''} ${plain.status} ${plain.score}`,
        `${row.ratioHighsOverOursGap.toFixed(1)}x wall, ${(highs.cpuMs / (oursGap.warmCpuMs ?? oursGap.cpuMs)).toFixed(1)}x CPU`,
        `${row.ratioPlainOverOurs.toFixed(1)}x`,
        `load ${loadAtStart.map((l) => l.toFixed(1)).join(' ')} -> ${row.loadAverage.end.map((l) => l.toFixed(1)).join(' ')}`,
      ].join(' | '),
    );
  }
  const out = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench:optimizer-heldout${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    node: process.version,
    cpus: cpus().length,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
    referenceLimitSeconds: referenceLimit,
    notes:
      'Fresh child process per (case, method); solvers loaded before timing. ours = optimizeAssignment (exact: mipGap 0, limit 10 s as the CLI default; gap: mipGap 1e-4, limit 60 s), warm = median of warmRuns after as many unmeasured runs. HiGHS = its MIP with default options on the big-M model (cold, one run); plain = one glpk.js MIP over all pairs. Optima: bench/fixtures/optimizer-heldout.json.',
    rows,
  };
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, only ? 'optimizer-heldout-partial.json' : 'optimizer-heldout.json'), `${JSON.stringify(out, null, 2)}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
