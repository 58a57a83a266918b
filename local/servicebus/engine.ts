/**
 * The broker's message model, free of AMQP: entities (queues, subscriptions, dead-letter
 * sub-queues) with Service Bus semantics. Peek-lock with lock expiry, delivery count, dead-letter
 * after max delivery, duplicate detection, sessions with exclusive locks, scheduled enqueue and TTL.
 * Time comes from an injected clock; `tick()` applies everything that is due.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { message as rheaMessage, type Message as AmqpMessage } from 'rhea';
import {
  deadLetterPath,
  subscriptionPath,
  type FilterInput,
  type QueueDefinition,
  type SubscriptionDefinition,
  type TopicDefinition,
  type Topology,
} from '../../functions/adapters/servicebus/topology';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** AMQP error conditions Service Bus uses; the SDK maps them to ServiceBusError codes. */
export const Condition = {
  messageLockLost: 'com.microsoft:message-lock-lost',
  sessionLockLost: 'com.microsoft:session-lock-lost',
  sessionCannotBeLocked: 'com.microsoft:session-cannot-be-locked',
  messageNotFound: 'com.microsoft:message-not-found',
  entityNotFound: 'amqp:not-found',
  invalidField: 'amqp:invalid-field',
  notImplemented: 'amqp:not-implemented',
  timeout: 'com.microsoft:timeout',
} as const;

export class BrokerError extends Error {
  constructor(
    readonly condition: string,
    message: string,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

export const MAX_DELIVERY_COUNT_EXCEEDED = 'MaxDeliveryCountExceeded';

/**
 * Where the broker's changes go when it is durable (journal.ts): every change of an entity or of
 * the scheduled set is recorded as it happens; `whenDurable()` is undefined when everything
 * recorded is on disk already, else a promise for that moment (the AMQP front answers after it).
 */
export interface BrokerJournalSink {
  record(r: BrokerRecord): void;
  whenDurable(): Promise<void> | undefined;
}

/** A message as the journal stores it (the AMQP message encoded, base64). */
export interface JournaledMessage {
  s: number;
  m: string;
  at: number;
  x?: number;
  sid?: string;
  n: number;
  st: 'active' | 'deferred';
}

export type BrokerRecord =
  | { t: 'msg'; e: string; d: JournaledMessage }
  | { t: 'dc'; e: string; s: number; n: number }
  | { t: 'rm'; e: string; s: number }
  | { t: 'purge'; e: string }
  | { t: 'ss'; e: string; sid: string; v: string | null }
  | { t: 'sch'; s: number; a: string; m: string; at: number }
  | { t: 'unsch'; s: number[] }
  | { t: 'dup'; a: string; id: string; at: number };

const encodedMessages = new WeakMap<object, string>();
/** The AMQP message as rhea encodes it, base64 (cached: a fan-out stores one message in many entities). */
export function encodeAmqp(m: AmqpMessage): string {
  let b64 = encodedMessages.get(m);
  if (b64 === undefined) {
    b64 = rheaMessage.encode(m).toString('base64');
    encodedMessages.set(m, b64);
  }
  return b64;
}
export function decodeAmqp(b64: string): AmqpMessage {
  const m = rheaMessage.decode(Buffer.from(b64, 'base64')) as unknown as AmqpMessage;
  encodedMessages.set(m, b64);
  return m;
}

export function journaledMessage(m: StoredMessage): JournaledMessage {
  const d: JournaledMessage = {
    s: m.sequenceNumber,
    m: encodeAmqp(m.amqp),
    at: m.enqueuedAt,
    n: m.deliveries,
    st: m.state === 'deferred' ? 'deferred' : 'active',
  };
  if (m.expiresAt !== undefined) d.x = m.expiresAt;
  if (m.sessionId !== undefined) d.sid = m.sessionId;
  return d;
}

export function storedMessageOf(d: JournaledMessage): StoredMessage {
  return { sequenceNumber: d.s, amqp: decodeAmqp(d.m), enqueuedAt: d.at, expiresAt: d.x, sessionId: d.sid, deliveries: d.n, state: d.st };
}
export const SESSION_ID_MISSING = 'SessionIdIsMissing';

export interface StoredMessage {
  readonly sequenceNumber: number;
  /** The message as the sender sent it (properties, application properties, body); broker fields live beside it. */
  amqp: AmqpMessage;
  readonly enqueuedAt: number;
  readonly expiresAt?: number;
  readonly sessionId?: string;
  /** Service Bus DeliveryCount: deliveries under lock so far (1 on the first delivery). */
  deliveries: number;
  lockToken?: string;
  lockedUntil?: number;
  lockOwner?: object;
  state: 'active' | 'locked' | 'deferred';
}

/** A message handed to a receiver: the stored message plus its lock. */
export interface ReceivedMessage {
  readonly stored: StoredMessage;
  readonly lockToken?: string;
  readonly lockedUntil?: number;
}

export interface EntitySettings {
  readonly lockDurationMs: number;
  readonly maxDeliveryCount: number;
  readonly requiresSession: boolean;
  readonly defaultMessageTtlMs?: number;
}

interface SessionLock {
  owner: object;
  lockedUntil: number;
}

export type DispositionOutcome =
  | { kind: 'complete' }
  | { kind: 'abandon'; propertiesToModify?: Record<string, unknown> }
  | { kind: 'defer'; propertiesToModify?: Record<string, unknown> }
  | { kind: 'deadLetter'; reason?: string; description?: string; propertiesToModify?: Record<string, unknown> };

export function applicationPropertiesOf(m: AmqpMessage): Record<string, unknown> {
  return (m.application_properties ?? {}) as Record<string, unknown>;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : String(v);
}

/** Queue, subscription or dead-letter sub-queue. */
export class MessageEntity {
  readonly events = new EventEmitter();
  private readonly active: StoredMessage[] = [];
  private readonly locked = new Map<string, StoredMessage>();
  private readonly deferred = new Map<number, StoredMessage>();
  private readonly sessionLocks = new Map<string, SessionLock>();
  private readonly sessionStates = new Map<string, Buffer>();
  readonly deadLetterQueue?: MessageEntity;
  /** Set by the namespace when the broker is durable. */
  journal?: BrokerJournalSink;

  constructor(
    readonly path: string,
    readonly settings: EntitySettings,
    private readonly clock: Clock,
    isDeadLetterQueue = false,
  ) {
    this.events.setMaxListeners(0);
    if (!isDeadLetterQueue) {
      this.deadLetterQueue = new MessageEntity(
        deadLetterPath(path),
        { lockDurationMs: settings.lockDurationMs, maxDeliveryCount: Number.MAX_SAFE_INTEGER, requiresSession: false },
        clock,
        true,
      );
    }
  }

  get isDeadLetterQueue(): boolean {
    return this.deadLetterQueue === undefined;
  }

  /** Adds a message (fan-out copy or queue send). */
  add(message: StoredMessage): void {
    if (this.settings.requiresSession && message.sessionId === undefined && this.deadLetterQueue) {
      this.moveToDeadLetter(message, SESSION_ID_MISSING, 'The entity requires sessions and the message has no SessionId.');
      return;
    }
    this.insertActive(message);
    this.signal();
  }

  private insertActive(message: StoredMessage): void {
    message.state = 'active';
    this.journal?.record({ t: 'msg', e: this.path, d: journaledMessage(message) });
    message.lockToken = undefined;
    message.lockedUntil = undefined;
    message.lockOwner = undefined;
    let i = this.active.length;
    while (i > 0 && this.active[i - 1]!.sequenceNumber > message.sequenceNumber) i--;
    this.active.splice(i, 0, message);
  }

  private signalPending = false;
  /** Receivers pull on 'available'; emitted after the current operation so they never re-enter it. */
  private signal(): void {
    if (this.signalPending) return;
    this.signalPending = true;
    queueMicrotask(() => {
      this.signalPending = false;
      this.events.emit('available');
    });
  }

  private isExpired(m: StoredMessage, now: number): boolean {
    return m.expiresAt !== undefined && m.expiresAt <= now;
  }

  // ---- sessions ----

  /**
   * Locks a session for `owner`: the named one, or the first unlocked session with an available
   * message. Returns undefined when no session is available.
   */
  acceptSession(owner: object, sessionId?: string): { sessionId: string; lockedUntil: number } | undefined {
    this.requireSessions();
    const now = this.clock.now();
    if (sessionId !== undefined) {
      const lock = this.sessionLocks.get(sessionId);
      if (lock && lock.owner !== owner && lock.lockedUntil > now) {
        throw new BrokerError(Condition.sessionCannotBeLocked, `The session '${sessionId}' is locked by another receiver.`);
      }
      return { sessionId, lockedUntil: this.lockSession(owner, sessionId, now) };
    }
    for (const m of this.active) {
      if (m.sessionId === undefined || this.isExpired(m, now)) continue;
      const lock = this.sessionLocks.get(m.sessionId);
      if (lock && lock.lockedUntil > now) continue;
      return { sessionId: m.sessionId, lockedUntil: this.lockSession(owner, m.sessionId, now) };
    }
    return undefined;
  }

  private lockSession(owner: object, sessionId: string, now: number): number {
    const lockedUntil = now + this.settings.lockDurationMs;
    this.sessionLocks.set(sessionId, { owner, lockedUntil });
    return lockedUntil;
  }

  private requireSessions(): void {
    if (!this.settings.requiresSession) {
      throw new BrokerError(Condition.invalidField, `The entity '${this.path}' does not require sessions.`);
    }
  }

  private heldSession(owner: object | undefined, sessionId: string): SessionLock {
    const lock = this.sessionLocks.get(sessionId);
    if (!lock || lock.lockedUntil <= this.clock.now() || (owner !== undefined && lock.owner !== owner)) {
      throw new BrokerError(Condition.sessionLockLost, `The session lock has expired on the session with id ${sessionId}.`);
    }
    return lock;
  }

  renewSessionLock(owner: object | undefined, sessionId: string): number {
    const lock = this.heldSession(owner, sessionId);
    lock.lockedUntil = this.clock.now() + this.settings.lockDurationMs;
    for (const m of this.locked.values()) if (m.sessionId === sessionId) m.lockedUntil = lock.lockedUntil;
    return lock.lockedUntil;
  }

  /** Ends `owner`'s lock on a session; its unsettled messages become available again in order. */
  releaseSession(owner: object, sessionId: string): void {
    const lock = this.sessionLocks.get(sessionId);
    if (!lock || lock.owner !== owner) return;
    this.sessionLocks.delete(sessionId);
    for (const m of [...this.locked.values()]) {
      if (m.sessionId === sessionId) {
        this.locked.delete(m.lockToken!);
        // Closing a session receiver is not a failed delivery: Service Bus leaves the count as it was.
        m.deliveries = Math.max(0, m.deliveries - 1);
        this.insertActive(m);
      }
    }
    this.signal();
  }

  getSessionState(sessionId: string): Buffer | undefined {
    return this.sessionStates.get(sessionId);
  }

  setSessionState(owner: object | undefined, sessionId: string, state: Buffer | undefined): void {
    this.heldSession(owner, sessionId);
    if (state === undefined) this.sessionStates.delete(sessionId);
    else this.sessionStates.set(sessionId, state);
    this.journal?.record({ t: 'ss', e: this.path, sid: sessionId, v: state === undefined ? null : state.toString('base64') });
  }

  // ---- receiving ----

  /** Hands out the next message to a receiver (a session receiver only gets its session's messages, in order). */
  receiveNext(owner: object, opts: { sessionId?: string; mode: 'peekLock' | 'receiveAndDelete' }): ReceivedMessage | undefined {
    const now = this.clock.now();
    let sessionLock: SessionLock | undefined;
    if (this.settings.requiresSession) {
      if (opts.sessionId === undefined) throw new BrokerError(Condition.invalidField, `The entity '${this.path}' requires a session receiver.`);
      sessionLock = this.heldSession(owner, opts.sessionId);
    }
    for (let i = 0; i < this.active.length; i++) {
      const m = this.active[i]!;
      if (this.isExpired(m, now)) {
        this.active.splice(i--, 1);
        continue;
      }
      if (sessionLock && m.sessionId !== opts.sessionId) continue;
      this.active.splice(i, 1);
      m.deliveries++;
      if (opts.mode === 'receiveAndDelete') {
        this.journal?.record({ t: 'rm', e: this.path, s: m.sequenceNumber });
        return { stored: m };
      }
      this.journal?.record({ t: 'dc', e: this.path, s: m.sequenceNumber, n: m.deliveries });
      return { stored: m, ...this.lock(m, owner, sessionLock ? sessionLock.lockedUntil : now + this.settings.lockDurationMs) };
    }
    return undefined;
  }

  private lock(m: StoredMessage, owner: object, lockedUntil: number): { lockToken: string; lockedUntil: number } {
    const lockToken = randomUUID();
    m.state = 'locked';
    m.lockToken = lockToken;
    m.lockedUntil = lockedUntil;
    m.lockOwner = owner;
    this.locked.set(lockToken, m);
    return { lockToken, lockedUntil };
  }

  /** Deferred messages by sequence number, locked again for `owner`. */
  receiveDeferred(owner: object, sequenceNumbers: number[], mode: 'peekLock' | 'receiveAndDelete', sessionId?: string): ReceivedMessage[] {
    const out: ReceivedMessage[] = [];
    const now = this.clock.now();
    for (const seq of sequenceNumbers) {
      const m = this.deferred.get(seq);
      if (!m || (sessionId !== undefined && m.sessionId !== sessionId)) {
        throw new BrokerError(Condition.messageNotFound, `Failed to retrieve the deferred message with sequence number ${seq}.`);
      }
      this.deferred.delete(seq);
      m.deliveries++;
      // A deferred message received again is an active one under lock (or gone, receive-and-delete).
      if (mode === 'receiveAndDelete') this.journal?.record({ t: 'rm', e: this.path, s: m.sequenceNumber });
      else this.journal?.record({ t: 'msg', e: this.path, d: { ...journaledMessage(m), st: 'active' } });
      if (mode === 'receiveAndDelete') out.push({ stored: m });
      else out.push({ stored: m, ...this.lock(m, owner, now + this.settings.lockDurationMs) });
    }
    return out;
  }

  private lockedMessage(lockToken: string): StoredMessage {
    const m = this.locked.get(lockToken);
    if (!m || (m.lockedUntil ?? 0) <= this.clock.now()) {
      if (m?.sessionId !== undefined || this.settings.requiresSession) {
        throw new BrokerError(Condition.sessionLockLost, 'The session lock has expired or the message was already settled.');
      }
      throw new BrokerError(
        Condition.messageLockLost,
        'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
      );
    }
    return m;
  }

  renewLock(lockToken: string): number {
    const m = this.lockedMessage(lockToken);
    if (m.sessionId !== undefined && this.settings.requiresSession) return this.renewSessionLock(undefined, m.sessionId);
    m.lockedUntil = this.clock.now() + this.settings.lockDurationMs;
    return m.lockedUntil;
  }

  isLocked(lockToken: string): boolean {
    return this.locked.has(lockToken);
  }

  settle(lockToken: string, outcome: DispositionOutcome): void {
    const m = this.lockedMessage(lockToken);
    this.locked.delete(lockToken);
    switch (outcome.kind) {
      case 'complete':
        this.journal?.record({ t: 'rm', e: this.path, s: m.sequenceNumber });
        return; // removed for good
      case 'abandon':
        this.modify(m, outcome.propertiesToModify);
        this.returnOrDeadLetter(m);
        return;
      case 'defer':
        this.modify(m, outcome.propertiesToModify);
        m.state = 'deferred';
        m.lockToken = undefined;
        m.lockedUntil = undefined;
        this.deferred.set(m.sequenceNumber, m);
        this.journal?.record({ t: 'msg', e: this.path, d: journaledMessage(m) });
        return;
      case 'deadLetter':
        this.modify(m, outcome.propertiesToModify);
        this.moveToDeadLetter(m, outcome.reason, outcome.description);
        return;
    }
  }

  private modify(m: StoredMessage, props: Record<string, unknown> | undefined): void {
    if (!props || Object.keys(props).length === 0) return;
    m.amqp = { ...m.amqp, application_properties: { ...applicationPropertiesOf(m.amqp), ...props } };
  }

  /** After an abandon or a lost lock: back in line, or dead-lettered once max delivery count is reached. */
  private returnOrDeadLetter(m: StoredMessage): void {
    if (m.deliveries >= this.settings.maxDeliveryCount && this.deadLetterQueue) {
      this.moveToDeadLetter(m, MAX_DELIVERY_COUNT_EXCEEDED, `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`);
      return;
    }
    this.insertActive(m);
    this.signal();
  }

  private moveToDeadLetter(m: StoredMessage, reason: string | undefined, description: string | undefined): void {
    const dlq = this.deadLetterQueue;
    this.journal?.record({ t: 'rm', e: this.path, s: m.sequenceNumber });
    if (!dlq) {
      // Dead-lettering from a dead-letter queue is a no-op in Service Bus; the message is removed.
      return;
    }
    const props = { ...applicationPropertiesOf(m.amqp) };
    if (reason !== undefined) props.DeadLetterReason = reason;
    if (description !== undefined) props.DeadLetterErrorDescription = description;
    const copy: StoredMessage = {
      sequenceNumber: m.sequenceNumber,
      amqp: { ...m.amqp, application_properties: props },
      enqueuedAt: m.enqueuedAt,
      sessionId: m.sessionId,
      deliveries: m.deliveries,
      state: 'active',
    };
    dlq.insertActive(copy);
    dlq.signal();
    this.events.emit('deadLettered', copy);
  }

  /** Lock and session-lock expiry. */
  expire(now: number): void {
    for (const [sessionId, lock] of this.sessionLocks) {
      if (lock.lockedUntil <= now) {
        this.sessionLocks.delete(sessionId);
        for (const m of [...this.locked.values()]) {
          if (m.sessionId === sessionId) {
            this.locked.delete(m.lockToken!);
            this.returnOrDeadLetter(m);
          }
        }
        this.signal();
      }
    }
    for (const m of [...this.locked.values()]) {
      if ((m.lockedUntil ?? 0) <= now && !(this.settings.requiresSession && m.sessionId !== undefined)) {
        this.locked.delete(m.lockToken!);
        this.returnOrDeadLetter(m);
      }
    }
    // Expired waiting messages are dropped when a receiver reaches them (receiveNext) or on inspection,
    // so a timer tick stays cheap with a large backlog.
  }

  /** Every message in the entity (available, locked, deferred) in sequence order, for peek and inspection. */
  all(): StoredMessage[] {
    const now = this.clock.now();
    return [...this.active, ...this.locked.values(), ...this.deferred.values()]
      .filter((m) => !this.isExpired(m, now))
      .sort((a, b) => a.sequenceNumber - b.sequenceNumber);
  }

  peek(fromSequenceNumber: number, count: number, sessionId?: string): StoredMessage[] {
    return this.all()
      .filter((m) => m.sequenceNumber >= fromSequenceNumber && (sessionId === undefined || m.sessionId === sessionId))
      .slice(0, count);
  }

  counts(): { active: number; locked: number; deferred: number; lockedSessions: number } {
    const now = this.clock.now();
    for (let i = 0; i < this.active.length; i++) if (this.isExpired(this.active[i]!, now)) this.active.splice(i--, 1);
    return { active: this.active.length, locked: this.locked.size, deferred: this.deferred.size, lockedSessions: this.sessionLocks.size };
  }

  /** Undefined when every change is on disk (or the broker is not durable), else a promise for it. */
  whenDurable(): Promise<void> | undefined {
    return this.journal?.whenDurable();
  }

  /** Every message held (locked ones as available again) and the session states, for a snapshot. */
  exportState(): { messages: JournaledMessage[]; sessions: Record<string, string> } {
    const messages = [...this.active, ...this.locked.values(), ...this.deferred.values()]
      .sort((a, b) => a.sequenceNumber - b.sequenceNumber)
      .map((m) => journaledMessage(m));
    const sessions: Record<string, string> = {};
    for (const [sid, state] of this.sessionStates) sessions[sid] = state.toString('base64');
    return { messages, sessions };
  }

  /**
   * Loads restored messages (after a restart nothing is locked: a message that was locked is
   * available again, or dead-lettered when its deliveries reached the maximum, as after a lock expiry).
   */
  importState(messages: StoredMessage[], sessions: Record<string, string>): void {
    for (const m of messages.sort((a, b) => a.sequenceNumber - b.sequenceNumber)) {
      if (m.state === 'deferred') this.deferred.set(m.sequenceNumber, m);
      else if (m.deliveries >= this.settings.maxDeliveryCount && this.deadLetterQueue) this.returnOrDeadLetter(m);
      else this.active.push(m);
    }
    for (const [sid, b64] of Object.entries(sessions)) this.sessionStates.set(sid, Buffer.from(b64, 'base64'));
    this.signal();
  }

  /** Drops every message (tests and the dev console). */
  purge(): number {
    const n = this.active.length + this.locked.size + this.deferred.size;
    this.journal?.record({ t: 'purge', e: this.path });
    this.active.length = 0;
    this.locked.clear();
    this.deferred.clear();
    this.sessionLocks.clear();
    return n;
  }
}

/** A namespace's durable state (journal snapshots and restore). */
export interface BrokerState {
  nextSequenceNumber: number;
  /** By entity path (queue, subscription, dead-letter queue). */
  entities: Record<string, { messages: JournaledMessage[]; sessions: Record<string, string> }>;
  scheduled: { s: number; a: string; m: string; at: number }[];
  /** By lower-case topic or queue name: [messageId, first seen at]. */
  duplicates: Record<string, [string, number][]>;
}

interface ScheduledMessage {
  sequenceNumber: number;
  address: string;
  amqp: AmqpMessage;
  enqueueAt: number;
}

interface TopicState {
  definition: TopicDefinition;
  subscriptions: { definition: SubscriptionDefinition; entity: MessageEntity }[];
  duplicates: Map<string, number>;
}

interface QueueState {
  definition: QueueDefinition;
  entity: MessageEntity;
  duplicates: Map<string, number>;
}

/** What a filter and the local consumer see of a message. */
export function filterInputOf(m: AmqpMessage): FilterInput {
  return {
    applicationProperties: applicationPropertiesOf(m),
    messageId: str(m.message_id),
    sessionId: str(m.group_id),
    subject: str(m.subject),
    correlationId: str(m.correlation_id),
    contentType: str(m.content_type),
  };
}

const SCHEDULED_ANNOTATION = 'x-opt-scheduled-enqueue-time';

function annotationDate(m: AmqpMessage, key: string): number | undefined {
  const v = (m.message_annotations as Record<string, unknown> | undefined)?.[key];
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  return undefined;
}

/** A Service Bus namespace: topics, subscriptions, queues, scheduled messages and duplicate detection. */
export class Namespace {
  private readonly topics = new Map<string, TopicState>();
  private readonly queues = new Map<string, QueueState>();
  private readonly entities = new Map<string, MessageEntity>();
  private scheduled: ScheduledMessage[] = [];
  private nextSequenceNumber = 1;
  private journal?: BrokerJournalSink;

  constructor(
    topology: Topology,
    readonly clock: Clock = systemClock,
  ) {
    for (const t of topology.topics) {
      const subscriptions = t.subscriptions.map((s) => {
        const entity = new MessageEntity(subscriptionPath(t.name, s.name), s, clock);
        this.register(entity);
        return { definition: s, entity };
      });
      this.topics.set(t.name.toLowerCase(), { definition: t, subscriptions, duplicates: new Map() });
    }
    for (const q of topology.queues) {
      const entity = new MessageEntity(q.name, q, clock);
      this.register(entity);
      this.queues.set(q.name.toLowerCase(), { definition: q, entity, duplicates: new Map() });
    }
  }

  private register(entity: MessageEntity): void {
    this.entities.set(entity.path.toLowerCase(), entity);
    if (entity.deadLetterQueue) this.entities.set(entity.deadLetterQueue.path.toLowerCase(), entity.deadLetterQueue);
  }

  /** Receivable entity by path (queue, `topic/Subscriptions/sub`, or either's `/$DeadLetterQueue`). */
  entity(path: string): MessageEntity {
    const e = this.entities.get(path.toLowerCase());
    if (!e) throw new BrokerError(Condition.entityNotFound, `The messaging entity '${path}' could not be found.`);
    return e;
  }

  allEntities(): MessageEntity[] {
    return [...new Set(this.entities.values())];
  }

  /** True for a queue or topic name (a valid send address). */
  isSendable(address: string): boolean {
    return this.topics.has(address.toLowerCase()) || this.queues.has(address.toLowerCase());
  }

  private target(address: string): TopicState | QueueState {
    const t = this.topics.get(address.toLowerCase()) ?? this.queues.get(address.toLowerCase());
    if (!t) throw new BrokerError(Condition.entityNotFound, `The messaging entity '${address}' could not be found.`);
    return t;
  }

  /** Sends messages; a message carrying a future scheduled enqueue time waits for it. */
  send(address: string, messages: AmqpMessage[]): void {
    const target = this.target(address);
    const now = this.clock.now();
    for (const m of messages) {
      const at = annotationDate(m, SCHEDULED_ANNOTATION);
      if (at !== undefined && at > now) this.scheduleOne(address, m, at);
      else this.enqueue(target, m, now, this.nextSequenceNumber++);
    }
  }

  /** Schedules messages (the SDK's scheduleMessages); returns their sequence numbers. */
  schedule(address: string, messages: { amqp: AmqpMessage; enqueueAt: number }[]): number[] {
    this.target(address);
    return messages.map(({ amqp, enqueueAt }) => this.scheduleOne(address, amqp, enqueueAt));
  }

  private scheduleOne(address: string, amqp: AmqpMessage, enqueueAt: number): number {
    const sequenceNumber = this.nextSequenceNumber++;
    this.scheduled.push({ sequenceNumber, address, amqp, enqueueAt });
    this.journal?.record({ t: 'sch', s: sequenceNumber, a: address, m: encodeAmqp(amqp), at: enqueueAt });
    return sequenceNumber;
  }

  cancelScheduled(address: string, sequenceNumbers: number[]): void {
    const drop = new Set(sequenceNumbers);
    const before = this.scheduled.length;
    this.scheduled = this.scheduled.filter((s) => !(drop.has(s.sequenceNumber) && s.address.toLowerCase() === address.toLowerCase()));
    if (this.scheduled.length !== before) this.journal?.record({ t: 'unsch', s: sequenceNumbers });
  }

  /** Records every later change in `sink` (journal.ts attaches it after restoring). */
  attachJournal(sink: BrokerJournalSink | undefined): void {
    this.journal = sink;
    for (const e of this.allEntities()) e.journal = sink;
  }

  /** Undefined when every change is on disk (or the broker is not durable), else a promise for it. */
  whenDurable(): Promise<void> | undefined {
    return this.journal?.whenDurable();
  }

  /** The namespace's whole state, read synchronously (journal snapshots). */
  exportState(): BrokerState {
    const entities: BrokerState['entities'] = {};
    for (const e of this.allEntities()) {
      const s = e.exportState();
      if (s.messages.length || Object.keys(s.sessions).length) entities[e.path] = s;
    }
    const duplicates: BrokerState['duplicates'] = {};
    for (const [name, t] of [...this.topics, ...this.queues]) if (t.duplicates.size) duplicates[name] = [...t.duplicates];
    return {
      nextSequenceNumber: this.nextSequenceNumber,
      entities,
      scheduled: this.scheduled.map((s) => ({ s: s.sequenceNumber, a: s.address, m: encodeAmqp(s.amqp), at: s.enqueueAt })),
      duplicates,
    };
  }

  /** Loads a restored state into an empty namespace (before any client connects). */
  importState(state: BrokerState): void {
    this.nextSequenceNumber = Math.max(this.nextSequenceNumber, state.nextSequenceNumber);
    for (const [path, s] of Object.entries(state.entities)) {
      const entity = this.entities.get(path.toLowerCase());
      if (!entity) continue; // the topology no longer has it
      entity.importState(s.messages.map(storedMessageOf), s.sessions);
    }
    this.scheduled = state.scheduled
      .filter((s) => this.isSendable(s.a))
      .map((s) => ({ sequenceNumber: s.s, address: s.a, amqp: decodeAmqp(s.m), enqueueAt: s.at }));
    const now = this.clock.now();
    for (const [name, entries] of Object.entries(state.duplicates)) {
      const t = this.topics.get(name) ?? this.queues.get(name);
      if (!t) continue;
      for (const [id, at] of entries) if (at + t.definition.duplicateDetectionWindowMs > now) t.duplicates.set(id, at);
    }
  }

  scheduledCount(address?: string): number {
    return this.scheduled.filter((s) => address === undefined || s.address.toLowerCase() === address.toLowerCase()).length;
  }

  private enqueue(target: TopicState | QueueState, sent: AmqpMessage, now: number, sequenceNumber: number): void {
    const def = target.definition;
    // Like Service Bus, give a message without a MessageId one (receivers and lock renewal rely on it).
    const m: AmqpMessage = sent.message_id === undefined || sent.message_id === null ? { ...sent, message_id: randomUUID().replace(/-/g, '') } : sent;
    const messageId = str(m.message_id);
    if (def.requiresDuplicateDetection && messageId !== undefined) {
      for (const [id, at] of target.duplicates) {
        if (at + def.duplicateDetectionWindowMs > now) break;
        target.duplicates.delete(id);
      }
      const seen = target.duplicates.get(messageId);
      if (seen !== undefined && seen + def.duplicateDetectionWindowMs > now) return;
      target.duplicates.delete(messageId);
      target.duplicates.set(messageId, now);
      this.journal?.record({ t: 'dup', a: def.name.toLowerCase(), id: messageId, at: now });
    }
    const input = filterInputOf(m);
    const ttlFromMessage = typeof m.ttl === 'number' && m.ttl > 0 ? m.ttl : undefined;
    const make = (settings: { defaultMessageTtlMs?: number }): StoredMessage => {
      const ttl = Math.min(ttlFromMessage ?? Infinity, settings.defaultMessageTtlMs ?? Infinity);
      return {
        sequenceNumber,
        amqp: m,
        enqueuedAt: now,
        expiresAt: Number.isFinite(ttl) ? now + ttl : undefined,
        sessionId: input.sessionId,
        deliveries: 0,
        state: 'active',
      };
    };
    if ('subscriptions' in target) {
      for (const s of target.subscriptions) {
        if (!s.definition.filter || s.definition.filter.matches(input)) s.entity.add(make(s.definition));
      }
    } else {
      target.entity.add(make(target.definition));
    }
  }

  /** Applies everything due at the clock's current time: scheduled enqueues, lock and TTL expiry. */
  tick(): void {
    const now = this.clock.now();
    if (this.scheduled.length) {
      const due = this.scheduled.filter((s) => s.enqueueAt <= now).sort((a, b) => a.enqueueAt - b.enqueueAt || a.sequenceNumber - b.sequenceNumber);
      if (due.length) {
        this.scheduled = this.scheduled.filter((s) => s.enqueueAt > now);
        this.journal?.record({ t: 'unsch', s: due.map((s) => s.sequenceNumber) });
        for (const s of due) this.enqueue(this.target(s.address), s.amqp, now, s.sequenceNumber);
      }
    }
    for (const e of this.allEntities()) e.expire(now);
  }
}
