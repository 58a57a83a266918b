/**
 * `npx node dist/bench/optimizer-profile.js [label-part] [runs] [mipGap]`: one held-out case, solved warm
 * `runs` times in this process (after one unmeasured run), with the time of every glpk call and of
 * model building, validation and the rest. A diagnosis tool, not a benchmark (no references).
 */
import { glpkWasmOf, loadGlpk, parseInstance, provideGlpk, solveValidInstance, type GlpkWasm } from '../domain/optimizer';
import type { GLPK } from '../domain/optimizer/glpk';
import { HELD_OUT_CASES } from '../testkit/optimizer-heldout';

async function main(argv: string[]): Promise<void> {
  const label = argv[0] ?? 'practice-wide 1,000';
  const runs = Number(argv[1] ?? 3);
  const mipGap = Number(argv[2] ?? 1e-4);
  const c = HELD_OUT_CASES.find((x) => x.label.includes(label));
  if (!c) throw new Error(`no case ${label}`);
  const instance = c.make();
  const glpk = await loadGlpk();
  const calls: { kind: string; cols: number; rows: number; ms: number }[] = [];
  const timed: GLPK = { ...glpk } as GLPK;
  timed.solve = ((lp: Parameters<GLPK['solve']>[0], opts: Parameters<GLPK['solve']>[1]) => {
    const t = performance.now();
    const r = glpk.solve(lp, opts);
    calls.push({ kind: lp.binaries ? 'mip' : 'lp', cols: lp.objective.vars.length, rows: lp.subjectTo?.length ?? 0, ms: performance.now() - t });
    return r;
  }) as GLPK['solve'];
  const api = glpkWasmOf(glpk);
  if (api && !process.env.OPT_COLD) {
    const timedApi: GlpkWasm = { ...api };
    timedApi.simplex = (p, msg, tm, pre) => {
      const t = performance.now();
      const r = api.simplex(p, msg, tm, pre);
      calls.push({ kind: 'lp-inc', cols: 0, rows: 0, ms: performance.now() - t });
      return r;
    };
    provideGlpk(timed, timedApi);
  }
  for (let run = 0; run <= runs; run++) {
    calls.length = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const valid = parseInstance(instance);
    const tParse = performance.now() - t0;
    const r = solveValidInstance(valid, timed, { timeLimitMs: 60_000, mipGap, startedAt: t0 });
    const ms = performance.now() - t0;
    const u = process.cpuUsage(cpu0);
    const glpkMs = calls.reduce((a, x) => a + x.ms, 0);
    console.log(
      `${run === 0 ? 'cold' : `warm ${run}`}: ${ms.toFixed(0)} ms wall, ${((u.user + u.system) / 1000).toFixed(0)} ms CPU; ${r.status} ${r.objective} gap ${r.gap}; parse ${tParse.toFixed(0)} ms, model ${r.stats.modelMs.toFixed(0)} ms, glpk ${glpkMs.toFixed(0)} ms [${calls.map((x) => `${x.kind} ${x.cols}x${x.rows} ${x.ms.toFixed(0)}`).join(', ')}], other ${(ms - tParse - r.stats.modelMs - glpkMs).toFixed(0)} ms`,
    );
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
