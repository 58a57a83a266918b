import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The in-process Cosmos DB stand-in: `@vercel/cosmosdb-server` on a free loopback port, plain HTTP
 * with keep-alive. The server keeps data in memory only; see the snapshot functions below.
 */

/** The Cosmos DB emulator's published, well-known account key (not a secret). */
export const COSMOS_EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface LocalCosmos {
  endpoint: string;
  key: string;
  /** Registers a callback for every request that may change data (not reads or queries). */
  onWrite(callback: () => void): void;
  stop(): Promise<void>;
}

export async function startLocalCosmos(port = 0, host = '127.0.0.1'): Promise<LocalCosmos> {
  // Loaded lazily: a devDependency, and only the local host needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHttpServer } = require('@vercel/cosmosdb-server') as { createHttpServer(opts?: object): Server };
  const server = createHttpServer({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const writeListeners: (() => void)[] = [];
  server.prependListener('request', (req: IncomingMessage) => {
    const isQuery = String(req.headers['x-ms-documentdb-isquery'] ?? '').toLowerCase() === 'true';
    if (req.method !== 'GET' && req.method !== 'HEAD' && !isQuery) for (const l of writeListeners) l();
  });
  return {
    endpoint: `http://${host}:${address.port}`,
    key: COSMOS_EMULATOR_KEY,
    onWrite: (callback) => void writeListeners.push(callback),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

// --- snapshot and restore ------------------------------------------------------------------------
// @vercel/cosmosdb-server keeps data in memory only. The local host snapshots it into the data folder
// (after writes, every few seconds, and on shutdown) and restores it on start, so `npm start` after
// Ctrl-C finds the clinic it left. A hard kill loses at most the last few seconds of writes.

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

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cosmosSdk = () => require('@azure/cosmos') as typeof import('@azure/cosmos');

function clientFor(endpoint: string, key: string) {
  const { CosmosClient } = cosmosSdk();
  return new CosmosClient({ endpoint, key, connectionPolicy: { enableEndpointDiscovery: false } });
}

/** Writes every database, container definition and document to `file` (atomically). */
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

/** Recreates databases, containers and documents from a snapshot file, if there is one. */
export async function restoreCosmos(endpoint: string, key: string, file: string): Promise<{ documents: number } | undefined> {
  if (!existsSync(file)) return undefined;
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  if (snapshot.version !== 1) throw new Error(`unknown Cosmos snapshot version in ${file}`);
  const client = clientFor(endpoint, key);
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

/**
 * Snapshots the server after writes and once more on stop. Checks every `everyMs`, but waits at
 * least 20 times as long as the last snapshot took, so a large data set under load costs at most
 * ~5% of the process.
 */
export class CosmosSnapshotter {
  private dirty = false;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private lastTookMs = 0;
  private lastAt = 0;

  constructor(
    private readonly cosmos: LocalCosmos,
    private readonly file: string,
    private readonly onError: (err: Error) => void,
    private readonly everyMs = 5000,
  ) {}

  /** Marks the data changed; the server calls it for every write request. */
  markDirty(): void {
    this.dirty = true;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (Date.now() - this.lastAt >= Math.max(this.everyMs, 20 * this.lastTookMs)) void this.flush();
    }, this.everyMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    if (this.running) await this.running;
    if (!this.dirty) return;
    this.dirty = false;
    const t0 = Date.now();
    this.running = snapshotCosmos(this.cosmos.endpoint, this.cosmos.key, this.file).catch((err: Error) => {
      this.dirty = true;
      this.onError(err);
    });
    await this.running;
    this.running = undefined;
    this.lastAt = Date.now();
    this.lastTookMs = this.lastAt - t0;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
