/**
 * Scheduling API latency through the local host (`npm run bench:api`; not run by `npm test`):
 * slot search (GET /api/slots, one morning across all providers) and booking (POST /api/appointments,
 * every request a different free slot) with autocannon:
 * - closed loop at 1, 10 and 50 concurrent connections (each connection sends its next request as soon
 *   as the previous one is answered: this measures capacity, and latency = connections / throughput);
 * - open loop over 50 keep-alive connections at fixed offered rates (BENCH_SEARCH_RATES, default 200,500,
 *   and BENCH_BOOK_RATES, default 10,20 requests per second, evenly spaced): the latency users see at that load. Latency counts from the
 *   moment a request was due, so a request that waited for a free connection or a slow server is not
 *   hidden (no coordinated omission). autocannon's own rate mode is not used for this: it sends each
 *   connection's quota for the second at the start of the second, i.e. synchronized bursts, and lowers
 *   the connection count to the rate when the rate is below it.
 * Before each row the bench waits until the host has finished the background work earlier rows caused
 * (GET /_host/load), and after each booking row it reports how long that took (every booking starts
 * eligibility and reminder workflows).
 * Starts the built host itself (no demo seed), configures a clinic through the API, prints a table and
 * writes bench/results/api-latency.json. BENCH_API_URL=<base url> measures an already running host instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The slice of autocannon's API used here (the package ships no types). */
interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: CannonRequest) => CannonRequest;
}
interface CannonOptions {
  url: string;
  connections?: number;
  pipelining?: number;
  amount?: number;
  headers?: Record<string, string>;
  requests?: CannonRequest[];
}
interface CannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: CannonOptions) => Promise<CannonResult>;

const ROOT = resolve(__dirname, '..', '..');
const START = join(ROOT, 'dist', 'local', 'start.js');
const CONNECTIONS = [1, 10, 50];
const SEARCH_REQUESTS = Number(process.env.BENCH_SEARCH_REQUESTS ?? 2000);
const BOOK_REQUESTS = Number(process.env.BENCH_BOOK_REQUESTS ?? 1000);
const rates = (v: string | undefined, d: number[]) =>
  v
    ? v
        .split(',')
        .map(Number)
        .filter((n) => n > 0)
    : d;
const SEARCH_RATES = rates(process.env.BENCH_SEARCH_RATES, [200, 500]);
const BOOK_RATES = rates(process.env.BENCH_BOOK_RATES, [10, 20]);
const RATE_CONNECTIONS = 50;
const PROVIDERS = 20;
const PATIENTS = 100;
const CLINIC = 'bench-clinic';
const TYPE = 'bench-visit';

function principal(roles: string[]): string {
  const claims = [{ typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'bench' }, ...roles.map((val) => ({ typ: 'roles', val }))];
  return Buffer.from(JSON.stringify({ auth_typ: 'aad', claims })).toString('base64');
}
const ADMIN = principal(['admin']);
const SCHEDULER = principal(['scheduler']);

async function startHost(): Promise<{ baseUrl: string; stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slotflow-api-bench-'));
  const child: ChildProcess = spawn(process.execPath, [START, '--no-seed'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, SLOTFLOW_ENV: 'local' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`host exited:\n${out}`);
    const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
    if (
      url &&
      (await fetch(`${url}/api/health`).then(
        (r) => r.status === 200,
        () => false,
      ))
    ) {
      return {
        baseUrl: url,
        async stop() {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    }
    if (Date.now() - t0 > 120_000) throw new Error(`host not healthy in 120 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function put(baseUrl: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'PUT',
    headers: { 'x-ms-client-principal': ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

/** A UTC clinic open around the clock every day, PROVIDERS providers with 30-minute slots, PATIENTS patients. */
async function configure(baseUrl: string): Promise<void> {
  const everyDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  await put(baseUrl, `/api/clinics/${CLINIC}`, { name: 'Bench clinic', timeZone: 'UTC' });
  await put(baseUrl, `/api/appointment-types/${TYPE}`, { clinicId: CLINIC, name: 'Visit', durationMinutes: 30 });
  for (let p = 0; p < PROVIDERS; p++)
    await put(baseUrl, `/api/providers/bench-dr-${p}`, { clinicId: CLINIC, name: `Dr ${p}`, appointmentTypes: [TYPE], weeklyHours: everyDay });
  for (let i = 0; i < PATIENTS; i++)
    await put(baseUrl, `/api/patients/bench-p${i}`, { name: `Bench Patient ${i}`, phone: `+1555600${String(1000 + i)}`, smsConsent: false });
}

/**
 * Distinct free slots, time-major (all providers at 00:00, then 00:30, ...) starting two days ahead, each
 * with a patient: PROVIDERS consecutive bookings share a start time and get different patients, so no
 * booking hits the patient-overlap rule.
 */
function bookings(count: number, offset: number): { slotId: string; patientId: string }[] {
  const day0 = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 2);
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    const start = new Date(day0 + Math.floor(i / PROVIDERS) * 30 * 60_000);
    const stamp = start.toISOString().replace(/[-:]/g, '').slice(0, 13);
    return { slotId: `bench-dr-${i % PROVIDERS}.${stamp}`, patientId: `bench-p${i % PATIENTS}` };
  });
}

interface Row {
  operation: 'slot search' | 'booking';
  connections: number;
  /** Offered rate (requests per second over all connections); undefined: closed loop. */
  rate?: number;
  requests: number;
  non2xx: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** ms after the row until the host had finished the background work it caused. */
  drainMs?: number;
  /** Host process CPU time per request, background work it caused included (from GET /_host/load). */
  hostCpuMsPerRequest?: number;
}

/** GET /_host/load (the local host's load report), or undefined when the host has no such route. */
async function hostLoad(baseUrl: string): Promise<{ idle: boolean; cpuMs: number } | undefined> {
  return fetch(`${baseUrl}/_host/load`).then(
    (r) => (r.ok ? (r.json() as Promise<{ idle: boolean; cpuMs: number }>) : undefined),
    () => undefined,
  );
}

/** The host's CPU time so far (ms), or undefined when it has no load route. */
async function hostCpuMs(baseUrl: string): Promise<number | undefined> {
  return (await hostLoad(baseUrl))?.cpuMs;
}

/** Waits until GET /_host/load has said idle for a whole second; returns the ms it took (undefined: no such route). */
async function waitForIdle(baseUrl: string, timeoutMs = 180_000): Promise<number | undefined> {
  const t0 = Date.now();
  let idleSince: number | undefined;
  for (;;) {
    const load = await hostLoad(baseUrl);
    if (!load) return undefined;
    const now = Date.now();
    if (load.idle) {
      idleSince ??= now;
      if (now - idleSince >= 1000) return idleSince - t0;
    } else idleSince = undefined;
    if (now - t0 > timeoutMs) throw new Error(`host still busy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Open-loop load: `total` requests due at evenly spaced instants (`rate` per second) over at most
 * `connections` keep-alive connections; each latency runs from the instant the request was due.
 */
async function openLoop(
  operation: Row['operation'],
  baseUrl: string,
  connections: number,
  rate: number,
  total: number,
  next: () => { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<Row> {
  console.error(`[bench:api] ${operation}, open loop at ${rate}/s over ${connections} connections...`);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const { hostname, port } = new URL(baseUrl);
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const t0 = performance.now() + 50;
  const one = (due: number) =>
    new Promise<void>((resolve) => {
      const r = next();
      const req = httpRequest({ agent, hostname, port, method: r.method, path: r.path, headers: r.headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - due);
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) non2xx++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(r.body);
    });
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(one(due));
  }
  await Promise.all(inFlight);
  agent.destroy();
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    operation,
    connections,
    rate,
    requests: total,
    non2xx,
    errors,
    rps: Math.round(total / elapsed),
    p50: Math.round(percentile(latencies, 50)),
    p99: Math.round(percentile(latencies, 99)),
    max: Math.round(latencies[latencies.length - 1] ?? 0),
  };
}

async function run(operation: Row['operation'], connections: number, opts: CannonOptions): Promise<Row> {
  console.error(`[bench:api] ${operation} with ${connections} connection(s)...`);
  const result = await autocannon({ connections, pipelining: 1, ...opts });
  return {
    operation,
    connections,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
  };
}

async function main(): Promise<void> {
  const host = process.env.BENCH_API_URL ? { baseUrl: process.env.BENCH_API_URL, stop: async () => undefined } : await startHost();
  const rows: Row[] = [];
  try {
    console.error(`[bench:api] host at ${host.baseUrl}; configuring ${PROVIDERS} providers and ${PATIENTS} patients`);
    await configure(host.baseUrl);
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const searchPath = `/api/slots?clinicId=${CLINIC}&appointmentType=${TYPE}&from=${day}T08:00:00Z&to=${day}T12:00:00Z`;
    // Warm-up: JIT, store connections, first-request costs.
    await run('slot search', 10, { url: `${host.baseUrl}${searchPath}`, amount: 300, headers: { 'x-ms-client-principal': SCHEDULER } });
    let offset = 0;
    const searchHeaders = { 'x-ms-client-principal': SCHEDULER };
    const bookHeaders = { 'x-ms-client-principal': SCHEDULER, 'content-type': 'application/json' };
    const nextBookings = () => {
      const batch = bookings(BOOK_REQUESTS, offset);
      offset += BOOK_REQUESTS;
      let next = 0;
      return () => {
        const b = batch[next++ % batch.length]!;
        return JSON.stringify({ slotId: b.slotId, patientId: b.patientId, appointmentType: TYPE });
      };
    };
    /** Runs a row, waits for the background work it caused, and adds drain time and host CPU per request. */
    const measured = async (measure: () => Promise<Row>, drain: boolean): Promise<Row> => {
      const cpu0 = await hostCpuMs(host.baseUrl);
      let row = await measure();
      if (drain) {
        const drainMs = await waitForIdle(host.baseUrl);
        if (drainMs !== undefined) row = { ...row, drainMs };
      }
      const cpu1 = await hostCpuMs(host.baseUrl);
      return cpu0 === undefined || cpu1 === undefined ? row : { ...row, hostCpuMsPerRequest: Math.round(((cpu1 - cpu0) / row.requests) * 100) / 100 };
    };
    await waitForIdle(host.baseUrl);
    for (const connections of CONNECTIONS) {
      rows.push(
        await measured(() => run('slot search', connections, { url: `${host.baseUrl}${searchPath}`, amount: SEARCH_REQUESTS, headers: searchHeaders }), false),
      );
      const body = nextBookings();
      rows.push(
        await measured(
          () =>
            run('booking', connections, {
              url: host.baseUrl,
              amount: BOOK_REQUESTS,
              requests: [{ method: 'POST', path: '/api/appointments', headers: bookHeaders, setupRequest: (req) => ({ ...req, body: body() }) }],
            }),
          true,
        ),
      );
    }
    for (const rate of SEARCH_RATES) {
      rows.push(
        await measured(
          () =>
            openLoop('slot search', host.baseUrl, RATE_CONNECTIONS, rate, SEARCH_REQUESTS, () => ({ method: 'GET', path: searchPath, headers: searchHeaders })),
          false,
        ),
      );
    }
    for (const rate of BOOK_RATES) {
      const body = nextBookings();
      rows.push(
        await measured(
          () =>
            openLoop('booking', host.baseUrl, RATE_CONNECTIONS, rate, BOOK_REQUESTS, () => ({
              method: 'POST',
              path: '/api/appointments',
              headers: bookHeaders,
              body: body(),
            })),
          true,
        ),
      );
    }
  } finally {
    await host.stop();
  }
  console.log('\nScheduling API latency through the local host (ms)');
  console.log('operation    conns  offered  requests  non-2xx  errors  req/s    p50    p99    max  drain  host CPU ms/req');
  for (const r of rows) {
    console.log(
      `${r.operation.padEnd(12)} ${String(r.connections).padStart(5)} ${(r.rate ? `${r.rate}/s` : 'closed').padStart(8)} ${String(r.requests).padStart(9)} ${String(r.non2xx).padStart(8)} ${String(r.errors).padStart(7)} ${String(r.rps).padStart(6)} ${String(r.p50).padStart(6)} ${String(r.p99).padStart(6)} ${String(r.max).padStart(6)} ${(r.drainMs === undefined ? '' : `${(r.drainMs / 1000).toFixed(1)} s`).padStart(6)} ${r.hostCpuMsPerRequest === undefined ? '' : String(r.hostCpuMsPerRequest).padStart(8)}`,
    );
  }
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'api-latency.json'),
    `${JSON.stringify({ machine: { cpus: cpus().length, node: process.version, at: new Date().toISOString(), loadavg: loadavg() }, providers: PROVIDERS, rows }, null, 2)}\n`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
