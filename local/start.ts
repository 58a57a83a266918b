// First: the compile cache covers everything compiled after it (see compile-cache.ts).
import './compile-cache';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MllpBridge } from '../mllp-bridge/bridge';
import { LocalHost } from './host/host';
import { applyLocalSettings } from './host/settings';

/**
 * `npm start`: runs Slotflow on this machine. Flags:
 *   --no-seed            do not seed the demo clinic
 *   --app <file>         app entry to load (default dist/bundle/main.js, the production bundle)
 *   --services <file|none>  module whose getServices() must resolve before healthy (default: the app entry's)
 * Environment: PORT (default 7071, 0 = free port), DATA_DIR (default ./.data), plus the app
 * settings; local.settings.json Values apply where the environment has no value.
 */

const ROOT = resolve(__dirname, '..', '..');

export interface StartArgs {
  seed: boolean;
  app?: string;
  services?: string | null;
}

export function parseArgs(argv: string[]): StartArgs {
  const args: StartArgs = { seed: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-seed') args.seed = false;
    else if (a === '--app') args.app = resolve(argv[++i] ?? '');
    else if (a === '--services') {
      const v = argv[++i] ?? 'none';
      args.services = v === 'none' ? null : resolve(v);
    } else throw new Error(`Unknown argument ${a} (known: --no-seed, --app <file>, --services <file|none>)`);
  }
  return args;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<LocalHost> {
  const args = parseArgs(argv);
  // A stray rejection in app or host code is reported with its stack; it does not take the host down
  // (an uncaught exception still does, after printing it).
  process.on('unhandledRejection', (reason) => {
    console.error(`[host] unhandled promise rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
  const applied = applyLocalSettings(resolve(ROOT, 'local.settings.json'));
  if (applied.length) console.log(`[host] local.settings.json: applied ${applied.length} setting(s) not set in the environment`);

  const host = await LocalHost.start({
    appEntry: args.app ?? resolve(ROOT, 'dist', 'bundle', 'main.js'),
    ...(args.services === undefined ? {} : { servicesModule: args.services }),
    hostJsonPath: resolve(ROOT, 'host.json'),
  });

  let stopping = false;
  let mllp: MllpBridge | undefined;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.log('[host] forced exit');
      process.exit(1);
    }
    stopping = true;
    console.log(`[host] ${signal}: shutting down...`);
    Promise.all([host.stop(), mllpStarted.then(() => mllp?.close())]).then(
      () => {
        console.log('[host] stopped');
        process.exit(0);
      },
      (err: Error) => {
        console.error(`[host] shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  // The MLLP bridge (and the banner that names its port) once the first request has been answered,
  // or after MLLP_DEFER_MS without one: loading it costs CPU that a cold process's first answer
  // need not wait for. The seed does not wait for it.
  const mllpStarted = Promise.race([host.firstRequestAnswered, delay(MLLP_DEFER_MS)]).then(async () => {
    if (stopping) return;
    mllp = await startMllp(host);
    printBanner(host, mllp);
  });

  // The last line of start-up; test/support/localhost.ts waits for it when it asks for the seed.
  const seeded = await seed(args.seed, host.baseUrl);
  await mllpStarted;
  console.log(`[host] seed: ${seeded}`);
  return host;
}

/** Longest wait for a first request before the MLLP bridge starts anyway. */
const MLLP_DEFER_MS = 1000;
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

async function seed(wanted: boolean, baseUrl: string): Promise<'done' | 'failed' | 'skipped'> {
  const seedModule = resolve(__dirname, 'seed.js');
  if (!wanted || !existsSync(seedModule)) return 'skipped';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(seedModule) as { seedDemo?: (baseUrl: string) => Promise<unknown> };
  if (typeof mod.seedDemo !== 'function') return 'skipped';
  try {
    await mod.seedDemo(baseUrl);
    console.log('[host] demo clinic seeded (skip with --no-seed)');
    return 'done';
  } catch (err) {
    console.error(`[host] seeding failed: ${(err as Error).message}`);
    return 'failed';
  }
}

/**
 * The MLLP bridge beside the host (SIU over MLLP/TCP into the same SIU route): MLLP_PORT (default 2575;
 * a free port when PORT=0, as in tests; `off` disables). A port in use is reported, not fatal.
 */
async function startMllp(host: LocalHost): Promise<MllpBridge | undefined> {
  // Loaded here, once the host is up, not at import: the bridge pulls in the HL7 domain code
  // (unbundled), which would otherwise delay the host's first answer.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DEFAULT_MLLP_PORT, startFromEnvironment } = require('../mllp-bridge/main') as typeof import('../mllp-bridge/main');
  const setting = process.env.MLLP_PORT ?? (process.env.PORT === '0' ? '0' : String(DEFAULT_MLLP_PORT));
  if (setting === 'off') return undefined;
  try {
    return await startFromEnvironment({ ...process.env, MLLP_PORT: setting, MLLP_TARGET_URL: `${host.baseUrl}/api/ehr/hl7v2` }, (line) => {
      if (!line.startsWith('mllp.listening')) console.log(`[mllp] ${line}`);
    });
  } catch (err) {
    console.error(`[mllp] bridge not started: ${(err as Error).message}`);
    return undefined;
  }
}

function printBanner(host: LocalHost, mllp: MllpBridge | undefined): void {
  const routes = host.httpRoutes();
  const lines = [
    '',
    `Slotflow local host ready in ${(host.startupMs / 1000).toFixed(1)} s`,
    `  API            ${host.baseUrl}`,
    `  health         ${host.baseUrl}/api/health`,
    `  durable API    ${host.baseUrl}/runtime/webhooks/durabletask/instances`,
    `  data folder    ${host.dataDir ?? '(memory only)'}`,
    `  Cosmos DB      ${host.cosmos?.endpoint ?? '(external)'}  (in memory; snapshot in the data folder)`,
    `  Service Bus    ${host.broker ? host.broker.connectionString.replace(/SharedAccessKey=[^;]*/, 'SharedAccessKey=***') : '(none)'}`,
    `  functions      ${host.registry.all().length} (${routes.length} HTTP routes)`,
    `  MLLP bridge    ${mllp ? `127.0.0.1:${mllp.port} (SIU over MLLP -> /api/ehr/hl7v2)` : '(off)'}`,
    `  traces         ${host.telemetry ? `${host.baseUrl}/_host/traces?limit=20 (last ${host.telemetry.traces.maxTraces} in memory), ${host.baseUrl}/_host/metrics` : '(off: SLOTFLOW_TRACES=off)'}`,
    '',
    'Try:',
    `  curl ${host.baseUrl}/api/health`,
    `  curl ${host.baseUrl}/api/dev/sms/outbox`,
    '  see README.md "Running locally" for the booking, cancellation and SMS reply flows.',
    'Ctrl-C stops.',
    '',
  ];
  console.log(lines.join('\n'));
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`[host] failed to start: ${err.message}`);
    process.exit(1);
  });
}
