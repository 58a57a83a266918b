import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Starts the built local host (dist/local/start.js; Jest's globalSetup builds it) as a
 * child process on a free loopback port with its own data folder, waits until GET /api/health is
 * 200, and stops it. e2e tests then talk to `baseUrl` over HTTP only.
 *
 *   const host = await startLocalHost();                 // the real app, no demo seed
 *   const res = await fetch(`${host.baseUrl}/api/health`);
 *   await host.stop();                                   // SIGTERM, waits for exit, removes a temp data dir
 */

const ROOT = resolve(__dirname, '..', '..');
const START = join(ROOT, 'dist', 'local', 'start.js');

export interface LocalHostProcessOptions {
  /** App entry to load instead of dist/bundle/main.js, the production bundle (e.g. a fixture app). */
  app?: string;
  /** Services module awaited before healthy; `null` for none (fixture apps). Default: the app's. */
  services?: string | null;
  /** Seed the demo clinic and wait for it (default false: tests seed what they need). */
  seed?: boolean;
  /** Data folder for durable histories; default a fresh temp folder, removed on stop(). */
  dataDir?: string;
  /** Extra environment (app settings such as TWILIO_AUTH_TOKEN). */
  env?: Record<string, string>;
  /** Port; default 0 (a free one). */
  port?: number;
  /** How long to wait for health 200. Default 60 s. */
  timeoutMs?: number;
}

export interface LocalHostProcess {
  baseUrl: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Everything the host printed so far (stdout and stderr). */
  output(): string;
  /** Graceful stop (SIGTERM), like Ctrl-C. */
  stop(): Promise<void>;
  /** Hard kill (SIGKILL), like a crash; leaves the data folder in place. */
  kill(): Promise<void>;
}

export async function startLocalHost(options: LocalHostProcessOptions = {}): Promise<LocalHostProcess> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'slotflow-host-'));
  const args = [START];
  if (!options.seed) args.push('--no-seed');
  if (options.app) args.push('--app', options.app);
  if (options.services !== undefined) args.push('--services', options.services ?? 'none');
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(options.port ?? 0), DATA_DIR: dataDir, SLOTFLOW_ENV: 'local', ...options.env };
  delete env.ServiceBusConnection;
  delete env.COSMOS_ENDPOINT;
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // A host that dies on its own (not through stop() or kill()) prints what it said, so a test that
  // then fails with ECONNREFUSED shows why.
  let expectedExit = false;
  child.once('exit', (code, signal) => {
    if (expectedExit) return;
    process.stderr.write(
      `\n[test/support/localhost] the local host (pid ${child.pid}, ${dataDir}) exited unexpectedly (code ${code}, signal ${signal}). Its output:\n${output}\n`,
    );
  });

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let baseUrl: string | undefined;
  for (;;) {
    if (child.exitCode !== null) {
      expectedExit = true;
      throw new Error(`local host exited with ${child.exitCode} before it was healthy:\n${output}`);
    }
    if (Date.now() > deadline) {
      expectedExit = true;
      child.kill('SIGKILL');
      throw new Error(`local host not healthy within ${options.timeoutMs ?? 60_000} ms:\n${output}`);
    }
    baseUrl ??= /listening on (http:\/\/[\d.]+:\d+)/.exec(output)?.[1];
    // With the seed asked for, also wait until seeding finished (health does not wait for it).
    const seeded = !options.seed || /\[host\] seed: (done|failed|skipped)/.test(output);
    if (baseUrl && seeded) {
      const ok = await fetch(`${baseUrl}/api/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(new URL(baseUrl).port);
  const cleanup = () => {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    baseUrl,
    port,
    dataDir,
    child,
    output: () => output,
    async stop() {
      expectedExit = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    },
    async kill() {
      expectedExit = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
