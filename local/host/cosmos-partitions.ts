import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Patches for `@vercel/cosmosdb-server` (pinned at 1.0.1), applied once before its HTTP server is
 * first required (startLocalCosmos does that):
 *
 * 1. Partition-scoped queries. The server copies and scans every document of a container for every
 *    query. Real Cosmos DB only reads the partition named by the `x-ms-documentdb-partitionkey`
 *    header, which the SDK sends when the caller passes `partitionKey` in the query options. Each
 *    container's document map (`Items._data`, rid -> Item) is upgraded on first use to a
 *    PartitionedMap that also keeps partition key value -> (rid -> Item); every write path of the
 *    server (create, replace, upsert, delete, patch, batch) goes through that map's set/delete, so
 *    the index cannot drift. A query carrying a single-value partition key header then runs the
 *    package's own `Items.query` over that partition's items only (same compiled query, same
 *    ORDER BY / TOP / aggregates, same continuation tokens: they are keyed by _rid and sort values,
 *    not by position). Cross-partition queries, partition key headers this code does not recognise
 *    (none/undefined `[{}]`, hierarchical keys) and containers without a plain one-path partition
 *    key run as before, over everything.
 * 2. Query plans. Before every query the SDK (4.x) POSTs the same query with
 *    `x-ms-cosmos-is-query-plan-request: True` and no partition key; it uses the answer only when
 *    the query itself fails with an error this server never returns. The server ran those as full
 *    queries over the whole container. They now run over no documents: same status, same body
 *    shape, same syntax errors, no scan.
 * 3. A handle on the server's in-memory Account (`takeServerAccount(port)`), so the snapshot reads
 *    documents from memory instead of through HTTP and the SDK.
 *
 * `assertServerInternals()` checks every internal this relies on and names what changed; the
 * canary test (test/integration/local-cosmos-canary.test.ts) runs it.
 */

export const PINNED_SERVER_VERSION = '1.0.1';
const PKG = '@vercel/cosmosdb-server';

/** An entry of one of the server's `Items` maps (Document, Collection, Database). */
export interface ServerItem<T = Record<string, unknown>> {
  read(): T | undefined;
}
export interface ServerDocuments {
  _data: Map<string, ServerItem>;
  _partitionKeyPath: string[];
  _getPartition(data: Record<string, unknown>): unknown;
  query(params: unknown, options: { maxItemCount?: number | null; continuation?: unknown }): unknown;
  upsert(data: Record<string, unknown>): Record<string, unknown>;
}
export interface ServerCollection extends ServerItem {
  documents: ServerDocuments;
}
export interface ServerDatabase extends ServerItem {
  collections: { _data: Map<string, ServerCollection> };
  collection(idOrRid: string): ServerCollection;
}
/** The server's in-memory account (lib/account/index.js). */
export interface ServerAccount extends ServerItem {
  databases: { _data: Map<string, ServerDatabase> };
  database(idOrRid: string): ServerDatabase;
}

type Handler = (account: ServerAccount, req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => unknown;
type AccountClass = new (host: string, port: number) => ServerAccount;
interface Patched {
  original: Handler;
  stats: PartitionScopingStats;
}
export interface PartitionScopingStats {
  /** Queries run over one partition's documents. */
  scopedQueries: number;
  /** Queries run over the whole container, as the server always did. */
  fullQueries: number;
  /** Query-plan requests answered without a scan. */
  planRequests: number;
}

const PATCHED = Symbol.for('slotflow.cosmosdb-server.patched');
const PARTITIONED = Symbol.for('slotflow.cosmosdb-server.partitioned');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(path: string): T => require(`${PKG}/${path}`) as T;

interface Modules {
  queryDocuments: { default: Handler & { [PATCHED]?: Patched } };
  account: { default: AccountClass & { [PATCHED]?: Map<number, ServerAccount> } };
  items: { default: { prototype: Record<string, unknown> } };
  routes: { default: (req: { method: string; url: string; headers: Record<string, string> }) => [Record<string, string>, Handler] | undefined };
  trueHeader: { default: (req: IncomingMessage, name: string) => boolean };
}

/**
 * Throws, naming what changed, unless the server package is the pinned version with the internals
 * these patches rely on. Does not load the server's routes.
 */
export function assertServerInternals(): void {
  const problems: string[] = [];
  const version = load<{ version: string }>('package.json').version;
  if (version !== PINNED_SERVER_VERSION) problems.push(`${PKG} is ${version}, the patches were written for ${PINNED_SERVER_VERSION}`);
  const qd = load<Modules['queryDocuments']>('lib/handler/query-documents');
  if (typeof qd.default !== 'function') problems.push('lib/handler/query-documents has no default export function');
  const original = qd.default[PATCHED]?.original ?? qd.default;
  const qdSource = String(original);
  if (!/account\.database\(dbId\)\.collection\(collId\)/.test(qdSource) || !/collection\.documents\.query\(body/.test(qdSource)) {
    problems.push('the query-documents handler no longer reads account.database(dbId).collection(collId).documents.query(body, ...)');
  }
  const acc = load<Modules['account']>('lib/account');
  if (typeof acc.default !== 'function') problems.push('lib/account has no default export class');
  // Read, not required: requiring lib/index.js loads lib/routes.js, which copies the handlers.
  const index = readFileSync(require.resolve(`${PKG}/lib/index`), 'utf8');
  if (!index.includes('new account_1.default(hostname, port)'))
    problems.push('lib/index.js no longer creates its Account as `new account_1.default(hostname, port)`');
  if (!index.includes('createAccount(server.address())')) problems.push('createHttpServer no longer creates the account from server.address() on listening');
  if (!index.includes('(0, routes_1.default)(req)')) problems.push('lib/index.js no longer routes each request through routes.default(req)');
  const items = load<Modules['items']>('lib/account/items').default.prototype;
  const src = (name: string) => String(items[name] ?? '');
  if (!src('query').includes('this._data.values()')) problems.push('Items.query no longer reads this._data.values()');
  if (!src('_set').includes('this._data.set(data._rid')) problems.push('Items._set no longer writes this._data.set(data._rid, ...)');
  if (!src('delete').includes('this._data.delete(data._rid)')) problems.push('Items.delete no longer removes with this._data.delete(data._rid)');
  if (!src('_getPartition').includes('_getPartitionKeyPath')) problems.push('Items._getPartition changed');
  if (!/this\._data = new Map\(\)/.test(String(load<Modules['items']>('lib/account/items').default)))
    problems.push('Items no longer keeps its documents in a Map (this._data)');
  if (typeof load<Modules['trueHeader']>('lib/true-header').default !== 'function') problems.push('lib/true-header has no default export');
  if (problems.length)
    throw new Error(
      `@vercel/cosmosdb-server internals changed; the local Cosmos patches (local/host/cosmos-partitions.ts) need a review:\n- ${problems.join('\n- ')}`,
    );
}

/**
 * Applies the patches (idempotent). Must run before the server's lib/index.js (and with it
 * lib/routes.js, which reads the query handler once) is first required.
 */
export function installServerPatches(): void {
  const qd = load<Modules['queryDocuments']>('lib/handler/query-documents');
  const acc = load<Modules['account']>('lib/account');
  if (!qd.default[PATCHED]) {
    assertServerInternals();
    const trueHeader = load<Modules['trueHeader']>('lib/true-header').default;
    const original = qd.default;
    const stats: PartitionScopingStats = { scopedQueries: 0, fullQueries: 0, planRequests: 0 };
    const scoped: Handler & { [PATCHED]?: Patched } = (account, req, res, params) =>
      original(scopeAccount(account, req, params, trueHeader, stats), req, res, params);
    scoped[PATCHED] = { original, stats };
    qd.default = scoped;
  }
  if (!acc.default[PATCHED]) {
    const Original = acc.default;
    const created = new Map<number, ServerAccount>();
    const Tracked = class extends Original {
      constructor(host: string, port: number) {
        super(host, port);
        created.set(port, this);
      }
    } as AccountClass & { [PATCHED]?: Map<number, ServerAccount> };
    Tracked[PATCHED] = created;
    acc.default = Tracked;
  }
  // routes.js copies the handler when it is first loaded: check that it routes queries to ours.
  const routes = load<Modules['routes']>('lib/routes').default;
  const route = routes({ method: 'POST', url: '/dbs/d/colls/c/docs', headers: { 'x-ms-documentdb-isquery': 'True' } });
  if (!route || route[1] !== qd.default) {
    throw new Error(`${PKG}/lib/routes.js was loaded before the local Cosmos patches; call installServerPatches() before requiring ${PKG}`);
  }
}

/** The Account the server created when it started listening on `port` (once; later calls get undefined). */
export function takeServerAccount(port: number): ServerAccount | undefined {
  const created = load<Modules['account']>('lib/account').default[PATCHED];
  const account = created?.get(port);
  created?.delete(port);
  return account;
}

/** Counters since the patches were installed (for tests and benchmarks). */
export function partitionScopingStats(): PartitionScopingStats {
  const patched = load<Modules['queryDocuments']>('lib/handler/query-documents').default[PATCHED];
  return { ...(patched?.stats ?? { scopedQueries: 0, fullQueries: 0, planRequests: 0 }) };
}

// --- partition index -----------------------------------------------------------------------------

/** A partition key value as a map key; types stay distinct ("1" and 1 are different partitions). */
export function partitionKeyOf(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    case 'number':
      return `n${String(value)}`;
    case 'boolean':
      return value ? 'T' : 'F';
    case 'undefined':
      return 'u';
    default:
      return value === null ? 'z' : `o${JSON.stringify(value)}`;
  }
}

/**
 * The server's rid -> Item map, plus partition key value -> (rid -> Item) kept on every set/delete.
 * Per partition, entries keep the relative order they have in the main map.
 */
export class PartitionedMap extends Map<string, ServerItem> {
  readonly [PARTITIONED] = true;
  readonly partitions = new Map<string, Map<string, ServerItem>>();
  private readonly keyOfItem: (item: ServerItem) => string;

  constructor(keyOfItem: (item: ServerItem) => string) {
    super();
    this.keyOfItem = keyOfItem;
  }

  override set(rid: string, item: ServerItem): this {
    const old = super.get(rid);
    const key = this.keyOfItem(item);
    if (old !== undefined) {
      const oldKey = this.keyOfItem(old);
      if (oldKey !== key) this.unindex(oldKey, rid);
    }
    super.set(rid, item);
    let part = this.partitions.get(key);
    if (!part) this.partitions.set(key, (part = new Map()));
    part.set(rid, item);
    return this;
  }

  override delete(rid: string): boolean {
    const old = super.get(rid);
    if (old !== undefined) this.unindex(this.keyOfItem(old), rid);
    return super.delete(rid);
  }

  override clear(): void {
    this.partitions.clear();
    super.clear();
  }

  private unindex(key: string, rid: string): void {
    const part = this.partitions.get(key);
    if (!part) return;
    part.delete(rid);
    if (part.size === 0) this.partitions.delete(key);
  }
}

function isPartitioned(data: Map<string, ServerItem>): data is PartitionedMap {
  return (data as Partial<PartitionedMap>)[PARTITIONED] === true;
}

/** The container's document map with its partition index, built once from the current documents. */
export function partitionedDocuments(documents: ServerDocuments): PartitionedMap {
  const data = documents._data;
  if (isPartitioned(data)) return data;
  const map = new PartitionedMap((item) => partitionKeyOf(documents._getPartition(item.read() ?? {})));
  for (const [rid, item] of data) map.set(rid, item);
  documents._data = map;
  return map;
}

/** Differences between a container's partition index and its documents (empty when consistent). */
export function partitionIndexProblems(documents: ServerDocuments): string[] {
  const data = documents._data;
  if (!isPartitioned(data)) return [];
  const problems: string[] = [];
  let indexed = 0;
  for (const [key, part] of data.partitions) {
    if (part.size === 0) problems.push(`empty partition entry ${key}`);
    for (const [rid, item] of part) {
      indexed++;
      if (data.get(rid) !== item) problems.push(`${rid} in partition ${key} is stale or deleted`);
      else if (partitionKeyOf(documents._getPartition(item.read() ?? {})) !== key) problems.push(`${rid} is indexed under ${key}, not its partition`);
    }
  }
  if (indexed !== data.size) problems.push(`${indexed} indexed entries for ${data.size} documents`);
  return problems;
}

// --- query scoping -------------------------------------------------------------------------------

const SIMPLE_PATH = /^(\/[A-Za-z_$][\w$]*)+$/;

/** A one-path hash partition key the server reads the same way Cosmos DB does. */
function scopable(definition: Record<string, unknown> | undefined): boolean {
  const pk = definition?.partitionKey as { paths?: unknown; kind?: unknown } | undefined;
  const paths = pk?.paths;
  return (
    Array.isArray(paths) &&
    paths.length === 1 &&
    typeof paths[0] === 'string' &&
    SIMPLE_PATH.test(paths[0]) &&
    paths[0] !== '/_partitionKey' &&
    pk?.kind !== 'MultiHash'
  );
}

/** The partition a query header names, when it is one plain value; undefined otherwise. */
export function headerPartitionKey(header: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const value = Array.isArray(parsed) ? (parsed.length === 1 ? parsed[0] : undefined) : parsed;
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return partitionKeyOf(value);
  return undefined;
}

/** The documents of `documents` seen through another item map (only `query` is called on it). */
function documentsView(documents: ServerDocuments, data: Map<string, ServerItem>): ServerDocuments {
  return Object.create(documents, { _data: { value: data, enumerable: true } }) as ServerDocuments;
}

function scopeAccount(
  account: ServerAccount,
  req: IncomingMessage,
  params: Record<string, string>,
  trueHeader: (req: IncomingMessage, name: string) => boolean,
  stats: PartitionScopingStats,
): ServerAccount {
  const { dbId, collId } = params;
  if (!account || dbId === undefined || collId === undefined) return account;
  const database = account.database(dbId);
  const collection = database.collection(collId);
  let data: Map<string, ServerItem>;
  if (trueHeader(req, 'x-ms-cosmos-is-query-plan-request')) {
    stats.planRequests++;
    data = new Map();
  } else {
    const key = headerPartitionKey(req.headers['x-ms-documentdb-partitionkey']);
    const definition = collection.read();
    if (key === undefined || !definition || !scopable(definition)) {
      stats.fullQueries++;
      return account;
    }
    stats.scopedQueries++;
    data = partitionedDocuments(collection.documents).partitions.get(key) ?? new Map();
  }
  const scopedCollection = Object.create(collection, { documents: { value: documentsView(collection.documents, data), enumerable: true } }) as ServerCollection;
  const scopedDatabase = Object.create(database, {
    collection: { value: (id: string) => (id === collId ? scopedCollection : database.collection(id)) },
  }) as ServerDatabase;
  return Object.create(account, {
    database: { value: (id: string) => (id === dbId ? scopedDatabase : account.database(id)) },
  }) as ServerAccount;
}
