/**
 * The append-only log behind the durable stand-ins: records come back in order, concurrent
 * appends share fsyncs (group commit), a torn or corrupt last frame is dropped and truncated,
 * and a journal restores snapshot + later log whatever step of a checkpoint a crash interrupted.
 */
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppendLog, encodeFrame, listSegments, readLog, segmentFile } from '../../../local/wal/append-log';
import { Journal, SNAPSHOT_FILE } from '../../../local/wal/journal';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'slotflow-wal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('AppendLog', () => {
  it('returns every durable record in order, and concurrent appends share fsyncs', async () => {
    const log = AppendLog.open(dir, 'log', 1);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) waits.push(log.whenDurable(log.append({ i })));
    await Promise.all(waits);
    expect(log.stats.durable).toBe(200);
    expect(log.stats.syncs).toBeLessThan(200);
    // What is durable is readable by another process now, before close.
    expect(readLog(dir, 'log').records).toEqual(Array.from({ length: 200 }, (_, i) => ({ i })));
    await log.close();
  });

  it('never appends to an existing segment: each open starts the next one', async () => {
    const a = AppendLog.open(dir, 'log', 1);
    await a.whenDurable(a.append('a'));
    await a.close();
    const b = AppendLog.open(dir, 'log', 1);
    expect(b.segment).toBe(2);
    await b.whenDurable(b.append('b'));
    await b.close();
    expect(listSegments(dir, 'log')).toEqual([1, 2]);
    expect(readLog(dir, 'log').records).toEqual(['a', 'b']);
  });

  it('drops a torn last frame and truncates the file to its valid part', async () => {
    const log = AppendLog.open(dir, 'log', 1);
    await log.whenDurable(log.append({ ok: 1 }));
    await log.whenDurable(log.append({ ok: 2 }));
    await log.close();
    const file = segmentFile(dir, 'log', 1);
    const valid = statSync(file).size;
    const frame = encodeFrame(JSON.stringify([{ torn: true }]));
    appendFileSync(file, frame.subarray(0, frame.length - 3));
    const read = readLog(dir, 'log');
    expect(read.records).toEqual([{ ok: 1 }, { ok: 2 }]);
    expect(read.droppedBytes).toBe(frame.length - 3);
    expect(statSync(file).size).toBe(valid);
  });

  it('drops a frame whose checksum does not match, and what follows it', () => {
    const file = segmentFile(dir, 'log', 1);
    const good = encodeFrame(JSON.stringify([1]));
    const bad = encodeFrame(JSON.stringify([2]));
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
    writeFileSync(file, Buffer.concat([good, bad, encodeFrame(JSON.stringify([3]))]));
    const read = readLog(dir, 'log');
    expect(read.records).toEqual([1]);
    expect(read.droppedBytes).toBeGreaterThan(0);
  });
});

describe('Journal', () => {
  type State = { values: number[] };
  const restore = (d: string) => {
    const { journal, restored } = Journal.open<State & { segment?: number }>(d);
    const values = [...(restored.snapshot?.values ?? []), ...(restored.records as number[])];
    return { journal, values, restored };
  };

  it('restores snapshot + later log, and a checkpoint deletes the segments it covers', async () => {
    let { journal, values } = restore(dir);
    for (let i = 0; i < 5; i++) {
      values.push(i);
      journal.append(i);
    }
    await journal.whenDurable();
    await journal.checkpoint((segment) => {
      const text = JSON.stringify({ values: [...values], segment });
      return (write) => write(text);
    });
    for (let i = 5; i < 8; i++) journal.append(i);
    await journal.whenDurable();
    // A crash here: nothing closed. The folder alone must give everything back.
    const copy = mkdtempSync(join(tmpdir(), 'slotflow-wal-copy-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const again = restore(copy);
      expect(again.values).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      await again.journal.close();
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    expect(listSegments(dir, 'log')).toEqual([journal.log.segment]);
    await journal.close();
    ({ journal, values } = restore(dir));
    expect(values).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await journal.close();
  });

  it('a crash before the new snapshot is renamed restores from the old snapshot and every segment', async () => {
    const { journal } = restore(dir);
    journal.append(1);
    await journal.whenDurable();
    // Rotate as a checkpoint does, but "crash" before the snapshot is written.
    journal.log.rotate();
    journal.append(2);
    await journal.whenDurable();
    writeFileSync(join(dir, `${SNAPSHOT_FILE}.123.tmp`), '{"values":[1],"seg');
    const again = restore(dir);
    expect(again.values).toEqual([1, 2]);
    await again.journal.close();
    await journal.close();
  });

  it('a crash after the rename but before old segments are removed ignores and removes them', async () => {
    const { journal } = restore(dir);
    journal.append(1);
    await journal.whenDurable();
    const next = journal.log.rotate();
    writeFileSync(join(dir, SNAPSHOT_FILE), JSON.stringify({ values: [1], segment: next }));
    journal.append(2);
    await journal.whenDurable();
    const again = restore(dir);
    expect(again.values).toEqual([1, 2]);
    expect(listSegments(dir, 'log')[0]).toBeGreaterThanOrEqual(next);
    expect(readFileSync(join(dir, SNAPSHOT_FILE), 'utf8')).toContain('"segment"');
    await again.journal.close();
    await journal.close();
  });
});
