import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { type Container, CosmosClient, type OperationInput } from '@azure/cosmos';
import type * as CosmosModule from '../local/host/cosmos';

/**
 * The local Cosmos stand-in (@vercel/cosmosdb-server in-process, see local/host/cosmos.ts)
 * under data growth: a container filled with N documents over N / DOCS_PER_PARTITION partitions,
 * then, through the real @azure/cosmos SDK, single-partition queries (as the app's adapter sends
 * them: partitionKey option, parameters, ORDER BY), point reads, one cross-partition query, and the
 * snapshot the local host takes after writes (duration and the longest event-loop block while it
 * runs, perf_hooks.monitorEventLoopDelay at 1 ms resolution), then a restore of that snapshot.
 *
 * Run: npm run bench:local-cosmos [-- 1000,10000,50000]
 * BENCH_COSMOS_MODULE=<path to a built cosmos.js> measures another build of cosmos.ts (e.g. the
 * previous commit's) with the same script. BENCH_DOCS_PER_PARTITION (default 50), BENCH_SECONDS
 * (time budget per measurement, default 3), BENCH_PHASES (e.g. "snapshot,restore": only the
 * measurements whose names contain one of these).
 */

const cosmosModule = (): typeof CosmosModule =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(process.env.BENCH_COSMOS_MODULE ? resolve(process.env.BENCH_COSMOS_MODULE) : '../local/host/cosmos') as typeof CosmosModule;

const DOCS_PER_PARTITION = Number(process.env.BENCH_DOCS_PER_PARTITION ?? 50);
const BUDGET_MS = Number(process.env.BENCH_SECONDS ?? 3) * 1000;

interface Latency {
  samples: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
}
interface Result {
  documents: number;
  partitions: number;
  fillSeconds: number;
  partitionQuery: Latency | string;
  partitionQueryPaged: Latency | string;
  pointRead: Latency | string;
  crossPartitionQuery: Latency | string;
  snapshot: { ms: number; maxEventLoopBlockMs: number; fileMB: number } | string;
  restore: { ms: number; documents: number } | string;
}

function pkOf(p: number): string {
  return `clinic-1|2026-${String(1 + (p % 12)).padStart(2, '0')}-${String(1 + (p % 28)).padStart(2, '0')}|${p}`;
}

function doc(i: number, partitions: number): Record<string, unknown> {
  const p = i % partitions;
  return {
    id: `appt-${i}`,
    pk: pkOf(p),
    type: 'appointment',
    status: i % 3 === 0 ? 'cancelled' : 'booked',
    start: `2026-03-02T${String(8 + (i % 9)).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}:00Z`,
    providerId: `dr-${i % 8}`,
    patientId: `pat-${i % 997}`,
    notes: 'x'.repeat(120),
  };
}

const PHASES = process.env.BENCH_PHASES?.split(',');

/** Runs one measurement; a failure (e.g. the SDK's 60 s request timeout) is reported, not fatal. */
async function phase<T>(n: number, name: string, fn: () => Promise<T>): Promise<T | string> {
  if (PHASES && !PHASES.some((p) => name.includes(p))) return 'skipped';
  const t = performance.now();
  console.error(`[bench] ${n}: ${name}...`);
  try {
    return await fn();
  } catch (e) {
    const msg = `failed after ${Math.round(performance.now() - t)} ms: ${(e as Error).message.split('\n')[0]}`;
    console.error(`[bench] ${n}: ${name} ${msg}`);
    return msg;
  }
}

async function measure(fn: (i: number) => Promise<unknown>, maxSamples: number, minSamples = 5): Promise<Latency> {
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < maxSamples && (times.length < minSamples || performance.now() - t0 < BUDGET_MS); i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => round(times[Math.min(times.length - 1, Math.floor(p * times.length))]!);
  return { samples: times.length, meanMs: round(times.reduce((a, b) => a + b, 0) / times.length), p50Ms: q(0.5), p95Ms: q(0.95) };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

async function fill(container: Container, n: number, partitions: number): Promise<void> {
  // Transactional batches of up to 100 documents of one partition, 4 in flight.
  const byPartition = new Map<number, Record<string, unknown>[]>();
  for (let i = 0; i < n; i++) {
    const p = i % partitions;
    let list = byPartition.get(p);
    if (!list) byPartition.set(p, (list = []));
    list.push(doc(i, partitions));
  }
  const jobs: { pk: string; docs: Record<string, unknown>[] }[] = [];
  for (const [p, docs] of byPartition) for (let i = 0; i < docs.length; i += 100) jobs.push({ pk: pkOf(p), docs: docs.slice(i, i + 100) });
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const ops: OperationInput[] = job.docs.map((resourceBody) => ({ operationType: 'Create', resourceBody: resourceBody as never, partitionKey: job.pk }));
        const r = await container.items.batch(ops, job.pk);
        if ((r.result ?? []).some((o) => o.statusCode >= 400)) throw new Error(`fill failed in ${job.pk}`);
      }
    }),
  );
}

async function run(n: number): Promise<Result> {
  const { startLocalCosmos, CosmosSnapshotter, restoreCosmos } = cosmosModule();
  const partitions = Math.max(1, Math.round(n / DOCS_PER_PARTITION));
  const dir = mkdtempSync(join(tmpdir(), 'slotflow-bench-cosmos-'));
  const file = join(dir, 'snapshot.json');
  const cosmos = await startLocalCosmos();
  const client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, connectionPolicy: { enableEndpointDiscovery: false } });
  try {
    const { database } = await client.databases.createIfNotExists({ id: 'bench' });
    const { container } = await database.containers.createIfNotExists({ id: 'appointments', partitionKey: { paths: ['/pk'] } });
    const t = performance.now();
    await fill(container, n, partitions);
    const fillSeconds = round((performance.now() - t) / 1000);

    const spec = (p: number) => ({
      query: 'SELECT * FROM c WHERE c.pk = @pk AND c.status = @status ORDER BY c.start',
      parameters: [
        { name: '@pk', value: pkOf(p) },
        { name: '@status', value: 'booked' },
      ],
    });
    const partitionQuery = await phase(n, 'partition query', () =>
      measure(async (i) => {
        const p = (i * 7919) % partitions;
        const { resources } = await container.items.query(spec(p), { partitionKey: pkOf(p) }).fetchAll();
        if (resources.length === 0) throw new Error('empty partition query');
      }, 500),
    );
    // The adapter's paging: pages of 10 through continuation tokens (a fresh iterator per page).
    const partitionQueryPaged = await phase(n, 'paged partition query', () =>
      measure(async (i) => {
        const p = (i * 7919) % partitions;
        let continuationToken: string | undefined;
        do {
          const page = await container.items
            .query(spec(p), { partitionKey: pkOf(p), maxItemCount: 10, ...(continuationToken ? { continuationToken } : {}) })
            .fetchNext();
          continuationToken = page.continuationToken;
        } while (continuationToken);
      }, 200),
    );
    const pointRead = await phase(n, 'point read', () =>
      measure(async (i) => {
        const id = (i * 104729) % n;
        const { resource } = await container.item(`appt-${id}`, pkOf(id % partitions)).read();
        if (!resource) throw new Error('point read missed');
      }, 2000),
    );
    // Still a full scan, quadratic in the container size (~30 s at 50,000): one sample suffices there.
    const crossPartitionQuery = await phase(n, 'cross-partition query', () =>
      measure(
        async (i) => {
          await container.items.query({ query: 'SELECT c.id FROM c WHERE c.patientId = @p', parameters: [{ name: '@p', value: `pat-${i % 997}` }] }).fetchAll();
        },
        50,
        1,
      ),
    );

    const snapshot = await phase(n, 'snapshot', async () => {
      let failure: Error | undefined;
      const snapshotter = new CosmosSnapshotter(cosmos, file, (err: Error) => void (failure = err));
      snapshotter.markDirty();
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const t0 = performance.now();
      await snapshotter.flush();
      const ms = round(performance.now() - t0);
      h.disable();
      if (failure) throw failure;
      return { ms, maxEventLoopBlockMs: round(h.max / 1e6), fileMB: round(statSync(file).size / 1e6) };
    });

    const restore = await phase(n, 'restore', async () => {
      const target = await startLocalCosmos();
      try {
        const t0 = performance.now();
        const restored = await restoreCosmos(target.endpoint, target.key, file);
        const r = { ms: round(performance.now() - t0), documents: restored?.documents ?? 0 };
        if (r.documents !== n) throw new Error(`restored ${r.documents} of ${n}`);
        return r;
      } finally {
        await target.stop();
      }
    });
    return { documents: n, partitions, fillSeconds, partitionQuery, partitionQueryPaged, pointRead, crossPartitionQuery, snapshot, restore };
  } finally {
    client.dispose();
    await cosmos.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '1000,10000,50000').split(',').map(Number);
  const results: Result[] = [];
  for (const n of sizes) {
    const r = await run(n);
    results.push(r);
    console.error(`[bench] ${n} documents done`);
  }
  const lat = (l: Latency | string) => (typeof l === 'string' ? l : `${l.p50Ms} / ${l.p95Ms}`);
  const val = <T>(v: T | string, f: (x: T) => unknown) => (typeof v === 'string' ? v : String(f(v)));
  console.log(
    `\nLocal Cosmos stand-in (${process.env.BENCH_COSMOS_MODULE ?? 'local/host/cosmos.ts'}), ${DOCS_PER_PARTITION} documents per partition, Node ${process.version}\n`,
  );
  console.log(
    '| documents | partition query p50/p95 ms | same, pages of 10 | point read p50/p95 ms | cross-partition query p50 ms | snapshot ms | max event-loop block ms | snapshot MB | restore ms |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.documents} | ${lat(r.partitionQuery)} | ${lat(r.partitionQueryPaged)} | ${lat(r.pointRead)} | ${val(r.crossPartitionQuery, (x) => x.p50Ms)} | ${val(r.snapshot, (x) => x.ms)} | ${val(r.snapshot, (x) => x.maxEventLoopBlockMs)} | ${val(r.snapshot, (x) => x.fileMB)} | ${val(r.restore, (x) => x.ms)} |`,
    );
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
