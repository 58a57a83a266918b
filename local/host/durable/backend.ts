import { randomUUID } from 'node:crypto';
import type { FunctionRegistry } from '../registry';
import { consoleLogger, createInvocationContext, hookedHandler, type ExtraInputResolver, type HostLogger } from '../invocation';
import { ActionType, EventType, fromJsonText, toJsonText, type HistoryEvent } from './history';
import { flattenActions, runEpisode, type EpisodeResult, type OrchestrationHandler, type ScheduledWork } from './replay';
import type { InstanceRecord, InstanceStore, RuntimeStatus } from './store';
import { runAtOnce, type BackgroundRunner } from '../priority';

/**
 * The local durable backend: keeps every orchestration instance's history, runs episodes through the
 * captured orchestrator handlers, executes activities, fires durable timers, starts
 * sub-orchestrations and delivers external events. Each instance record is persisted after every
 * change, so a restarted backend resumes all running instances: activities whose completion was not
 * recorded run again (at-least-once, as in Azure), nothing else repeats. What a client asked for
 * (start, raise event, terminate, suspend, resume) is written before the call returns, and the
 * durable client API answers only once it is on disk (`whenDurable`, the store's fsync); the backend's
 * own progress (episode results, completions, timer firings) is written at most PROGRESS_FLUSH_MS
 * later, every change of an instance in that window coalesced into one write, so a hard kill can lose
 * at most that window's progress, which is then redone: the episode replays, the activity runs again
 * (at-least-once), the timer fires.
 */

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface DurableBackendOptions {
  registry: FunctionRegistry;
  store: InstanceStore;
  clock?: Clock;
  logger?: HostLogger;
  /** Extra inputs for activities (e.g. a durable client); orchestrators get none, as in Azure. */
  resolveExtraInput?: ExtraInputResolver;
  /** host.json durableTask.maxConcurrentActivityFunctions (default 10); more wait their turn. */
  maxConcurrentActivities?: number;
  /** Runs each episode and each activity execution (the host's foreground gate); default: at once. */
  runBackground?: BackgroundRunner;
}

export class InstanceExistsError extends Error {
  constructor(
    readonly instanceId: string,
    readonly runtimeStatus: RuntimeStatus,
  ) {
    super(`An orchestration instance with id ${instanceId} already exists (${runtimeStatus})`);
  }
}
export class InstanceNotFoundError extends Error {
  constructor(readonly instanceId: string) {
    super(`No orchestration instance with id ${instanceId}`);
  }
}
export class InstanceNotRunningError extends Error {
  constructor(
    readonly instanceId: string,
    readonly runtimeStatus: RuntimeStatus,
  ) {
    super(`Orchestration instance ${instanceId} is ${runtimeStatus}`);
  }
}

const TERMINAL: ReadonlySet<RuntimeStatus> = new Set(['Completed', 'Failed', 'Terminated']);
/** How long the backend's own progress may wait to be written (see the class comment). */
const PROGRESS_FLUSH_MS = 25;
/** setTimeout's ceiling; longer timers re-arm. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface StartOptions {
  instanceId?: string;
  input?: unknown;
  parentInstanceId?: string;
  parentTaskId?: number;
}

export interface StatusView {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: HistoryEvent[];
}

export class DurableBackend {
  private readonly registry: FunctionRegistry;
  private readonly store: InstanceStore;
  private readonly clock: Clock;
  private readonly logger: HostLogger;
  private readonly resolveExtraInput?: ExtraInputResolver;
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Instances with an episode in flight, and whether another one is due after it. */
  private readonly running = new Map<string, { again: boolean; done: Promise<void> }>();
  private readonly inFlightActivities = new Set<Promise<void>>();
  private readonly maxConcurrentActivities: number;
  private activeActivities = 0;
  private readonly activitySlots: (() => void)[] = [];
  private readonly warnedEntities = new Set<string>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly runBackground: BackgroundRunner;
  /** Records changed by the backend's own progress, written within PROGRESS_FLUSH_MS (see persistSoon). */
  private readonly dirty = new Map<string, InstanceRecord>();
  private flushScheduled = false;
  private storeClosed = false;
  private started = false;
  private stopped = false;
  /** Episodes run since start (for benchmarks and tests). */
  episodes = 0;

  constructor(options: DurableBackendOptions) {
    this.registry = options.registry;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? consoleLogger;
    this.resolveExtraInput = options.resolveExtraInput;
    this.maxConcurrentActivities = Math.max(1, options.maxConcurrentActivities ?? 10);
    this.runBackground = options.runBackground ?? runAtOnce;
  }

  /** Loads persisted instances and resumes the running ones. */
  start(): void {
    if (this.started) return;
    this.started = true;
    let resumed = 0;
    for (const record of this.store.loadAll()) {
      this.instances.set(record.instanceId, record);
      if (TERMINAL.has(record.runtimeStatus)) continue;
      resumed++;
      this.recover(record);
    }
    if (resumed > 0) this.logger('information', `[durable] resuming ${resumed} orchestration instance(s)`);
  }

  /** Stops timers and episode scheduling; in-flight activity results are dropped (they re-run on restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    this.flush();
    this.storeClosed = true;
    await this.store.close?.();
  }

  /**
   * Resolves once every instance change so far is on disk (the store's fsync); the durable client
   * API answers a start, raise, terminate, suspend or resume only after this.
   */
  whenDurable(): Promise<void> {
    return this.store.whenDurable?.() ?? Promise.resolve();
  }

  // --- client operations -------------------------------------------------------------------------

  startNew(name: string, options: StartOptions = {}): string {
    const fn = this.registry.get(name);
    if (!fn || fn.triggerType.toLowerCase() !== 'orchestrationtrigger') {
      throw new Error(`No orchestrator function named ${name} is registered`);
    }
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    const existing = this.instances.get(instanceId);
    if (existing && !TERMINAL.has(existing.runtimeStatus)) throw new InstanceExistsError(instanceId, existing.runtimeStatus);
    const now = this.clock.now().toISOString();
    const record: InstanceRecord = {
      instanceId,
      name: fn.name,
      runtimeStatus: 'Pending',
      input: options.input,
      createdTime: now,
      lastUpdatedTime: now,
      parentInstanceId: options.parentInstanceId,
      parentTaskId: options.parentTaskId,
      // A restarted id gets a new generation so late results of the previous run are dropped.
      generation: (existing?.generation ?? 0) + 1,
      history: [],
      inbox: [this.event(EventType.ExecutionStarted, { Name: fn.name, Input: toJsonText(options.input) })],
      cancelledTimers: [],
    };
    this.instances.set(instanceId, record);
    this.persist(record);
    this.logger('information', `[durable] started ${fn.name} instance ${instanceId}`);
    this.schedule(instanceId);
    return instanceId;
  }

  /** Delivers an external event; early events wait in the history until the orchestrator asks for them. */
  raiseEvent(instanceId: string, eventName: string, inputJson: string | undefined): void {
    const record = this.require(instanceId);
    if (TERMINAL.has(record.runtimeStatus)) throw new InstanceNotRunningError(instanceId, record.runtimeStatus);
    record.inbox.push(this.event(EventType.EventRaised, { Name: eventName, Input: inputJson === '' ? undefined : inputJson }));
    this.touch(record);
    this.persist(record);
    this.schedule(instanceId);
  }

  terminate(instanceId: string, reason?: string): void {
    const record = this.require(instanceId);
    if (TERMINAL.has(record.runtimeStatus)) throw new InstanceNotRunningError(instanceId, record.runtimeStatus);
    record.history.push(this.event(EventType.ExecutionTerminated, { Input: toJsonText(reason ?? null) }));
    record.inbox = [];
    record.runtimeStatus = 'Terminated';
    record.output = reason ?? null;
    this.touch(record);
    this.clearTimers(instanceId);
    this.persist(record);
    this.logger('information', `[durable] terminated instance ${instanceId}`);
    this.notifyParent(record, false, reason ?? 'terminated');
  }

  suspend(instanceId: string): void {
    const record = this.require(instanceId);
    if (TERMINAL.has(record.runtimeStatus)) throw new InstanceNotRunningError(instanceId, record.runtimeStatus);
    record.runtimeStatus = 'Suspended';
    record.history.push(this.event(EventType.ExecutionSuspended));
    this.touch(record);
    this.persist(record);
  }

  resume(instanceId: string): void {
    const record = this.require(instanceId);
    if (record.runtimeStatus !== 'Suspended') throw new InstanceNotRunningError(instanceId, record.runtimeStatus);
    record.runtimeStatus = 'Running';
    record.history.push(this.event(EventType.ExecutionResumed));
    this.touch(record);
    this.persist(record);
    this.schedule(instanceId);
  }

  purge(instanceId: string): boolean {
    const record = this.instances.get(instanceId);
    if (!record) return false;
    this.clearTimers(instanceId);
    this.instances.delete(instanceId);
    this.store.remove(instanceId);
    return true;
  }

  getStatus(instanceId: string, opts: { showHistory?: boolean; showInput?: boolean } = {}): StatusView | undefined {
    const r = this.instances.get(instanceId);
    return r ? this.view(r, opts) : undefined;
  }

  list(filter: { runtimeStatus?: RuntimeStatus[]; createdTimeFrom?: Date; createdTimeTo?: Date } = {}): StatusView[] {
    return [...this.instances.values()]
      .filter((r) => !filter.runtimeStatus?.length || filter.runtimeStatus.includes(r.runtimeStatus))
      .filter((r) => !filter.createdTimeFrom || new Date(r.createdTime) >= filter.createdTimeFrom)
      .filter((r) => !filter.createdTimeTo || new Date(r.createdTime) <= filter.createdTimeTo)
      .map((r) => this.view(r, {}));
  }

  /** Episodes and activities in flight or waiting (for the host's load report). */
  load(): { episodesInFlight: number; activitiesInFlight: number } {
    return { episodesInFlight: this.running.size, activitiesInFlight: this.inFlightActivities.size };
  }

  /** Resolves when no episode, activity or ready event is pending (timers may still be armed). */
  async whenIdle(): Promise<void> {
    for (;;) {
      if (this.running.size === 0 && this.inFlightActivities.size === 0) {
        const pending = [...this.instances.values()].some((r) => r.inbox.length > 0 && this.isRunnable(r));
        if (!pending) return;
      }
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Resolves with the status once the instance is in one of the given states. */
  async waitFor(instanceId: string, statuses: RuntimeStatus[] = ['Completed', 'Failed', 'Terminated'], timeoutMs = 10_000): Promise<StatusView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.getStatus(instanceId);
      if (s && statuses.includes(s.runtimeStatus)) return s;
      if (Date.now() > deadline) throw new Error(`Instance ${instanceId} did not reach ${statuses.join('/')} within ${timeoutMs} ms (is ${s?.runtimeStatus})`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  // --- episode loop ------------------------------------------------------------------------------

  private isRunnable(r: InstanceRecord): boolean {
    return !TERMINAL.has(r.runtimeStatus) && r.runtimeStatus !== 'Suspended';
  }

  private schedule(instanceId: string): void {
    if (this.stopped) return;
    const active = this.running.get(instanceId);
    if (active) {
      active.again = true;
      return;
    }
    const entry = { again: false, done: Promise.resolve() };
    this.running.set(instanceId, entry);
    entry.done = (async () => {
      // Let the caller finish (e.g. answer its HTTP request) before the episode runs.
      await new Promise((r) => setImmediate(r));
      do {
        entry.again = false;
        try {
          await this.runBackground(() => this.runNextEpisode(instanceId));
        } catch (err) {
          this.logger('error', `[durable] episode of ${instanceId} failed in the backend: ${(err as Error).stack ?? String(err)}`);
        }
      } while (entry.again && !this.stopped);
      this.running.delete(instanceId);
      this.wakeIdleWaiters();
    })();
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  private async runNextEpisode(instanceId: string): Promise<void> {
    const record = this.instances.get(instanceId);
    if (!record || !this.isRunnable(record) || record.inbox.length === 0) return;
    const fn = this.registry.get(record.name);
    const generation = record.generation;
    const inbox = record.inbox;
    const episodeEvents = [this.event(EventType.OrchestratorStarted), ...inbox];
    const history = [...record.history, ...episodeEvents];
    let result: EpisodeResult;
    if (!fn) {
      result = {
        status: 'failed',
        error: `Orchestrator function ${record.name} is not registered`,
        state: { isDone: false, actions: [], schemaVersion: 3 },
        newWork: [],
        cancelledTimerIds: [],
        waitingForEvents: [],
      };
    } else {
      result = await runEpisode(hookedHandler(this.registry, fn) as OrchestrationHandler, {
        instanceId,
        history,
        input: record.input,
        parentInstanceId: record.parentInstanceId,
        functionName: fn.name,
        log: (level, ...args) => this.logger(level as 'information', `[${fn.name}] ${args.map(String).join(' ')}`),
      });
    }
    this.episodes++;
    // The instance may have been terminated or purged while the orchestrator ran.
    if (this.instances.get(instanceId) !== record || record.generation !== generation || !this.isRunnable(record)) return;
    record.inbox = record.inbox.slice(inbox.length);
    record.history = history;
    record.customStatus = result.customStatus;
    this.touch(record);
    const toDispatch: ScheduledWork[] = [];
    if (!this.warnedEntities.has(record.name) && flattenActions(result.state.actions).some((a) => a.actionType === ActionType.SignalEntity)) {
      this.warnedEntities.add(record.name);
      this.logger('warning', `[durable] ${record.name} signals a durable entity; entities are not supported by the local backend (signal dropped)`);
    }
    switch (result.status) {
      case 'running': {
        record.runtimeStatus = 'Running';
        for (const work of result.newWork) {
          record.history.push(this.schedulingEvent(work));
          toDispatch.push(work);
        }
        for (const id of result.cancelledTimerIds) {
          if (!record.cancelledTimers.includes(id)) record.cancelledTimers.push(id);
          this.clearTimer(instanceId, id);
        }
        record.history.push(this.event(EventType.OrchestratorCompleted));
        break;
      }
      case 'completed': {
        record.history.push(
          this.event(EventType.OrchestratorCompleted),
          this.event(EventType.ExecutionCompleted, { Result: JSON.stringify(result.output ?? null) }),
        );
        record.runtimeStatus = 'Completed';
        record.output = result.output ?? null;
        this.clearTimers(instanceId);
        this.logger('information', `[durable] ${record.name} instance ${instanceId} completed`);
        break;
      }
      case 'failed': {
        record.history.push(this.event(EventType.OrchestratorCompleted), this.event(EventType.ExecutionFailed, { Reason: result.error }));
        record.runtimeStatus = 'Failed';
        record.output = result.error ?? 'failed';
        this.clearTimers(instanceId);
        this.logger('warning', `[durable] ${record.name} instance ${instanceId} failed`);
        break;
      }
      case 'continuedAsNew': {
        record.generation++;
        record.input = result.continueAsNewInput;
        record.history = [];
        record.cancelledTimers = [];
        record.inbox = [this.event(EventType.ExecutionStarted, { Name: record.name, Input: toJsonText(result.continueAsNewInput) }), ...record.inbox];
        record.runtimeStatus = 'Running';
        this.clearTimers(instanceId);
        break;
      }
    }
    // Written within PROGRESS_FLUSH_MS with other progress; a crash before that replays this episode,
    // and what it dispatched runs again (at-least-once): nothing is lost.
    this.persistSoon(record);
    if (result.status === 'completed') this.notifyParent(record, true, result.output);
    if (result.status === 'failed') this.notifyParent(record, false, result.error ?? 'failed');
    for (const work of toDispatch) this.dispatch(record, work);
    if (record.inbox.length > 0) this.schedule(instanceId);
  }

  private schedulingEvent(work: ScheduledWork): HistoryEvent {
    switch (work.kind) {
      case 'activity':
        return this.event(EventType.TaskScheduled, { Name: work.name, Input: toJsonText(work.input) }, work.id);
      case 'timer':
        return this.event(EventType.TimerCreated, { FireAt: work.fireAt }, work.id);
      case 'subOrchestration':
        return this.event(EventType.SubOrchestrationInstanceCreated, { Name: work.name, InstanceId: work.instanceId, Input: toJsonText(work.input) }, work.id);
      case 'unsupported':
        return this.event(EventType.TaskScheduled, { Name: `unsupported action ${work.actionType}` }, work.id);
    }
  }

  // --- work --------------------------------------------------------------------------------------

  private dispatch(record: InstanceRecord, work: ScheduledWork): void {
    switch (work.kind) {
      case 'activity':
        this.runActivity(record.instanceId, record.generation, work.id, work.name, work.input);
        return;
      case 'timer':
        this.armTimer(record.instanceId, record.generation, work.id, work.fireAt);
        return;
      case 'subOrchestration':
        this.startSubOrchestration(record, work.id, work.name, work.instanceId, work.input);
        return;
      case 'unsupported':
        this.deliver(
          record.instanceId,
          record.generation,
          this.event(EventType.TaskFailed, {
            TaskScheduledId: work.id,
            Reason: `Action type ${work.actionType} (entities, HTTP) is not supported by the local durable backend`,
            Details: '',
          }),
        );
    }
  }

  private runActivity(instanceId: string, generation: number, taskId: number, name: string, input: unknown): void {
    const fn = this.registry.get(name);
    const task = (async () => {
      await this.acquireActivitySlot();
      try {
        await this.runBackground(() => this.executeActivity(fn, instanceId, generation, taskId, name, input));
      } finally {
        this.releaseActivitySlot();
      }
    })();
    this.inFlightActivities.add(task);
    // An activity's own failure becomes a TaskFailed event; anything else is a backend bug, logged
    // here rather than left as an unhandled rejection (which would end the host process).
    void task
      .finally(() => {
        this.inFlightActivities.delete(task);
        this.wakeIdleWaiters();
      })
      .catch((err: Error) => this.logger('error', `[durable] activity ${name} of ${instanceId} failed in the backend: ${err.stack ?? String(err)}`));
  }

  private acquireActivitySlot(): Promise<void> {
    if (this.activeActivities < this.maxConcurrentActivities) {
      this.activeActivities++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.activitySlots.push(resolve));
  }

  private releaseActivitySlot(): void {
    const next = this.activitySlots.shift();
    if (next) next();
    else this.activeActivities--;
  }

  private async executeActivity(
    fn: ReturnType<FunctionRegistry['get']>,
    instanceId: string,
    generation: number,
    taskId: number,
    name: string,
    input: unknown,
  ): Promise<void> {
    let completion: HistoryEvent;
    if (!fn || fn.triggerType.toLowerCase() !== 'activitytrigger') {
      completion = this.event(EventType.TaskFailed, { TaskScheduledId: taskId, Reason: `Activity function '${name}' does not exist`, Details: '' });
    } else {
      const context = createInvocationContext(fn, {
        triggerMetadata: { instanceId },
        resolveExtraInput: this.resolveExtraInput,
        logger: this.logger,
      });
      try {
        // The activity trigger value arrives deserialized from the JSON the extension stored.
        const value = input === undefined ? undefined : JSON.parse(JSON.stringify(input));
        const result = await hookedHandler(this.registry, fn)(value, context);
        completion = this.event(EventType.TaskCompleted, { TaskScheduledId: taskId, Result: JSON.stringify(result ?? null) });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        this.logger('warning', `[durable] activity ${name} of ${instanceId} failed (task ${taskId})`);
        completion = this.event(EventType.TaskFailed, { TaskScheduledId: taskId, Reason: e.message, Details: e.stack ?? '' });
      }
    }
    this.deliver(instanceId, generation, completion);
  }

  private armTimer(instanceId: string, generation: number, timerId: number, fireAt: string): void {
    if (this.stopped) return;
    const key = `${instanceId}#${timerId}`;
    const delay = new Date(fireAt).getTime() - this.clock.now().getTime();
    const handle = setTimeout(
      () => {
        this.timers.delete(key);
        if (delay > MAX_TIMEOUT_MS) return this.armTimer(instanceId, generation, timerId, fireAt);
        this.deliver(instanceId, generation, this.event(EventType.TimerFired, { TimerId: timerId, FireAt: fireAt }));
      },
      Math.max(0, Math.min(delay, MAX_TIMEOUT_MS)),
    );
    handle.unref?.();
    this.timers.set(key, handle);
  }

  private startSubOrchestration(parent: InstanceRecord, taskId: number, name: string, childId: string | undefined, input: unknown): void {
    const instanceId = childId ?? `${parent.instanceId}:${taskId}`;
    try {
      const existing = this.instances.get(instanceId);
      if (existing && existing.parentInstanceId === parent.instanceId && existing.parentTaskId === taskId) return; // recovered
      this.startNew(name, { instanceId, input, parentInstanceId: parent.instanceId, parentTaskId: taskId });
    } catch (err) {
      this.deliver(
        parent.instanceId,
        parent.generation,
        this.event(EventType.SubOrchestrationInstanceFailed, {
          TaskScheduledId: taskId,
          Reason: (err as Error).message,
          Details: '',
        }),
      );
    }
  }

  private notifyParent(child: InstanceRecord, succeeded: boolean, outcome: unknown): void {
    if (!child.parentInstanceId || child.parentTaskId === undefined) return;
    const parent = this.instances.get(child.parentInstanceId);
    if (!parent) return;
    const event = succeeded
      ? this.event(EventType.SubOrchestrationInstanceCompleted, { TaskScheduledId: child.parentTaskId, Result: JSON.stringify(outcome ?? null) })
      : this.event(EventType.SubOrchestrationInstanceFailed, { TaskScheduledId: child.parentTaskId, Reason: String(outcome), Details: '' });
    this.deliver(parent.instanceId, parent.generation, event);
  }

  /** Adds a completion to an instance's inbox (dropped if the instance moved on) and runs an episode. */
  private deliver(instanceId: string, generation: number, event: HistoryEvent): void {
    if (this.stopped) return;
    const record = this.instances.get(instanceId);
    if (!record || record.generation !== generation || TERMINAL.has(record.runtimeStatus)) return;
    record.inbox.push(event);
    this.touch(record);
    this.persistSoon(record);
    this.schedule(instanceId);
  }

  /** After a restart: re-dispatch work whose completion is not recorded and re-arm timers. */
  private recover(record: InstanceRecord): void {
    const done = new Set<number>();
    for (const e of [...record.history, ...record.inbox]) {
      if (e.TaskScheduledId !== undefined) done.add(e.TaskScheduledId);
      if (e.TimerId !== undefined) done.add(e.TimerId);
    }
    for (const e of record.history) {
      if (done.has(e.EventId)) continue;
      if (e.EventType === EventType.TaskScheduled && e.Name) {
        this.runActivity(record.instanceId, record.generation, e.EventId, e.Name, fromJsonText(e.Input));
      } else if (e.EventType === EventType.TimerCreated && e.FireAt && !record.cancelledTimers.includes(e.EventId)) {
        this.armTimer(record.instanceId, record.generation, e.EventId, e.FireAt);
      } else if (e.EventType === EventType.SubOrchestrationInstanceCreated && e.Name) {
        const child = e.InstanceId ? this.instances.get(e.InstanceId) : undefined;
        if (!child) this.startSubOrchestration(record, e.EventId, e.Name, e.InstanceId, fromJsonText(e.Input));
      }
    }
    if (record.inbox.length > 0) this.schedule(record.instanceId);
  }

  // --- helpers -----------------------------------------------------------------------------------

  private event(type: number, fields: Partial<HistoryEvent> = {}, eventId = -1): HistoryEvent {
    return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: this.clock.now().toISOString(), ...fields };
  }

  private require(instanceId: string): InstanceRecord {
    const r = this.instances.get(instanceId);
    if (!r) throw new InstanceNotFoundError(instanceId);
    return r;
  }

  private touch(record: InstanceRecord): void {
    record.lastUpdatedTime = this.clock.now().toISOString();
  }

  /** Writes now (a client's request is answered after this). */
  private persist(record: InstanceRecord): void {
    if (this.stopped) return;
    this.dirty.delete(record.instanceId);
    this.store.save(record);
  }

  /** Writes within PROGRESS_FLUSH_MS, once however often the record changed until then. */
  private persistSoon(record: InstanceRecord): void {
    if (this.stopped) return;
    this.dirty.set(record.instanceId, record);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => this.flush(), PROGRESS_FLUSH_MS).unref?.();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.storeClosed) return;
    const records = [...this.dirty.values()];
    this.dirty.clear();
    for (const r of records) {
      if (this.instances.get(r.instanceId) !== r) continue;
      try {
        this.store.save(r);
      } catch (err) {
        // Runs from a timer: a throw here would end the process. Kept dirty and retried.
        this.logger('error', `[durable] could not write instance ${r.instanceId}: ${(err as Error).message}`);
        if (!this.stopped) this.persistSoon(r);
      }
    }
  }

  private clearTimer(instanceId: string, timerId: number): void {
    const key = `${instanceId}#${timerId}`;
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }

  private clearTimers(instanceId: string): void {
    for (const [key, t] of this.timers) {
      if (key.startsWith(`${instanceId}#`)) {
        clearTimeout(t);
        this.timers.delete(key);
      }
    }
  }

  private view(r: InstanceRecord, opts: { showHistory?: boolean; showInput?: boolean }): StatusView {
    return {
      name: r.name,
      instanceId: r.instanceId,
      runtimeStatus: r.runtimeStatus,
      input: opts.showInput === false ? null : (r.input ?? null),
      customStatus: r.customStatus ?? null,
      output: r.output ?? null,
      createdTime: r.createdTime,
      lastUpdatedTime: r.lastUpdatedTime,
      ...(opts.showHistory ? { historyEvents: r.history } : {}),
    };
  }
}
