/**
 * Durable local Service Bus: the namespace's changes (a message stored in an entity, a delivery
 * counted, a message completed or moved, a scheduled message added or cancelled, a MessageId seen by
 * duplicate detection, a session state) are recorded in a journal (../wal: append-only log with
 * group-committed fsync, snapshots that compact it). The AMQP front accepts a sent message, answers a
 * schedule or a disposition, only after its record is on disk; the in-process consumer counts a
 * trigger's completion as done only then. After a crash, restore = snapshot + log: every accepted
 * message is back (at-least-once: one that was locked is delivered again with a higher delivery
 * count, as after a lock expiry in Service Bus), a completed one is not.
 */
import { Journal } from '../wal/journal';
import { type BrokerRecord, type BrokerState, type JournaledMessage, type Namespace } from './engine';

export interface BrokerJournalOptions {
  fsync?: boolean;
  /** Snapshot (and drop the log it covers) once the log segment passes this size (default 32 MB). */
  compactAfterBytes?: number;
  onError?: (err: Error) => void;
}

interface SnapshotFile extends BrokerState {
  version: 1;
  segment: number;
}

/** Applies log records to a state (restore). */
export function replayBrokerRecords(state: BrokerState, records: BrokerRecord[]): BrokerState {
  const entities = new Map<string, { messages: Map<number, JournaledMessage>; sessions: Map<string, string> }>();
  const entity = (path: string) => {
    let e = entities.get(path);
    if (!e) entities.set(path, (e = { messages: new Map(), sessions: new Map() }));
    return e;
  };
  for (const [path, s] of Object.entries(state.entities)) {
    const e = entity(path);
    for (const m of s.messages) e.messages.set(m.s, m);
    for (const [sid, v] of Object.entries(s.sessions)) e.sessions.set(sid, v);
  }
  const scheduled = new Map(state.scheduled.map((s) => [s.s, s]));
  const duplicates = new Map(Object.entries(state.duplicates).map(([k, v]) => [k, new Map(v)]));
  let next = state.nextSequenceNumber;
  for (const r of records) {
    switch (r.t) {
      case 'msg':
        entity(r.e).messages.set(r.d.s, r.d);
        next = Math.max(next, r.d.s + 1);
        break;
      case 'dc': {
        const m = entity(r.e).messages.get(r.s);
        if (m) entity(r.e).messages.set(r.s, { ...m, n: r.n });
        break;
      }
      case 'rm':
        entity(r.e).messages.delete(r.s);
        break;
      case 'purge':
        entity(r.e).messages.clear();
        break;
      case 'ss':
        if (r.v === null) entity(r.e).sessions.delete(r.sid);
        else entity(r.e).sessions.set(r.sid, r.v);
        break;
      case 'sch':
        scheduled.set(r.s, { s: r.s, a: r.a, m: r.m, at: r.at });
        next = Math.max(next, r.s + 1);
        break;
      case 'unsch':
        for (const s of r.s) scheduled.delete(s);
        break;
      case 'dup': {
        let d = duplicates.get(r.a);
        if (!d) duplicates.set(r.a, (d = new Map()));
        d.delete(r.id);
        d.set(r.id, r.at);
        break;
      }
    }
  }
  const out: BrokerState = { nextSequenceNumber: next, entities: {}, scheduled: [...scheduled.values()], duplicates: {} };
  for (const [path, e] of entities) {
    if (e.messages.size || e.sessions.size) out.entities[path] = { messages: [...e.messages.values()], sessions: Object.fromEntries(e.sessions) };
  }
  for (const [a, d] of duplicates) out.duplicates[a] = [...d];
  return out;
}

export interface BrokerRestoreReport {
  messages: number;
  scheduled: number;
  logRecords: number;
  droppedBytes: number;
}

export class BrokerJournal {
  private compacting = false;
  private stopped = false;
  private readonly compactAfterBytes: number;

  private constructor(
    private readonly ns: Namespace,
    readonly journal: Journal,
    private readonly options: BrokerJournalOptions,
  ) {
    this.compactAfterBytes = options.compactAfterBytes ?? 32 * 1024 * 1024;
  }

  /** Restores `dir` into the (empty) namespace, then records every change. Call before clients connect. */
  static open(ns: Namespace, dir: string, options: BrokerJournalOptions = {}): { store: BrokerJournal; report: BrokerRestoreReport } {
    const { journal, restored } = Journal.open<SnapshotFile>(dir, { fsync: options.fsync, onError: options.onError });
    const base: BrokerState = restored.snapshot ?? { nextSequenceNumber: 1, entities: {}, scheduled: [], duplicates: {} };
    const state = replayBrokerRecords(base, restored.records as BrokerRecord[]);
    ns.importState(state);
    const store = new BrokerJournal(ns, journal, options);
    ns.attachJournal({
      record: (r) => {
        journal.append(r);
        store.maybeCompact();
      },
      whenDurable: () => (journal.log.isDurable() ? undefined : journal.whenDurable()),
    });
    const messages = Object.values(state.entities).reduce((n, e) => n + e.messages.length, 0);
    return { store, report: { messages, scheduled: state.scheduled.length, logRecords: restored.records.length, droppedBytes: restored.droppedBytes } };
  }

  get stats() {
    return this.journal.log.stats;
  }

  private maybeCompact(): void {
    if (this.compacting || this.stopped || this.journal.log.segmentBytes < this.compactAfterBytes) return;
    this.compacting = true;
    setImmediate(() => {
      this.checkpoint()
        .catch((err: Error) => this.options.onError?.(err))
        .finally(() => (this.compacting = false));
    });
  }

  /** Snapshot now; the log it covers is deleted. */
  checkpoint(): Promise<void> {
    return this.journal.checkpoint((segment) => {
      const file: SnapshotFile = { version: 1, segment, ...this.ns.exportState() };
      const text = JSON.stringify(file);
      return (write) => write(text);
    });
  }

  /** Last snapshot, then the log is closed; the namespace stops recording. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.checkpoint();
    } finally {
      this.ns.attachJournal(undefined);
      await this.journal.close();
    }
  }
}
