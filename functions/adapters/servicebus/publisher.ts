/**
 * EventPublisher over Azure Service Bus with the real `@azure/service-bus` SDK: one message per
 * CloudEvent (structured mode), MessageId = event id for duplicate detection, SessionId = the
 * appointment id so one appointment's events stay in order.
 */
import type { ServiceBusClient, ServiceBusMessage, ServiceBusMessageBatch, ServiceBusSender } from '@azure/service-bus';
import type { SchedulingEvent } from '../../../domain/events';
import type { EventPublisher } from '../../../domain/ports';
import { settings as appSettings, type AppSettings } from '../../app/config';
import { activeTraceparent, inSpan, recordEventMetrics, SpanKind } from '../../app/telemetry';

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

/** Structural view of the envelope the adapter needs; every SchedulingEvent fits it. */
export interface PublishableEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: unknown;
  /** CloudEvents distributed-tracing extension: the W3C trace context of the change that caused the event. */
  traceparent?: string;
}

function sessionIdOf(event: PublishableEvent): string {
  const data = event.data as { appointmentId?: unknown } | null;
  return typeof data?.appointmentId === 'string' && data.appointmentId ? data.appointmentId : event.subject;
}

/** The Service Bus message for one CloudEvent. */
export function toServiceBusMessage(event: PublishableEvent): ServiceBusMessage {
  return {
    body: Buffer.from(JSON.stringify(event), 'utf8'),
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    messageId: event.id,
    sessionId: sessionIdOf(event),
    subject: event.type,
    applicationProperties: {
      type: event.type,
      source: event.source,
      subject: event.subject,
      specversion: event.specversion,
      // The same trace context where Service Bus tooling looks for it (Diagnostic-Id) and by its W3C name.
      ...(event.traceparent ? { traceparent: event.traceparent, 'Diagnostic-Id': event.traceparent } : {}),
    },
  };
}

/**
 * The events with the publishing span's trace context. Without one (the outbox relay's timer has no
 * trace) each event keeps the context stored with it when the change was written.
 */
export function withTraceContext(events: readonly PublishableEvent[], traceparent: string | undefined): PublishableEvent[] {
  return traceparent ? events.map((e) => ({ ...e, traceparent })) : [...events];
}

/**
 * A client from settings: `ServiceBusConnection` (local connection string) or, in Azure,
 * `ServiceBusConnection__fullyQualifiedNamespace` with the managed identity (`AZURE_CLIENT_ID`).
 */
export function createServiceBusClient(
  settings: Pick<AppSettings, 'ServiceBusConnection' | 'ServiceBusConnection__fullyQualifiedNamespace' | 'AZURE_CLIENT_ID'>,
): ServiceBusClient {
  // The SDKs are required by the first client (once per instance), not at import: registering the functions needs neither.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ServiceBusClient } = require('@azure/service-bus') as typeof import('@azure/service-bus');
  if (settings.ServiceBusConnection) return new ServiceBusClient(settings.ServiceBusConnection);
  const namespace = settings.ServiceBusConnection__fullyQualifiedNamespace;
  if (!namespace) throw new Error('ServiceBusConnection__fullyQualifiedNamespace or ServiceBusConnection must be set');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
  const credential = new DefaultAzureCredential(settings.AZURE_CLIENT_ID ? { managedIdentityClientId: settings.AZURE_CLIENT_ID } : {});
  return new ServiceBusClient(namespace, credential);
}

export class ServiceBusEventPublisher implements EventPublisher {
  private client?: ServiceBusClient;
  private sender?: ServiceBusSender;
  private readonly connect: () => ServiceBusClient;

  /**
   * `client`: a client, or a function that makes one on the first publish (fromSettings: a cold
   * instance neither loads the Service Bus SDK nor opens a connection before it has an event to send).
   * `ownsClient`: close() closes the client too (true when built from settings).
   */
  constructor(
    client: ServiceBusClient | (() => ServiceBusClient),
    private readonly topicName: string,
    private readonly ownsClient = false,
  ) {
    if (typeof client === 'function') this.connect = client;
    else {
      this.client = client;
      this.connect = () => client;
      this.sender = client.createSender(topicName);
    }
  }

  /**
   * From app settings (this process's by default): connection string locally, managed identity in
   * Azure. The settings are checked now; the client is created by the first publish.
   */
  static fromSettings(
    settings: Pick<
      AppSettings,
      'ServiceBusConnection' | 'ServiceBusConnection__fullyQualifiedNamespace' | 'AZURE_CLIENT_ID' | 'SCHEDULING_EVENTS_TOPIC'
    > = appSettings(),
  ): ServiceBusEventPublisher {
    if (!settings.ServiceBusConnection && !settings.ServiceBusConnection__fullyQualifiedNamespace) {
      throw new Error('ServiceBusConnection__fullyQualifiedNamespace or ServiceBusConnection must be set');
    }
    return new ServiceBusEventPublisher(() => createServiceBusClient(settings), settings.SCHEDULING_EVENTS_TOPIC, true);
  }

  private senderOf(): ServiceBusSender {
    if (!this.sender) {
      this.client ??= this.connect();
      this.sender = this.client.createSender(this.topicName);
    }
    return this.sender;
  }

  /** Sends the events in as few batches as fit; resolves once Service Bus has accepted all of them. */
  async publish(events: SchedulingEvent[] | PublishableEvent[]): Promise<void> {
    if (events.length === 0) return;
    const sender = this.senderOf();
    await inSpan(
      `servicebus.send ${sender.entityPath}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'servicebus',
          'messaging.operation.type': 'send',
          'messaging.destination.name': sender.entityPath,
          'messaging.batch.message_count': events.length,
        },
      },
      async () => {
        const traced = withTraceContext(events as PublishableEvent[], activeTraceparent());
        await this.send(sender, traced);
        for (const event of traced) recordEventMetrics(event);
      },
    );
  }

  private async send(sender: ServiceBusSender, events: PublishableEvent[]): Promise<void> {
    let batch: ServiceBusMessageBatch = await sender.createMessageBatch();
    for (const event of events) {
      const message = toServiceBusMessage(event);
      if (batch.tryAddMessage(message)) continue;
      if (batch.count === 0) throw new Error(`Event ${event.id} is larger than the maximum Service Bus message size`);
      await sender.sendMessages(batch);
      batch = await sender.createMessageBatch();
      if (!batch.tryAddMessage(message)) throw new Error(`Event ${event.id} is larger than the maximum Service Bus message size`);
    }
    if (batch.count > 0) await sender.sendMessages(batch);
  }

  /** Closes the sender (and the client it owns); nothing to do when nothing was ever sent. */
  async close(): Promise<void> {
    await this.sender?.close();
    if (this.ownsClient) await this.client?.close();
  }
}
