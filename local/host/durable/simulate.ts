import { EventType, toJsonText, type HistoryEvent } from './history';
import { runEpisode, type EpisodeResult, type OrchestrationHandler } from './replay';

/**
 * Runs an orchestration to its end in memory, on a virtual clock, with stubbed activities and
 * scripted external events: for orchestrator unit tests (no host, no real time passes). Each episode
 * goes through the real durable-functions replay via {@link runEpisode}, exactly as in the local
 * backend; only the work around it is simulated.
 */

export type ActivityStub = (input: unknown, at: Date) => unknown;

export interface ScriptedEvent {
  name: string;
  data?: unknown;
  /** When it is raised: an instant, or milliseconds after the start. */
  at: Date | string | number;
}

export interface SimulationOptions {
  /** Virtual start instant (currentUtcDateTime of the first episode). */
  start: Date | string;
  /** Activity stubs by activity name; a stub that throws fails the task (retry options apply). */
  activities?: Record<string, ActivityStub>;
  /** Orchestrators callable as sub-orchestrations, by name. */
  orchestrators?: Record<string, OrchestrationHandler>;
  events?: ScriptedEvent[];
  instanceId?: string;
  /** Safety stop. Default 10,000. */
  maxEpisodes?: number;
  /**
   * Follow continueAsNew into the next generation (fresh history, the new input; pending timers
   * and completions of the old generation are dropped, scripted events still arrive). Without it a
   * continueAsNew throws.
   */
  followContinueAsNew?: boolean;
}

/** A generation that ended in continueAsNew (with `followContinueAsNew`). */
export interface PastGeneration {
  input: unknown;
  history: HistoryEvent[];
  episodes: number;
  /** Virtual time of its last episode. */
  endedAt: string;
}

export interface ActivityCall {
  name: string;
  input: unknown;
  at: string;
  attempt: number;
}

export interface SimulationResult {
  status: 'completed' | 'failed' | 'waiting';
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  /** Final virtual time. */
  now: string;
  history: HistoryEvent[];
  activityCalls: ActivityCall[];
  /** Names of events the orchestrator still waits for (status `waiting`). */
  waitingForEvents: string[];
  /** Episodes of all generations. */
  episodes: number;
  /** Earlier generations, oldest first (with `followContinueAsNew`); `history` is the last one's. */
  pastGenerations: PastGeneration[];
}

interface Pending {
  at: number;
  seq: number;
  event: HistoryEvent;
}

export async function simulateOrchestration(handler: OrchestrationHandler, input: unknown, options: SimulationOptions): Promise<SimulationResult> {
  const startMs = new Date(options.start).getTime();
  const instanceId = options.instanceId ?? 'simulated-instance';
  let now = startMs;
  let seq = 0;
  const stamp = () => new Date(now).toISOString();
  const ev = (type: number, fields: Partial<HistoryEvent> = {}, id = -1): HistoryEvent => ({
    EventType: type,
    EventId: id,
    IsPlayed: false,
    Timestamp: stamp(),
    ...fields,
  });
  const pending: Pending[] = [];
  const push = (at: number, event: HistoryEvent) => pending.push({ at, seq: seq++, event });
  for (const e of options.events ?? []) {
    const at = typeof e.at === 'number' ? startMs + e.at : new Date(e.at).getTime();
    push(at, {
      EventType: EventType.EventRaised,
      EventId: -1,
      IsPlayed: false,
      Timestamp: new Date(at).toISOString(),
      Name: e.name,
      Input: toJsonText(e.data),
    });
  }
  let history: HistoryEvent[] = [];
  let generationInput = input;
  let generationEpisodes = 0;
  const pastGenerations: PastGeneration[] = [];
  let inbox: HistoryEvent[] = [ev(EventType.ExecutionStarted, { Name: 'orchestrator', Input: toJsonText(input) })];
  const activityCalls: ActivityCall[] = [];
  const attempts = new Map<string, number>();
  const cancelled = new Set<number>();
  let episodes = 0;
  let last: EpisodeResult | undefined;

  for (;;) {
    if (inbox.length > 0) {
      if (episodes >= (options.maxEpisodes ?? 10_000)) throw new Error(`simulation exceeded ${episodes} episodes`);
      const episodeEvents = [ev(EventType.OrchestratorStarted), ...inbox];
      inbox = [];
      history.push(...episodeEvents);
      last = await runEpisode(handler, { instanceId, history, input: generationInput });
      episodes++;
      generationEpisodes++;
      if (last.status === 'completed' || last.status === 'failed') {
        history.push(ev(EventType.OrchestratorCompleted));
        return {
          status: last.status,
          output: last.output,
          error: last.error,
          customStatus: last.customStatus,
          now: stamp(),
          history,
          activityCalls,
          waitingForEvents: [],
          episodes,
          pastGenerations,
        };
      }
      if (last.status === 'continuedAsNew') {
        if (!options.followContinueAsNew) throw new Error('simulateOrchestration does not follow continueAsNew; simulate each generation');
        history.push(ev(EventType.OrchestratorCompleted));
        pastGenerations.push({ input: generationInput, history, episodes: generationEpisodes, endedAt: stamp() });
        generationInput = last.continueAsNewInput;
        generationEpisodes = 0;
        history = [];
        cancelled.clear();
        const carried = pending.filter((p) => p.event.EventType === EventType.EventRaised);
        pending.length = 0;
        pending.push(...carried);
        inbox = [ev(EventType.ExecutionStarted, { Name: 'orchestrator', Input: toJsonText(generationInput) })];
        continue;
      }
      for (const id of last.cancelledTimerIds) cancelled.add(id);
      for (const work of last.newWork) {
        if (work.kind === 'activity') {
          history.push(ev(EventType.TaskScheduled, { Name: work.name, Input: toJsonText(work.input) }, work.id));
          const key = `${work.name}:${JSON.stringify(work.input)}`;
          const attempt = (attempts.get(key) ?? 0) + 1;
          attempts.set(key, attempt);
          activityCalls.push({ name: work.name, input: work.input, at: stamp(), attempt });
          const stub = options.activities?.[work.name];
          try {
            if (!stub) throw new Error(`no stub for activity ${work.name}`);
            const result = await stub(JSON.parse(JSON.stringify(work.input ?? null)), new Date(now));
            push(now, ev(EventType.TaskCompleted, { TaskScheduledId: work.id, Result: JSON.stringify(result ?? null) }));
          } catch (err) {
            const e = err instanceof Error ? err : new Error(String(err));
            push(now, ev(EventType.TaskFailed, { TaskScheduledId: work.id, Reason: e.message, Details: e.stack ?? '' }));
          }
        } else if (work.kind === 'timer') {
          history.push(ev(EventType.TimerCreated, { FireAt: work.fireAt }, work.id));
          const at = new Date(work.fireAt).getTime();
          push(at, { EventType: EventType.TimerFired, EventId: -1, IsPlayed: false, Timestamp: work.fireAt, TimerId: work.id, FireAt: work.fireAt });
        } else if (work.kind === 'subOrchestration') {
          history.push(ev(EventType.SubOrchestrationInstanceCreated, { Name: work.name, InstanceId: work.instanceId, Input: toJsonText(work.input) }, work.id));
          const child = options.orchestrators?.[work.name];
          const result = child
            ? await simulateOrchestration(child, work.input, {
                ...options,
                start: new Date(now),
                events: [],
                instanceId: work.instanceId ?? `${instanceId}:${work.id}`,
              })
            : ({ status: 'failed', error: `no orchestrator ${work.name}` } as SimulationResult);
          push(
            now,
            result.status === 'completed'
              ? ev(EventType.SubOrchestrationInstanceCompleted, { TaskScheduledId: work.id, Result: JSON.stringify(result.output ?? null) })
              : ev(EventType.SubOrchestrationInstanceFailed, {
                  TaskScheduledId: work.id,
                  Reason: result.error ?? 'sub-orchestration did not complete',
                  Details: '',
                }),
          );
        } else {
          push(now, ev(EventType.TaskFailed, { TaskScheduledId: work.id, Reason: `action type ${work.actionType} is not simulated`, Details: '' }));
        }
      }
      history.push(ev(EventType.OrchestratorCompleted));
    }
    // Next thing to happen: the earliest pending completion, timer or scripted event.
    const live = pending.filter((p) => !(p.event.EventType === EventType.TimerFired && cancelled.has(p.event.TimerId ?? -1)));
    pending.length = 0;
    pending.push(...live);
    if (pending.length === 0) {
      return {
        status: 'waiting',
        customStatus: last?.customStatus,
        now: stamp(),
        history,
        activityCalls,
        waitingForEvents: last?.waitingForEvents ?? [],
        episodes,
        pastGenerations,
      };
    }
    pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = pending.shift()!;
    now = Math.max(now, next.at);
    inbox = [next.event];
  }
}

/** The handler a `df.app.orchestration(name, ...)` call registered (in Jest: with the functions-core mock). */
export function capturedOrchestrator(
  name: string,
  registry: { get(name: string): { handler: unknown; triggerType: string } | undefined },
): OrchestrationHandler {
  const fn = registry.get(name);
  if (!fn || fn.triggerType.toLowerCase() !== 'orchestrationtrigger') throw new Error(`No orchestrator ${name} was registered`);
  return fn.handler as OrchestrationHandler;
}
