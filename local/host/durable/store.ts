import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  save(record: InstanceRecord): void;
  remove(instanceId: string): void;
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

/**
 * One JSON file per instance under `<dataDir>/durable/instances/`, replaced atomically (write to a
 * temporary file, then rename) so a killed process leaves either the old or the new record.
 */
export class FileInstanceStore implements InstanceStore {
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = join(dataDir, 'durable', 'instances');
    mkdirSync(this.dir, { recursive: true });
  }
  private fileOf(instanceId: string): string {
    return join(this.dir, `${encodeURIComponent(instanceId)}.json`);
  }
  loadAll(): InstanceRecord[] {
    const out: InstanceRecord[] = [];
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as InstanceRecord);
      } catch (err) {
        console.warn(`[durable] skipping unreadable instance file ${f}: ${(err as Error).message}`);
      }
    }
    return out;
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
