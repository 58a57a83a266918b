/**
 * `npm run bench:chaos`: the crash test of testkit/chaos.ts at length (CHAOS_KILLS, default 30;
 * CHAOS_SEED; CHAOS_WORKERS, default 8) against the built host as a child process, with a report
 * table for BENCHMARKS.md ("Crash safety"). `-- --latency`: bench:api with the journal off and on.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { runChaos, type ChaosHost } from '../testkit/chaos';

// --- npm run bench:chaos -----------------------------------------------------------------------------

const ROOT = resolve(__dirname, '..', '..');

/** The built host as a child process (the Jest test uses test/support/localhost.ts instead). */
export async function spawnHost(dataDir: string, env: Record<string, string>): Promise<ChaosHost> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'local', 'start.js'), '--no-seed'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, SLOTFLOW_ENV: 'local', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  let baseUrl: string | undefined;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`host exited before it was healthy:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`host not healthy within 60 s:\n${output}`);
    }
    baseUrl ??= /listening on (http:\/\/[\d.]+:\d+)/.exec(output)?.[1];
    if (
      baseUrl &&
      (await fetch(`${baseUrl}/api/health`).then(
        (r) => r.status === 200,
        () => false,
      ))
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = baseUrl;
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    baseUrl: url,
    output: () => output,
    async kill() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (alive()) child.kill('SIGTERM');
      await exited;
    },
  };
}

interface ApiRow {
  operation: string;
  connections: number;
  rate?: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

/**
 * `npm run bench:chaos -- --latency`: bench/api-latency.ts alternately with the log off and on
 * (off, on, off, on: the machine's load drifts), each run on a fresh host; prints the booking and
 * search rows side by side, medians of the runs.
 */
async function latency(): Promise<void> {
  const runs = Number(process.env.CHAOS_LATENCY_RUNS ?? 2);
  const results: { mode: 'off' | 'on'; rows: ApiRow[] }[] = [];
  const bench = join(ROOT, 'dist', 'bench', 'api-latency.js');
  // api-latency writes its JSON result; the checked-in one is put back afterwards.
  const resultFile = join(ROOT, 'bench', 'results', 'api-latency.json');
  const checkedIn = (() => {
    try {
      return readFileSync(resultFile, 'utf8');
    } catch {
      return undefined;
    }
  })();
  for (let i = 0; i < runs * 2; i++) {
    const mode = i % 2 === 0 ? 'off' : 'on';
    console.error(`[chaos] bench:api with the log ${mode} (${i + 1}/${runs * 2})`);
    await new Promise<void>((ok, fail) => {
      const child = spawn(process.execPath, [bench], {
        cwd: ROOT,
        env: {
          BENCH_SEARCH_REQUESTS: '1000',
          BENCH_BOOK_REQUESTS: '300',
          BENCH_BOOK_RATES: '10,20',
          BENCH_SEARCH_RATES: '200',
          ...process.env,
          SLOTFLOW_LOCAL_LOG: mode,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`api-latency exited with ${code}`))));
    });
    const file = readFileSync(resultFile, 'utf8');
    if (checkedIn !== undefined) writeFileSync(resultFile, checkedIn);
    results.push({ mode, rows: (JSON.parse(file) as { rows: ApiRow[] }).rows });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? 0;
  const key = (r: ApiRow) => `${r.operation}|${r.connections}|${r.rate ?? 'closed'}`;
  const keys = [...new Set(results[0]!.rows.map(key))];
  console.log('\n| operation | connections | offered | req/s off -> on | p50 ms off -> on | p99 ms off -> on | p50 on/off |');
  console.log('|---|---:|---|---|---|---|---:|');
  for (const k of keys) {
    const of = (mode: 'off' | 'on') => results.filter((r) => r.mode === mode).map((r) => r.rows.find((x) => key(x) === k)!);
    const [off, on] = [of('off'), of('on')];
    const m = (rows: ApiRow[], f: (r: ApiRow) => number) => median(rows.map(f));
    const [op, conns, rate] = k.split('|');
    console.log(
      `| ${op} | ${conns} | ${rate === 'closed' ? 'closed loop' : `${rate}/s`} | ${m(off, (r) => r.rps)} -> ${m(on, (r) => r.rps)} | ${m(off, (r) => r.p50)} -> ${m(on, (r) => r.p50)} | ${m(off, (r) => r.p99)} -> ${m(on, (r) => r.p99)} | ${(
        m(on, (r) => r.p50) /
        Math.max(
          0.01,
          m(off, (r) => r.p50),
        )
      ).toFixed(2)} |`,
    );
  }
  console.log(
    `load avg ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${runs} runs each, medians`,
  );
}

export async function main(): Promise<void> {
  if (process.argv.includes('--latency')) return latency();
  const kills = Number(process.env.CHAOS_KILLS ?? 30);
  const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;
  const t0 = Date.now();
  const report = await runChaos({ startHost: spawnHost, kills, seed, workers: Number(process.env.CHAOS_WORKERS ?? 8), log: (l) => console.log(l) });
  const seconds = (Date.now() - t0) / 1000;
  const sorted = [...report.restartMs].sort((a, b) => a - b);
  console.log(JSON.stringify(report, null, 2));
  console.log(
    [
      '',
      `| kills (random / within 50 ms after a 201 / within 50 ms after a 200 cancel) | acknowledged bookings / cancellations / waitlist / SMS | checks (appointments, Idempotency-Key replays, MessageSid replays, waitlist, workflows) | lost | divergent | replay mismatches | double-booked | restart p50 / max ms | run s | load avg |`,
      '|---|---|---|---:|---:|---:|---:|---|---:|---|',
      `| ${report.kills} (${report.killModes.random} / ${report.killModes['after-201']} / ${report.killModes['after-cancel']}) | ${report.acknowledged.bookings} / ${report.acknowledged.cancellations} / ${report.acknowledged.waitlist} / ${report.acknowledged.sms} | ${report.checks.appointments}, ${report.checks.idempotencyReplays}, ${report.checks.smsReplays}, ${report.checks.waitlist}, ${report.checks.workflows} | ${report.lost.length} | ${report.divergent.length} | ${report.replayMismatches.length} | ${report.doubleBooked.length} | ${sorted[Math.floor(sorted.length / 2)] ?? 0} / ${sorted.at(-1) ?? 0} | ${seconds.toFixed(0)} | ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} |`,
      `seed ${report.seed}`,
    ].join('\n'),
  );
  const failed = report.lost.length + report.divergent.length + report.replayMismatches.length + report.doubleBooked.length;
  if (failed) {
    console.error([...report.lost, ...report.divergent, ...report.replayMismatches, ...report.doubleBooked].slice(0, 50).join('\n'));
    process.exit(1);
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`[chaos] ${err.stack ?? err.message}`);
    process.exit(1);
  });
}
