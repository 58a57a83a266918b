/**
 * Durable histories: the journal-backed instance store (local/host/durable/store.ts on ../../wal)
 * and the durable client API answering only once a change is on disk. A hard kill is simulated by
 * copying the data folder at the moment of the answer, while the first backend goes on running.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory and a CommonJS fixture */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturedFunctions } from '../../../local/host/core';
import { DurableBackend } from '../../../local/host/durable/backend';
import { DURABLE_API_PATH, handleDurableApi } from '../../../local/host/durable/client-api';
import { EventType } from '../../../local/host/durable/history';
import { FileInstanceStore, JournalInstanceStore, MemoryInstanceStore, type InstanceRecord, type InstanceStore } from '../../../local/host/durable/store';

require('../../fixtures/localhost-app/orchestrations.js');

const quiet = () => undefined;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'slotflow-durable-store-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function record(instanceId: string, over: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    instanceId,
    name: 'fxTwoEvents',
    runtimeStatus: 'Running',
    createdTime: '2026-03-02T14:00:00.000Z',
    lastUpdatedTime: '2026-03-02T14:00:00.000Z',
    generation: 0,
    history: [],
    inbox: [],
    cancelledTimers: [],
    ...over,
  };
}
const ids = (store: InstanceStore) =>
  store
    .loadAll()
    .map((r) => r.instanceId)
    .sort();
const logFiles = (dataDir: string) => readdirSync(join(dataDir, 'durable', 'journal')).filter((f) => f.endsWith('.log'));

describe('JournalInstanceStore', () => {
  it('restores what was saved and removed, as it was when saved, without a clean close', async () => {
    const dir = tempDir();
    const store = new JournalInstanceStore(dir);
    const a = record('a');
    store.save(a);
    a.runtimeStatus = 'Completed'; // the backend goes on changing its object: not saved
    store.save(record('b'));
    store.save(record('c'));
    store.remove('b');
    await store.whenDurable();
    const killed = tempDir();
    cpSync(dir, killed, { recursive: true });

    const reopened = new JournalInstanceStore(killed);
    expect(ids(reopened)).toEqual(['a', 'c']);
    expect(reopened.loadAll().find((r) => r.instanceId === 'a')!.runtimeStatus).toBe('Running');
    await reopened.close();
    await store.close();
  });

  it('drops a torn last frame and keeps everything before it', async () => {
    const dir = tempDir();
    const store = new JournalInstanceStore(dir);
    store.save(record('a'));
    await store.whenDurable();
    const killed = tempDir();
    cpSync(dir, killed, { recursive: true });
    const [log] = logFiles(killed);
    appendFileSync(join(killed, 'durable', 'journal', log!), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 123, 34])); // a frame cut short
    const reopened = new JournalInstanceStore(killed);
    expect(reopened.droppedBytes).toBeGreaterThan(0);
    expect(ids(reopened)).toEqual(['a']);
    await reopened.close();
    await store.close();
  });

  it('compacts into a snapshot once the log is large, and restores from snapshot + log', async () => {
    const dir = tempDir();
    const store = new JournalInstanceStore(dir, { compactAfterBytes: 4096 });
    const big = {
      EventType: EventType.EventRaised,
      EventId: -1,
      IsPlayed: false,
      Timestamp: '2026-03-02T14:00:00.000Z',
      Name: 'x',
      Input: '"' + 'y'.repeat(500) + '"',
    };
    for (let i = 0; i < 40; i++) store.save(record(`i${i % 5}`, { inbox: [big], generation: i }));
    await store.checkpoint(); // wait for any compaction in flight, then one more
    store.save(record('after-snapshot'));
    await store.whenDurable();
    expect(existsSync(join(dir, 'durable', 'journal', 'snapshot.json'))).toBe(true);
    const killed = tempDir();
    cpSync(dir, killed, { recursive: true });
    const reopened = new JournalInstanceStore(killed);
    expect(ids(reopened)).toEqual(['after-snapshot', 'i0', 'i1', 'i2', 'i3', 'i4']);
    expect(reopened.loadAll().find((r) => r.instanceId === 'i4')!.generation).toBe(39);
    await reopened.close();
    await store.close();
  });

  it('switching the log off and on keeps every instance (files <-> journal)', async () => {
    const dir = tempDir();
    const files = new FileInstanceStore(dir);
    files.save(record('from-files'));
    const journal = new JournalInstanceStore(dir);
    expect(ids(journal)).toEqual(['from-files']);
    journal.save(record('from-journal'));
    journal.remove('from-files');
    await journal.close(); // snapshot written, the instance files removed
    expect(readdirSync(join(dir, 'durable', 'instances')).filter((f) => f.endsWith('.json'))).toEqual([]);
    const back = new FileInstanceStore(dir);
    expect(ids(back)).toEqual(['from-journal']);
    expect(existsSync(join(dir, 'durable', 'journal'))).toBe(false);
  });
});

describe('durable client API over the journal', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await new Promise((resolve) => server!.close(resolve));
    server = undefined;
  });
  async function serve(backend: DurableBackend): Promise<string> {
    let base = '';
    server = createServer((req, res) => void handleDurableApi(backend, base, req, res));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return new URL(DURABLE_API_PATH, base).href;
  }

  it('answers a start and a raise only after the store reports them on disk', async () => {
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const inner = new MemoryInstanceStore();
    const store: InstanceStore = {
      loadAll: () => inner.loadAll(),
      save: (r) => inner.save(r),
      remove: (id) => inner.remove(id),
      whenDurable: () => gate,
    };
    const backend = new DurableBackend({ registry: capturedFunctions, store, logger: quiet });
    backend.start();
    const api = await serve(backend);
    let answered = false;
    const start = fetch(`${api}orchestrators/fxTwoEvents/gated-1`, { method: 'POST' }).then((r) => ((answered = true), r));
    await backend.waitFor('gated-1', ['Running']);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    release();
    expect((await start).status).toBe(202);

    gate = Promise.reject(new Error('disk full'));
    gate.catch(() => undefined);
    const raise = await fetch(`${api}instances/gated-1/raiseEvent/first`, { method: 'POST', body: '"A"' });
    expect(raise.status).toBe(503);
    await backend.stop();
  });

  it('a start and a raise answered 202 survive a kill right after the answer, and the workflow resumes', async () => {
    const dir = tempDir();
    const backend = new DurableBackend({ registry: capturedFunctions, store: new JournalInstanceStore(dir), logger: quiet });
    backend.start();
    const api = await serve(backend);
    expect((await fetch(`${api}orchestrators/fxTwoEvents/kill-1`, { method: 'POST' })).status).toBe(202);
    const afterStart = tempDir();
    cpSync(dir, afterStart, { recursive: true });
    expect((await fetch(`${api}instances/kill-1/raiseEvent/first`, { method: 'POST', body: '"A"' })).status).toBe(202);
    const afterRaise = tempDir();
    cpSync(dir, afterRaise, { recursive: true });
    await backend.stop();

    const started = new JournalInstanceStore(afterStart);
    expect(ids(started)).toEqual(['kill-1']);
    await started.close();

    const resumed = new DurableBackend({ registry: capturedFunctions, store: new JournalInstanceStore(afterRaise), logger: quiet });
    resumed.start();
    expect(resumed.getStatus('kill-1')!.runtimeStatus).toBe('Running');
    resumed.raiseEvent('kill-1', 'second', '"B"');
    expect((await resumed.waitFor('kill-1')).output).toEqual(['A', 'B']);
    await resumed.stop();
  });
});
