import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { CosmosSnapshotter, type LocalCosmos, restoreCosmos, snapshotAccount, snapshotCosmos, startLocalCosmos } from '../../../local/host/cosmos';

/**
 * The Cosmos snapshot read from the server's memory (snapshotAccount) and the snapshotter around it:
 * the file equals what the SDK-based snapshot wrote (version 1), restores into a fresh server,
 * one snapshot at a time, beforeSnapshot awaited before periodic snapshots but not on stop.
 */

type Doc = Record<string, unknown>;
let dir: string;
let source: LocalCosmos;
let client: CosmosClient;

const clientFor = (c: LocalCosmos) => new CosmosClient({ endpoint: c.endpoint, key: c.key, connectionPolicy: { enableEndpointDiscovery: false } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slotflow-snapshot-'));
  source = await startLocalCosmos();
  client = clientFor(source);
  const { database: a } = await client.databases.createIfNotExists({ id: 'slotflow' });
  const { container: appts } = await a.containers.createIfNotExists({ id: 'appointments', partitionKey: { paths: ['/pk'] }, defaultTtl: -1 });
  const { container: patients } = await a.containers.createIfNotExists({
    id: 'patients',
    partitionKey: { paths: ['/patientId'] },
    uniqueKeyPolicy: { uniqueKeys: [{ paths: ['/phone'] }] },
  });
  await a.containers.createIfNotExists({ id: 'empty', partitionKey: { paths: ['/pk'] } });
  const { database: b } = await client.databases.createIfNotExists({ id: 'other' });
  const { container: misc } = await b.containers.createIfNotExists({ id: 'misc', partitionKey: { paths: ['/k'] } });
  for (let i = 0; i < 250; i++) {
    await appts.items.create({
      id: `a${i}`,
      pk: `c1|2026-12-0${1 + (i % 5)}`,
      n: i,
      nested: { tags: ['x', i % 2 ? 'odd' : 'even'], note: 'Zoë – ✓ "quoted"' },
    });
  }
  for (let i = 0; i < 20; i++) await patients.items.create({ id: `p${i}`, patientId: `p${i}`, phone: `+1415555${1000 + i}` });
  await misc.items.create({ id: 'no-key', value: null });
  await misc.items.create({ id: 'num', k: 7 });
  await appts.item('a3', 'c1|2026-12-04').replace({ id: 'a3', pk: 'c1|2026-12-04', n: -3 });
  await appts.item('a4', 'c1|2026-12-05').delete();
  await appts.item('a5', 'c1|2026-12-01').patch([{ op: 'set', path: '/patched', value: true }]);
});
afterAll(async () => {
  client.dispose();
  await source.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface File {
  version: number;
  takenAt: string;
  databases: { id: string; containers: { id: string; items: Doc[] }[] }[];
}
/** The file's content in a stable order (databases, containers and items by id). */
function normalised(file: string): unknown {
  const s = JSON.parse(readFileSync(file, 'utf8')) as File;
  const byId = (x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id);
  return {
    version: s.version,
    databases: s.databases.sort(byId).map((d) => ({
      ...d,
      containers: d.containers.sort(byId).map((c) => ({ ...c, items: [...c.items].sort((x, y) => String(x.id).localeCompare(String(y.id))) })),
    })),
  };
}

async function everything(c: LocalCosmos): Promise<unknown> {
  const cl = clientFor(c);
  try {
    const out: Record<string, unknown> = {};
    for (const { id: db } of (await cl.databases.readAll().fetchAll()).resources) {
      for (const def of (await cl.database(db).containers.readAll().fetchAll()).resources) {
        const { resources } = await cl.database(db).container(def.id).items.readAll().fetchAll();
        out[`${db}/${def.id}`] = {
          partitionKey: def.partitionKey?.paths,
          uniqueKeys: def.uniqueKeyPolicy,
          defaultTtl: def.defaultTtl,
          items: resources
            .map((d) => Object.fromEntries(Object.entries(d).filter(([k]) => !k.startsWith('_'))))
            .sort((x, y) => String(x.id).localeCompare(String(y.id))),
        };
      }
    }
    return out;
  } finally {
    cl.dispose();
  }
}

it('writes the same version 1 file as the SDK-based snapshot, and it restores into a fresh server', async () => {
  const direct = join(dir, 'direct', 'snapshot.json');
  const viaSdk = join(dir, 'sdk.json');
  expect(await snapshotAccount(source.account!, direct)).toEqual({ documents: 249 + 20 + 2 });
  expect(await snapshotCosmos(source.endpoint, source.key, viaSdk)).toEqual({ documents: 271 });
  expect(normalised(direct)).toEqual(normalised(viaSdk));
  expect(JSON.parse(readFileSync(direct, 'utf8'))).toMatchObject({ version: 1, takenAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

  // Restores (directly into memory for an in-process server, through the SDK otherwise) give back
  // the same databases, containers and documents, from either file.
  for (const file of [direct, viaSdk]) {
    const target = await startLocalCosmos();
    try {
      expect(await restoreCosmos(target.endpoint, target.key, file)).toEqual({ documents: 271 });
      expect(await everything(target)).toEqual(await everything(source));
      // The unique key (per logical partition, as in Cosmos DB) still holds after a restore.
      const cl = clientFor(target);
      await expect(cl.database('slotflow').container('patients').items.create({ id: 'dup', patientId: 'p0', phone: '+14155551000' })).rejects.toMatchObject({
        code: 409,
      });
      cl.dispose();
    } finally {
      await target.stop();
    }
  }
  const sdkOnly = await startLocalCosmos();
  try {
    // The SDK path (a server this process did not start looks like this one without its account).
    const { account: _account, ...remote } = sdkOnly;
    expect(await restoreCosmos(`${remote.endpoint}/`, remote.key, direct)).toEqual({ documents: 271 });
    expect(await everything(sdkOnly)).toEqual(await everything(source));
  } finally {
    await sdkOnly.stop();
  }
});

it('marks writes dirty, not reads, queries or query plans', async () => {
  let writes = 0;
  source.onWrite(() => writes++);
  const c = client.database('slotflow').container('appointments');
  await c.item('a1', 'c1|2026-12-02').read();
  await c.items.query('SELECT * FROM c', { partitionKey: 'c1|2026-12-02' }).fetchAll();
  await c.items.query('SELECT VALUE COUNT(1) FROM c').fetchAll();
  expect(writes).toBe(0);
  await c.items.upsert({ id: 'w1', pk: 'c1|2026-12-02' });
  expect(writes).toBe(1);
});

it('runs one snapshot at a time, waits for beforeSnapshot on periodic snapshots only, and writes the last state on stop', async () => {
  const file = join(dir, 'snapshotter', 'snapshot.json');
  const errors: Error[] = [];
  let calls = 0;
  let release: () => void = () => undefined;
  const snapshotter = new CosmosSnapshotter(source, file, (e) => errors.push(e), {
    everyMs: 10,
    beforeSnapshot: () => {
      calls++;
      return new Promise<void>((r) => (release = r));
    },
  });
  const c = client.database('other').container('misc');
  const count = () => (JSON.parse(readFileSync(file, 'utf8')) as File).databases.find((d) => d.id === 'other')!.containers[0]!.items.length;
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(cond()).toBe(true);
  };

  // Concurrent flushes: each resolves after its own snapshot; the file is whole and current.
  await c.items.create({ id: 'f1', k: 1 });
  snapshotter.markDirty();
  const first = snapshotter.flush();
  await c.items.create({ id: 'f2', k: 1 });
  snapshotter.markDirty();
  await Promise.all([first, snapshotter.flush(), snapshotter.flush()]);
  expect(count()).toBe(4);

  // Periodic: nothing is written until beforeSnapshot resolves.
  snapshotter.start();
  await c.items.create({ id: 'f3', k: 1 });
  snapshotter.markDirty();
  await until(() => calls === 1);
  await new Promise((r) => setTimeout(r, 50));
  expect(count()).toBe(4);
  release();
  await until(() => count() === 5);

  // stop() takes the final snapshot without waiting for a pending beforeSnapshot.
  await c.items.create({ id: 'f4', k: 1 });
  snapshotter.markDirty();
  await until(() => calls === 2);
  await snapshotter.stop();
  expect(count()).toBe(6);
  release();
  await new Promise((r) => setTimeout(r, 30));
  expect(calls).toBe(2);
  expect(errors).toEqual([]);
});

it('snapshots anyway when beforeSnapshot does not settle within maxDeferMs', async () => {
  const file = join(dir, 'deferred', 'snapshot.json');
  const snapshotter = new CosmosSnapshotter(source, file, () => undefined, {
    everyMs: 10,
    maxDeferMs: 30,
    beforeSnapshot: () => new Promise<void>(() => undefined),
  });
  snapshotter.markDirty();
  snapshotter.start();
  try {
    for (let i = 0; i < 300; i++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        readFileSync(file);
        break;
      } catch {
        // not yet
      }
    }
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1 });
  } finally {
    await snapshotter.stop();
  }
});
