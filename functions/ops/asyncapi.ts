import { z } from 'zod';
import { EVENT_SOURCE, eventDataSchemas, EventType } from '../../domain/events';

/** A W3C traceparent (version 00). */
const TRACEPARENT_SCHEMA = { type: 'string', pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' } as const;
import { APPOINTMENT_EVENT_PREFIX, SCHEDULING_EVENTS_TOPIC, SUBSCRIPTION_EVENT_TYPES } from '../adapters/servicebus/topology';

/**
 * The AsyncAPI 3.0 document of the `scheduling-events` topic, built from the same zod schemas the
 * triggers validate with and the same subscription filters the broker and bicep use, so it cannot
 * drift from the code. `npm run asyncapi` writes it to docs/asyncapi.json.
 */
export function asyncApiDocument(): Record<string, unknown> {
  const types = Object.values(EventType);
  const messageName = (type: string) =>
    type
      .replace(/^health\.scheduling\./, '')
      .replace(/\.v\d+$/, '')
      .replace(/[.]/g, '-');
  const messages: Record<string, unknown> = {};
  for (const type of types) {
    messages[messageName(type)] = {
      name: type,
      title: type,
      contentType: 'application/cloudevents+json',
      summary: `CloudEvents 1.0 envelope; data carries ids, instants and codes only (no PHI).`,
      headers: {
        type: 'object',
        description: 'Service Bus message properties',
        properties: {
          messageId: { type: 'string', description: 'the event id (duplicate detection)' },
          sessionId: { type: 'string', description: 'the appointment id, else the subject (per-appointment order)' },
          type: { const: type, description: 'application property used by subscription filters' },
          traceparent: { ...TRACEPARENT_SCHEMA, description: 'application property: the W3C trace context of the publishing span' },
          'Diagnostic-Id': { ...TRACEPARENT_SCHEMA, description: 'application property: the same trace context, where Service Bus tooling looks for it' },
        },
      },
      payload: {
        type: 'object',
        required: ['specversion', 'id', 'source', 'type', 'subject', 'time', 'data'],
        additionalProperties: false,
        properties: {
          specversion: { const: '1.0' },
          id: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' },
          source: { const: EVENT_SOURCE },
          type: { const: type },
          subject: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' },
          time: { type: 'string', format: 'date-time' },
          datacontenttype: { const: 'application/json' },
          traceparent: {
            ...TRACEPARENT_SCHEMA,
            description: 'CloudEvents distributed-tracing extension: the W3C trace context of the change (README, "Traces and metrics")',
          },
          data: stripSchemaKeyword(z.toJSONSchema(eventDataSchemas[type] as z.ZodType, { io: 'input' })),
        },
      },
    };
  }
  const subscriptions: Record<string, string[]> = {
    ...Object.fromEntries(Object.entries(SUBSCRIPTION_EVENT_TYPES).map(([name, list]) => [name, [...list]])),
    'ehr-outbound': types.filter((t) => t.startsWith(APPOINTMENT_EVENT_PREFIX)),
  };
  const ref = (type: string) => ({ $ref: `#/channels/schedulingEvents/messages/${messageName(type)}` });
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Slotflow scheduling events',
      version: '1.0.0',
      description: 'Every booking, cancellation, no-show and workflow outcome, published through the transactional outbox.',
    },
    defaultContentType: 'application/cloudevents+json',
    channels: {
      schedulingEvents: {
        address: SCHEDULING_EVENTS_TOPIC,
        description: 'Azure Service Bus topic (sessions on every subscription, duplicate detection on).',
        messages: Object.fromEntries(types.map((t) => [messageName(t), { $ref: `#/components/messages/${messageName(t)}` }])),
      },
    },
    operations: {
      publishSchedulingEvents: { action: 'send', channel: { $ref: '#/channels/schedulingEvents' }, messages: types.map(ref) },
      ...Object.fromEntries(
        Object.entries(subscriptions).map(([name, list]) => [
          `receive-${name}`,
          { action: 'receive', channel: { $ref: '#/channels/schedulingEvents' }, summary: `Subscription ${name}`, messages: list.map(ref) },
        ]),
      ),
    },
    components: { messages },
  };
}

/** Nested `$schema` keywords are noise inside an AsyncAPI payload. */
function stripSchemaKeyword(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _drop, ...rest } = schema;
  return rest;
}
