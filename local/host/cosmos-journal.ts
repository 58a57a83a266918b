import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Journal, type SnapshotWriter } from '../wal/journal';
import type { ServerAccount, ServerDatabase, ServerItem } from './cosmos-partitions';

/**
 * Durable local Cosmos DB: every change `@vercel/cosmosdb-server` makes to its memory is recorded
 * in a journal (../wal: append-only log, group-committed fsync, snapshots that compact it), and
 * the server's HTTP answer waits until that record is on disk. So whatever the stand-in
 * acknowledges (a 201, a 200 replace, a 204 delete) survives a hard kill, as in Cosmos DB.
 *
 * Capture: the server's containers are `Items` maps (lib/account/items.js: databases, collections,
 * documents); every write path (create, replace, upsert, patch, delete, batch, collection and
 * database create/delete) ends in `Items._set` or `Items.delete`, which are wrapped once. The record
 * is the after-image (the stored document with its `_etag` and `_ts`, or a delete by id and partition
 * key), so restore reproduces the documents, ETags included, without running handlers again.
 *
 * Answers wait for what they depend on: each stored item carries the sequence number of the record
 * that wrote it, and each request (run in an AsyncLocalStorage context) remembers the highest one it
 * wrote or read; its answer is held until the log is durable up to there. A write's answer is thus
 * never sent before its record is on disk, and a read never shows a write that a crash could still
 * take back (a 404 or a query also waits for the last delete). A read of durable data, the usual
 * case, waits for nothing, whatever other requests are writing meanwhile.
 *
 * Not journaled: user-defined functions and partition key ranges (derived), which the app does
 * not use.
 */

const PKG = '@vercel/cosmosdb-server';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(path: string): T => require(`${PKG}/${path}`) as T;

/** What the wrappers use of the server's Items class (lib/account/items.js). */
interface Items {
  _parent: ServerItem & object;
  _data: Map<string, ServerItem>;
  _ridCount: number;
  _rid(n: number): string;
  _self(rid: string): string;
  _item(keyPath: string, value: unknown, partition: unknown): ServerItem;
  _getPartition(data: Record<string, unknown>): unknown;
  _set(data: Record<string, unknown>): Record<string, unknown>;
  delete(idOrRid: string, partition?: unknown): void;
}
type ItemsClass = { prototype: Items };

export type CosmosRecord =
  | { t: 'db'; d: Record<string, unknown> }
  | { t: 'db-'; db: string }
  | { t: 'coll'; db: string; d: Record<string, unknown> }
  | { t: 'coll-'; db: string; coll: string }
  | { t: 'put'; db: string; coll: string; d: Record<string, unknown> }
  | { t: 'del'; db: string; coll: string; id: string; pk?: unknown };

interface Tag {
  account: ServerAccount;
  db: string;
  coll?: string;
}

/** Per request: the highest log sequence number it wrote or read. */
interface RequestContext {
  lsn: number;
}
const requestContext = new AsyncLocalStorage<RequestContext>();
/** Runs one request of the server in its own context (startLocalCosmos wraps the server's listener). */
export function runInRequestContext<T>(fn: () => T): T {
  return requestContext.run({ lsn: 0 }, fn);
}
/** The sequence number of the record that stored an item (a symbol: never serialised). */
const LSN = Symbol('slotflow.cosmos.lsn');
type Stamped = Record<string | symbol, unknown>;
/** Per account: the last delete (a 404 or a query may depend on an absence). */
const lastDelete = new WeakMap<ServerAccount, number>();

function noteLsn(lsn: number): void {
  const ctx = requestContext.getStore();
  if (ctx && lsn > ctx.lsn) ctx.lsn = lsn;
}

/** Where each database and collection item belongs (set when the server stores it). */
const tags = new WeakMap<object, Tag>();
/** Journaled accounts: their changes are appended here. */
const sinks = new WeakMap<ServerAccount, Journal>();
const WRAPPED = Symbol.for('slotflow.cosmosdb-server.journaled');

let classes: { databases: ItemsClass; collections: ItemsClass; documents: ItemsClass } | undefined;

function kindOf(items: Items): 'db' | 'coll' | 'doc' | undefined {
  if (!classes) return undefined;
  const o = items as object;
  if (o instanceof (classes.documents as unknown as new () => object)) return 'doc';
  if (o instanceof (classes.collections as unknown as new () => object)) return 'coll';
  if (o instanceof (classes.databases as unknown as new () => object)) return 'db';
  return undefined;
}

/** Wraps Items._set and Items.delete (idempotent). Call before the server stores anything. */
export function installCosmosCapture(): void {
  const items = load<{ default: ItemsClass & { [WRAPPED]?: true } }>('lib/account/items').default;
  classes ??= {
    databases: load<{ default: ItemsClass }>('lib/account/databases').default,
    collections: load<{ default: ItemsClass }>('lib/account/collections').default,
    documents: load<{ default: ItemsClass }>('lib/account/documents').default,
  };
  if (items[WRAPPED]) return;
  items[WRAPPED] = true;
  // Every read of a stored item (point reads, query scans, uniqueness checks) notes its sequence number.
  const item = load<{ default: { prototype: { read(): unknown } } }>('lib/account/item').default.prototype;
  const read = item.read;
  item.read = function (this: unknown) {
    const d = read.call(this) as Stamped | undefined;
    const lsn = d?.[LSN];
    if (lsn !== undefined) noteLsn(lsn as number);
    return d;
  };
  const proto = items.prototype;
  const set = proto._set;
  const del = proto.delete;
  proto._set = function (this: Items, data: Record<string, unknown>) {
    const stored = set.call(this, data);
    onSet(this, stored);
    return stored;
  };
  proto.delete = function (this: Items, idOrRid: string, partition?: unknown) {
    const kind = kindOf(this);
    const before = kind ? this._item('/id', idOrRid, partition).read() : undefined;
    del.call(this, idOrRid, partition);
    if (kind && before) onDelete(this, kind, before);
  };
}

function stamp(journal: Journal | undefined, stored: Record<string, unknown>, record: CosmosRecord): void {
  if (!journal) return;
  const lsn = journal.append(record);
  (stored as Stamped)[LSN] = lsn;
  noteLsn(lsn);
}

function deleted(account: ServerAccount, record: CosmosRecord): void {
  const journal = sinks.get(account);
  if (!journal) return;
  const lsn = journal.append(record);
  lastDelete.set(account, lsn);
  noteLsn(lsn);
}

function onSet(items: Items, stored: Record<string, unknown>): void {
  const kind = kindOf(items);
  if (!kind) return;
  const item = items._data.get(String(stored._rid));
  if (kind === 'db') {
    const account = items._parent as unknown as ServerAccount;
    if (item) tags.set(item, { account, db: String(stored.id) });
    stamp(sinks.get(account), stored, { t: 'db', d: stored });
    return;
  }
  const parent = tags.get(items._parent);
  if (!parent) return;
  if (kind === 'coll') {
    if (item) tags.set(item, { ...parent, coll: String(stored.id) });
    stamp(sinks.get(parent.account), stored, { t: 'coll', db: parent.db, d: stored });
    return;
  }
  if (parent.coll === undefined) return;
  stamp(sinks.get(parent.account), stored, { t: 'put', db: parent.db, coll: parent.coll, d: stored });
}

function onDelete(items: Items, kind: 'db' | 'coll' | 'doc', before: Record<string, unknown>): void {
  if (kind === 'db') {
    deleted(items._parent as unknown as ServerAccount, { t: 'db-', db: String(before.id) });
    return;
  }
  const parent = tags.get(items._parent);
  if (!parent) return;
  if (kind === 'coll') deleted(parent.account, { t: 'coll-', db: parent.db, coll: String(before.id) });
  else if (parent.coll !== undefined)
    deleted(parent.account, { t: 'del', db: parent.db, coll: parent.coll, id: String(before.id), pk: items._getPartition(before) });
}

// --- applying records (restore) ------------------------------------------------------------------

/** Stores `data` as is (ETag and timestamp kept), replacing an entry with the same id. */
function rawPut(items: Items, data: Record<string, unknown>): void {
  const partition = items._getPartition(data);
  const old = items._item('/id', data.id, partition).read();
  let rid: string;
  let self: string;
  if (old) {
    rid = String(old._rid);
    self = String(old._self);
    items.delete(String(old.id), partition);
  } else {
    items._ridCount += 1;
    rid = items._rid(items._ridCount);
    self = items._self(rid);
  }
  items._set({ ...data, _rid: rid, _self: self });
}

function rawDelete(items: Items, id: string, partition: unknown): void {
  if (items._item('/id', id, partition).read()) items.delete(id, partition);
}

const dbItems = (account: ServerAccount) => account.databases as unknown as Items;
const collItems = (db: ServerDatabase) => db.collections as unknown as Items;
const docItems = (account: ServerAccount, db: string, coll: string): Items | undefined => {
  const c = account.database(db).collection(coll);
  return c.read() ? (c.documents as unknown as Items) : undefined;
};

/** Applies one journal record to the server's memory (no journal is attached while restoring). */
export function applyCosmosRecord(account: ServerAccount, r: CosmosRecord): void {
  switch (r.t) {
    case 'db':
      return rawPut(dbItems(account), r.d);
    case 'db-':
      return rawDelete(dbItems(account), r.db, r.db);
    case 'coll': {
      const db = account.database(r.db);
      if (db.read()) rawPut(collItems(db), r.d);
      return;
    }
    case 'coll-': {
      const db = account.database(r.db);
      if (db.read()) rawDelete(collItems(db), r.coll, r.coll);
      return;
    }
    case 'put': {
      const docs = docItems(account, r.db, r.coll);
      if (docs) rawPut(docs, r.d);
      return;
    }
    case 'del': {
      const docs = docItems(account, r.db, r.coll);
      if (docs) rawDelete(docs, r.id, r.pk);
      return;
    }
  }
}

// --- snapshot, version 2 -------------------------------------------------------------------------
// {version: 2, takenAt, segment, databases: [{d: database, containers: [{d: container, items: [documents]}]}]}
// Everything the server stores except _rid, _self (assigned again on restore) and _attachments:
// ETags and _ts survive a restart. Version 1 files (cosmos.ts) are still read.

const DROP = new Set(['_rid', '_self', '_attachments']);
const strip = (d: Record<string, unknown>): Record<string, unknown> => {
  const copy: Record<string, unknown> = {};
  for (const f in d) if (!DROP.has(f)) copy[f] = d[f];
  return copy;
};
const WRITE_CHUNK = 1 << 18;

/** Reads the whole account synchronously; the returned writer serialises it in ~256 KB chunks. */
export function captureAccount(account: ServerAccount, segment: number): { writer: SnapshotWriter; documents: number } {
  let documents = 0;
  const databases = Array.from(account.databases._data.values(), (db) => ({
    d: (db.read() ?? {}) as Record<string, unknown>,
    containers: Array.from((db as ServerDatabase).collections._data.values(), (c) => {
      const docs: Record<string, unknown>[] = [];
      for (const item of c.documents._data.values()) {
        const d = item.read();
        if (d) docs.push(d);
      }
      documents += docs.length;
      return { d: (c.read() ?? {}) as Record<string, unknown>, docs };
    }),
  }));
  const takenAt = new Date().toISOString();
  const writer: SnapshotWriter = async (write) => {
    let buf = `{"version":2,"takenAt":${JSON.stringify(takenAt)},"segment":${segment},"databases":[`;
    for (const [i, db] of databases.entries()) {
      buf += `${i ? ',' : ''}{"d":${JSON.stringify(strip(db.d))},"containers":[`;
      for (const [j, c] of db.containers.entries()) {
        buf += `${j ? ',' : ''}{"d":${JSON.stringify(strip(c.d))},"items":[`;
        for (const [k, doc] of c.docs.entries()) {
          buf += `${k ? ',' : ''}${JSON.stringify(strip(doc))}`;
          if (buf.length >= WRITE_CHUNK) {
            await write(buf);
            buf = '';
          }
        }
        buf += ']}';
      }
      buf += ']}';
    }
    await write(`${buf}]}`);
  };
  return { writer, documents };
}

interface SnapshotV2 {
  version: 2;
  segment: number;
  databases: { d: Record<string, unknown>; containers: { d: Record<string, unknown>; items: Record<string, unknown>[] }[] }[];
}
interface SnapshotV1 {
  version: 1;
  databases: {
    id: string;
    containers: { id: string; partitionKey?: unknown; uniqueKeyPolicy?: unknown; defaultTtl?: number; items: Record<string, unknown>[] }[];
  }[];
}

/** Loads a version 1 or 2 snapshot into the server's memory; returns the documents loaded. */
export async function loadSnapshot(account: ServerAccount, snapshot: SnapshotV1 | SnapshotV2): Promise<number> {
  let documents = 0;
  let sinceYield = 0;
  const yieldSometimes = async () => {
    if (++sinceYield % 2000 === 0) await new Promise((r) => setImmediate(r));
  };
  for (const db of snapshot.databases) {
    const dbDef = snapshot.version === 2 ? (db as SnapshotV2['databases'][number]).d : { id: (db as SnapshotV1['databases'][number]).id };
    rawPut(dbItems(account), dbDef);
    const database = account.database(String(dbDef.id));
    for (const c of db.containers) {
      const collDef =
        snapshot.version === 2
          ? (c as SnapshotV2['databases'][number]['containers'][number]).d
          : (() => {
              const v1 = c as SnapshotV1['databases'][number]['containers'][number];
              return { id: v1.id, partitionKey: v1.partitionKey, uniqueKeyPolicy: v1.uniqueKeyPolicy, defaultTtl: v1.defaultTtl };
            })();
      rawPut(collItems(database), collDef);
      const docs = docItems(account, String(dbDef.id), String(collDef.id));
      if (!docs) continue;
      for (const doc of c.items) {
        if (typeof doc.id !== 'string' || !doc.id) continue;
        if (snapshot.version === 2) rawPut(docs, doc);
        else (docs as unknown as { upsert(d: Record<string, unknown>): unknown }).upsert(doc);
        documents++;
        await yieldSometimes();
      }
    }
  }
  return documents;
}

// --- the durable store -----------------------------------------------------------------------------

export interface CosmosJournalOptions {
  /** fdatasync each group write (default true). */
  fsync?: boolean;
  /** Take a snapshot (and drop the log it covers) once the log segment passes this size (default 64 MB). */
  compactAfterBytes?: number;
  /** Awaited before a compaction snapshot (e.g. a moment without interactive requests), at most maxDeferMs. */
  beforeCheckpoint?: () => Promise<void>;
  maxDeferMs?: number;
  onError?: (err: Error) => void;
}

export interface CosmosRestoreReport {
  snapshotDocuments: number;
  logRecords: number;
  droppedBytes: number;
}

/**
 * The journal of one in-process server: restore (snapshot + log replay), capture, the response hold,
 * compaction and the last snapshot on stop.
 */
export class CosmosJournal {
  private compacting = false;
  private stopped = false;
  private readonly compactAfterBytes: number;

  private constructor(
    readonly account: ServerAccount,
    readonly journal: Journal,
    private readonly options: CosmosJournalOptions,
  ) {
    this.compactAfterBytes = options.compactAfterBytes ?? 64 * 1024 * 1024;
  }

  /** Restores `dir` into the server's (empty) memory, then journals every later change. */
  static async open(account: ServerAccount, dir: string, options: CosmosJournalOptions = {}): Promise<{ store: CosmosJournal; report: CosmosRestoreReport }> {
    installCosmosCapture();
    const { journal, restored } = Journal.open<SnapshotV1 | SnapshotV2>(dir, { fsync: options.fsync, onError: options.onError });
    let snapshotDocuments = 0;
    if (restored.snapshot) {
      const v = (restored.snapshot as { version?: unknown }).version;
      if (v !== 1 && v !== 2) throw new Error(`unknown Cosmos snapshot version ${String(v)} in ${journal.snapshotFile}`);
      snapshotDocuments = await loadSnapshot(account, restored.snapshot);
    }
    for (const r of restored.records) applyCosmosRecord(account, r as CosmosRecord);
    const store = new CosmosJournal(account, journal, options);
    sinks.set(account, journal);
    return { store, report: { snapshotDocuments, logRecords: restored.records.length, droppedBytes: restored.droppedBytes } };
  }

  get stats() {
    return this.journal.log.stats;
  }

  /**
   * Holds `res`'s answer until the log is durable up to what the request wrote or read (and the last
   * delete, for a 404 or a query). startLocalCosmos calls it inside the request's context.
   */
  holdResponse(req: IncomingMessage, res: ServerResponse): void {
    const ctx = requestContext.getStore();
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    const log = this.journal.log;
    const isQuery =
      req.method === 'POST' &&
      (String(req.headers['x-ms-documentdb-isquery']).toLowerCase() === 'true' || req.headers['content-type'] === 'application/query+json');
    (res as unknown as { end: (...args: unknown[]) => ServerResponse }).end = (...args: unknown[]) => {
      let lsn = ctx ? ctx.lsn : log.lastLsn;
      if (isQuery || res.statusCode === 404) lsn = Math.max(lsn, lastDelete.get(this.account) ?? 0);
      if (log.isDurable(lsn)) return end(...args);
      this.maybeCompact();
      log.whenDurable(lsn).then(
        () => end(...args),
        () => res.destroy(),
      );
      return res;
    };
  }

  private maybeCompact(): void {
    if (this.compacting || this.stopped || this.journal.log.segmentBytes < this.compactAfterBytes) return;
    this.compacting = true;
    void (async () => {
      try {
        if (this.options.beforeCheckpoint) await waitAtMost(this.options.beforeCheckpoint(), this.options.maxDeferMs ?? 30_000);
        if (!this.stopped) await this.checkpoint();
      } catch (err) {
        this.options.onError?.(err as Error);
      } finally {
        this.compacting = false;
      }
    })();
  }

  /** Snapshot now; the log it covers is deleted. */
  async checkpoint(): Promise<{ documents: number }> {
    let documents = 0;
    await this.journal.checkpoint((segment) => {
      const captured = captureAccount(this.account, segment);
      documents = captured.documents;
      return captured.writer;
    });
    return { documents };
  }

  /** Last snapshot (a compact folder for the next start), then the log is closed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.checkpoint();
    } finally {
      sinks.delete(this.account);
      await this.journal.close();
    }
  }
}

async function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)).unref())]);
  } finally {
    clearTimeout(timer);
  }
}
