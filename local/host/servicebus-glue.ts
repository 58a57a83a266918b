import {
  LocalServiceBus,
  serviceBusTriggerMetadata,
  type ConsumeOptions,
  type EntitySource,
  type LocalServiceBusMessage,
  type MessageHandler,
} from '../servicebus';
import { createInvocationContext, consoleLogger, hookedHandler, type ExtraInputResolver, type HostLogger } from './invocation';
import type { CapturedFunction, FunctionRegistry } from './registry';
import { runAtOnce, type BackgroundRunner } from './priority';

/**
 * Glue between captured `app.serviceBusTopic` / `app.serviceBusQueue` functions and the local
 * broker (local/servicebus): each trigger consumes its queue or subscription with
 * peek-lock; a handler that resolves completes the message, one that throws abandons it
 * (redelivery with a higher delivery count, dead-letter after the entity's max delivery count).
 */

/** The part of the local broker the host uses (LocalServiceBus satisfies it). */
export interface LocalBroker {
  readonly connectionString: string;
  consume(source: EntitySource, handler: MessageHandler, options?: ConsumeOptions): { close(): Promise<void>; whenIdle(timeoutMs?: number): Promise<void> };
  /** Stops the broker (LocalServiceBus.close). */
  stop(): Promise<void>;
}

/** Starts the project's broker (all topics, subscriptions and queues of its topology) on a free port. */
export async function startDefaultBroker(logger: HostLogger = consoleLogger, journalDir?: string): Promise<LocalBroker> {
  const bus = await LocalServiceBus.start({
    dataDir: journalDir,
    onJournalEvent: (e) => {
      if (e.kind === 'error') logger('error', `[host] Service Bus journal failed, messages are no longer accepted: ${e.error.message}`);
      else if (e.report.messages || e.report.scheduled)
        logger(
          'information',
          `[host] Service Bus restored (${e.report.messages} messages, ${e.report.scheduled} scheduled, ${e.report.logRecords} log records)`,
        );
      if (e.kind === 'restored' && e.report.droppedBytes)
        logger('warning', `[host] Service Bus log: dropped a torn last record (${e.report.droppedBytes} bytes, never acknowledged)`);
    },
  });
  return Object.assign(bus, { stop: () => bus.close() }) as LocalServiceBus & LocalBroker;
}

/** The entity a Service Bus trigger binding reads. */
export function entityOf(fn: CapturedFunction): EntitySource {
  const t = fn.trigger as { queueName?: string; topicName?: string; subscriptionName?: string };
  if (t.queueName) return { queueName: t.queueName };
  if (t.topicName && t.subscriptionName) return { topicName: t.topicName, subscriptionName: t.subscriptionName };
  throw new Error(`Service Bus trigger ${fn.name} names neither a queue nor a topic subscription`);
}

export class ServiceBusTriggers {
  private readonly consumers: { fn: CapturedFunction; consumer: { close(): Promise<void>; whenIdle(timeoutMs?: number): Promise<void> } }[] = [];
  private readonly logger: HostLogger;

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly broker: LocalBroker,
    private readonly options: {
      resolveExtraInput?: ExtraInputResolver;
      logger?: HostLogger;
      /** host.json extensions.serviceBus limits. */
      maxConcurrentCalls?: number;
      maxConcurrentSessions?: number;
      /** Runs each invocation (the host's foreground gate; the message lock is renewed while it waits); default: at once. */
      runBackground?: BackgroundRunner;
    } = {},
  ) {
    this.logger = options.logger ?? consoleLogger;
  }

  async start(): Promise<void> {
    for (const fn of this.registry.ofType('serviceBusTrigger')) {
      const source = entityOf(fn);
      const sessions = fn.trigger.isSessionsEnabled === true;
      const consumer = this.broker.consume(source, (message) => this.invoke(fn, message), {
        sessions,
        maxConcurrentCalls: this.options.maxConcurrentCalls,
        maxConcurrentSessions: this.options.maxConcurrentSessions,
        onError: (_err, message) =>
          this.logger('warning', `[servicebus] ${fn.name} failed on message ${message.messageId ?? '?'} (delivery ${message.deliveryCount})`),
      });
      this.consumers.push({ fn, consumer });
    }
  }

  /** Resolves once every trigger's entity is drained and no handler runs. */
  async whenIdle(timeoutMs = 10_000): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.consumer.whenIdle(timeoutMs)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.splice(0).map((c) => c.consumer.close()));
  }

  /** One trigger invocation, as the Functions host makes it: the body, with triggerMetadata filled. */
  private async invoke(fn: CapturedFunction, message: LocalServiceBusMessage): Promise<void> {
    const many = fn.trigger.cardinality === 'many';
    const metadata = serviceBusTriggerMetadata(message);
    const triggerMetadata = many ? arrayMetadata(metadata) : metadata;
    const context = createInvocationContext(fn, {
      triggerMetadata,
      resolveExtraInput: this.options.resolveExtraInput,
      logger: this.logger,
    });
    const run = () => Promise.resolve(hookedHandler(this.registry, fn)(many ? [message.body] : message.body, context));
    await (this.options.runBackground ?? runAtOnce)(run);
  }
}

/** For cardinality "many" the host passes arrays (`messageIdArray`, ...) next to the batch. */
function arrayMetadata(single: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(single)) out[`${k}Array`] = [v];
  return out;
}
