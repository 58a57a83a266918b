import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';
import { isDomainError, parseEvent, type SchedulingEvent } from '../../domain';
import { isDeepFrozen } from '../../domain/frozen';
import { DeadLetterError } from '../adapters/servicebus/errors';
import { SCHEDULING_EVENTS_TOPIC, type SubscriptionName } from '../adapters/servicebus/topology';
import { getServices } from './services';
import { telemetryMetrics, withTraceparent } from './telemetry';

const PROCESSED_TTL_SECONDS = 7 * 24 * 3600;
const POISON_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Registers a Service Bus trigger on one subscription of the events topic. The message is parsed as
 * a CloudEvent (malformed or unknown -> dead-letter with the reason, never retried; in Azure, parked
 * in a poison record with the reason, see below), duplicates are
 * skipped by event id per subscription, and `handle` runs with a durable client. A throw from
 * `handle` abandons the message, so Service Bus redelivers it up to its max delivery count.
 */
export function registerEventTrigger(
  functionName: string,
  subscriptionName: SubscriptionName,
  handle: (event: SchedulingEvent, client: DurableClient, context: InvocationContext) => Promise<void>,
): void {
  app.serviceBusTopic(functionName, {
    connection: 'ServiceBusConnection',
    topicName: SCHEDULING_EVENTS_TOPIC,
    subscriptionName,
    isSessionsEnabled: true,
    extraInputs: [df.input.durableClient()],
    handler: async (message: unknown, context: InvocationContext) => {
      let event: SchedulingEvent;
      try {
        event = parseEvent(message);
      } catch (e) {
        const reason = isDomainError(e) ? e.code : 'EVENT.INVALID';
        const field = isDomainError(e) ? String(e.details.field ?? e.details.type ?? '') : '';
        const description = field ? `invalid field: ${field}` : 'message is not a valid scheduling event';
        const messageId = String(context.triggerMetadata?.messageId ?? '');
        context.warn(`dead-lettering message ${messageId} on ${subscriptionName}: ${reason} ${field}`);
        const services = await getServices();
        if (services.settings.SLOTFLOW_ENV === 'azure') {
          // The Functions host auto-completes and cannot dead-letter with a reason from Node code:
          // throwing would cost ten deliveries and end as MaxDeliveryCountExceeded. Park the message
          // (reason and body, encrypted at rest, 30-day TTL) and complete it instead.
          await services.idempotency.putIfAbsent(
            {
              scope: 'event',
              key: `poison:${subscriptionName}:${messageId}`,
              response: { status: 422, body: { reason, description, body: JSON.stringify(message ?? null).slice(0, 64_000) } },
              createdAt: services.clock.now().toUTC().toISO()!,
            },
            POISON_TTL_SECONDS,
          );
          telemetryMetrics.poisonRecord(subscriptionName, reason);
          return;
        }
        telemetryMetrics.deadLetter(subscriptionName, reason);
        throw new DeadLetterError(reason, description);
      }
      const services = await getServices();
      const key = `${subscriptionName}:${event.id}`;
      if (await services.idempotency.get('event', key)) {
        context.log(`duplicate event ${event.id} on ${subscriptionName}: skipped`);
        return;
      }
      await handle(event, durableClientOf(context), context);
      await services.idempotency.putIfAbsent({ scope: 'event', key, createdAt: services.clock.now().toUTC().toISO()! }, PROCESSED_TTL_SECONDS);
    },
  });
}

const CLIENT_CACHE_SIZE = 8;
const clients = new Map<string, DurableClient>();

/**
 * `df.getClient(context)`, one client per distinct binding data. The binding data is per host (task
 * hub, webhook URLs), not per message, and a DurableClient holds nothing but that data and an axios
 * instance, so messages share clients instead of each building one (URL validation, axios config).
 * Keyed by the data's JSON and WEBSITE_HOSTNAME (getClient rewrites URLs by it); a few entries at most.
 */
export function durableClientOf(context: InvocationContext): DurableClient {
  const input = context.options.extraInputs.find((i) => i.type === 'durableClient' || i.type === 'orchestrationClient');
  const data = input ? context.extraInputs.get(input) : undefined;
  if (!data || typeof data !== 'object') return df.getClient(context);
  const host = process.env.WEBSITE_HOSTNAME ?? '';
  // A host that hands the same binding object to every invocation (the simulator) skips the JSON key.
  const seen = byBindingObject.get(data);
  if (seen && seen.host === host && clients.get(seen.key) === seen.client) return seen.client;
  const key = `${host}|${JSON.stringify(data)}`;
  let client = clients.get(key);
  if (!client) {
    client = df.getClient(context);
    if (clients.size >= CLIENT_CACHE_SIZE) clients.delete(clients.keys().next().value!);
    clients.set(key, client);
  }
  if (isDeepFrozen(data)) byBindingObject.set(data, { host, key, client });
  return client;
}
/** Deeply frozen binding data objects already keyed (such an object cannot change, so its JSON key stands). */
const byBindingObject = new WeakMap<object, { host: string; key: string; client: DurableClient }>();

const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew', 'Suspended']);

/** The instance's runtime status, or undefined if it does not exist. */
export async function instanceStatus(client: DurableClient, instanceId: string): Promise<string | undefined> {
  try {
    const status = await client.getStatus(instanceId);
    return status?.runtimeStatus ? String(status.runtimeStatus) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts an orchestration with a deterministic id unless one is active, so a redelivered event never
 * starts a second copy. With `restartCompleted`, a finished instance is started afresh (a slot freed
 * again later gets a new backfill).
 */
export async function startOnce(
  client: DurableClient,
  name: string,
  instanceId: string,
  input: unknown,
  restartCompleted = false,
): Promise<'started' | 'already-running' | 'already-done'> {
  const status = await instanceStatus(client, instanceId);
  if (status && ACTIVE.has(status)) return 'already-running';
  if (status && !restartCompleted) return 'already-done';
  // The trace context rides in the input: the orchestration's episodes and activities join this trace (orchestrations/tracing.ts).
  await client.startNew(name, { instanceId, input: withTraceparent(input) });
  return 'started';
}

/** Raises an event on an instance if it is active; a finished or missing instance needs nothing. */
export async function raiseIfActive(client: DurableClient, instanceId: string, eventName: string, data: unknown): Promise<boolean> {
  const status = await instanceStatus(client, instanceId);
  if (!status || !ACTIVE.has(status)) return false;
  await client.raiseEvent(instanceId, eventName, data);
  return true;
}
