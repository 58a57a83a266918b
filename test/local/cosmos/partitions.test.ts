import {
  type Container,
  CosmosClient,
  type FeedOptions,
  type JSONObject,
  type OperationInput,
  PartitionKeyDefinitionVersion,
  type SqlQuerySpec,
} from '@azure/cosmos';
import { type LocalCosmos, startLocalCosmos } from '../../../local/host/cosmos';
import { partitionIndexProblems, partitionScopingStats, type ServerDocuments } from '../../../local/host/cosmos-partitions';

/**
 * Partition-scoped queries of the local Cosmos stand-in (cosmos-partitions.ts), through the real
 * SDK: a query with `partitionKey` must answer exactly what the server's full scan answers for the
 * same query restricted to that partition (cross-partition, pk in WHERE, which still runs the
 * server's unpatched path), including order, page boundaries and continuation tokens, after every
 * kind of write the server has (create, replace, upsert, patch, delete, transactional batch) and
 * documents moving between partitions.
 */

let cosmos: LocalCosmos;
let client: CosmosClient;
let container: Container;

/** Deterministic pseudo-random numbers (mulberry32): the same mutations on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PARTITIONS = ['clinic-1|2026-12-01', 'clinic-1|2026-12-02', 'clinic-2|2026-12-01', 'p|x'];
const STATUSES = ['booked', 'cancelled', 'held'];

function serverDocuments(): ServerDocuments {
  return cosmos.account!.database('partitions').collection('appointments').documents;
}

beforeAll(async () => {
  cosmos = await startLocalCosmos();
  client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, connectionPolicy: { enableEndpointDiscovery: false } });
  const { database } = await client.databases.createIfNotExists({ id: 'partitions' });
  ({ container } = await database.containers.createIfNotExists({
    id: 'appointments',
    partitionKey: { paths: ['/pk'], version: PartitionKeyDefinitionVersion.V2 },
  }));
});
afterAll(async () => {
  client.dispose();
  await cosmos.stop();
});

/** Every page of a query, one fresh iterator per page as the app's adapter pages. */
async function pages(spec: SqlQuerySpec, options: FeedOptions): Promise<{ items: unknown[]; token?: string }[]> {
  const out: { items: unknown[]; token?: string }[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await container.items.query(spec, { ...options, ...(continuationToken ? { continuationToken } : {}) }).fetchNext();
    continuationToken = page.continuationToken;
    out.push({ items: page.resources, ...(continuationToken ? { token: continuationToken } : {}) });
  } while (continuationToken);
  return out;
}

function queriesFor(pk: string): SqlQuerySpec[] {
  const p = [{ name: '@pk', value: pk }];
  return [
    { query: 'SELECT * FROM c WHERE c.pk = @pk', parameters: p },
    { query: 'SELECT * FROM c WHERE c.pk = @pk AND c.status = @s', parameters: [...p, { name: '@s', value: 'booked' }] },
    { query: 'SELECT c.id, c.n FROM c WHERE c.pk = @pk AND c.n >= 10 ORDER BY c.n DESC', parameters: p },
    { query: 'SELECT * FROM c WHERE c.pk = @pk ORDER BY c.start', parameters: p },
    { query: 'SELECT TOP 3 c.id FROM c WHERE c.pk = @pk ORDER BY c.n', parameters: p },
    { query: 'SELECT VALUE COUNT(1) FROM c WHERE c.pk = @pk', parameters: p },
    { query: 'SELECT VALUE c.id FROM c WHERE c.pk = @pk AND ARRAY_CONTAINS(c.tags, "vip")', parameters: p },
    { query: `SELECT * FROM c WHERE c.pk = '${pk}' AND IS_DEFINED(c.patched)` },
  ];
}

async function expectScopedEqualsFullScan(label: string): Promise<void> {
  for (const pk of PARTITIONS) {
    for (const spec of queriesFor(pk)) {
      const before = partitionScopingStats();
      const scoped = await container.items.query(spec, { partitionKey: pk }).fetchAll();
      const full = await container.items.query(spec).fetchAll();
      const after = partitionScopingStats();
      expect(after.scopedQueries).toBeGreaterThan(before.scopedQueries);
      expect(after.fullQueries).toBeGreaterThan(before.fullQueries);
      expect({ label, pk, query: spec.query, result: scoped.resources }).toEqual({ label, pk, query: spec.query, result: full.resources });
    }
    // Small pages: same items on the same pages with the same continuation tokens.
    const paged = { query: 'SELECT * FROM c WHERE c.pk = @pk ORDER BY c.n', parameters: [{ name: '@pk', value: pk }] };
    const unordered = { query: 'SELECT c.id, c.status FROM c WHERE c.pk = @pk', parameters: [{ name: '@pk', value: pk }] };
    for (const spec of [paged, unordered]) {
      const scoped = await pages(spec, { partitionKey: pk, maxItemCount: 2 });
      const full = await pages(spec, { maxItemCount: 2 });
      expect({ label, pk, query: spec.query, pages: scoped }).toEqual({ label, pk, query: spec.query, pages: full });
    }
  }
  expect(partitionIndexProblems(serverDocuments())).toEqual([]);
}

type Doc = JSONObject & { id: string; pk: string };

function doc(i: number, pk: string, r: () => number): Doc {
  return {
    id: `a${i}`,
    pk,
    n: Math.floor(r() * 40),
    status: STATUSES[Math.floor(r() * STATUSES.length)]!,
    start: `2026-12-01T${String(8 + Math.floor(r() * 9)).padStart(2, '0')}:${r() < 0.5 ? '00' : '30'}:00Z`,
    tags: r() < 0.3 ? ['vip'] : [],
  };
}

it('answers single-partition queries like the full scan through creates, replaces, upserts, patches, deletes and batches', async () => {
  const r = rng(42);
  const live = new Map<string, Doc>();
  const pick = () => PARTITIONS[Math.floor(r() * PARTITIONS.length)]!;
  const someLive = () => [...live.values()][Math.floor(r() * live.size)]!;

  for (let i = 0; i < 60; i++) {
    const d = doc(i, pick(), r);
    await container.items.create(d);
    live.set(String(d.id), d);
  }
  await expectScopedEqualsFullScan('after creates');

  // Replaces, upserts (existing and new), patches, deletes.
  for (let k = 0; k < 15; k++) {
    const d = someLive();
    const next = { ...doc(Number(String(d.id).slice(1)), String(d.pk), r) };
    await container.item(String(d.id), String(d.pk)).replace(next);
    live.set(String(d.id), next);
  }
  for (let k = 0; k < 10; k++) {
    const d = k % 2 ? someLive() : doc(100 + k, pick(), r);
    const next: Doc = { ...doc(Number(d.id.slice(1)), d.pk, r), upserted: true };
    await container.items.upsert(next);
    live.set(String(next.id), next);
  }
  for (let k = 0; k < 10; k++) {
    const d = someLive();
    await container.item(String(d.id), String(d.pk)).patch([
      { op: 'set', path: '/patched', value: k },
      { op: 'incr', path: '/n', value: 5 },
    ]);
  }
  for (let k = 0; k < 8; k++) {
    const d = someLive();
    await container.item(String(d.id), String(d.pk)).delete();
    live.delete(String(d.id));
  }
  await expectScopedEqualsFullScan('after replaces, upserts, patches and deletes');

  // Documents moving between partitions (delete + create under another key), and batches.
  for (let k = 0; k < 10; k++) {
    const d = someLive();
    const to = PARTITIONS.find((p) => p !== d.pk && r() < 0.5) ?? PARTITIONS.find((p) => p !== d.pk)!;
    await container.item(String(d.id), String(d.pk)).delete();
    const moved: Doc = { ...d, pk: to, moved: true };
    await container.items.create(moved);
    live.set(String(d.id), moved);
  }
  for (const pk of PARTITIONS) {
    const inPk = [...live.values()].filter((d) => d.pk === pk);
    const ops: OperationInput[] = [
      { operationType: 'Create', resourceBody: { ...doc(200 + PARTITIONS.indexOf(pk), pk, r) } },
      { operationType: 'Upsert', resourceBody: { ...doc(210 + PARTITIONS.indexOf(pk), pk, r) } },
      ...(inPk[0]
        ? [{ operationType: 'Replace' as const, id: String(inPk[0].id), resourceBody: { ...doc(Number(String(inPk[0].id).slice(1)), pk, r), batched: true } }]
        : []),
      ...(inPk[1] ? [{ operationType: 'Delete' as const, id: String(inPk[1].id) }] : []),
    ];
    // The server reads each operation's partition key from the operation (as the app's adapter sends it).
    const res = await container.items.batch(
      ops.map((o) => ({ ...o, partitionKey: pk })),
      pk,
    );
    expect((res.result ?? []).map((o) => o.statusCode < 400)).toEqual(ops.map(() => true));
    for (const o of ops) {
      if (o.operationType === 'Delete') live.delete(o.id);
      else if ('resourceBody' in o) live.set(String((o.resourceBody as Doc).id), o.resourceBody as Doc);
    }
  }
  // A batch that fails half-way (409 on a duplicate id): the server keeps the operations before it.
  const pk0 = PARTITIONS[0]!;
  const first = [...live.values()].find((d) => d.pk === pk0)!;
  const failing = await container.items.batch(
    [
      { operationType: 'Create', resourceBody: doc(300, pk0, r), partitionKey: pk0 },
      { operationType: 'Create', resourceBody: { ...first }, partitionKey: pk0 },
    ],
    pk0,
  );
  expect((failing.result ?? []).map((o) => o.statusCode)).toEqual([201, 409]);
  await expectScopedEqualsFullScan('after moves and batches');

  // Every live document is where the index says, and the partitions add up to the container.
  let total = 0;
  for (const pk of PARTITIONS) {
    const { resources } = await container.items.query<number>('SELECT VALUE COUNT(1) FROM c', { partitionKey: pk }).fetchAll();
    total += resources[0]!;
  }
  const { resources: all } = await container.items.query<number>('SELECT VALUE COUNT(1) FROM c').fetchAll();
  expect(total).toBe(all[0]);
});

it('reads only the named partition: a filter on another partition key finds nothing, as in Cosmos DB', async () => {
  const { resources } = await container.items
    .query({ query: 'SELECT * FROM c WHERE c.pk = @pk', parameters: [{ name: '@pk', value: PARTITIONS[1]! }] }, { partitionKey: PARTITIONS[0]! })
    .fetchAll();
  expect(resources).toEqual([]);
  const { resources: mine } = await container.items.query('SELECT VALUE c.pk FROM c', { partitionKey: PARTITIONS[0]! }).fetchAll();
  expect(mine.length).toBeGreaterThan(0);
  expect(new Set(mine)).toEqual(new Set([PARTITIONS[0]]));
});

it('keeps OFFSET LIMIT an error (the server cannot parse it) and unknown partitions empty', async () => {
  const spec = { query: 'SELECT * FROM c WHERE c.pk = @pk OFFSET 1 LIMIT 2', parameters: [{ name: '@pk', value: PARTITIONS[0]! }] };
  const scoped = await container.items
    .query(spec, { partitionKey: PARTITIONS[0]! })
    .fetchAll()
    .catch((e: { code?: number }) => e.code);
  const full = await container.items
    .query(spec)
    .fetchAll()
    .catch((e: { code?: number }) => e.code);
  expect(scoped).toBe(400);
  expect(full).toBe(400);
  const { resources } = await container.items.query('SELECT VALUE COUNT(1) FROM c', { partitionKey: 'no-such-partition' }).fetchAll();
  expect(resources).toEqual([0]);
});

it('separates typed, null and missing partition key values; the none key still scans everything', async () => {
  const { database } = await client.databases.createIfNotExists({ id: 'partitions' });
  const { container: mixed } = await database.containers.createIfNotExists({ id: 'mixed', partitionKey: { paths: ['/k'] } });
  await mixed.items.create({ id: 'num', k: 1 });
  await mixed.items.create({ id: 'str', k: '1' });
  await mixed.items.create({ id: 'bool', k: true });
  await mixed.items.create({ id: 'null', k: null });
  await mixed.items.create({ id: 'missing' });
  const ids = async (partitionKey: FeedOptions['partitionKey']) =>
    (await mixed.items.query<string>('SELECT VALUE c.id FROM c', { partitionKey }).fetchAll()).resources.sort();
  expect(await ids(1)).toEqual(['num']);
  expect(await ids('1')).toEqual(['str']);
  expect(await ids(true)).toEqual(['bool']);
  expect(await ids(null)).toEqual(['null']);
  // [{}] (the SDK's "none" value) is not narrowed: the server's full scan, as before.
  const before = partitionScopingStats().fullQueries;
  expect(await ids([{}] as never)).toEqual(['bool', 'missing', 'null', 'num', 'str']);
  expect(partitionScopingStats().fullQueries).toBe(before + 1);
  expect(partitionIndexProblems(cosmos.account!.database('partitions').collection('mixed').documents)).toEqual([]);
});

it('answers query-plan requests without scanning, and queries still work when the plan is needed', async () => {
  const before = partitionScopingStats().planRequests;
  const { resources } = await container.items.query('SELECT VALUE COUNT(1) FROM c').fetchAll();
  expect(resources[0]).toBeGreaterThan(0);
  expect(partitionScopingStats().planRequests).toBe(before + 1);
  // The plan endpoint answers as the server did, just over no documents.
  const plan = await container.getQueryPlan('SELECT * FROM c');
  expect(plan.result).toMatchObject({ Documents: [], _count: 0 });
});
