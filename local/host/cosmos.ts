import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { installLinearFrom } from './cosmos-linear-from';
import { installServerPatches, takeServerAccount, type ServerAccount } from './cosmos-partitions';
import { installCosmosCapture, runInRequestContext, type CosmosJournal } from './cosmos-journal';

/**
 * The in-process Cosmos DB stand-in: `@vercel/cosmosdb-server` on a free loopback port, plain HTTP
 * with keep-alive, with the patches of cosmos-partitions.ts (single-partition queries read only
 * their partition; query-plan requests scan nothing) and cosmos-linear-from.ts (queries linear, not
 * quadratic, in the documents they read). The server keeps data in memory only; see
 * the snapshot functions below.
 */

/** The Cosmos DB emulator's published, well-known account key (not a secret). */
export const COSMOS_EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface LocalCosmos {
  endpoint: string;
  key: string;
  /**
   * The server's in-memory account (internals of @vercel/cosmosdb-server, see cosmos-partitions.ts):
   * the snapshot reads it directly. Absent on stand-ins not started by startLocalCosmos.
   */
  account?: ServerAccount;
  /** Registers a callback for every request that may change data (not reads, queries or query plans). */
  onWrite(callback: () => void): void;
  /**
   * The journal (cosmos-journal.ts) once attached: every answer then waits until the changes made
   * so far are on disk.
   */
  journal?: CosmosJournal;
  stop(): Promise<void>;
}

/** Accounts of the servers this process started, by endpoint (restoreCosmos writes into them directly). */
const localAccounts = new Map<string, ServerAccount>();

function isTrue(value: string | string[] | undefined): boolean {
  return (Array.isArray(value) ? value : [value ?? '']).some((v) => v.toLowerCase() === 'true');
}

export async function startLocalCosmos(port = 0, host = '127.0.0.1'): Promise<LocalCosmos> {
  // Loaded lazily: a devDependency, and only the local host needs it. Patched before its routes load.
  installServerPatches();
  installLinearFrom();
  installCosmosCapture();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHttpServer } = require('@vercel/cosmosdb-server') as { createHttpServer(opts?: object): Server };
  const server = createHttpServer({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const account = takeServerAccount(address.port);
  if (!account) {
    server.close();
    throw new Error('@vercel/cosmosdb-server did not create its account through the patched class (see cosmos-partitions.ts)');
  }
  const endpoint = `http://${host}:${address.port}`;
  localAccounts.set(endpoint, account);
  const writeListeners: (() => void)[] = [];
  const local: LocalCosmos = {
    endpoint,
    key: COSMOS_EMULATOR_KEY,
    account,
    onWrite: (callback) => void writeListeners.push(callback),
    stop: () =>
      new Promise<void>((resolve) => {
        localAccounts.delete(endpoint);
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
  // Each request runs in its own context, so the journal knows what it wrote and read (cosmos-journal.ts).
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) =>
    runInRequestContext(() => {
      local.journal?.holdResponse(req, res);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        // The server's own test for a query (lib/router.js); the SDK's query-plan requests are queries too.
        const isQuery = req.method === 'POST' && (isTrue(req.headers['x-ms-documentdb-isquery']) || req.headers['content-type'] === 'application/query+json');
        if (!isQuery) for (const l of writeListeners) l();
      }
      for (const l of listeners) l.call(server, req, res);
    }),
  );
  return local;
}

// --- snapshot and restore ------------------------------------------------------------------------
// @vercel/cosmosdb-server keeps data in memory only. The local host snapshots it into the data folder
// (after writes, every few seconds, and on shutdown) and restores it on start, so `npm start` after
// Ctrl-C finds the clinic it left. A hard kill loses at most the last few seconds of writes.
//
// Snapshot file, version 1: {version: 1, takenAt, databases: [{id, containers: [{id, partitionKey,
// uniqueKeyPolicy, defaultTtl, items: [documents without _rid, _self, _etag, _attachments, _ts]}]}]}.

interface SnapshotContainer {
  id: string;
  partitionKey?: unknown;
  uniqueKeyPolicy?: unknown;
  defaultTtl?: number;
  items: Record<string, unknown>[];
}
interface Snapshot {
  version: 1;
  takenAt: string;
  databases: { id: string; containers: SnapshotContainer[] }[];
}

const SYSTEM_FIELDS = ['_rid', '_self', '_etag', '_attachments', '_ts'];
const SYSTEM_FIELD_SET = new Set(SYSTEM_FIELDS);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cosmosSdk = () => require('@azure/cosmos') as typeof import('@azure/cosmos');

function clientFor(endpoint: string, key: string) {
  const { CosmosClient } = cosmosSdk();
  return new CosmosClient({ endpoint, key, connectionPolicy: { enableEndpointDiscovery: false } });
}

/**
 * Writes every database, container definition and document to `file` (atomically), reading them
 * through the SDK. For a server started by startLocalCosmos, snapshotAccount is far cheaper.
 */
export async function snapshotCosmos(endpoint: string, key: string, file: string): Promise<{ documents: number }> {
  const client = clientFor(endpoint, key);
  try {
    const snapshot: Snapshot = { version: 1, takenAt: new Date().toISOString(), databases: [] };
    let documents = 0;
    const { resources: dbs } = await client.databases.readAll().fetchAll();
    for (const db of dbs) {
      const database = client.database(db.id);
      const { resources: containers } = await database.containers.readAll().fetchAll();
      const out: SnapshotContainer[] = [];
      for (const c of containers) {
        const { resources } = await database.container(c.id).items.readAll().fetchAll();
        const items = resources.map((doc) => {
          const copy: Record<string, unknown> = { ...doc };
          for (const f of SYSTEM_FIELDS) delete copy[f];
          return copy;
        });
        documents += items.length;
        out.push({ id: c.id, partitionKey: c.partitionKey, uniqueKeyPolicy: c.uniqueKeyPolicy, defaultTtl: c.defaultTtl, items });
      }
      snapshot.databases.push({ id: db.id, containers: out });
    }
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(snapshot));
    renameSync(tmp, file);
    return { documents };
  } finally {
    client.dispose();
  }
}

let tmpCounter = 0;
/** Characters of JSON handed to the file at a time: the event loop runs between two writes. */
const WRITE_CHUNK = 1 << 18;

/**
 * Writes the account's databases, container definitions and documents to `file` in the version 1
 * format, straight from the server's memory. The documents are captured synchronously first (the
 * server stores a new object on every write and never changes a stored one, so the references are
 * a consistent point in time); the JSON is then produced and written in ~256 KB chunks with the
 * event loop running in between, to a temporary file renamed over `file` at the end.
 */
export async function snapshotAccount(account: ServerAccount, file: string): Promise<{ documents: number }> {
  const takenAt = new Date().toISOString();
  let documents = 0;
  const databases = Array.from(account.databases._data.values(), (db) => ({
    id: String(db.read()?.id),
    containers: Array.from(db.collections._data.values(), (c) => {
      const def = c.read() ?? {};
      const docs: Record<string, unknown>[] = [];
      for (const item of c.documents._data.values()) {
        const d = item.read();
        if (d) docs.push(d);
      }
      documents += docs.length;
      return { head: { id: def.id, partitionKey: def.partitionKey, uniqueKeyPolicy: def.uniqueKeyPolicy, defaultTtl: def.defaultTtl }, docs };
    }),
  }));

  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    let buf = `{"version":1,"takenAt":${JSON.stringify(takenAt)},"databases":[`;
    for (const [i, db] of databases.entries()) {
      buf += `${i ? ',' : ''}{"id":${JSON.stringify(db.id)},"containers":[`;
      for (const [j, c] of db.containers.entries()) {
        buf += `${j ? ',' : ''}${JSON.stringify(c.head).slice(0, -1)},"items":[`;
        for (const [k, doc] of c.docs.entries()) {
          const copy: Record<string, unknown> = {};
          for (const f in doc) if (!SYSTEM_FIELD_SET.has(f)) copy[f] = doc[f];
          buf += `${k ? ',' : ''}${JSON.stringify(copy)}`;
          if (buf.length >= WRITE_CHUNK) {
            await fh.write(buf);
            buf = '';
          }
        }
        buf += ']}';
      }
      buf += ']}';
    }
    buf += ']}';
    await fh.write(buf);
    await fh.close();
    await rename(tmp, file);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  return { documents };
}

/**
 * Recreates databases, containers and documents from a snapshot file (version 1), if there is one.
 * Databases and containers go through the SDK; documents too, unless `endpoint` is a server this
 * process started with startLocalCosmos, whose memory they are upserted into directly.
 */
export async function restoreCosmos(endpoint: string, key: string, file: string): Promise<{ documents: number } | undefined> {
  if (!existsSync(file)) return undefined;
  const snapshot = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
  if (snapshot.version !== 1) throw new Error(`unknown Cosmos snapshot version in ${file}`);
  const client = clientFor(endpoint, key);
  const account = localAccounts.get(endpoint);
  try {
    let documents = 0;
    for (const db of snapshot.databases) {
      const { database } = await client.databases.createIfNotExists({ id: db.id });
      for (const c of db.containers) {
        const { container } = await database.containers.createIfNotExists({
          id: c.id,
          partitionKey: c.partitionKey as never,
          uniqueKeyPolicy: c.uniqueKeyPolicy as never,
          defaultTtl: c.defaultTtl,
        });
        const queue = [...c.items];
        if (account) {
          // What the server's upsert handler does for each document, without HTTP and the SDK.
          const target = account.database(db.id).collection(c.id).documents;
          for (const [i, doc] of queue.entries()) {
            if (typeof doc.id === 'string' && doc.id) target.upsert(doc);
            else await container.items.upsert(doc);
            documents++;
            if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
          }
          continue;
        }
        const worker = async () => {
          for (let doc = queue.shift(); doc; doc = queue.shift()) {
            await container.items.upsert(doc);
            documents++;
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
      }
    }
    return { documents };
  } finally {
    client.dispose();
  }
}

export interface CosmosSnapshotterOptions {
  /** How often to check for changes (default 5000 ms). */
  everyMs?: number;
  /**
   * Awaited before each periodic snapshot (not before the final one on stop), e.g. "until no HTTP
   * request is in flight". A rejection is reported to onError and the snapshot is taken anyway.
   */
  beforeSnapshot?: () => Promise<void>;
  /** Longest wait for beforeSnapshot; then the snapshot is taken anyway (default 30000 ms). */
  maxDeferMs?: number;
}

/**
 * Snapshots the server after writes and once more on stop, one snapshot at a time. Checks every
 * `everyMs`, but waits at least 20 times as long as the last snapshot took, so a large data set
 * under load costs at most ~5% of the process. Reads the server's memory directly when the
 * LocalCosmos carries its account (startLocalCosmos), through the SDK otherwise.
 */
export class CosmosSnapshotter {
  private dirty = false;
  private timer?: NodeJS.Timeout;
  /** Snapshots run one after another on this chain. */
  private chain: Promise<void> = Promise.resolve();
  private ticking = false;
  private stopped = false;
  private lastTookMs = 0;
  private lastAt = 0;
  private readonly everyMs: number;
  private readonly beforeSnapshot?: () => Promise<void>;
  private readonly maxDeferMs: number;

  constructor(
    private readonly cosmos: LocalCosmos,
    private readonly file: string,
    private readonly onError: (err: Error) => void,
    options: number | CosmosSnapshotterOptions = {},
  ) {
    const o = typeof options === 'number' ? { everyMs: options } : options;
    this.everyMs = o.everyMs ?? 5000;
    this.beforeSnapshot = o.beforeSnapshot;
    this.maxDeferMs = o.maxDeferMs ?? 30_000;
  }

  /** Marks the data changed; the server calls it for every write request. */
  markDirty(): void {
    this.dirty = true;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.ticking || this.stopped || !this.dirty) return;
    if (Date.now() - this.lastAt < Math.max(this.everyMs, 20 * this.lastTookMs)) return;
    this.ticking = true;
    void (async () => {
      try {
        if (this.beforeSnapshot) await this.waitBeforeSnapshot(this.beforeSnapshot);
        if (!this.stopped) await this.flush();
      } finally {
        this.ticking = false;
      }
    })();
  }

  private async waitBeforeSnapshot(wait: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        wait(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.maxDeferMs);
          timer.unref();
        }),
      ]);
    } catch (err) {
      this.onError(err as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Takes a snapshot now if anything changed, after any snapshot already running. Failures go to onError. */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.snapshotIfDirty());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async snapshotIfDirty(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const t0 = Date.now();
    try {
      const account = this.cosmos.account;
      await (account ? snapshotAccount(account, this.file) : snapshotCosmos(this.cosmos.endpoint, this.cosmos.key, this.file));
    } catch (err) {
      this.dirty = true;
      this.onError(err as Error);
    } finally {
      this.lastAt = Date.now();
      this.lastTookMs = this.lastAt - t0;
    }
  }

  /** Stops the timer and takes the last snapshot (without waiting for beforeSnapshot). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
