/**
 * The local Service Bus: an in-process namespace reachable over AMQP by the real
 * `@azure/service-bus` SDK (connection string with UseDevelopmentEmulator=true), plus an
 * in-process consumer API for the local functions host and an inspection API for tests
 * and the dev console. See docs/local-servicebus.md.
 */
import type { Message as AmqpMessage } from 'rhea';
import { message as rheaMessage } from 'rhea';
import { AmqpFront } from './amqp';
import { EntityConsumer, toLocalMessage, type ConsumeOptions, type Consumer, type LocalServiceBusMessage, type MessageHandler } from './consumer';
import { Namespace, systemClock, type Clock, type MessageEntity } from './engine';
import { BrokerJournal, type BrokerRestoreReport } from './journal';
import { deadLetterPath, slotflowTopology, subscriptionPath, type Topology } from '../../functions/adapters/servicebus/topology';

export { DeadLetterError, isDeadLetterError } from '../../functions/adapters/servicebus/errors';
export { serviceBusTriggerMetadata, type ConsumeOptions, type Consumer, type LocalServiceBusMessage, type MessageHandler } from './consumer';
export { BrokerError, MAX_DELIVERY_COUNT_EXCEEDED, systemClock, type Clock } from './engine';
export * from '../../functions/adapters/servicebus/topology';

export interface LocalServiceBusOptions {
  topology?: Topology;
  clock?: Clock;
  /** How often due work (scheduled messages, lock expiry) is applied; 0 disables the timer (call `tick()`). Default 25 ms. */
  tickIntervalMs?: number;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /**
   * Durable broker: journal every accepted message and settlement in this folder (snapshot + log,
   * see journal.ts) and restore it on start. Default: memory only.
   */
  dataDir?: string;
  /** fdatasync the journal (default true). */
  fsync?: boolean;
  /** Told about journal failures and what a restore found. */
  onJournalEvent?: (event: { kind: 'restored'; report: BrokerRestoreReport } | { kind: 'error'; error: Error }) => void;
}

/** Where a consumer or an inspection call reads from. */
export type EntitySource =
  { topicName: string; subscriptionName: string; subQueue?: 'deadLetter' } | { queueName: string; subQueue?: 'deadLetter' } | { entityPath: string };

/** A message to send in-process (tests, dev console); mirrors ServiceBusMessage. */
export interface LocalMessageInput {
  body: unknown;
  messageId?: string;
  sessionId?: string;
  subject?: string;
  contentType?: string;
  correlationId?: string;
  applicationProperties?: Record<string, string | number | boolean | Date | null>;
  scheduledEnqueueTimeUtc?: Date;
  timeToLiveMs?: number;
}

export interface DeadLetteredMessage {
  entityPath: string;
  sequenceNumber: number;
  messageId?: string;
  sessionId?: string;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  deliveryCount: number;
  enqueuedTimeUtc: Date;
  applicationProperties: Record<string, unknown>;
  body: unknown;
}

export interface EntityCounts {
  entityPath: string;
  active: number;
  locked: number;
  deferred: number;
  deadLettered: number;
  lockedSessions: number;
}

export function entityPathOf(source: EntitySource): string {
  if ('entityPath' in source) return source.entityPath;
  const base = 'queueName' in source ? source.queueName : subscriptionPath(source.topicName, source.subscriptionName);
  return source.subQueue === 'deadLetter' ? deadLetterPath(base) : base;
}

/** Inspection and housekeeping for tests and the dev console. */
export class ServiceBusAdmin {
  constructor(private readonly ns: Namespace) {}

  private mainEntities(): MessageEntity[] {
    return this.ns.allEntities().filter((e) => !e.isDeadLetterQueue);
  }

  /** Dead-lettered messages with their reasons, oldest first; all entities unless one is named. */
  deadLetters(source?: EntitySource): DeadLetteredMessage[] {
    const entities = source ? [this.ns.entity(entityPathOf(source))] : this.mainEntities();
    return entities.flatMap((e) =>
      (e.deadLetterQueue ?? e).all().map((stored) => {
        const m = toLocalMessage(stored);
        return {
          entityPath: e.path,
          sequenceNumber: m.sequenceNumber,
          messageId: m.messageId,
          sessionId: m.sessionId,
          deadLetterReason: m.deadLetterReason,
          deadLetterErrorDescription: m.deadLetterErrorDescription,
          deliveryCount: m.deliveryCount,
          enqueuedTimeUtc: m.enqueuedTimeUtc,
          applicationProperties: m.applicationProperties,
          body: m.body,
        };
      }),
    );
  }

  /** Message counts per queue/subscription (dead-letter sub-queue counted beside its entity). */
  counts(): EntityCounts[] {
    return this.mainEntities().map((e) => {
      const c = e.counts();
      return {
        entityPath: e.path,
        active: c.active,
        locked: c.locked,
        deferred: c.deferred,
        lockedSessions: c.lockedSessions,
        deadLettered: e.deadLetterQueue?.counts().active ?? 0,
      };
    });
  }

  scheduledCount(address?: string): number {
    return this.ns.scheduledCount(address);
  }

  /** Messages in an entity without locking them. */
  peek(source: EntitySource): LocalServiceBusMessage[] {
    return this.ns
      .entity(entityPathOf(source))
      .all()
      .map((m) => toLocalMessage(m));
  }

  /** Empties every entity (and its dead-letter queue); returns how many messages were dropped. */
  purgeAll(): number {
    return this.ns.allEntities().reduce((n, e) => n + e.purge(), 0);
  }
}

/** Encodes an in-process message the way the SDK does (JSON bodies as a data section). */
export function toAmqpMessage(input: LocalMessageInput): AmqpMessage {
  const body = Buffer.isBuffer(input.body) ? input.body : Buffer.from(typeof input.body === 'string' ? input.body : JSON.stringify(input.body));
  const m: AmqpMessage = {
    body: rheaMessage.data_section(body),
    message_id: input.messageId,
    group_id: input.sessionId,
    subject: input.subject,
    content_type: input.contentType,
    correlation_id: input.correlationId,
    application_properties: input.applicationProperties ?? {},
  };
  if (input.timeToLiveMs !== undefined) m.ttl = input.timeToLiveMs;
  if (input.scheduledEnqueueTimeUtc) m.message_annotations = { 'x-opt-scheduled-enqueue-time': input.scheduledEnqueueTimeUtc };
  return m;
}

export class LocalServiceBus {
  readonly admin: ServiceBusAdmin;
  private readonly consumers = new Set<Consumer>();
  private timer?: NodeJS.Timeout;
  /** The journal when the broker is durable (`dataDir`). */
  journal?: BrokerJournal;

  private constructor(
    readonly namespace: Namespace,
    private readonly front: AmqpFront,
    readonly port: number,
    readonly host: string,
  ) {
    this.admin = new ServiceBusAdmin(namespace);
  }

  /** Starts the broker on a loopback port (a free one unless `port` is given). */
  static async start(options: LocalServiceBusOptions = {}): Promise<LocalServiceBus> {
    const ns = new Namespace(options.topology ?? slotflowTopology, options.clock ?? systemClock);
    let journal: BrokerJournal | undefined;
    if (options.dataDir !== undefined) {
      const opened = BrokerJournal.open(ns, options.dataDir, {
        fsync: options.fsync,
        onError: (error) => options.onJournalEvent?.({ kind: 'error', error }),
      });
      journal = opened.store;
      options.onJournalEvent?.({ kind: 'restored', report: opened.report });
    }
    const front = new AmqpFront(ns);
    const host = options.host ?? '127.0.0.1';
    const port = await front.listen({ host, port: options.port ?? 0 });
    const bus = new LocalServiceBus(ns, front, port, host);
    bus.journal = journal;
    const every = options.tickIntervalMs ?? 25;
    if (every > 0) {
      bus.timer = setInterval(() => ns.tick(), every);
      bus.timer.unref();
    }
    return bus;
  }

  /** For `ServiceBusConnection` / `new ServiceBusClient(...)`: plain AMQP on this port; any key works. */
  get connectionString(): string {
    return `Endpoint=sb://${this.host}:${this.port};SharedAccessKeyName=local;SharedAccessKey=local;UseDevelopmentEmulator=true`;
  }

  /**
   * Delivers an entity's messages to `handler` like a Functions Service Bus trigger: resolve ->
   * complete; throw -> abandon (redelivery, dead-letter after maxDeliveryCount); throw
   * DeadLetterError or call message.deadLetter() -> dead-letter now with that reason.
   */
  consume(source: EntitySource, handler: MessageHandler, options?: ConsumeOptions): Consumer {
    const consumer = new EntityConsumer(this.namespace.entity(entityPathOf(source)), handler, options);
    this.consumers.add(consumer);
    const close = consumer.close.bind(consumer);
    consumer.close = async () => {
      this.consumers.delete(consumer);
      await close();
    };
    return consumer;
  }

  /** Sends in-process to a topic or queue (same path as an SDK send). */
  send(address: string, messages: LocalMessageInput | LocalMessageInput[]): void {
    this.namespace.send(address, (Array.isArray(messages) ? messages : [messages]).map(toAmqpMessage));
  }

  /** Resolves once every change so far is on disk (at once when the broker is not durable). */
  async whenDurable(): Promise<void> {
    await this.namespace.whenDurable();
  }

  /** Applies due work now (with a manual clock and tickIntervalMs 0). */
  tick(): void {
    this.namespace.tick();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.consumers].map((c) => c.close()));
    await this.front.close();
    await this.journal?.stop();
  }
}
