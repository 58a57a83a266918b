/**
 * Local host benchmarks (`npm run bench:localhost`; not run by `npm test`):
 *   1. start-up: the built host (real app, no seed) from spawn to GET /api/health = 200;
 *   2. replay: one orchestration episode through the real durable-functions replay as the
 *      history grows (10, 100, 1,000 events), in episodes per second;
 *   3. with `--load`: slot search and booking latency under autocannon (50 connections) against a
 *      seeded host. Needs the API and the demo seed; ids come from BENCH_* env (see loadBench).
 * Prints a table and writes bench/results/localhost.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { capturedFunctions, installFunctionsCore } from '../local/host/core';
import { DurableBackend } from '../local/host/durable/backend';
import { HistoryBuilder } from '../local/host/durable/history';
import { FileInstanceStore } from '../local/host/durable/store';
import { runEpisode, type OrchestrationHandler } from '../local/host/durable/replay';

const ROOT = resolve(__dirname, '..', '..');
const START = join(ROOT, 'dist', 'local', 'start.js');

interface Results {
  machine: { cpus: number; node: string; at: string };
  startup?: { runs: number[]; medianMs: number };
  replay?: { historyEvents: number; activities: number; msPerEpisode: number; episodesPerSecond: number }[];
  backend?: { activities: number; historyEvents: number; totalMs: number; msPerActivity: number }[];
  load?: Record<string, unknown>;
}

async function startupOnce(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slotflow-bench-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [START, '--no-seed'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`host exited:\n${out}`);
      const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
      if (
        url &&
        (await fetch(`${url}/api/health`).then(
          (r) => r.status === 200,
          () => false,
        ))
      )
        break;
      if (performance.now() - t0 > 120_000) throw new Error(`not healthy in 120 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return Math.round(performance.now() - t0);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** An orchestrator that calls one activity after another, `n` times. */
function registerBenchOrchestrator(): OrchestrationHandler {
  installFunctionsCore();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const df = require('durable-functions') as typeof import('durable-functions');
  if (!capturedFunctions.get('benchSteps')) {
    df.app.activity('benchStep', { handler: (i: unknown) => i });
    df.app.orchestration('benchSteps', function* (context) {
      const { n } = context.df.getInput() as { n: number };
      let sum = 0;
      for (let i = 0; i < n; i++) sum += (yield context.df.callActivity('benchStep', { i, pad: 'x'.repeat(40) })) as number;
      return sum;
    });
  }
  return capturedFunctions.get('benchSteps')!.handler as OrchestrationHandler;
}

/** History of benchSteps after `done` activities completed: 2 + 4 per activity (+1 for the last episode). */
function historyAfter(done: number) {
  const h = new HistoryBuilder('2026-03-01T09:00:00.000Z').start('benchSteps', { n: 100_000 });
  for (let i = 0; i < done; i++) {
    h.taskScheduled(i, 'benchStep', { i })
      .orchestratorCompleted()
      .orchestratorStarted()
      .taskCompleted(i, { i, pad: 'x'.repeat(40) });
  }
  return h.events;
}

async function replayBench(): Promise<NonNullable<Results['replay']>> {
  const handler = registerBenchOrchestrator();
  const out: NonNullable<Results['replay']> = [];
  for (const target of [10, 100, 1000]) {
    const activities = Math.max(1, Math.round((target - 2) / 4));
    const history = historyAfter(activities);
    const episode = { instanceId: 'bench', history, input: { n: 100_000 } };
    const check = await runEpisode(handler, episode);
    if (check.newWork.length !== 1 || check.newWork[0]!.id !== activities) throw new Error('bench history did not replay as expected');
    for (let i = 0; i < 20; i++) await runEpisode(handler, episode);
    const budgetMs = 1500;
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < budgetMs) {
      await runEpisode(handler, episode);
      n++;
    }
    const ms = (performance.now() - t0) / n;
    out.push({ historyEvents: history.length, activities, msPerEpisode: Number(ms.toFixed(3)), episodesPerSecond: Math.round(1000 / ms) });
  }
  return out;
}

/** A whole sequential orchestration through the backend: episodes, activities and a persisted record per step. */
async function backendBench(): Promise<NonNullable<Results['backend']>> {
  registerBenchOrchestrator();
  const out: NonNullable<Results['backend']> = [];
  for (const n of [10, 100, 250]) {
    const dir = mkdtempSync(join(tmpdir(), 'slotflow-bench-durable-'));
    const backend = new DurableBackend({ registry: capturedFunctions, store: new FileInstanceStore(dir), logger: () => undefined });
    backend.start();
    const t0 = performance.now();
    backend.startNew('benchSteps', { instanceId: `steps-${n}`, input: { n } });
    await backend.waitFor(`steps-${n}`, ['Completed', 'Failed'], 300_000);
    const totalMs = performance.now() - t0;
    const historyEvents = backend.getStatus(`steps-${n}`, { showHistory: true })!.historyEvents!.length;
    await backend.stop();
    rmSync(dir, { recursive: true, force: true });
    out.push({ activities: n, historyEvents, totalMs: Math.round(totalMs), msPerActivity: Number((totalMs / n).toFixed(2)) });
  }
  return out;
}

/**
 * Slot search and booking under load. Env: BENCH_CLINIC_ID, BENCH_APPOINTMENT_TYPE,
 * BENCH_PATIENT_IDS (comma-separated), BENCH_FROM, BENCH_TO (ISO; the searched window, default one day
 * two days ahead), BENCH_ROUTE_PREFIX ("" by default). Defaults match local/seed.ts.
 */
async function loadBench(): Promise<Record<string, unknown>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require('autocannon') as (opts: object) => Promise<{
    latency: { p50: number; p99: number; average: number };
    requests: { average: number };
    non2xx: number;
    errors: number;
    statusCodeStats: Record<string, { count: number }>;
  }>;
  const dataDir = mkdtempSync(join(tmpdir(), 'slotflow-load-'));
  const child = spawn(process.execPath, [START], { cwd: ROOT, env: { ...process.env, PORT: '0', DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    let base: string | undefined;
    while (!base || !/seeded|seeding failed/.test(out)) {
      if (child.exitCode !== null) throw new Error(`host exited:\n${out}`);
      base ??= /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
      await new Promise((r) => setTimeout(r, 50));
    }
    const prefix = process.env.BENCH_ROUTE_PREFIX ?? '';
    const principal = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'roles', val: 'scheduler' }] })).toString('base64');
    const headers = { 'x-ms-client-principal': principal, 'content-type': 'application/json' };
    const clinicId = process.env.BENCH_CLINIC_ID ?? 'riverside';
    const appointmentType = process.env.BENCH_APPOINTMENT_TYPE ?? 'checkup';
    // The search: one day, as the front desk asks. Booking candidates: every free slot in the next 30 days.
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const from = process.env.BENCH_FROM ?? `${day}T00:00:00Z`;
    const to = process.env.BENCH_TO ?? new Date(new Date(from).getTime() + 86_400_000).toISOString();
    const slotsUrl = (f: string, t: string) =>
      `${base}${prefix}/api/slots?clinicId=${encodeURIComponent(clinicId)}&appointmentType=${encodeURIComponent(appointmentType)}&from=${encodeURIComponent(f)}&to=${encodeURIComponent(t)}`;
    const search = slotsUrl(from, to);
    const candidates = slotsUrl(new Date(Date.now() + 86_400_000).toISOString(), new Date(Date.now() + 30 * 86_400_000).toISOString());
    const slots = ((await (await fetch(candidates, { headers })).json()) as { slots?: { slotId: string }[] }).slots ?? [];
    if (slots.length === 0) throw new Error(`no free slots from ${candidates}; set BENCH_* env to the seeded ids`);
    const searchRun = await autocannon({ url: search, connections: 50, duration: 10, headers });
    const patients = (process.env.BENCH_PATIENT_IDS ?? 'pat-ava,pat-ben,pat-diego,pat-emma,pat-gus').split(',');
    let next = 0;
    const bookRun = await autocannon({
      url: `${base}${prefix}/api/appointments`,
      connections: 50,
      amount: Math.min(slots.length, 2000),
      headers,
      requests: [
        {
          method: 'POST',
          setupRequest: (req: object) => {
            const slot = slots[next % slots.length]!;
            const patientId = patients[next % patients.length];
            next++;
            return { ...req, body: JSON.stringify({ slotId: slot.slotId, patientId, appointmentType }) };
          },
        },
      ],
    });
    const summary = (r: Awaited<ReturnType<typeof autocannon>>) => ({
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      avgMs: r.latency.average,
      reqPerSec: r.requests.average,
      non2xx: r.non2xx,
      errors: r.errors,
      statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])),
    });
    return { connections: 50, slotSearch: { ...summary(searchRun), window: `${from}..${to}` }, booking: { ...summary(bookRun), slotsAvailable: slots.length } };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function main(args: string[] = process.argv.slice(2)): Promise<Results> {
  const { cpus } = await import('node:os');
  const results: Results = { machine: { cpus: cpus().length, node: process.version, at: new Date().toISOString() } };
  if (!args.includes('--no-startup')) {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) runs.push(await startupOnce());
    const sorted = [...runs].sort((a, b) => a - b);
    results.startup = { runs, medianMs: sorted[1]! };
    console.log(`start-up to healthy (real app, --no-seed): runs ${runs.join(', ')} ms, median ${results.startup.medianMs} ms`);
  }
  results.replay = await replayBench();
  console.log('\nreplay of one episode (real durable-functions replay, JSON round trip, task table read):');
  console.table(results.replay);
  results.backend = await backendBench();
  console.log('\nsequential orchestration through the backend (file store, one persisted record per change):');
  console.table(results.backend);
  if (args.includes('--load')) {
    results.load = await loadBench();
    console.log('\nload (autocannon, 50 connections):');
    console.log(JSON.stringify(results.load, null, 2));
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'localhost.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwritten bench/results/localhost.json');
  return results;
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
