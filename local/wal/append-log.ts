import { close, closeSync, fdatasync, fsync, mkdirSync, open, openSync, readdirSync, readFileSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';

/**
 * A segmented append-only log with group commit, the durable half of the local stand-ins (Cosmos
 * DB, Service Bus). `append(record)` is synchronous and returns the record's sequence number; the
 * records appended in one turn of the event loop are handed to the OS together as one frame
 * (synchronously: a process kill after that loses none of them), then fdatasync'ed on libuv's thread
 * pool; `whenDurable(lsn)` resolves once that record is on disk. Up to four fdatasyncs run at once
 * and records written meanwhile wait for the next one: concurrent writers share fsyncs.
 *
 * File format (`<name>-<segment, 8 digits>.log`): frames of `[u32 LE length][u32 LE crc32][payload]`,
 * each payload a JSON array of the records flushed together (so the records one request appends in
 * one synchronous step are stored, or lost, together). A frame cut short by a crash, or whose
 * checksum does not match, ends the segment: `readLog` drops it and truncates the file there.
 *
 * Segments: every open starts a new segment (never appends after a torn tail); `rotate()` starts
 * the next one synchronously, so a snapshot captured in the same synchronous step covers exactly
 * the segments before it. `removeBefore(segment)` deletes what a snapshot made redundant.
 *
 * Why not a library: the embedded stores on npm that fit (lmdb, classic-level, better-sqlite3)
 * are native addons whose install scripts npm 11 blocks, and node:sqlite commits synchronously on
 * the event loop (an fsync here costs ~5 ms, which would stall every request). The log needs only
 * length + CRC32 framing (node:zlib has crc32) and asynchronous fdatasync on libuv's thread pool.
 */

const pDatasync = promisify(fdatasync);
const pFsync = promisify(fsync);
const pOpen = promisify(open);
const pClose = promisify(close);

const HEADER = 8;

export interface AppendLogOptions {
  /** fdatasync after every group write (default true). Off: written to the OS only (survives a process kill, not a power cut). */
  fsync?: boolean;
  /** Called once when a write fails; the log then refuses further appends. */
  onError?: (err: Error) => void;
}

export interface LogReadResult {
  /** Records of every segment from `fromSegment` on, in order. */
  records: unknown[];
  /** Segments read, ascending. */
  segments: number[];
  /** Bytes of torn or corrupt frames dropped (the files were truncated there). */
  droppedBytes: number;
  /** Highest segment number present (0 when none). */
  lastSegment: number;
}

const segmentPattern = (name: string) => new RegExp(`^${name.replace(/[^\w-]/g, '')}-(\\d{8})\\.log$`);

export function segmentFile(dir: string, name: string, segment: number): string {
  return join(dir, `${name}-${String(segment).padStart(8, '0')}.log`);
}

/** Segment numbers of `name` in `dir`, ascending. */
export function listSegments(dir: string, name: string): number[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  const re = segmentPattern(name);
  return files
    .map((f) => re.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Decodes one segment's frames; stops at the first torn or corrupt frame and reports where. */
export function decodeFrames(buf: Buffer): { records: unknown[]; validBytes: number } {
  const records: unknown[] = [];
  let at = 0;
  while (at + HEADER <= buf.length) {
    const length = buf.readUInt32LE(at);
    const sum = buf.readUInt32LE(at + 4);
    const end = at + HEADER + length;
    if (length === 0 || end > buf.length) break;
    const payload = buf.subarray(at + HEADER, end);
    if (crc32(payload) !== sum) break;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      break;
    }
    if (!Array.isArray(parsed)) break;
    for (const r of parsed) records.push(r);
    at = end;
  }
  return { records, validBytes: at };
}

export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const frame = Buffer.allocUnsafe(HEADER + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  body.copy(frame, HEADER);
  return frame;
}

/**
 * Reads every segment of `name` numbered `fromSegment` or higher (older ones are deleted: a
 * snapshot covers them). A torn or corrupt tail is dropped and the file truncated to its valid part.
 */
export function readLog(dir: string, name: string, fromSegment = 0): LogReadResult {
  const all = listSegments(dir, name);
  const result: LogReadResult = { records: [], segments: [], droppedBytes: 0, lastSegment: all.at(-1) ?? 0 };
  for (const segment of all) {
    const file = segmentFile(dir, name, segment);
    if (segment < fromSegment) {
      rmSync(file, { force: true });
      continue;
    }
    const buf = readFileSync(file);
    const { records, validBytes } = decodeFrames(buf);
    if (validBytes < buf.length) {
      result.droppedBytes += buf.length - validBytes;
      truncateSync(file, validBytes);
    }
    for (const r of records) result.records.push(r);
    result.segments.push(segment);
  }
  return result;
}

export interface AppendLogStats {
  appended: number;
  durable: number;
  /** Group writes (one frame each). */
  writes: number;
  /** fdatasync calls. */
  syncs: number;
  bytes: number;
  segment: number;
  segmentBytes: number;
}

/** fdatasync calls in flight at once (records written while they run are covered by the next one). */
const MAX_SYNCS_IN_FLIGHT = 4;

interface SyncEntry {
  upto: number;
  done: boolean;
}

export class AppendLog {
  private fd: number;
  private pending: string[] = [];
  private appended = 0;
  private written = 0;
  private durable = 0;
  private flushQueued = false;
  /** Issued fdatasyncs in issue order; durability advances over the completed prefix. */
  private readonly syncs: SyncEntry[] = [];
  private syncsInFlight = 0;
  private syncWanted = false;
  private lastIssuedUpto = 0;
  /** fdatasyncs in flight per file descriptor, and descriptors to close once they are done. */
  private readonly fdInFlight = new Map<number, number>();
  private readonly closeWhenIdle = new Set<number>();
  private readonly waiters: { lsn: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private failure?: Error;
  private closed = false;
  private segmentSynced = false;
  private readonly fsyncEnabled: boolean;
  private readonly onError?: (err: Error) => void;
  private writes = 0;
  private syncCount = 0;
  private bytes = 0;
  /** Bytes appended to the current segment (written or pending). */
  segmentBytes = 0;

  private constructor(
    readonly dir: string,
    readonly name: string,
    public segment: number,
    options: AppendLogOptions,
  ) {
    this.fsyncEnabled = options.fsync !== false;
    this.onError = options.onError;
    this.fd = openSync(segmentFile(dir, name, segment), 'a');
  }

  /** Opens a new segment numbered `segment` (at least one above every existing one). */
  static open(dir: string, name: string, segment: number, options: AppendLogOptions = {}): AppendLog {
    mkdirSync(dir, { recursive: true });
    const next = Math.max(segment, (listSegments(dir, name).at(-1) ?? 0) + 1);
    return new AppendLog(dir, name, next, options);
  }

  get stats(): AppendLogStats {
    return {
      appended: this.appended,
      durable: this.durable,
      writes: this.writes,
      syncs: this.syncCount,
      bytes: this.bytes,
      segment: this.segment,
      segmentBytes: this.segmentBytes,
    };
  }

  /** Sequence number of the last record appended (0 before the first). */
  get lastLsn(): number {
    return this.appended;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Queues a record (anything JSON.stringify accepts) for the next group write; returns its sequence number. */
  append(record: unknown): number {
    return this.appendSerialized(JSON.stringify(record));
  }

  /** `append` for a record the caller has already serialised (`json` must be one JSON value). */
  appendSerialized(json: string): number {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error(`log ${this.name} is closed`);
    const text = json;
    this.pending.push(text);
    this.segmentBytes += text.length + 1;
    this.appended++;
    this.scheduleFlush();
    return this.appended;
  }

  /** Resolves once every record up to `lsn` (default: all appended so far) is on disk; rejects if the log failed. */
  whenDurable(lsn = this.appended): Promise<void> {
    if (lsn <= this.durable) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ lsn, resolve, reject }));
  }

  /** True when nothing appended up to `lsn` is waiting for the disk. */
  isDurable(lsn = this.appended): boolean {
    return lsn <= this.durable;
  }

  /**
   * Starts the next segment now (synchronously): what is pending is written to the old one, records
   * appended from here on go to the new one. Returns the new segment's number.
   */
  rotate(): number {
    if (this.failure) throw this.failure;
    this.writePending();
    const old = this.fd;
    if (this.written > this.lastIssuedUpto) this.issueSync(true);
    this.closeWhenIdle.add(old);
    this.closeIfIdle(old);
    this.segment++;
    this.fd = openSync(segmentFile(this.dir, this.name, this.segment), 'a');
    this.segmentSynced = false;
    this.segmentBytes = 0;
    return this.segment;
  }

  /** Deletes the segments before `segment` (a durable snapshot covers them). */
  removeBefore(segment: number): void {
    for (const s of listSegments(this.dir, this.name)) if (s < segment) rmSync(segmentFile(this.dir, this.name, s), { force: true });
  }

  /** Writes what is pending, waits for the disk, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failure) this.writePending();
    await this.whenDurable().catch(() => undefined);
    this.closed = true;
    while (this.syncsInFlight > 0) await new Promise((r) => setImmediate(r));
    this.closeWhenIdle.add(this.fd);
    this.closeIfIdle(this.fd);
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // After the current synchronous step and its microtasks: what one request appends goes out together.
    setImmediate(() => {
      this.flushQueued = false;
      if (this.failure || this.closed) return;
      this.writePending();
    });
  }

  /**
   * Hands the pending records to the OS as one frame, synchronously (a process kill after this loses
   * none of them), then asks for an fdatasync (a power cut after that loses none either).
   */
  private writePending(): void {
    if (this.pending.length === 0) return;
    const frame = encodeFrame(`[${this.pending.join(',')}]`);
    this.pending = [];
    try {
      let off = 0;
      while (off < frame.length) off += writeSync(this.fd, frame, off, frame.length - off);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.writes++;
    this.bytes += frame.length;
    this.written = this.appended;
    if (!this.fsyncEnabled) {
      this.durable = this.written;
      this.resolveWaiters();
      return;
    }
    if (this.syncsInFlight >= MAX_SYNCS_IN_FLIGHT) this.syncWanted = true;
    else this.issueSync(false);
  }

  private issueSync(force: boolean): void {
    if (!force && this.syncsInFlight >= MAX_SYNCS_IN_FLIGHT) {
      this.syncWanted = true;
      return;
    }
    const entry: SyncEntry = { upto: this.written, done: false };
    this.lastIssuedUpto = this.written;
    this.syncs.push(entry);
    this.syncsInFlight++;
    this.syncCount++;
    const fd = this.fd;
    this.fdInFlight.set(fd, (this.fdInFlight.get(fd) ?? 0) + 1);
    const syncDirToo = !this.segmentSynced;
    this.segmentSynced = true;
    const run = async () => {
      await pDatasync(fd);
      // First sync of a new segment: the folder too, so the file's entry survives a power cut.
      if (syncDirToo) await syncDir(this.dir);
    };
    run().then(
      () => {
        entry.done = true;
        this.syncsInFlight--;
        this.fdInFlight.set(fd, (this.fdInFlight.get(fd) ?? 1) - 1);
        this.closeIfIdle(fd);
        while (this.syncs.length && this.syncs[0]!.done) this.durable = Math.max(this.durable, this.syncs.shift()!.upto);
        this.resolveWaiters();
        if (this.syncWanted && this.written > this.lastIssuedUpto) {
          this.syncWanted = false;
          this.issueSync(false);
        }
      },
      (err: Error) => {
        this.syncsInFlight--;
        this.fail(err);
      },
    );
  }

  private closeIfIdle(fd: number): void {
    if (!this.closeWhenIdle.has(fd) || (this.fdInFlight.get(fd) ?? 0) > 0) return;
    this.closeWhenIdle.delete(fd);
    this.fdInFlight.delete(fd);
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return;
    const due = this.waiters.filter((w) => w.lsn <= this.durable);
    if (due.length === 0) return;
    const rest = this.waiters.filter((w) => w.lsn > this.durable);
    this.waiters.length = 0;
    this.waiters.push(...rest);
    for (const w of due) w.resolve();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = new Error(`log ${this.name} failed: ${err.message}`, { cause: err });
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
    this.onError?.(this.failure);
  }
}

/** fsync of a directory, so a file created or renamed in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const fd = await pOpen(dir, 'r');
  try {
    await pFsync(fd);
  } finally {
    await pClose(fd);
  }
}
