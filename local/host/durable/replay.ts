import { InvocationContext } from '@azure/functions';
import { ActionType, EventType, type HistoryEvent } from './history';

/**
 * Replay driver: runs one episode of an orchestration through the real durable-functions replay
 * (the handler `df.app.orchestration` registered) against a history, as the Durable Functions
 * extension does, and reports what the orchestrator decided.
 *
 * The protocol part (trigger input, OrchestratorState, `$OutOfProcData$`) is the extension's wire
 * format. To learn the sequence id the SDK gave each new task (ids are assigned depth-first in yield
 * order, retries take one per attempt and per retry timer), the driver also reads the SDK's task
 * table on `context.df` after the episode: the extension keeps its own replica of that numbering,
 * which a local backend would otherwise have to re-implement. The canary test
 * (test/integration/durable-protocol.test.ts) fails if an upgrade changes either.
 */

/** Schema the local backend speaks (ReplaySchema.V4 in durable-functions 3.5). */
export const UPPER_SCHEMA_VERSION = 3;
export const LONG_RUNNING_TIMER_INTERVAL = '3.00:00:00';
export const MAXIMUM_SHORT_TIMER_DURATION = '6.00:00:00';

export interface OrchestratorState {
  isDone: boolean;
  actions: unknown[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion: number;
}

/** Retry options as the SDK's RetryOptions carries them. */
export interface RetryPolicy {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** Work the orchestrator asked for in this episode, each with the sequence id its completion must carry. */
export type ScheduledWork =
  | { kind: 'activity'; id: number; name: string; input: unknown; attempt: number; retry?: RetryPolicy }
  | { kind: 'timer'; id: number; fireAt: string }
  | { kind: 'subOrchestration'; id: number; name: string; instanceId?: string; input: unknown; attempt: number; retry?: RetryPolicy }
  | { kind: 'unsupported'; id: number; actionType: number };

export interface EpisodeResult {
  status: 'running' | 'completed' | 'failed' | 'continuedAsNew';
  /**
   * The OrchestratorState the SDK answered. Its `actions` are the SDK's action objects, not a wire
   * copy (read only; no one mutates them after the episode); `output` and `customStatus` are JSON copies.
   */
  state: OrchestratorState;
  output?: unknown;
  /** Failure text (status `failed`). */
  error?: string;
  customStatus?: unknown;
  /** Input of the next generation (status `continuedAsNew`), a JSON copy as the extension would store it. */
  continueAsNewInput?: unknown;
  /** Tasks the orchestrator awaits that the history does not show as scheduled yet, by id. */
  newWork: ScheduledWork[];
  /** Timers (already created) that the orchestrator cancelled. */
  cancelledTimerIds: number[];
  /** Names of external events the orchestrator currently waits for. */
  waitingForEvents: string[];
}

export type OrchestrationHandler = (triggerInput: unknown, context: InvocationContext) => Promise<unknown> | unknown;

export interface EpisodeInput {
  instanceId: string;
  /** Full history, including this episode's OrchestratorStarted and new events. Not mutated. */
  history: readonly HistoryEvent[];
  /** What `context.df.getInput()` returns. */
  input?: unknown;
  /**
   * `JSON.stringify(input)`, when the caller already holds it (the ExecutionStarted event's Input):
   * each episode then parses it instead of serialising `input` again.
   */
  inputJson?: string;
  parentInstanceId?: string;
  functionName?: string;
  invocationId?: string;
  log?: (level: string, ...args: unknown[]) => void;
}

const OUT_OF_PROC_LABEL = '$OutOfProcData$:';

/** Runs one episode of `handler` (a captured orchestration handler) against `history`. */
export async function runEpisode(handler: OrchestrationHandler, episode: EpisodeInput): Promise<EpisodeResult> {
  let lastStarted = -1;
  for (let i = episode.history.length - 1; i >= 0; i--) {
    if (episode.history[i]!.EventType === EventType.OrchestratorStarted) {
      lastStarted = i;
      break;
    }
  }
  // What the extension sends, as the SDK receives it (a fresh parse it may mutate: timestamps to Dates);
  // events of earlier episodes are marked played (drives context.df.isReplaying).
  const history = episode.history.map((e, i) => wireCopy(e, i < lastStarted));
  const triggerInput = {
    history,
    instanceId: episode.instanceId,
    input: episode.inputJson !== undefined ? (JSON.parse(episode.inputJson) as unknown) : jsonCopy(episode.input),
    isReplaying: lastStarted > 0,
    parentInstanceId: episode.parentInstanceId,
    upperSchemaVersion: UPPER_SCHEMA_VERSION,
    upperSchemaVersionNew: UPPER_SCHEMA_VERSION,
    longRunningTimerIntervalDuration: LONG_RUNNING_TIMER_INTERVAL,
    maximumShortTimerDuration: MAXIMUM_SHORT_TIMER_DURATION,
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
  const context = new InvocationContext({
    functionName: episode.functionName ?? 'orchestrator',
    invocationId: episode.invocationId ?? `${episode.instanceId}:${history.length}`,
    options: { trigger: { type: 'orchestrationTrigger', name: 'context' }, extraInputs: [], extraOutputs: [] },
    logHandler: episode.log ?? (() => undefined),
  });

  // Only what leaves the episode is copied through JSON (the extension stores it as JSON text): the
  // output, the custom status and a continueAsNew input. The actions are read in place.
  let state: OrchestratorState;
  let continueAsNew: FlatAction | undefined;
  let failed = false;
  try {
    const answer = (await handler(triggerInput, context)) as OrchestratorState;
    state = { isDone: answer.isDone, actions: answer.actions, schemaVersion: answer.schemaVersion };
    if (answer.output !== undefined) state.output = jsonCopy(answer.output);
    if (answer.error !== undefined) state.error = answer.error;
    if (answer.customStatus !== undefined) state.customStatus = jsonCopy(answer.customStatus);
    if (state.isDone) {
      continueAsNew = flattenActions(state.actions).find((a) => a.actionType === ActionType.ContinueAsNew);
      if (continueAsNew) continueAsNew = { ...continueAsNew, input: jsonCopy(continueAsNew.input) };
    }
  } catch (err) {
    failed = true;
    state = stateFromFailure(err);
  }
  const customStatus = state.customStatus;
  if (failed) {
    return { status: 'failed', state, error: state.error ?? 'Orchestrator failed', customStatus, newWork: [], cancelledTimerIds: [], waitingForEvents: [] };
  }
  if (state.isDone && continueAsNew) {
    return {
      status: 'continuedAsNew',
      state,
      customStatus,
      continueAsNewInput: continueAsNew.input,
      newWork: [],
      cancelledTimerIds: [],
      waitingForEvents: [],
    };
  }
  if (state.isDone) {
    return { status: 'completed', state, output: state.output, customStatus, newWork: [], cancelledTimerIds: [], waitingForEvents: [] };
  }
  const { newWork, cancelledTimerIds, waitingForEvents } = inspectOpenTasks(context, history);
  return { status: 'running', state, customStatus, newWork, cancelledTimerIds, waitingForEvents };
}

/** `JSON.parse(JSON.stringify(value))`; undefined (and what JSON drops) stays undefined. */
function jsonCopy(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}

/**
 * The event as a JSON round trip would give it, without the round trip: history events are flat
 * (strings, numbers, booleans), so a shallow copy is that parse; fields JSON drops (undefined) are
 * left out and any nested value is copied through JSON.
 */
function wireCopy(event: HistoryEvent, played: boolean): HistoryEvent {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(event)) {
    const value = event[key];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    if (typeof value === 'object' && value !== null) copy[key] = jsonCopy(value);
    else if (typeof value === 'number' && !Number.isFinite(value)) copy[key] = null;
    else copy[key] = value;
  }
  if (played) copy.IsPlayed = true;
  return copy as HistoryEvent;
}

interface FlatAction {
  actionType: number;
  input?: unknown;
  [key: string]: unknown;
}

/** Actions of all groups, compound actions expanded depth-first. */
export function flattenActions(groups: unknown[][] | undefined): FlatAction[] {
  const out: FlatAction[] = [];
  const visit = (a: FlatAction): void => {
    out.push(a);
    const children = a.compoundActions;
    if (Array.isArray(children)) for (const c of children as FlatAction[]) visit(c);
  };
  for (const group of groups ?? []) for (const a of group as FlatAction[]) visit(a);
  return out;
}

function stateFromFailure(err: unknown): OrchestratorState {
  const message = err instanceof Error ? err.message : String(err);
  const at = message.lastIndexOf(OUT_OF_PROC_LABEL);
  if (at >= 0) {
    try {
      const parsed = JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)) as OrchestratorState;
      return { ...parsed, error: parsed.error ?? message.slice(0, at).trim() };
    } catch {
      // fall through: not the SDK's failure format
    }
  }
  return { isDone: false, actions: [], error: message, schemaVersion: UPPER_SCHEMA_VERSION };
}

// --- SDK task table (durable-functions 3.x internals; pinned and guarded by the canary test) ---

interface SdkAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: string | Date;
  isCanceled?: boolean;
  retryOptions?: RetryPolicy;
}
interface SdkTask {
  id: number | string | false;
  actionObj: SdkAction | string | undefined;
  parent?: SdkTask & { isWaitingOnTimer?: boolean; attemptNumber?: number; retryOptions?: RetryPolicy; actionObj: SdkAction };
}
interface SdkExecutor {
  openTasks: Record<string, SdkTask>;
  openEvents: Record<string, SdkTask[]>;
}

/** Reads the executor the SDK attached to `context.df`; throws loudly if its shape changed. */
export function sdkExecutorOf(context: InvocationContext): SdkExecutor {
  const df = (context as unknown as { df?: { taskOrchestratorExecutor?: SdkExecutor } }).df;
  const executor = df?.taskOrchestratorExecutor;
  if (!executor || typeof executor.openTasks !== 'object' || typeof executor.openEvents !== 'object') {
    throw new Error('durable-functions internals changed: context.df.taskOrchestratorExecutor.openTasks not found (see docs/local-host.md)');
  }
  return executor;
}

const SCHEDULING_EVENTS = new Set<number>([EventType.TaskScheduled, EventType.TimerCreated, EventType.SubOrchestrationInstanceCreated]);

function inspectOpenTasks(
  context: InvocationContext,
  history: HistoryEvent[],
): { newWork: ScheduledWork[]; cancelledTimerIds: number[]; waitingForEvents: string[] } {
  const executor = sdkExecutorOf(context);
  const scheduled = new Set<number>();
  for (const e of history) if (SCHEDULING_EVENTS.has(e.EventType)) scheduled.add(e.EventId);
  const now = currentTime(history);
  const newWork: ScheduledWork[] = [];
  const cancelledTimerIds: number[] = [];
  for (const task of Object.values(executor.openTasks)) {
    if (typeof task.id !== 'number') continue;
    const id = task.id;
    const action = typeof task.actionObj === 'object' ? task.actionObj : undefined;
    if (scheduled.has(id)) {
      if (action?.actionType === ActionType.CreateTimer && action.isCanceled) cancelledTimerIds.push(id);
      continue;
    }
    const work = workFor(id, task, action, now);
    if (work) newWork.push(work);
  }
  newWork.sort((a, b) => a.id - b.id);
  const waitingForEvents = Object.entries(executor.openEvents)
    .filter(([, tasks]) => tasks.length > 0)
    .map(([name]) => name);
  return { newWork, cancelledTimerIds, waitingForEvents };
}

function workFor(id: number, task: SdkTask, action: SdkAction | undefined, now: Date): ScheduledWork | undefined {
  if (action) {
    switch (action.actionType) {
      case ActionType.CallActivity:
        return { kind: 'activity', id, name: action.functionName ?? '', input: action.input, attempt: 1 };
      case ActionType.CallActivityWithRetry:
        return { kind: 'activity', id, name: action.functionName ?? '', input: action.input, attempt: 1, retry: action.retryOptions };
      case ActionType.CallSubOrchestrator:
        return { kind: 'subOrchestration', id, name: action.functionName ?? '', instanceId: action.instanceId, input: action.input, attempt: 1 };
      case ActionType.CallSubOrchestratorWithRetry:
        return {
          kind: 'subOrchestration',
          id,
          name: action.functionName ?? '',
          instanceId: action.instanceId,
          input: action.input,
          attempt: 1,
          retry: action.retryOptions,
        };
      case ActionType.CreateTimer:
        if (action.isCanceled) return undefined;
        return { kind: 'timer', id, fireAt: new Date(action.fireAt ?? now).toISOString() };
      default:
        return { kind: 'unsupported', id, actionType: action.actionType };
    }
  }
  // A NoOp task a RetryableTask added after a failure: first the retry timer, then the next attempt.
  const retry = task.parent;
  if (retry && retry.retryOptions && typeof retry.actionObj === 'object') {
    const parentAction = retry.actionObj;
    const attempt = retry.attemptNumber ?? 2;
    if (retry.isWaitingOnTimer) {
      const fireAt = new Date(now.getTime() + retryDelayMs(retry.retryOptions, attempt - 1));
      return { kind: 'timer', id, fireAt: fireAt.toISOString() };
    }
    const isSub = parentAction.actionType === ActionType.CallSubOrchestratorWithRetry;
    return isSub
      ? {
          kind: 'subOrchestration',
          id,
          name: parentAction.functionName ?? '',
          instanceId: parentAction.instanceId,
          input: parentAction.input,
          attempt,
          retry: retry.retryOptions,
        }
      : { kind: 'activity', id, name: parentAction.functionName ?? '', input: parentAction.input, attempt, retry: retry.retryOptions };
  }
  return undefined;
}

/** Delay before the retry that follows failed attempt `failedAttempt` (1-based), as DTFx computes it. */
export function retryDelayMs(options: RetryPolicy, failedAttempt: number): number {
  const backoff = options.backoffCoefficient ?? 1;
  const delay = options.firstRetryIntervalInMilliseconds * Math.pow(backoff, Math.max(0, failedAttempt - 1));
  const max = options.maxRetryIntervalInMilliseconds;
  return max !== undefined && max > 0 ? Math.min(delay, max) : delay;
}

/** `currentUtcDateTime` of the episode: the timestamp of the last OrchestratorStarted. */
export function currentTime(history: readonly HistoryEvent[]): Date {
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i];
    if (e && e.EventType === EventType.OrchestratorStarted) return new Date(e.Timestamp);
  }
  return new Date(0);
}
