/**
 * A virtual-time runtime for many workflow instances at once: the clinic simulator's stand-in for
 * the Durable Functions extension and Service Bus. One clock, one priority queue (timers, activity
 * completions, bus deliveries, patient and staff actions); every orchestration episode goes through
 * the real durable-functions replay (local/host/durable/replay.ts `runEpisode`) with the handler the
 * app registered, every activity and every Service Bus trigger is the registered function itself,
 * and the triggers' durable client (`df.getClient`) is the real client, its HTTP answered in process.
 */
import { dirname } from 'node:path';
import type { DateTime } from 'luxon';
import { DateTime as LuxonDateTime } from 'luxon';
import type { Clock, EventPublisher, SchedulingEvent } from '../domain';
import { slotflowTopology, SCHEDULING_EVENTS_TOPIC } from '../functions/adapters/servicebus/topology';
import { DURABLE_API_PATH, durableClientBindingData } from '../local/host/durable/client-api';
import { EventType, fromJsonText, toJsonText, type HistoryEvent } from '../local/host/durable/history';
import { runEpisode, type OrchestrationHandler } from '../local/host/durable/replay';
import { createInvocationContext, type HostLogger } from '../local/host/invocation';
import type { CapturedFunction, FunctionRegistry } from '../local/host/registry';
import { deepFreeze } from '../domain/frozen';

/** The simulator's clock: set by the runtime before anything runs; every port reads it. */
export class VirtualClock implements Clock {
  private lastMs = Number.NaN;
  private last: DateTime | undefined;
  private lastIsoMs = Number.NaN;
  private lastIso = '';
  constructor(public ms: number) {}
  /** The instant as a UTC DateTime (immutable, so one per instant is shared: ports read it very often). */
  now(): DateTime {
    if (this.ms !== this.lastMs || !this.last) {
      this.last = LuxonDateTime.fromMillis(this.ms, { zone: 'utc' });
      this.lastMs = this.ms;
    }
    return this.last;
  }
  /** `new Date(ms).toISOString()` of the instant (history timestamps), computed once per instant. */
  iso(): string {
    if (this.ms !== this.lastIsoMs) {
      this.lastIso = new Date(this.ms).toISOString();
      this.lastIsoMs = this.ms;
    }
    return this.lastIso;
  }
}

interface Job {
  at: number;
  seq: number;
  run: () => Promise<void> | void;
}

/** A binary min-heap of jobs by (time, insertion order): same-time jobs run first in, first out. */
class JobQueue {
  private readonly heap: Job[] = [];
  get size(): number {
    return this.heap.length;
  }
  private less(a: Job, b: Job): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  push(job: Job): void {
    const h = this.heap;
    h.push(job);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  peek(): Job | undefined {
    return this.heap[0];
  }
  pop(): Job | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export type InstanceStatus = 'Pending' | 'Running' | 'Completed' | 'Failed';

interface Instance {
  instanceId: string;
  name: string;
  handler: OrchestrationHandler;
  input: unknown;
  /** `input` as JSON text (the ExecutionStarted Input): each episode parses it for getInput(). */
  inputJson: string | undefined;
  status: InstanceStatus;
  generation: number;
  history: HistoryEvent[];
  inbox: HistoryEvent[];
  cancelledTimers: Set<number>;
  episodeQueued: boolean;
  customStatus?: unknown;
  output?: unknown;
  error?: string;
  createdMs: number;
  updatedMs: number;
}

export interface CompletedInstance {
  instanceId: string;
  name: string;
  status: 'Completed' | 'Failed';
  input: unknown;
  output?: unknown;
  error?: string;
  createdMs: number;
  completedMs: number;
}

export interface RuntimeOptions {
  registry: FunctionRegistry;
  clock: VirtualClock;
  /** Subscriptions of the events topic to deliver to (default: every one with a loaded trigger). */
  subscriptions?: readonly string[];
  /**
   * Whether one subscription gets one published event (default: every event its filter matches). The
   * world narrows a subscription to what can matter inside the simulated period.
   */
  accepts?: (subscription: string, event: SchedulingEvent) => boolean;
  /** Delay between a publish and its delivery to the subscriptions (default 1 s). */
  busDelayMs?: number;
  logger?: HostLogger;
  /** Safety stop on episodes (default 5,000,000). */
  maxEpisodes?: number;
}

export interface RuntimeStats {
  /** Wall-clock milliseconds spent per kind of work (episodes per orchestrator, activities, deliveries per subscription, simulator jobs). */
  timings: Record<string, number>;
  episodes: number;
  activities: number;
  deliveries: number;
  deadLettered: number;
  failedInstances: number;
}

const quiet: HostLogger = (level, message) => {
  if (level === 'error' || level === 'critical') console.error(message);
};

/** Fake origin of the durable client's HTTP (answered in process, never on a socket). */
const CLIENT_ORIGIN = 'http://slotflow-simulator.invalid/';
const MAX_DELIVERIES = 10;

export class SimulationRuntime {
  readonly clock: VirtualClock;
  readonly stats: RuntimeStats = { timings: {}, episodes: 0, activities: 0, deliveries: 0, deadLettered: 0, failedInstances: 0 };
  /** Called when an instance completes or fails. */
  onInstanceDone?: (done: CompletedInstance) => void;
  /** Called for every published event, before it is delivered (metrics, staff processes). */
  onPublished?: (event: SchedulingEvent) => void;

  private readonly registry: FunctionRegistry;
  private readonly queue = new JobQueue();
  private seq = 0;
  private invocations = 0;
  private readonly instances = new Map<string, Instance>();
  private readonly triggers: { subscription: string; fn: CapturedFunction; matches: (type: string) => boolean }[] = [];
  private readonly busDelayMs: number;
  private readonly logger: HostLogger;
  private readonly maxEpisodes: number;
  private readonly accepts: ((subscription: string, event: SchedulingEvent) => boolean) | undefined;
  /** Deeply frozen: the triggers' durableClientOf then keys its client cache by this object, not its JSON. */
  private readonly bindingData = deepFreeze(durableClientBindingData(CLIENT_ORIGIN));

  constructor(options: RuntimeOptions) {
    this.registry = options.registry;
    this.clock = options.clock;
    this.busDelayMs = options.busDelayMs ?? 1000;
    this.logger = options.logger ?? quiet;
    this.maxEpisodes = options.maxEpisodes ?? 5_000_000;
    this.accepts = options.accepts;
    const topic = slotflowTopology.topics.find((t) => t.name === SCHEDULING_EVENTS_TOPIC)!;
    for (const fn of this.registry.ofType('serviceBusTrigger')) {
      const binding = fn.trigger as { topicName?: string; subscriptionName?: string };
      if (binding.topicName !== SCHEDULING_EVENTS_TOPIC || !binding.subscriptionName) continue;
      if (options.subscriptions && !options.subscriptions.includes(binding.subscriptionName)) continue;
      const definition = topic.subscriptions.find((s) => s.name === binding.subscriptionName);
      if (!definition) continue;
      const filter = definition.filter;
      this.triggers.push({
        subscription: definition.name,
        fn,
        matches: (type) => !filter || filter.matches({ applicationProperties: { type } }),
      });
    }
    installDurableClientTransport(this);
  }

  /** Subscriptions whose triggers receive events. */
  get subscriptionNames(): string[] {
    return this.triggers.map((t) => t.subscription);
  }

  /** The publisher the app's outbox hands events to: each is delivered to its subscriptions after the bus delay. */
  readonly publisher: EventPublisher = {
    publish: async (events) => {
      for (const event of events) {
        const body = JSON.stringify(event);
        const copy = JSON.parse(body) as SchedulingEvent;
        this.onPublished?.(copy);
        for (const trigger of this.triggers) {
          if (!trigger.matches(copy.type) || (this.accepts && !this.accepts(trigger.subscription, copy))) continue;
          this.at(this.clock.ms + this.busDelayMs, () => this.deliver(trigger, copy, body, 1), `trigger:${trigger.subscription}`);
        }
      }
    },
  };

  /** Runs `run` at virtual time `atMs` (never earlier than now); `label` names the work in `stats.timings`. */
  at(atMs: number, run: () => Promise<void> | void, label?: string): void {
    const timed = label ? () => this.timed(label, run) : run;
    this.queue.push({ at: Math.max(atMs, this.clock.ms), seq: this.seq++, run: timed });
  }

  private async timed(label: string, run: () => Promise<void> | void): Promise<void> {
    const t0 = performance.now();
    try {
      await run();
    } finally {
      this.stats.timings[label] = (this.stats.timings[label] ?? 0) + performance.now() - t0;
    }
  }

  /** Runs jobs in time order until the queue is empty or the next job is after `untilMs`; the clock ends at `untilMs`. */
  async runUntil(untilMs: number): Promise<void> {
    for (;;) {
      const next = this.queue.peek();
      if (!next || next.at > untilMs) break;
      this.queue.pop();
      this.clock.ms = Math.max(this.clock.ms, next.at);
      await next.run();
    }
    this.clock.ms = Math.max(this.clock.ms, untilMs);
  }

  // --- durable client operations (what df.getClient's HTTP reaches) ------------------------------

  /** The handler an orchestration of this name runs: the one the app registered, looked up in the registry. */
  handlerFor(name: string): OrchestrationHandler {
    const fn = this.registry.get(name);
    if (!fn || fn.triggerType.toLowerCase() !== 'orchestrationtrigger') throw new Error(`No orchestrator function named ${name} is registered`);
    return fn.handler as OrchestrationHandler;
  }

  /** The handler of a running or finished instance (for the no-copy test). */
  handlerOfInstance(instanceId: string): OrchestrationHandler | undefined {
    return this.instances.get(instanceId)?.handler;
  }

  startNew(name: string, instanceId: string, input: unknown): void {
    const handler = this.handlerFor(name);
    const fn = this.registry.get(name)!;
    const existing = this.instances.get(instanceId);
    if (existing && (existing.status === 'Running' || existing.status === 'Pending')) throw new Error(`instance ${instanceId} exists`);
    const now = this.clock.ms;
    const inputJson = toJsonText(input);
    const instance: Instance = {
      instanceId,
      name: fn.name,
      handler,
      input,
      inputJson,
      status: 'Pending',
      generation: (existing?.generation ?? 0) + 1,
      history: [],
      inbox: [this.event(EventType.ExecutionStarted, { Name: fn.name, Input: inputJson })],
      cancelledTimers: new Set(),
      episodeQueued: false,
      createdMs: now,
      updatedMs: now,
    };
    this.instances.set(instanceId, instance);
    this.queueEpisode(instance);
  }

  /** Raises an external event; false when the instance is missing or has ended. */
  raiseEvent(instanceId: string, name: string, inputJson: string | undefined): boolean {
    const instance = this.instances.get(instanceId);
    if (!instance || instance.status === 'Completed' || instance.status === 'Failed') return false;
    instance.inbox.push(this.event(EventType.EventRaised, { Name: name, Input: inputJson === '' ? undefined : inputJson }));
    this.queueEpisode(instance);
    return true;
  }

  /** The status view the durable client API answers (as local/host/durable/backend.ts StatusView). */
  status(instanceId: string):
    | {
        name: string;
        instanceId: string;
        runtimeStatus: InstanceStatus;
        customStatus: unknown;
        output: unknown;
        input: unknown;
        createdTime: string;
        lastUpdatedTime: string;
      }
    | undefined {
    const i = this.instances.get(instanceId);
    if (!i) return undefined;
    return {
      name: i.name,
      instanceId,
      runtimeStatus: i.status,
      customStatus: i.customStatus ?? null,
      output: i.output ?? null,
      input: i.input,
      createdTime: new Date(i.createdMs).toISOString(),
      lastUpdatedTime: new Date(i.updatedMs).toISOString(),
    };
  }

  /** Instances not completed yet, by orchestrator name. */
  openInstances(): Map<string, number> {
    const out = new Map<string, number>();
    for (const i of this.instances.values()) if (i.status === 'Running' || i.status === 'Pending') out.set(i.name, (out.get(i.name) ?? 0) + 1);
    return out;
  }

  // --- internals -----------------------------------------------------------------------------------

  private event(type: number, fields: Partial<HistoryEvent> = {}, id = -1): HistoryEvent {
    return { EventType: type, EventId: id, IsPlayed: false, Timestamp: this.clock.iso(), ...fields };
  }

  private queueEpisode(instance: Instance): void {
    if (instance.episodeQueued) return;
    instance.episodeQueued = true;
    const generation = instance.generation;
    this.at(
      this.clock.ms,
      () => {
        instance.episodeQueued = false;
        if (instance.generation !== generation && instance.inbox.length === 0) return;
        return this.runEpisodeOf(instance);
      },
      `episode:${instance.name}`,
    );
  }

  private deliverTo(instance: Instance, generation: number, event: HistoryEvent): void {
    if (instance.generation !== generation || instance.status === 'Completed' || instance.status === 'Failed') return;
    instance.inbox.push(event);
    this.queueEpisode(instance);
  }

  private async runEpisodeOf(instance: Instance): Promise<void> {
    if (instance.inbox.length === 0 || instance.status === 'Completed' || instance.status === 'Failed') return;
    if (++this.stats.episodes > this.maxEpisodes) throw new Error(`simulation exceeded ${this.maxEpisodes} episodes`);
    const generation = instance.generation;
    instance.history.push(this.event(EventType.OrchestratorStarted), ...instance.inbox);
    instance.inbox = [];
    instance.status = 'Running';
    const result = await runEpisode(instance.handler, {
      instanceId: instance.instanceId,
      history: instance.history,
      input: instance.input,
      inputJson: instance.inputJson,
      functionName: instance.name,
    });
    instance.updatedMs = this.clock.ms;
    instance.customStatus = result.customStatus;
    if (result.status === 'completed' || result.status === 'failed') {
      instance.status = result.status === 'completed' ? 'Completed' : 'Failed';
      instance.output = result.output;
      instance.error = result.error;
      instance.history = []; // not needed any more: keeps memory flat over thousands of instances
      if (result.status === 'failed') {
        this.stats.failedInstances++;
        this.logger('error', `[simulator] ${instance.name} ${instance.instanceId} failed: ${(result.error ?? '').slice(0, 300)}`);
      }
      this.onInstanceDone?.({
        instanceId: instance.instanceId,
        name: instance.name,
        status: instance.status,
        input: instance.input,
        output: result.output,
        ...(result.error ? { error: result.error } : {}),
        createdMs: instance.createdMs,
        completedMs: this.clock.ms,
      });
      return;
    }
    if (result.status === 'continuedAsNew') {
      instance.input = result.continueAsNewInput;
      instance.inputJson = toJsonText(instance.input);
      instance.generation++;
      instance.history = [];
      instance.cancelledTimers = new Set();
      instance.inbox = [this.event(EventType.ExecutionStarted, { Name: instance.name, Input: instance.inputJson })];
      this.queueEpisode(instance);
      return;
    }
    for (const id of result.cancelledTimerIds) instance.cancelledTimers.add(id);
    for (const work of result.newWork) {
      if (work.kind === 'activity') {
        const inputJson = toJsonText(work.input);
        instance.history.push(this.event(EventType.TaskScheduled, { Name: work.name, Input: inputJson }, work.id));
        this.at(this.clock.ms, () => this.runActivity(instance, generation, work.id, work.name, inputJson), `activity:${work.name}`);
      } else if (work.kind === 'timer') {
        instance.history.push(this.event(EventType.TimerCreated, { FireAt: work.fireAt }, work.id));
        const fireAt = work.fireAt;
        this.at(Date.parse(fireAt), () => {
          if (instance.cancelledTimers.has(work.id)) return;
          this.deliverTo(instance, generation, this.event(EventType.TimerFired, { TimerId: work.id, FireAt: fireAt }));
        });
      } else {
        const what = work.kind === 'subOrchestration' ? `sub-orchestration ${work.name}` : `action type ${work.actionType}`;
        this.deliverTo(instance, generation, this.event(EventType.TaskFailed, { TaskScheduledId: work.id, Reason: `${what} is not simulated`, Details: '' }));
      }
    }
    instance.history.push(this.event(EventType.OrchestratorCompleted));
  }

  /** Runs an activity on a fresh parse of its scheduled input (`inputJson`, the TaskScheduled Input), as the extension passes it. */
  private async runActivity(instance: Instance, generation: number, taskId: number, name: string, inputJson: string | undefined): Promise<void> {
    this.stats.activities++;
    const fn = this.registry.get(name);
    let completion: HistoryEvent;
    if (!fn || fn.triggerType.toLowerCase() !== 'activitytrigger') {
      completion = this.event(EventType.TaskFailed, { TaskScheduledId: taskId, Reason: `Activity function '${name}' does not exist`, Details: '' });
    } else {
      const context = createInvocationContext(fn, {
        triggerMetadata: { instanceId: instance.instanceId },
        invocationId: `sim-${++this.invocations}`,
        logger: this.logger,
        resolveExtraInput: () => this.bindingData,
      });
      try {
        const value = inputJson === undefined ? undefined : JSON.parse(inputJson);
        const result = await fn.handler(value, context);
        completion = this.event(EventType.TaskCompleted, { TaskScheduledId: taskId, Result: JSON.stringify(result ?? null) });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        this.logger('warning', `[simulator] activity ${name} of ${instance.instanceId} failed: ${e.message}`);
        completion = this.event(EventType.TaskFailed, { TaskScheduledId: taskId, Reason: e.message, Details: e.stack ?? '' });
      }
    }
    this.deliverTo(instance, generation, completion);
  }

  /** Delivers `event` (whose message body is `body`) to one subscription's trigger; each delivery gets a fresh parse of the body. */
  private async deliver(trigger: (typeof this.triggers)[number], event: SchedulingEvent, body: string, deliveryCount: number): Promise<void> {
    this.stats.deliveries++;
    const context = createInvocationContext(trigger.fn, {
      triggerMetadata: { messageId: event.id, sessionId: event.subject, deliveryCount, subject: event.subject, applicationProperties: { type: event.type } },
      invocationId: `sim-${++this.invocations}`,
      logger: this.logger,
      resolveExtraInput: () => this.bindingData,
    });
    try {
      await trigger.fn.handler(JSON.parse(body), context);
    } catch (err) {
      const deadLetter = (err as { deadLetterReason?: string }).deadLetterReason !== undefined;
      if (deadLetter || deliveryCount >= MAX_DELIVERIES) {
        this.stats.deadLettered++;
        this.logger('error', `[simulator] ${event.type} ${event.id} dead-lettered on ${trigger.subscription}: ${(err as Error).message}`);
        return;
      }
      this.at(this.clock.ms + 1000 * deliveryCount, () => this.deliver(trigger, event, body, deliveryCount + 1));
    }
  }

  /** Answers one durable client request (the subset the app's triggers use). */
  handleClientRequest(method: string, url: string, body: string | undefined): { status: number; data: unknown } {
    const path = new URL(url).pathname;
    const at = path.indexOf(DURABLE_API_PATH);
    const parts = (at >= 0 ? path.slice(at + DURABLE_API_PATH.length) : path).split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'orchestrators' && method === 'POST' && parts[1] && parts[2]) {
      const text = body ?? '';
      try {
        this.startNew(parts[1], parts[2], text.trim() === '' ? undefined : JSON.parse(text));
      } catch (e) {
        return { status: 409, data: { message: (e as Error).message } };
      }
      return { status: 202, data: { id: parts[2] } };
    }
    if (parts[0] === 'instances' && parts[1]) {
      const instanceId = parts[1];
      if (!parts[2] && method === 'GET') {
        const status = this.status(instanceId);
        if (!status) return { status: 404, data: { message: `No instance with ID '${instanceId}' found.` } };
        return { status: status.runtimeStatus === 'Completed' ? 200 : status.runtimeStatus === 'Failed' ? 400 : 202, data: status };
      }
      if (parts[2] === 'raiseEvent' && method === 'POST' && parts[3]) {
        const instance = this.instances.get(instanceId);
        if (!instance) return { status: 404, data: `No instance with ID '${instanceId}' found.` };
        return this.raiseEvent(instanceId, parts[3], body) ? { status: 202, data: '' } : { status: 410, data: '' };
      }
    }
    return { status: 501, data: { message: `the simulator does not implement ${method} ${parts.join('/')}` } };
  }
}

// --- the durable client's transport ------------------------------------------------------------------

interface AxiosLike {
  defaults: { adapter?: unknown };
  create: (config?: unknown) => AxiosInstanceLike;
}
type AxiosInstanceLike = Record<'get' | 'post' | 'delete', (url: string, ...rest: unknown[]) => Promise<unknown>>;
let transportTarget: SimulationRuntime | undefined;
let transportInstalled = false;

/** The simulator's answer to a durable client request, shaped as the axios response the client reads. */
function answerInProcess(
  method: string,
  url: string,
  data: unknown,
  config: unknown,
): { data: unknown; status: number; statusText: string; headers: object; config: unknown; request: object } {
  const body = typeof data === 'string' ? data : data === undefined ? undefined : JSON.stringify(data);
  const answer = transportTarget!.handleClientRequest(method, url, body);
  return { data: answer.data, status: answer.status, statusText: String(answer.status), headers: {}, config, request: {} };
}

/**
 * Points the durable client's HTTP (durable-functions' DurableClient, built on axios) at the current
 * runtime. Requests for the simulator's origin are answered in process, at two levels: the axios
 * instances DurableClient creates send them straight to the runtime (`get`, `post`, `delete`: the
 * only calls it makes, and they never reject, as its validateStatus accepts every status below 600),
 * without axios's config merging, header normalisation and adapter dispatch (most of the time a
 * durable client call took in the simulator); any other path through axios meets an adapter that answers the same way.
 * DurableClient's own code (URLs, status handling, the status object) runs as in a host. Requests to
 * any other origin keep axios's own behaviour.
 */
function installDurableClientTransport(runtime: SimulationRuntime): void {
  transportTarget = runtime;
  if (transportInstalled) return;
  const fromDurable = dirname(require.resolve('durable-functions'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const axiosModule = require(require.resolve('axios', { paths: [fromDurable] })) as AxiosLike & { default?: AxiosLike; getAdapter?: (a: unknown) => unknown };
  const axios = axiosModule.default ?? axiosModule;
  const original = axios.defaults.adapter;
  const getAdapter = (axiosModule.getAdapter ?? (axiosModule.default as { getAdapter?: (a: unknown) => unknown } | undefined)?.getAdapter)!;
  axios.defaults.adapter = async (config: { url?: string; method?: string; data?: unknown }) => {
    const url = config.url ?? '';
    if (!url.startsWith(CLIENT_ORIGIN) || !transportTarget) {
      const fallback = getAdapter(original) as (c: unknown) => Promise<unknown>;
      return fallback(config);
    }
    return answerInProcess((config.method ?? 'get').toUpperCase(), url, config.data, config);
  };
  const create = axios.create.bind(axios);
  axios.create = (config?: unknown) => {
    const instance = create(config);
    const { get, post, delete: del } = instance;
    const direct = (url: string) => url.startsWith(CLIENT_ORIGIN) && transportTarget !== undefined;
    instance.get = (url, ...rest) => (direct(url) ? Promise.resolve(answerInProcess('GET', url, undefined, rest[0])) : get.call(instance, url, ...rest));
    instance.delete = (url, ...rest) => (direct(url) ? Promise.resolve(answerInProcess('DELETE', url, undefined, rest[0])) : del.call(instance, url, ...rest));
    instance.post = (url, ...rest) => (direct(url) ? Promise.resolve(answerInProcess('POST', url, rest[0], rest[1])) : post.call(instance, url, ...rest));
    return instance;
  };
  transportInstalled = true;
}

export { fromJsonText };
