/**
 * Cold start (`npm run bench:coldstart [-- --runs N] [--only load|host]`; issue 19; not run by `npm test`). Every
 * measurement is a fresh Node process; the variants alternate within each round so that the machine's
 * load falls on all of them alike. Medians with min and max.
 *
 *   1. App load (time to require the entry, functions-core stand-in installed as the host does; CPU
 *      time and RSS after load too): (a) the unbundled dist/functions/index.js (and with `--baseline
 *      <entry>` another checkout's, e.g. main's before the bundle), (b) the bundle
 *      (dist/bundle/main.js) without compile cache, (c) the bundle with the compile cache warm,
 *      (d) the floor reference: a plain require of durable-functions, @azure/cosmos,
 *      @azure/service-bus, @azure/identity and twilio from node_modules.
 *   2. Local host from a cold process (`dist/local/start.js --no-seed` on a seeded data folder):
 *      spawn to first GET /api/health = 200 and to the first slot search answered.
 *      Since the local host turns the compile cache on for its whole process (local/compile-cache.ts),
 *      "compile cache warm" there covers the host's modules, the Cosmos server's and the bundle.
 *   3. The same without the local emulators' start-up, as in Azure where Cosmos DB is a remote
 *      service: a process that starts the host on an already running Cosmos server (seeded), times
 *      measured from the process's own start (performance.now()).
 * `--baseline-root <checkout>` adds another built checkout's host and bundle to parts 2 and 3.
 * Prints tables and writes bench/results/coldstart.json (coldstart-<part>.json with --only).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { DateTime } from 'luxon';
import { startLocalCosmos } from '../local/host/cosmos';
import { CosmosJournal } from '../local/host/cosmos-journal';

const ROOT = resolve(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const BUNDLE_MAIN = join(DIST, 'bundle', 'main.js');
const UNBUNDLED = join(DIST, 'functions', 'index.js');
const CORE = join(DIST, 'local', 'host', 'core.js');
const START = join(DIST, 'local', 'start.js');
const SDKS = ['durable-functions', '@azure/cosmos', '@azure/service-bus', '@azure/identity', 'twilio'];

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] || 10) || 10;
/** `--baseline <dist/functions/index.js of another checkout>`: also load that entry, e.g. main's before this change. */
/** `--only load|host`: just the app-load part, or just the two host parts. */
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const BASELINE = args.includes('--baseline') ? resolve(args[args.indexOf('--baseline') + 1]!) : undefined;
/**
 * `--baseline-root <another built checkout>`: parts 2 and 3 also run that checkout's local host and
 * bundle (its dist/local/start.js, dist/local/host/host.js, dist/bundle/main.js), alternating with
 * this one's, for a before/after in one run.
 */
const BASELINE_ROOT = args.includes('--baseline-root') ? resolve(args[args.indexOf('--baseline-root') + 1]!) : undefined;

interface Spread {
  median: number;
  min: number;
  max: number;
}
const spread = (xs: number[]): Spread => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median: Math.round(median), min: Math.round(s[0]!), max: Math.round(s[s.length - 1]!) };
};
const fmt = (s: Spread) => `${s.median} (${s.min}-${s.max})`;

/** Child: installs the functions-core stand-in, requires the entries, prints load time, CPU time, RSS and the function count. */
const LOAD_CHILD = `
const { installFunctionsCore, capturedFunctions } = require(process.argv[1]);
installFunctionsCore();
const entries = process.argv.slice(2);
const c0 = process.cpuUsage(); const t0 = performance.now();
for (const e of entries) require(e);
const t1 = performance.now(); const c = process.cpuUsage(c0);
console.log(JSON.stringify({ loadMs: t1 - t0, cpuMs: (c.user + c.system) / 1000, sinceStartMs: t1, rssMb: process.memoryUsage().rss / 1048576, functions: capturedFunctions.all().length }));
`;

interface LoadSample {
  loadMs: number;
  cpuMs: number;
  sinceStartMs: number;
  rssMb: number;
  functions: number;
}

function loadOnce(entries: string[], env: NodeJS.ProcessEnv): LoadSample {
  const r = spawnSync(process.execPath, ['-e', LOAD_CHILD, CORE, ...entries], { cwd: ROOT, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`load child failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as LoadSample;
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, SLOTFLOW_COMPILE_CACHE: 'off' };
  delete env.NODE_COMPILE_CACHE;
  delete env.JEST_WORKER_ID;
  return env;
};

async function appLoad(cacheDir: string) {
  const sdkEntries = SDKS.map((p) => require.resolve(p, { paths: [ROOT] }));
  const variants: { key: string; label: string; entries: string[]; env: NodeJS.ProcessEnv }[] = [
    ...(BASELINE ? [{ key: 'baseline', label: `(a) baseline ${BASELINE.replace(/^.*?([^/]+\/dist\/)/, '$1')}`, entries: [BASELINE], env: baseEnv() }] : []),
    { key: 'unbundled', label: `(a${BASELINE ? "'" : ''}) unbundled dist/functions/index.js`, entries: [UNBUNDLED], env: baseEnv() },
    { key: 'bundle', label: '(b) bundle, no compile cache', entries: [BUNDLE_MAIN], env: baseEnv() },
    { key: 'bundleWarmCache', label: '(c) bundle, compile cache warm', entries: [BUNDLE_MAIN], env: { ...baseEnv(), SLOTFLOW_COMPILE_CACHE: cacheDir } },
    { key: 'sdksOnly', label: '(d) floor: the five SDKs, plain require', entries: sdkEntries, env: baseEnv() },
  ];
  loadOnce([BUNDLE_MAIN], variants[2]!.env); // fills the compile cache
  const samples = new Map<string, LoadSample[]>(variants.map((v) => [v.key, []]));
  for (let i = 0; i < RUNS; i++) for (const v of variants) samples.get(v.key)!.push(loadOnce(v.entries, v.env));
  return variants.map((v) => {
    const s = samples.get(v.key)!;
    return {
      key: v.key,
      label: v.label,
      functions: s[0]!.functions,
      loadMs: spread(s.map((x) => x.loadMs)),
      cpuMs: spread(s.map((x) => x.cpuMs)),
      processStartToLoadedMs: spread(s.map((x) => x.sinceStartMs)),
      rssMb: spread(s.map((x) => x.rssMb)),
    };
  });
}

/** A weekday at least two days ahead (the seed's providers work Monday to Friday). */
function searchPath(): string {
  let day = DateTime.utc().plus({ days: 2 });
  while (day.weekday > 5) day = day.plus({ days: 1 });
  const d = day.toISODate();
  return `/api/slots?clinicId=riverside&appointmentType=checkup&from=${d}T00:00:00Z&to=${d}T23:59:00Z`;
}
const SCHEDULER = Buffer.from(JSON.stringify({ auth_typ: 'aad', userId: 'bench', claims: [{ typ: 'roles', val: 'scheduler' }] })).toString('base64');

async function seededDataDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'slotflow-coldstart-seed-'));
  const child = spawn(process.execPath, [START], { cwd: ROOT, env: { ...baseEnv(), PORT: '0', DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const t0 = Date.now();
  while (!/\[host\] seed: done/.test(out)) {
    if (child.exitCode !== null || Date.now() - t0 > 180_000) throw new Error(`seeding failed:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return dir;
}

/** CPU time a process has used so far (Linux: /proc/<pid>/stat utime + stime, in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

interface HostSample {
  healthyMs: number;
  firstSearchMs: number;
  cpuAtFirstSearchMs: number;
  slots: number;
}

/** Spawn to first health 200 and to the first slot search answered. */
async function hostOnce(seed: string, extraArgs: string[], env: NodeJS.ProcessEnv, root = ROOT): Promise<HostSample> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slotflow-coldstart-'));
  cpSync(seed, dataDir, { recursive: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(root, 'dist', 'local', 'start.js'), '--no-seed', ...extraArgs], {
    cwd: root,
    env: { ...env, PORT: '0', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    let url: string | undefined;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`host exited:\n${out}`);
      if (performance.now() - t0 > 120_000) throw new Error(`not healthy in 120 s:\n${out}`);
      url ??= /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
      if (
        url &&
        (await fetch(`${url}/api/health`).then(
          (r) => r.status === 200,
          () => false,
        ))
      )
        break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const healthyMs = performance.now() - t0;
    const res = await fetch(`${url}${searchPath()}`, { headers: { 'x-ms-client-principal': SCHEDULER } });
    const body = (await res.json()) as { slots?: unknown[] };
    if (res.status !== 200) throw new Error(`slot search: ${res.status}\n${out}`);
    return { healthyMs, firstSearchMs: performance.now() - t0, cpuAtFirstSearchMs: cpuMsOf(child.pid!), slots: body.slots?.length ?? 0 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Child for part 3: the host on an external (already running) Cosmos server, no broker, no data folder. */
const REMOTE_CHILD = `
const [hostJs, entry, hostJson, path, principal] = process.argv.slice(1);
const marks = {};
(async () => {
  const { LocalHost } = require(hostJs);
  marks.hostCodeLoaded = performance.now();
  const host = await LocalHost.start({ port: 0, dataDir: null, cosmos: false, broker: false, appEntry: entry, hostJsonPath: hostJson, logger: () => undefined });
  marks.healthy = performance.now();
  const h = await fetch(host.baseUrl + '/api/health'); await h.text();
  marks.firstHealthAnswer = performance.now();
  const r = await fetch(host.baseUrl + path, { headers: { 'x-ms-client-principal': principal } });
  const body = await r.json();
  marks.firstSearchAnswer = performance.now();
  const cpu = process.cpuUsage();
  marks.cpuAtFirstSearch = (cpu.user + cpu.system) / 1000;
  if (r.status !== 200) throw new Error('slot search ' + r.status);
  marks.slots = body.slots.length;
  await host.stop();
  console.log(JSON.stringify(marks));
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function remoteOnce(cosmos: { endpoint: string; key: string }, entry: string, env: NodeJS.ProcessEnv, root = ROOT): Promise<Record<string, number>> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(
      process.execPath,
      ['-e', REMOTE_CHILD, join(root, 'dist', 'local', 'host', 'host.js'), entry, join(root, 'host.json'), searchPath(), SCHEDULER],
      {
        cwd: root,
        env: { ...env, COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: cosmos.key, SLOTFLOW_ENV: 'local', SMS_MODE: 'outbox' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolveRun(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>) : reject(new Error(out))));
  });
}

/** The deployment package azd uploads (dist/deploy), zipped with deflate as azd does: unpacked and zipped bytes. */
function packageSize(): { unpacked: number; zipped: number } {
  const dir = join(DIST, 'deploy');
  let unpacked = 0;
  let zipped = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const data = readFileSync(p);
        unpacked += data.length;
        zipped += deflateRawSync(data, { level: 6 }).length + 76 + 2 * relative(dir, p).length; // + local and central headers
      }
    }
  };
  walk(dir);
  return { unpacked, zipped };
}

async function main(): Promise<void> {
  const load0 = loadavg()[0]!;
  const cacheDir = mkdtempSync(join(tmpdir(), 'slotflow-compile-cache-'));
  console.log(`cold start, ${RUNS} fresh processes per variant, Node ${process.version}, ${cpus().length} CPUs, load average ${load0.toFixed(1)}`);
  const results: Record<string, unknown> = { runs: RUNS, baseline: BASELINE ?? null, baselineRoot: BASELINE_ROOT ?? null };

  if (ONLY !== 'host') {
    const load = await appLoad(cacheDir);
    results.load = load;
    console.log('\napp load (ms; median (min-max)):');
    console.log('| variant | functions | require the entry | CPU | process start to loaded | RSS after load (MB) |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const v of load)
      console.log(`| ${v.label} | ${v.functions} | ${fmt(v.loadMs)} | ${fmt(v.cpuMs)} | ${fmt(v.processStartToLoadedMs)} | ${fmt(v.rssMb)} |`);
    const ref = load.find((v) => v.key === (BASELINE ? 'baseline' : 'unbundled'))!;
    const ratio = (k: string, m: 'loadMs' | 'cpuMs') => ref[m].median / load.find((v) => v.key === k)![m].median;
    for (const m of ['loadMs', 'cpuMs'] as const) {
      const what = m === 'loadMs' ? 'wall' : 'CPU';
      console.log(`speed-up over (a), ${what}: bundle ${ratio('bundle', m).toFixed(1)}x, bundle + warm cache ${ratio('bundleWarmCache', m).toFixed(1)}x`);
    }
  }

  if (ONLY !== 'load') {
    const seed = await seededDataDir();
    loadOnce([BUNDLE_MAIN], { ...baseEnv(), SLOTFLOW_COMPILE_CACHE: cacheDir }); // fills the compile cache (part 1 may not have run)
    const baselineCache = BASELINE_ROOT ? mkdtempSync(join(tmpdir(), 'slotflow-compile-cache-baseline-')) : '';
    const baselineMain = BASELINE_ROOT ? join(BASELINE_ROOT, 'dist', 'bundle', 'main.js') : '';
    if (BASELINE_ROOT) loadOnce([baselineMain], { ...baseEnv(), SLOTFLOW_COMPILE_CACHE: baselineCache });
    const hostVariants = [
      ...(BASELINE_ROOT
        ? [
            {
              key: 'baselineBundle',
              label: 'baseline: bundle, no compile cache',
              args: [] as string[],
              env: baseEnv(),
              entry: baselineMain,
              root: BASELINE_ROOT,
            },
            {
              key: 'baselineBundleWarmCache',
              label: 'baseline: bundle, compile cache warm',
              args: [] as string[],
              env: { ...baseEnv(), SLOTFLOW_COMPILE_CACHE: baselineCache },
              entry: baselineMain,
              root: BASELINE_ROOT,
            },
          ]
        : []),
      { key: 'bundle', label: 'bundle, no compile cache', args: [] as string[], env: baseEnv(), entry: BUNDLE_MAIN, root: ROOT },
      {
        key: 'bundleWarmCache',
        label: 'bundle, compile cache warm',
        args: [],
        env: { ...baseEnv(), SLOTFLOW_COMPILE_CACHE: cacheDir },
        entry: BUNDLE_MAIN,
        root: ROOT,
      },
      { key: 'unbundled', label: 'unbundled dist/functions', args: ['--app', UNBUNDLED], env: baseEnv(), entry: UNBUNDLED, root: ROOT },
    ];
    // The local host compiles its own modules (and the Cosmos server's) into the same cache: one discarded run each warms it.
    for (const v of hostVariants) if (v.env.SLOTFLOW_COMPILE_CACHE !== 'off') await hostOnce(seed, v.args, v.env, v.root);
    const hostSamples = new Map(hostVariants.map((v) => [v.key, [] as HostSample[]]));
    for (let i = 0; i < RUNS; i++) for (const v of hostVariants) hostSamples.get(v.key)!.push(await hostOnce(seed, v.args, v.env, v.root));
    const host = hostVariants.map((v) => {
      const s = hostSamples.get(v.key)!;
      const of = (k: keyof HostSample) => spread(s.map((x) => x[k]));
      return {
        key: v.key,
        label: v.label,
        slots: s[0]!.slots,
        healthyMs: of('healthyMs'),
        firstSearchMs: of('firstSearchMs'),
        cpuAtFirstSearchMs: of('cpuAtFirstSearchMs'),
      };
    });
    results.host = host;
    console.log('\nlocal host from a cold process, with its emulators (ms since spawn; median (min-max)):');
    console.log('| app | health 200 | first slot search answered | CPU used by then |');
    console.log('|---|---:|---:|---:|');
    for (const v of host) console.log(`| ${v.label} | ${fmt(v.healthyMs)} | ${fmt(v.firstSearchMs)} (${v.slots} slots) | ${fmt(v.cpuAtFirstSearchMs)} |`);

    // Part 3: Cosmos already running (seeded from the same snapshot).
    const cosmos = await startLocalCosmos();
    // The seeded folder is a journal (snapshot + log): restore it the way the host does, from a copy.
    const cosmosDir = join(seed, 'cosmos-part3');
    cpSync(join(seed, 'cosmos'), cosmosDir, { recursive: true });
    const { store: journal } = await CosmosJournal.open(cosmos.account!, cosmosDir, { fsync: false });
    const remoteSamples = new Map(hostVariants.map((v) => [v.key, [] as Record<string, number>[]]));
    for (let i = 0; i < RUNS; i++) for (const v of hostVariants) remoteSamples.get(v.key)!.push(await remoteOnce(cosmos, v.entry, v.env, v.root));
    await journal.stop();
    await cosmos.stop();
    const remote = hostVariants.map((v) => {
      const s = remoteSamples.get(v.key)!;
      const of = (k: string) => spread(s.map((x) => x[k]!));
      return {
        key: v.key,
        label: v.label,
        hostCodeLoadedMs: of('hostCodeLoaded'),
        healthyMs: of('healthy'),
        firstHealthAnswerMs: of('firstHealthAnswer'),
        firstSearchAnswerMs: of('firstSearchAnswer'),
        cpuAtFirstSearchMs: of('cpuAtFirstSearch'),
      };
    });
    results.remote = remote;
    console.log('\nhost on a running Cosmos server, no broker (ms since process start; median (min-max)):');
    console.log(
      '| app | local host code loaded | healthy (app loaded, services built) | first GET /api/health answered | first slot search answered | CPU used by then |',
    );
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const v of remote) {
      const cells = [v.hostCodeLoadedMs, v.healthyMs, v.firstHealthAnswerMs, v.firstSearchAnswerMs, v.cpuAtFirstSearchMs].map(fmt);
      console.log(`| ${v.label} | ${cells.join(' | ')} |`);
    }
    rmSync(seed, { recursive: true, force: true });
    if (baselineCache) rmSync(baselineCache, { recursive: true, force: true });
  }
  rmSync(cacheDir, { recursive: true, force: true });

  const size = packageSize();
  results.package = size;
  console.log(`\ndeployment package (dist/deploy): ${(size.unpacked / 1048576).toFixed(1)} MB unpacked, ${(size.zipped / 1048576).toFixed(1)} MB zipped`);
  const load1 = loadavg()[0]!;
  console.log(`load average ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at the end`);
  const machine = {
    cpus: cpus().length,
    node: process.version,
    at: new Date().toISOString(),
    loadAverage: [Number(load0.toFixed(1)), Number(load1.toFixed(1))],
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  // A partial run (--only) writes a file of its own, so it does not replace the full run's figures.
  writeFileSync(join(ROOT, 'bench', 'results', `coldstart${ONLY ? `-${ONLY}` : ''}.json`), JSON.stringify({ machine, ...results }, null, 2) + '\n');
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
