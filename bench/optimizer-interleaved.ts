/**
 * `npx node dist/bench/optimizer-interleaved.js [label-part] [rounds]`: ours (optimizeAssignment, exact, the
 * CLI's defaults) and the plain glpk.js MIP (testkit/optimizer-plain.ts, parse and model building included)
 * on one held-out case, alternating in one process: 60 runs each per round, median of the last 40. Both
 * see the same machine load within milliseconds, which separate child processes (the held-out bench) do
 * not on a shared machine; both also share the process's JIT and WASM state.
 */
import { loadavg } from 'node:os';
import { buildModel, loadGlpk, optimizeAssignment, parseInstance } from '../domain/optimizer';
import { HELD_OUT_CASES } from '../testkit/optimizer-heldout';
import { solvePlainMip } from '../testkit/optimizer-plain';

async function main(argv: string[]): Promise<void> {
  const label = argv[0] ?? 'absence';
  const rounds = Number(argv[1] ?? 3);
  const c = HELD_OUT_CASES.find((x) => x.label.includes(label));
  if (!c) throw new Error(`no case ${label}`);
  const instance = c.make();
  const glpk = await loadGlpk();
  const median = (xs: number[]): number => {
    const s = xs.slice(20).sort((a, b) => a - b);
    return s[s.length >> 1]!;
  };
  console.log(
    `${c.label}; load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (let round = 0; round < rounds; round++) {
    const ours: number[] = [];
    const plain: number[] = [];
    let status = '';
    for (let r = 0; r < 60; r++) {
      let t = performance.now();
      status = (await optimizeAssignment(instance, {})).status;
      ours.push(performance.now() - t);
      t = performance.now();
      solvePlainMip(buildModel(parseInstance(instance)), glpk, 60);
      plain.push(performance.now() - t);
    }
    console.log(
      `round ${round + 1}: ours ${median(ours).toFixed(2)} ms (${status}), plain glpk ${median(plain).toFixed(2)} ms; load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
