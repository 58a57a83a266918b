/**
 * Durable Task history events as the Durable Functions extension sends them to the JS SDK
 * (out-of-process protocol, durable-functions 3.x). Field names are the wire names.
 */

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export type EventTypeName = keyof typeof EventType;

/** Action types in an OrchestratorState (`actions`). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
} as const;

export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  /** ISO 8601 UTC. */
  Timestamp: string;
  Name?: string;
  /** JSON text (ExecutionStarted, TaskScheduled, EventRaised, ...). */
  Input?: string;
  /** JSON text (TaskCompleted, SubOrchestrationInstanceCompleted). */
  Result?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  Reason?: string;
  Details?: string;
  InstanceId?: string;
  [key: string]: unknown;
}

/**
 * Builds histories event by event with the ids the extension would give them. Used by the local
 * durable backend and by orchestrator unit tests that replay synthetic histories.
 */
export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private now: Date;

  constructor(start: Date | string) {
    this.now = new Date(start);
  }

  /** Moves the builder's clock; later events carry this timestamp. */
  at(instant: Date | string): this {
    this.now = new Date(instant);
    return this;
  }

  get currentTime(): Date {
    return new Date(this.now);
  }

  private push(type: number, fields: Partial<HistoryEvent> = {}, eventId = -1): this {
    this.events.push({ EventType: type, EventId: eventId, IsPlayed: false, Timestamp: this.now.toISOString(), ...fields });
    return this;
  }

  /** OrchestratorStarted: opens an episode; its timestamp is `currentUtcDateTime`. */
  orchestratorStarted(): this {
    return this.push(EventType.OrchestratorStarted);
  }
  orchestratorCompleted(): this {
    return this.push(EventType.OrchestratorCompleted);
  }
  executionStarted(name: string, input?: unknown): this {
    return this.push(EventType.ExecutionStarted, { Name: name, Input: toJsonText(input) });
  }
  /** OrchestratorStarted + ExecutionStarted: the first episode of an instance. */
  start(name: string, input?: unknown): this {
    return this.orchestratorStarted().executionStarted(name, input);
  }
  taskScheduled(id: number, name: string, input?: unknown): this {
    return this.push(EventType.TaskScheduled, { Name: name, Input: toJsonText(input) }, id);
  }
  taskCompleted(id: number, result?: unknown): this {
    return this.push(EventType.TaskCompleted, { TaskScheduledId: id, Result: JSON.stringify(result ?? null) });
  }
  taskFailed(id: number, reason: string, details = ''): this {
    return this.push(EventType.TaskFailed, { TaskScheduledId: id, Reason: reason, Details: details });
  }
  timerCreated(id: number, fireAt: Date | string): this {
    return this.push(EventType.TimerCreated, { FireAt: new Date(fireAt).toISOString() }, id);
  }
  timerFired(id: number, fireAt: Date | string): this {
    return this.push(EventType.TimerFired, { TimerId: id, FireAt: new Date(fireAt).toISOString() });
  }
  subOrchestrationCreated(id: number, name: string, instanceId: string, input?: unknown): this {
    return this.push(EventType.SubOrchestrationInstanceCreated, { Name: name, InstanceId: instanceId, Input: toJsonText(input) }, id);
  }
  subOrchestrationCompleted(id: number, result?: unknown): this {
    return this.push(EventType.SubOrchestrationInstanceCompleted, { TaskScheduledId: id, Result: JSON.stringify(result ?? null) });
  }
  subOrchestrationFailed(id: number, reason: string, details = ''): this {
    return this.push(EventType.SubOrchestrationInstanceFailed, { TaskScheduledId: id, Reason: reason, Details: details });
  }
  eventRaised(name: string, input?: unknown): this {
    return this.push(EventType.EventRaised, { Name: name, Input: toJsonText(input) });
  }
  /** Appends raw events (e.g. from a previous run). */
  append(...events: HistoryEvent[]): this {
    this.events.push(...events);
    return this;
  }
}

/** JSON text of a value; `undefined` stays undefined (no Input on the wire). */
export function toJsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

/** Parses JSON text the way the SDK does for inputs, keeping non-JSON text as is. */
export function fromJsonText(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
