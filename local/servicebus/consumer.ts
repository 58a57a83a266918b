/**
 * In-process consumer for the local functions host: delivers an entity's messages to a handler
 * the way the Functions Service Bus trigger does (peek-lock, auto-complete on success, abandon on
 * throw, lock auto-renewal, one message at a time per session), without going through AMQP.
 */
import type { Message as AmqpMessage } from 'rhea';
import { isDeadLetterError } from '../../functions/adapters/servicebus/errors';
import { applicationPropertiesOf, BrokerError, type MessageEntity, type ReceivedMessage, type StoredMessage } from './engine';

/** A received message as the local host hands it to a trigger. */
export interface LocalServiceBusMessage {
  body: unknown;
  messageId?: string;
  sessionId?: string;
  /** Service Bus DeliveryCount: 1 on the first delivery, +1 per abandon or lost lock (as the Functions host reports it). */
  deliveryCount: number;
  applicationProperties: Record<string, unknown>;
  enqueuedTimeUtc: Date;
  sequenceNumber: number;
  contentType?: string;
  correlationId?: string;
  subject?: string;
  to?: string;
  replyTo?: string;
  timeToLiveMs?: number;
  expiresAtUtc?: Date;
  lockToken?: string;
  lockedUntilUtc?: Date;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  /** Dead-letters the message now (the handler's later return or throw then changes nothing). */
  deadLetter(reason: string, description?: string): void;
}

export type MessageHandler = (message: LocalServiceBusMessage) => Promise<void> | void;

export interface ConsumeOptions {
  /** Handlers running at once (non-session entities). Default 16. */
  maxConcurrentCalls?: number;
  /** Session-aware delivery; defaults to whether the entity requires sessions. */
  sessions?: boolean;
  /** Sessions processed at once when `sessions`. Default 8. */
  maxConcurrentSessions?: number;
  /** Renew locks while a handler runs (like the Functions host). Default true. */
  autoRenewLocks?: boolean;
  maxAutoLockRenewalDurationMs?: number;
  /** Told about handler failures (ids only); the message is abandoned or dead-lettered regardless. */
  onError?: (error: unknown, message: LocalServiceBusMessage) => void;
}

export interface Consumer {
  readonly entityPath: string;
  /** Resolves once nothing is in flight and nothing is waiting to be received. */
  whenIdle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : String(v);
}

/** Body as the Functions host gives it to Node: parsed JSON when it is JSON, else text or bytes. */
export function decodeBody(m: AmqpMessage): unknown {
  const body = m.body as unknown;
  const section = body as { typecode?: number; content?: unknown; multiple?: boolean } | undefined;
  if (section && typeof section === 'object' && typeof section.typecode === 'number') {
    if (section.typecode === 0x75) {
      const bytes = section.multiple ? Buffer.concat((section.content as Buffer[]).filter(Buffer.isBuffer)) : (section.content as Buffer);
      const text = bytes.toString('utf8');
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }
    return section.content;
  }
  return body;
}

/** Converts a stored message for a handler or an inspection listing. */
export function toLocalMessage(
  stored: StoredMessage,
  received?: ReceivedMessage,
  settleDeadLetter?: (reason: string, description?: string) => void,
): LocalServiceBusMessage {
  const m = stored.amqp;
  const props = applicationPropertiesOf(m);
  return {
    body: decodeBody(m),
    messageId: str(m.message_id),
    sessionId: stored.sessionId,
    deliveryCount: stored.deliveries,
    applicationProperties: { ...props },
    enqueuedTimeUtc: new Date(stored.enqueuedAt),
    sequenceNumber: stored.sequenceNumber,
    contentType: str(m.content_type),
    correlationId: str(m.correlation_id),
    subject: str(m.subject),
    to: str(m.to),
    replyTo: str(m.reply_to),
    timeToLiveMs: stored.expiresAt !== undefined ? stored.expiresAt - stored.enqueuedAt : undefined,
    expiresAtUtc: stored.expiresAt !== undefined ? new Date(stored.expiresAt) : undefined,
    lockToken: received?.lockToken,
    lockedUntilUtc: received?.lockedUntil !== undefined ? new Date(received.lockedUntil) : undefined,
    deadLetterReason: str(props.DeadLetterReason),
    deadLetterErrorDescription: str(props.DeadLetterErrorDescription),
    deadLetter: (reason, description) => {
      if (!settleDeadLetter) throw new Error('This message is not settleable.');
      settleDeadLetter(reason, description);
    },
  };
}

/**
 * The trigger metadata the Azure Functions host gives a Node Service Bus trigger
 * (`context.triggerMetadata`), for the local host's glue.
 */
export function serviceBusTriggerMetadata(message: LocalServiceBusMessage): Record<string, unknown> {
  return {
    messageId: message.messageId,
    sessionId: message.sessionId,
    deliveryCount: message.deliveryCount,
    enqueuedTimeUtc: message.enqueuedTimeUtc.toISOString(),
    expiresAtUtc: message.expiresAtUtc?.toISOString(),
    sequenceNumber: message.sequenceNumber,
    lockToken: message.lockToken,
    contentType: message.contentType,
    correlationId: message.correlationId,
    subject: message.subject,
    label: message.subject,
    to: message.to,
    replyTo: message.replyTo,
    applicationProperties: message.applicationProperties,
    userProperties: message.applicationProperties,
    deadLetterReason: message.deadLetterReason,
    deadLetterErrorDescription: message.deadLetterErrorDescription,
  };
}

export class EntityConsumer implements Consumer {
  private readonly owner = {};
  private inFlight = 0;
  private activeSessions = 0;
  private closed = false;
  private pumpScheduled = false;
  private readonly settled = new Set<Promise<void>>();
  private readonly onAvailable = () => this.schedulePump();
  private readonly maxConcurrentCalls: number;
  private readonly maxConcurrentSessions: number;
  private readonly sessions: boolean;

  constructor(
    private readonly entity: MessageEntity,
    private readonly handler: MessageHandler,
    private readonly options: ConsumeOptions = {},
  ) {
    this.maxConcurrentCalls = Math.max(1, options.maxConcurrentCalls ?? 16);
    this.maxConcurrentSessions = Math.max(1, options.maxConcurrentSessions ?? 8);
    this.sessions = options.sessions ?? entity.settings.requiresSession;
    if (this.sessions !== entity.settings.requiresSession) {
      throw new Error(`Entity '${entity.path}' ${entity.settings.requiresSession ? 'requires' : 'does not support'} sessions.`);
    }
    entity.events.on('available', this.onAvailable);
    this.schedulePump();
  }

  get entityPath(): string {
    return this.entity.path;
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    if (this.sessions) {
      while (this.activeSessions < this.maxConcurrentSessions) {
        const accepted = this.entity.acceptSession(this.owner);
        if (!accepted) break;
        this.activeSessions++;
        this.track(this.runSession(accepted.sessionId));
      }
      return;
    }
    while (this.inFlight < this.maxConcurrentCalls) {
      const next = this.entity.receiveNext(this.owner, { mode: 'peekLock' });
      if (!next) break;
      this.track(this.process(next, undefined).then(() => this.schedulePump()));
    }
  }

  private track(p: Promise<void>): void {
    const guarded = p.catch(() => undefined);
    this.settled.add(guarded);
    void guarded.finally(() => this.settled.delete(guarded));
  }

  /** One session at a time per worker: its messages strictly in order, then the session lock is released. */
  private async runSession(sessionId: string): Promise<void> {
    try {
      while (!this.closed) {
        let next: ReceivedMessage | undefined;
        try {
          next = this.entity.receiveNext(this.owner, { mode: 'peekLock', sessionId });
        } catch (err) {
          if (err instanceof BrokerError) return; // session lock lost; another worker may take it
          throw err;
        }
        if (!next) return;
        await this.process(next, sessionId);
      }
    } finally {
      this.entity.releaseSession(this.owner, sessionId);
      this.activeSessions--;
      this.schedulePump();
    }
  }

  private async process(received: ReceivedMessage, sessionId: string | undefined): Promise<void> {
    this.inFlight++;
    const lockToken = received.lockToken!;
    let settledByHandler = false;
    const message = toLocalMessage(received.stored, received, (reason, description) => {
      if (settledByHandler) return;
      this.entity.settle(lockToken, { kind: 'deadLetter', reason, description });
      settledByHandler = true;
    });
    const renewal = this.startRenewal(lockToken, sessionId);
    try {
      await this.handler(message);
      if (!settledByHandler) {
        this.entity.settle(lockToken, { kind: 'complete' });
        settledByHandler = true;
      }
      // Done once the completion is on disk (durable broker): it is then never delivered again.
      await this.entity.whenDurable();
    } catch (err) {
      this.options.onError?.(err, message);
      if (!settledByHandler) {
        try {
          if (isDeadLetterError(err)) {
            this.entity.settle(lockToken, { kind: 'deadLetter', reason: err.deadLetterReason, description: err.deadLetterErrorDescription });
          } else {
            this.entity.settle(lockToken, { kind: 'abandon' });
          }
        } catch {
          /* lock already lost: the broker redelivers on its own */
        }
      }
    } finally {
      if (renewal) clearInterval(renewal);
      this.inFlight--;
    }
  }

  private startRenewal(lockToken: string, sessionId: string | undefined): NodeJS.Timeout | undefined {
    if (this.options.autoRenewLocks === false) return undefined;
    const every = Math.max(10, Math.floor(this.entity.settings.lockDurationMs / 2));
    const stopAt = Date.now() + (this.options.maxAutoLockRenewalDurationMs ?? 5 * 60_000);
    const timer = setInterval(() => {
      if (Date.now() > stopAt) return clearInterval(timer);
      try {
        if (sessionId !== undefined) this.entity.renewSessionLock(this.owner, sessionId);
        else this.entity.renewLock(lockToken);
      } catch {
        clearInterval(timer);
      }
    }, every);
    timer.unref();
    return timer;
  }

  async whenIdle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = this.entity.counts();
      if (this.inFlight === 0 && this.activeSessions === 0 && c.active === 0 && c.locked === 0 && !this.pumpScheduled) return;
      if (Date.now() > deadline) throw new Error(`Consumer on '${this.entity.path}' not idle after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.entity.events.off('available', this.onAvailable);
    await Promise.all([...this.settled]);
  }
}
