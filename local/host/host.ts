import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { capturedFunctions, installFunctionsCore } from './core';
import { CosmosSnapshotter, startLocalCosmos, type LocalCosmos } from './cosmos';
import { CosmosJournal } from './cosmos-journal';
import { DurableBackend } from './durable/backend';
import { DURABLE_API_PATH, durableClientBindingData, handleDurableApi } from './durable/client-api';
import { FileInstanceStore, JournalInstanceStore, MemoryInstanceStore } from './durable/store';
import { HttpDispatcher, problem } from './http';
import { consoleLogger, type ExtraInputResolver, type HostLogger } from './invocation';
import type { FunctionRegistry } from './registry';
import type { LocalBroker, ServiceBusTriggers } from './servicebus-glue';
import { ForegroundGate } from './priority';
import { hostJsonSettings } from './settings';
import { TimerScheduler } from './timers';
import { LocalTelemetry, METRICS_PATH, TRACES_PATH } from './telemetry';

/**
 * The embedded Functions host: captures the app's registrations and serves them — HTTP routes,
 * durable orchestrations and activities, timers and Service Bus triggers — next to an in-process
 * Cosmos DB server and Service Bus broker. `npm start` (local/start.ts) and the e2e tests
 * run it as a process; integration tests can run it in-process with {@link LocalHost.start}.
 */

/**
 * The embedded broker and its triggers (with rhea), loaded when the host starts or is given a broker:
 * a host without one (broker: false, as on a remote Cosmos DB in the cold-start bench) never loads them.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const serviceBusGlue = () => require('./servicebus-glue') as typeof import('./servicebus-glue');

export interface LocalHostOptions {
  /** TCP port; 0 picks a free one. Default: PORT env, else 7071. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  hostname?: string;
  /** Durable histories live here. Default: DATA_DIR env, else ./.data. `null` keeps them in memory. */
  dataDir?: string | null;
  /** App entry to require (default dist/bundle/main.js under cwd: the production bundle). Ignored when `loadApp` is given. */
  appEntry?: string;
  /** Loads the app in-process instead of requiring `appEntry` (Jest: require the fixture after jest.mock). */
  loadApp?: () => unknown;
  /**
   * Module exporting `getServices()` awaited before health turns ok. Default: the app entry itself (its
   * exports, or what `loadApp` returns), which re-exports it, so the host awaits the instance the functions use.
   */
  servicesModule?: string | null;
  /** host.json to read the route prefix from (default ./host.json). */
  hostJsonPath?: string;
  /** Overrides host.json's route prefix. */
  routePrefix?: string;
  /** Start the in-process Cosmos server (default true). When false, COSMOS_* env is left as is. */
  cosmos?: boolean;
  /** Keep Cosmos data in the data folder and restore it on start (default true with a data folder). */
  cosmosSnapshot?: boolean;
  /**
   * Durable stand-ins (default true; env SLOTFLOW_LOCAL_LOG=off turns it off): Cosmos DB and the
   * broker journal every change (append-only log, group-committed fsync) and answer only once it is
   * on disk. Off: Cosmos is snapshotted every few seconds (a hard kill loses the writes since) and
   * the broker is memory only, as before; benchmarks compare the two.
   */
  durableLog?: boolean;
  /** Start the in-process Service Bus broker (default true), or supply one. */
  broker?: boolean | LocalBroker;
  registry?: FunctionRegistry;
  logger?: HostLogger;
  /** Called as soon as HTTP listens (health answers 503 until every part is ready). */
  onListening?: (baseUrl: string) => void;
  /**
   * Interactive requests first (default true): while an HTTP request is in flight, background work
   * (Service Bus triggers, durable episodes and activities, timers, Cosmos snapshots) runs one unit at
   * a time. See priority.ts.
   */
  prioritizeRequests?: boolean;
  /**
   * Keep the app's traces and metrics in memory and serve them on /_host/traces and /_host/metrics
   * (default true; env SLOTFLOW_TRACES=off turns it off). SLOTFLOW_TRACE_BUFFER: how many traces (200).
   */
  telemetry?: boolean;
}

/**
 * The `traceparent` of an answer the host gives itself (health, no such route): every API response
 * carries one, as the app's do; flags 00, not sampled, so health polling fills no trace buffer.
 */
function unsampledTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
}

/** The local host's load report (not an Azure route: it lives outside the /api prefix). */
export const LOAD_PATH = '/_host/load';

export type ComponentName = 'http' | 'cosmos' | 'broker' | 'app' | 'durable' | 'services';

export class LocalHost {
  readonly registry: FunctionRegistry;
  readonly logger: HostLogger;
  private server?: Server;
  private dispatcher?: HttpDispatcher;
  backend?: DurableBackend;
  timers?: TimerScheduler;
  serviceBus?: ServiceBusTriggers;
  cosmos?: LocalCosmos;
  private snapshotter?: CosmosSnapshotter;
  private cosmosJournal?: CosmosJournal;
  broker?: LocalBroker;
  private ownsBroker = false;
  /** The in-memory traces and metrics (undefined when telemetry is off). */
  telemetry?: LocalTelemetry;
  /** The foreground gate (undefined when prioritizeRequests is false). */
  readonly gate?: ForegroundGate;
  private readonly ready = new Map<ComponentName, boolean>();
  private readonly problems = new Map<ComponentName, string>();
  port = 0;
  baseUrl = '';
  /** Data folder in use (null: memory only). */
  dataDir: string | null = null;
  /** ms from start() to healthy. */
  startupMs = 0;
  private firstAnswered = false;
  private resolveFirstAnswered: () => void = () => undefined;
  /**
   * Resolves once the first app request (an /api route other than health) has been answered: work
   * that no request needs (local/start.ts: the MLLP bridge) waits for it, so a cold process answers first.
   */
  readonly firstRequestAnswered = new Promise<void>((resolve) => (this.resolveFirstAnswered = resolve));
  private readonly markFirstAnswered = (): void => {
    this.firstAnswered = true;
    this.resolveFirstAnswered();
  };

  private constructor(private readonly options: LocalHostOptions) {
    this.registry = options.registry ?? capturedFunctions;
    this.logger = options.logger ?? consoleLogger;
    if (options.prioritizeRequests !== false) this.gate = new ForegroundGate();
    for (const c of ['http', 'cosmos', 'broker', 'app', 'durable', 'services'] as ComponentName[]) this.ready.set(c, false);
  }

  /** Starts everything; resolves once healthy (or rejects with the component that failed). */
  static async start(options: LocalHostOptions = {}): Promise<LocalHost> {
    const host = new LocalHost(options);
    try {
      await host.boot();
    } catch (err) {
      await host.stop();
      throw err;
    }
    return host;
  }

  /** Health as GET /api/health reports it. */
  health(): { status: 'ok' | 'starting' | 'unhealthy'; components: Record<string, string> } {
    const components: Record<string, string> = {};
    let ok = true;
    for (const [name, isReady] of this.ready) {
      components[name] = isReady ? 'ready' : (this.problems.get(name) ?? 'starting');
      ok &&= isReady;
    }
    const failed = this.problems.size > 0;
    return { status: ok ? 'ok' : failed ? 'unhealthy' : 'starting', components };
  }

  /** Resolves the `durableClient` input (and reports unsupported inputs as undefined). */
  readonly resolveExtraInput: ExtraInputResolver = (binding) => {
    if (binding.type === 'durableClient' || binding.type === 'orchestrationClient') return durableClientBindingData(this.baseUrl);
    return undefined;
  };

  private readonly runBackground = <T>(work: () => Promise<T>): Promise<T> => (this.gate ? this.gate.runBackground(work) : work());

  private async boot(): Promise<void> {
    const t0 = performance.now();
    const o = this.options;
    installFunctionsCore();

    // 1. HTTP first, so /api/health answers 503 with progress while the rest starts.
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.keepAliveTimeout = 65_000;
    const port = o.port ?? (process.env.PORT !== undefined ? Number(process.env.PORT) : 7071);
    const hostname = o.hostname ?? '127.0.0.1';
    await new Promise<void>((resolveListen, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, hostname, () => resolveListen());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.baseUrl = `http://${hostname}:${this.port}`;
    this.ready.set('http', true);
    this.logger('information', `[host] listening on ${this.baseUrl}`);
    o.onListening?.(this.baseUrl);

    // 2. Cosmos and the broker, whose addresses the app reads from the environment.
    const dataDir = o.dataDir === undefined ? resolve(process.env.DATA_DIR ?? '.data') : o.dataDir;
    this.dataDir = dataDir;
    const durableLog = o.durableLog ?? process.env.SLOTFLOW_LOCAL_LOG !== 'off';
    const [cosmos, broker] = await Promise.all([
      o.cosmos === false ? Promise.resolve(undefined) : this.component('cosmos', () => startLocalCosmos()),
      this.startBroker(durableLog && dataDir !== null ? join(dataDir, 'servicebus') : undefined),
    ]);
    if (cosmos) {
      this.cosmos = cosmos;
      process.env.COSMOS_ENDPOINT = cosmos.endpoint;
      process.env.COSMOS_KEY = cosmos.key;
      if (dataDir !== null && o.cosmosSnapshot !== false) {
        const dir = join(dataDir, 'cosmos');
        const file = join(dir, 'snapshot.json');
        const gate = this.gate;
        const journal = await this.component('cosmos', async () => {
          // Snapshot + log (either format, a torn log tail dropped) into the server's memory.
          const { store, report } = await CosmosJournal.open(cosmos.account!, dir, {
            onError: (err) => this.logger('error', `[host] Cosmos journal failed, writes are no longer acknowledged: ${err.message}`),
            ...(gate ? { beforeCheckpoint: () => gate.whenForegroundIdle() } : {}),
          });
          if (report.snapshotDocuments || report.logRecords)
            this.logger(
              'information',
              `[host] Cosmos data restored (${report.snapshotDocuments} documents from the snapshot, ${report.logRecords} log records)`,
            );
          if (report.droppedBytes) this.logger('warning', `[host] Cosmos log: dropped a torn last record (${report.droppedBytes} bytes, never acknowledged)`);
          return store;
        });
        if (durableLog) {
          cosmos.journal = journal;
          this.cosmosJournal = journal;
        } else {
          // Log off: snapshots only, as before (the folder is compacted into one snapshot first).
          await journal.stop();
          this.startSnapshotter(cosmos, file);
        }
      }
    }
    this.ready.set('cosmos', true);
    if (broker) process.env.ServiceBusConnection = broker.connectionString;

    this.ready.set('broker', true);
    process.env.SLOTFLOW_ENV ??= 'local';
    process.env.SMS_MODE ??= 'outbox';
    // Before the app loads: its meters and tracers find the in-memory providers as the globals.
    if (o.telemetry ?? process.env.SLOTFLOW_TRACES !== 'off') {
      const buffer = Number(process.env.SLOTFLOW_TRACE_BUFFER ?? 200);
      this.telemetry = LocalTelemetry.install(Number.isInteger(buffer) && buffer > 0 ? buffer : 200);
    }

    // 3. The app: its registrations land in the registry.
    let appExports: unknown;
    await this.component('app', async () => {
      if (o.loadApp) appExports = await o.loadApp();
      else {
        const entry = resolve(o.appEntry ?? 'dist/bundle/main.js');
        if (!existsSync(entry)) throw new Error(`app entry ${entry} not found (run npm run build)`);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        appExports = require(entry);
      }
      for (const hook of this.registry.hooksFor('appStart')) await hook({ hookData: {}, appHookData: {} });
    });
    this.ready.set('app', true);
    this.warnUnsupportedBindings();

    // 4. Triggers.
    const hostJson = hostJsonSettings(o.hostJsonPath ?? resolve('host.json'));
    const routePrefix = o.routePrefix ?? hostJson.routePrefix;
    this.dispatcher = new HttpDispatcher({ registry: this.registry, routePrefix, resolveExtraInput: this.resolveExtraInput, logger: this.logger });
    this.backend = new DurableBackend({
      registry: this.registry,
      store:
        dataDir === null
          ? new MemoryInstanceStore()
          : durableLog
            ? new JournalInstanceStore(dataDir, {
                onError: (err) => this.logger('error', `[host] durable journal failed, workflow changes are no longer acknowledged: ${err.message}`),
              })
            : new FileInstanceStore(dataDir),
      logger: this.logger,
      resolveExtraInput: this.resolveExtraInput,
      maxConcurrentActivities: hostJson.maxConcurrentActivityFunctions,
      runBackground: this.runBackground,
    });
    this.backend.start();
    this.ready.set('durable', true);
    this.timers = new TimerScheduler(this.registry, { resolveExtraInput: this.resolveExtraInput, logger: this.logger, runBackground: this.runBackground });
    this.timers.start();
    if (this.broker) {
      this.serviceBus = new (serviceBusGlue().ServiceBusTriggers)(this.registry, this.broker, {
        resolveExtraInput: this.resolveExtraInput,
        logger: this.logger,
        maxConcurrentCalls: hostJson.serviceBus.maxConcurrentCalls,
        maxConcurrentSessions: hostJson.serviceBus.maxConcurrentSessions,
        runBackground: this.runBackground,
      });
      await this.component('broker', () => this.serviceBus!.start());
    }

    // 5. The app's own services (Cosmos containers etc.).
    await this.component('services', async () => {
      let mod: { getServices?: () => unknown } | undefined;
      if (o.servicesModule === undefined) mod = (appExports ?? undefined) as typeof mod;
      else if (o.servicesModule && existsSync(o.servicesModule)) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        mod = require(o.servicesModule) as typeof mod;
      }
      if (typeof mod?.getServices === 'function') await mod.getServices();
    });
    this.ready.set('services', true);
    this.startupMs = Math.round(performance.now() - t0);
  }

  private startSnapshotter(cosmos: LocalCosmos, file: string): void {
    const gate = this.gate;
    const snapshotter = new CosmosSnapshotter(cosmos, file, (err) => this.logger('warning', `[host] Cosmos snapshot failed: ${err.message}`), {
      // Periodic snapshots wait for a moment without interactive requests (the last one on stop does not).
      ...(gate ? { beforeSnapshot: () => gate.whenForegroundIdle() } : {}),
    });
    cosmos.onWrite(() => snapshotter.markDirty());
    snapshotter.start();
    this.snapshotter = snapshotter;
  }

  private async startBroker(journalDir: string | undefined): Promise<LocalBroker | undefined> {
    const o = this.options;
    if (o.broker === false) return undefined;
    if (o.broker && o.broker !== true) {
      this.broker = o.broker;
      return this.broker;
    }
    this.broker = await this.component('broker', () => serviceBusGlue().startDefaultBroker(this.logger, journalDir));
    this.ownsBroker = this.broker !== undefined;
    return this.broker;
  }

  private async component<T>(name: ComponentName, start: () => Promise<T> | T): Promise<T> {
    try {
      return await start();
    } catch (err) {
      const message = (err as Error).message;
      this.problems.set(name, `failed: ${message}`);
      throw new Error(`local host: ${name} failed to start: ${message}`, { cause: err });
    }
  }

  private warnUnsupportedBindings(): void {
    for (const fn of this.registry.all()) {
      const type = fn.triggerType.toLowerCase();
      if (!['httptrigger', 'timertrigger', 'servicebustrigger', 'orchestrationtrigger', 'activitytrigger', 'entitytrigger'].includes(type)) {
        this.logger('warning', `[host] ${fn.name}: trigger type ${fn.triggerType} is not served locally`);
      }
      for (const [name, b] of Object.entries(fn.metadata.bindings)) {
        if (/trigger$/i.test(b.type) || name === '$return') continue;
        if (b.direction === 'in' && (b.type === 'durableClient' || b.type === 'orchestrationClient')) continue;
        this.logger('warning', `[host] ${fn.name}: ${b.direction} binding ${name} (${b.type}) is not supported locally`);
      }
    }
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path.startsWith(DURABLE_API_PATH)) {
        if (!this.backend) return problem(res, 503, 'HOST.STARTING', 'The durable backend is starting');
        return await handleDurableApi(this.backend, this.baseUrl, req, res);
      }
      if (path === LOAD_PATH && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        return void res.end(JSON.stringify(this.load()));
      }
      if ((path === TRACES_PATH || path.startsWith(`${TRACES_PATH}/`) || path === METRICS_PATH) && req.method === 'GET') {
        return await this.serveTelemetry(path, new URL(req.url ?? '/', 'http://local').searchParams, res);
      }
      if (path === '/api/health' && (req.method === 'GET' || req.method === 'HEAD')) {
        res.setHeader('traceparent', unsampledTraceparent());
        const health = this.health();
        const body = JSON.stringify(health);
        res.writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        return void res.end(req.method === 'HEAD' ? undefined : body);
      }
      if (!this.dispatcher) return problem(res, 503, 'HOST.STARTING', 'The local host is starting');
      if (this.gate) {
        // An interactive request (the durable client API above is the app's own background traffic).
        const leave = this.gate.enterForeground();
        res.once('close', leave);
        res.once('finish', leave);
      }
      if (!this.firstAnswered) res.once('close', this.markFirstAnswered);
      if (await this.dispatcher.handle(req, res, this.baseUrl)) return;
      res.setHeader('traceparent', unsampledTraceparent());
      problem(res, 404, 'ROUTE.NOT_FOUND', 'Not Found', `No function serves ${req.method} ${path}`);
    } catch (err) {
      this.logger('error', `[host] request failed: ${(err as Error).message}`);
      if (!res.headersSent) problem(res, 500, 'INTERNAL', 'Internal Server Error');
      else res.destroy();
    }
  }

  /**
   * What the host is busy with (GET /_host/load, local only): interactive requests in flight and the
   * background work admitted or queued behind them. `idle` is true when nothing runs or waits.
   */
  load(): {
    idle: boolean;
    requestsInFlight: number;
    backgroundInFlight: number;
    backgroundWaiting: number;
    backgroundDeferred: number;
    episodesInFlight: number;
    activitiesInFlight: number;
    episodes: number;
    cpuMs: number;
  } {
    const durable = this.backend?.load() ?? { episodesInFlight: 0, activitiesInFlight: 0 };
    const g = {
      requestsInFlight: this.gate?.foregroundInFlight ?? 0,
      backgroundInFlight: this.gate?.backgroundInFlight ?? 0,
      backgroundWaiting: this.gate?.backgroundWaiting ?? 0,
      backgroundDeferred: this.gate?.deferred ?? 0,
    };
    const idle = g.backgroundInFlight === 0 && g.backgroundWaiting === 0 && durable.episodesInFlight === 0 && durable.activitiesInFlight === 0;
    const cpu = process.cpuUsage();
    return { idle, ...g, ...durable, episodes: this.backend?.episodes ?? 0, cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
  }

  /** GET /_host/traces[?limit&id], /_host/traces/{traceId}, /_host/metrics (local/host/telemetry.ts). */
  private async serveTelemetry(path: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const telemetry = this.telemetry;
    if (!telemetry) return problem(res, 404, 'HOST.TELEMETRY_OFF', 'Telemetry is off', 'The host was started with SLOTFLOW_TRACES=off');
    if (path === METRICS_PATH) return send(200, { metrics: await telemetry.metrics() });
    if (path === TRACES_PATH) {
      const rawLimit = query.get('limit') ?? '20';
      const limit = Number(rawLimit);
      if (!/^\d{1,4}$/.test(rawLimit) || limit < 1) return problem(res, 400, 'INVALID_INPUT', 'Bad Request', 'limit must be an integer from 1 to 9999');
      const id = query.get('id') ?? undefined;
      return send(200, { traces: telemetry.traces.list(limit, id) });
    }
    const traceId = path.slice(TRACES_PATH.length + 1);
    if (!/^[0-9a-f]{32}$/.test(traceId)) return problem(res, 400, 'INVALID_INPUT', 'Bad Request', 'a trace id is 32 lowercase hex digits');
    const found = telemetry.traces.get(traceId);
    if (!found) return problem(res, 404, 'TRACE.NOT_FOUND', 'Not Found', 'No such trace in the buffer (it may have been evicted)');
    return send(200, found);
  }

  /** Routes served, for the banner. */
  httpRoutes(): { functionName: string; route: string; methods: string[] }[] {
    return this.dispatcher?.routes ?? [];
  }

  /** Stops the HTTP server, triggers, the backend, the broker and Cosmos (after a last snapshot). Idempotent. */
  async stop(): Promise<void> {
    if (this.server) {
      const server = this.server;
      this.server = undefined;
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections?.();
      });
    }
    this.timers?.stop();
    await this.serviceBus?.stop().catch(() => undefined);
    await this.backend?.stop();
    if (this.ownsBroker) await this.broker?.stop().catch(() => undefined);
    await this.snapshotter?.stop().catch(() => undefined);
    if (this.cosmos) this.cosmos.journal = undefined;
    await this.cosmosJournal?.stop().catch((err: Error) => this.logger('warning', `[host] last Cosmos snapshot failed: ${err.message}`));
    await this.cosmos?.stop().catch(() => undefined);
    await this.telemetry?.stop();
    this.telemetry = undefined;
  }
}
