import { existsSync, readFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppendLog, readLog, syncDir, type AppendLogOptions } from './append-log';

/**
 * Snapshot + log for one stand-in's state (see append-log.ts). Restore = the snapshot, then every
 * log record written after it. A checkpoint rotates the log and captures the state in the same
 * synchronous step, writes the snapshot (temporary file, fsync, rename, fsync of the folder), then
 * deletes the segments it covers. A crash at any point leaves either the old snapshot with all the
 * segments after it, or the new one (older segments are ignored and removed on the next start).
 *
 * Files in `dir`: `snapshot.json` (an object whose `segment` field is the first log segment it does
 * not cover) and `log-<segment>.log`.
 */

export const SNAPSHOT_FILE = 'snapshot.json';
const LOG_NAME = 'log';

export interface Restored<S> {
  /** The snapshot, if there is one (any JSON object; `segment` says where its log starts). */
  snapshot?: S & { segment?: number };
  /** Log records after the snapshot, in order. */
  records: unknown[];
  /** Bytes of a torn or corrupt log tail that were dropped. */
  droppedBytes: number;
}

/** Writes snapshot text; the journal owns the file, the fsync and the rename. */
export type SnapshotWriter = (write: (text: string) => Promise<void>) => Promise<void>;

let tmpCounter = 0;

export class Journal {
  private checkpointing?: Promise<void>;
  private readonly fsyncEnabled: boolean;

  private constructor(
    readonly dir: string,
    readonly log: AppendLog,
    fsyncEnabled: boolean,
  ) {
    this.fsyncEnabled = fsyncEnabled;
  }

  /**
   * Reads what `dir` holds (snapshot + log, torn tail dropped) and opens a new log segment after it.
   * `parseSnapshot` turns the snapshot file's text into its object (default JSON.parse).
   */
  static open<S extends object>(
    dir: string,
    options: AppendLogOptions & { parseSnapshot?: (text: string) => S } = {},
  ): { journal: Journal; restored: Restored<S> } {
    const file = join(dir, SNAPSHOT_FILE);
    let snapshot: (S & { segment?: number }) | undefined;
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      snapshot = (options.parseSnapshot ? options.parseSnapshot(text) : JSON.parse(text)) as S & { segment?: number };
    }
    const from = typeof snapshot?.segment === 'number' ? snapshot.segment : 0;
    const read = readLog(dir, LOG_NAME, from);
    const log = AppendLog.open(dir, LOG_NAME, Math.max(from, read.lastSegment + 1), options);
    return { journal: new Journal(dir, log, options.fsync !== false), restored: { snapshot, records: read.records, droppedBytes: read.droppedBytes } };
  }

  get snapshotFile(): string {
    return join(this.dir, SNAPSHOT_FILE);
  }

  append(record: unknown): number {
    return this.log.append(record);
  }

  /** `append` for a record already serialised as JSON. */
  appendSerialized(json: string): number {
    return this.log.appendSerialized(json);
  }

  whenDurable(lsn?: number): Promise<void> {
    return this.log.whenDurable(lsn);
  }

  /** True while a checkpoint is being written. */
  get busy(): boolean {
    return this.checkpointing !== undefined;
  }

  /**
   * Takes a snapshot. `capture(segment)` runs synchronously right after the log rotated to
   * `segment`: it must read the whole state before it returns (before any await) and return the
   * writer that serialises what it read. One checkpoint at a time; a second call waits for the first.
   */
  async checkpoint(capture: (segment: number) => SnapshotWriter): Promise<void> {
    while (this.checkpointing) await this.checkpointing.catch(() => undefined);
    const segment = this.log.rotate();
    const produce = capture(segment);
    const run = this.writeSnapshot(produce, segment);
    this.checkpointing = run;
    try {
      await run;
    } finally {
      if (this.checkpointing === run) this.checkpointing = undefined;
    }
  }

  private async writeSnapshot(produce: SnapshotWriter, segment: number): Promise<void> {
    const file = this.snapshotFile;
    const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await produce(async (text) => void (await fh.write(text)));
      if (this.fsyncEnabled) await fh.datasync();
      await fh.close();
      await rename(tmp, file);
      if (this.fsyncEnabled) await syncDir(this.dir);
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    this.log.removeBefore(segment);
  }

  /** Flushes the log and closes it (no snapshot: call checkpoint first for a compact folder). */
  async close(): Promise<void> {
    while (this.checkpointing) await this.checkpointing.catch(() => undefined);
    await this.log.close();
  }
}
