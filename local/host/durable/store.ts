import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLog } from '../../wal/append-log';
import { Journal, SNAPSHOT_FILE } from '../../wal/journal';
import type { HistoryEvent } from './history';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Terminated' | 'Suspended';

/** Everything the local backend knows about one orchestration instance. */
export interface InstanceRecord {
  instanceId: string;
  name: string;
  runtimeStatus: RuntimeStatus;
  /** Input of the current generation (what getInput() returns). */
  input?: unknown;
  output?: unknown;
  customStatus?: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  parentInstanceId?: string;
  /** Sequence id of the parent's CallSubOrchestrator task. */
  parentTaskId?: number;
  /** Bumped by continueAsNew; results for an older generation are dropped. */
  generation: number;
  history: HistoryEvent[];
  /** Events that arrived and wait for the next episode (the instance's inbox). */
  inbox: HistoryEvent[];
  /** Created timers the orchestrator cancelled; never fired. */
  cancelledTimers: number[];
}

/** Where instance records live between episodes. */
export interface InstanceStore {
  loadAll(): InstanceRecord[];
  /** Keeps a copy of `record` as it is now (the caller goes on changing the object). */
  save(record: InstanceRecord): void;
  remove(instanceId: string): void;
  /** Resolves once every save and remove so far is on disk (stores without fsync: at once). */
  whenDurable?(): Promise<void>;
  /** Leaves the store compact and closed (after the last save). */
  close?(): Promise<void>;
}

export class MemoryInstanceStore implements InstanceStore {
  private readonly records = new Map<string, string>();
  loadAll(): InstanceRecord[] {
    return [...this.records.values()].map((r) => JSON.parse(r) as InstanceRecord);
  }
  save(record: InstanceRecord): void {
    this.records.set(record.instanceId, JSON.stringify(record));
  }
  remove(instanceId: string): void {
    this.records.delete(instanceId);
  }
}

const instancesDir = (dataDir: string) => join(dataDir, 'durable', 'instances');
const journalDir = (dataDir: string) => join(dataDir, 'durable', 'journal');

/** The instance files of FileInstanceStore in `dir` (unreadable ones skipped with a warning). */
function readInstanceFiles(dir: string): { records: InstanceRecord[]; files: string[] } {
  const records: InstanceRecord[] = [];
  const files: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return { records, files };
  }
  for (const f of names) {
    if (!f.endsWith('.json')) continue;
    files.push(join(dir, f));
    try {
      records.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as InstanceRecord);
    } catch (err) {
      console.warn(`[durable] skipping unreadable instance file ${f}: ${(err as Error).message}`);
    }
  }
  return { records, files };
}

/** A record of the instance journal's log: the whole instance as saved, or its removal. */
type InstanceLogRecord = { put: InstanceRecord } | { remove: string };
/** The journal's snapshot: every instance, and the first log segment it does not cover. */
interface InstanceSnapshot {
  segment?: number;
  instances?: InstanceRecord[];
}

/** Applies one log record; a removal is kept as `null` when `tombstones` is set. */
function applyLogRecord(into: Map<string, InstanceRecord | null>, rec: unknown, tombstones = false): void {
  const r = rec as InstanceLogRecord;
  if ('put' in r) into.set(r.put.instanceId, r.put);
  else if ('remove' in r) {
    if (tombstones) into.set(r.remove, null);
    else into.delete(r.remove);
  }
}

/**
 * What a journal folder holds (snapshot, then the log after it; a torn last frame ignored), without
 * opening it for writing; instances the log removed are `null`.
 */
function readInstanceJournal(dir: string): Map<string, InstanceRecord | null> {
  const out = new Map<string, InstanceRecord | null>();
  const file = join(dir, SNAPSHOT_FILE);
  const snapshot = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as InstanceSnapshot) : undefined;
  for (const r of snapshot?.instances ?? []) out.set(r.instanceId, r);
  for (const rec of readLog(dir, 'log', snapshot?.segment ?? 0).records) applyLogRecord(out, rec, true);
  return out;
}

export interface JournalInstanceStoreOptions {
  /** fdatasync before whenDurable resolves (default true). */
  fsync?: boolean;
  /** Compact (snapshot, drop the log) once the log segment passes this size (default 32 MiB). */
  compactAfterBytes?: number;
  /** Called once when the log fails; saves throw from then on and whenDurable rejects. */
  onError?: (err: Error) => void;
}

/**
 * Instance records in a journal under `<dataDir>/durable/journal/` (../../wal: append-only log,
 * group-committed fdatasync, snapshots that compact it). `save` appends the whole record as it is
 * and hands it to the OS by the end of the event-loop turn; `whenDurable` resolves once everything
 * saved so far is fdatasync'ed, and the durable client API answers a start, raise, terminate,
 * suspend or resume only after that. Restore = snapshot + log, a torn last frame dropped (it was
 * never acknowledged). Records that FileInstanceStore left in `durable/instances/` (the log was
 * off) are read first and deleted after the first snapshot, so the switch works both ways.
 */
export class JournalInstanceStore implements InstanceStore {
  readonly dir: string;
  private readonly journal: Journal;
  /** The latest serialised record of each instance (what a snapshot writes). */
  private readonly latest = new Map<string, string>();
  private legacyFiles: string[];
  private readonly compactAfterBytes: number;
  private compacting?: Promise<void>;
  private closed = false;
  /** Bytes of a torn log tail dropped on open. */
  readonly droppedBytes: number;

  constructor(dataDir: string, options: JournalInstanceStoreOptions = {}) {
    this.dir = journalDir(dataDir);
    this.compactAfterBytes = options.compactAfterBytes ?? 32 * 1024 * 1024;
    const legacy = readInstanceFiles(instancesDir(dataDir));
    this.legacyFiles = legacy.files;
    const { journal, restored } = Journal.open<InstanceSnapshot>(this.dir, {
      ...(options.fsync === false ? { fsync: false } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
    this.journal = journal;
    this.droppedBytes = restored.droppedBytes;
    // The journal is newer than any instance file it has not yet compacted away.
    const all = new Map<string, InstanceRecord | null>(legacy.records.map((r) => [r.instanceId, r]));
    for (const r of restored.snapshot?.instances ?? []) all.set(r.instanceId, r);
    for (const rec of restored.records) applyLogRecord(all, rec);
    for (const [id, r] of all) if (r) this.latest.set(id, JSON.stringify(r));
  }

  loadAll(): InstanceRecord[] {
    return [...this.latest.values()].map((t) => JSON.parse(t) as InstanceRecord);
  }

  save(record: InstanceRecord): void {
    const text = JSON.stringify(record);
    this.journal.appendSerialized(`{"put":${text}}`);
    this.latest.set(record.instanceId, text);
    this.compactIfLarge();
  }

  remove(instanceId: string): void {
    this.journal.append({ remove: instanceId });
    this.latest.delete(instanceId);
    this.compactIfLarge();
  }

  whenDurable(): Promise<void> {
    return this.journal.whenDurable();
  }

  /** Writes a snapshot of every instance and drops the log it covers (and any instance files). */
  async checkpoint(): Promise<void> {
    await this.journal.checkpoint((segment) => {
      const texts = [...this.latest.values()];
      return async (write) => {
        await write(`{"segment":${segment},"instances":[`);
        for (let i = 0; i < texts.length; i += 256) await write((i ? ',' : '') + texts.slice(i, i + 256).join(','));
        await write(']}');
      };
    });
    for (const f of this.legacyFiles) rmSync(f, { force: true });
    this.legacyFiles = [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compacting?.catch(() => undefined);
    await this.checkpoint();
    await this.journal.close();
  }

  private compactIfLarge(): void {
    if (this.compacting || this.closed || this.journal.log.segmentBytes < this.compactAfterBytes) return;
    this.compacting = this.checkpoint()
      .catch((err: Error) => console.warn(`[durable] journal compaction failed (the log stays): ${err.message}`))
      .finally(() => (this.compacting = undefined));
  }
}

/**
 * One JSON file per instance under `<dataDir>/durable/instances/`, replaced atomically (write to a
 * temporary file, then rename) so a killed process leaves either the old or the new record. Not
 * fsync'ed: it survives a process kill, not a power cut (JournalInstanceStore is the durable one).
 * A journal folder JournalInstanceStore left is imported into files and removed on open.
 */
export class FileInstanceStore implements InstanceStore {
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = instancesDir(dataDir);
    mkdirSync(this.dir, { recursive: true });
    const journal = journalDir(dataDir);
    if (existsSync(journal)) {
      for (const [id, r] of readInstanceJournal(journal)) {
        if (r) this.save(r);
        else this.remove(id);
      }
      rmSync(journal, { recursive: true, force: true });
    }
  }
  private fileOf(instanceId: string): string {
    return join(this.dir, `${encodeURIComponent(instanceId)}.json`);
  }
  loadAll(): InstanceRecord[] {
    return readInstanceFiles(this.dir).records;
  }
  save(record: InstanceRecord): void {
    const file = this.fileOf(record.instanceId);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record));
    renameSync(tmp, file);
  }
  remove(instanceId: string): void {
    rmSync(this.fileOf(instanceId), { force: true });
  }
}
