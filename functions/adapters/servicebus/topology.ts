/**
 * The Service Bus topology Slotflow uses, defined once: the triggers (functions/events, functions/ehr),
 * the AsyncAPI document, the embedded broker (local/servicebus) and the bicep drift tests all read it.
 * bicep/ deploys the same names and filters (see `sqlFilter`).
 */
import { EventType } from '../../../domain/event-types';

/** What a subscription filter sees of a message (the system properties a SQL filter can name, plus app properties). */
export interface FilterInput {
  applicationProperties: Readonly<Record<string, unknown>>;
  messageId?: string;
  sessionId?: string;
  subject?: string;
  correlationId?: string;
  contentType?: string;
}

/** A subscription filter: a TS predicate for the local broker and the equivalent SQL rule for Azure. */
export interface SubscriptionFilter {
  readonly sqlFilter: string;
  matches(message: FilterInput): boolean;
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `property IN ('a', 'b')` on an application property. */
export function propertyIn(property: string, values: readonly string[]): SubscriptionFilter {
  const allowed = new Set(values);
  return {
    sqlFilter: `${property} IN (${values.map(sqlString).join(', ')})`,
    matches: (m) => {
      const v = m.applicationProperties[property];
      return typeof v === 'string' && allowed.has(v);
    },
  };
}

/** `property LIKE 'prefix%'` on an application property (prefix match only). */
export function propertyStartsWith(property: string, prefix: string): SubscriptionFilter {
  return {
    sqlFilter: `${property} LIKE ${sqlString(`${prefix}%`)}`,
    matches: (m) => {
      const v = m.applicationProperties[property];
      return typeof v === 'string' && v.startsWith(prefix);
    },
  };
}

export interface SubscriptionDefinition {
  readonly name: string;
  readonly requiresSession: boolean;
  readonly maxDeliveryCount: number;
  /** Peek-lock duration (Azure: PT1M by default). */
  readonly lockDurationMs: number;
  readonly defaultMessageTtlMs?: number;
  /** Absent: every message (Azure's default `1=1` rule). */
  readonly filter?: SubscriptionFilter;
}

export interface TopicDefinition {
  readonly name: string;
  readonly requiresDuplicateDetection: boolean;
  readonly duplicateDetectionWindowMs: number;
  readonly subscriptions: readonly SubscriptionDefinition[];
}

export interface QueueDefinition {
  readonly name: string;
  readonly requiresSession: boolean;
  readonly maxDeliveryCount: number;
  readonly lockDurationMs: number;
  readonly requiresDuplicateDetection: boolean;
  readonly duplicateDetectionWindowMs: number;
  readonly defaultMessageTtlMs?: number;
}

export interface Topology {
  readonly topics: readonly TopicDefinition[];
  readonly queues: readonly QueueDefinition[];
}

export const SCHEDULING_EVENTS_TOPIC = 'scheduling-events';
export const EHR_INBOUND_QUEUE = 'ehr-inbound';
export const DEFAULT_DUPLICATE_DETECTION_WINDOW_MS = 10 * 60_000;
export const DEFAULT_LOCK_DURATION_MS = 60_000;
export const SLOTFLOW_MAX_DELIVERY_COUNT = 10;

/** The subscriptions of the events topic, one per reacting trigger. */
export const Subscriptions = {
  backfill: 'backfill',
  eligibility: 'eligibility',
  reminders: 'reminders',
  providerAbsence: 'provider-absence',
  ehrOutbound: 'ehr-outbound',
  noShowFollowUp: 'no-show-follow-up',
} as const;
export type SubscriptionName = (typeof Subscriptions)[keyof typeof Subscriptions];

/** Event types each subscription receives (filter on application property `type`). */
export const SUBSCRIPTION_EVENT_TYPES = {
  backfill: [EventType.appointmentCancelled, EventType.appointmentNoShow, EventType.slotReleased, EventType.offerExpired],
  eligibility: [EventType.appointmentBooked, EventType.appointmentRescheduled, EventType.appointmentCancelled],
  reminders: [EventType.appointmentBooked, EventType.appointmentRescheduled, EventType.appointmentCancelled],
  'provider-absence': [EventType.providerAbsence],
  'no-show-follow-up': [EventType.appointmentNoShow],
} as const;

/** `ehr-outbound` takes every appointment event. */
export const APPOINTMENT_EVENT_PREFIX = 'health.scheduling.appointment.';

function sessionSubscription(name: SubscriptionName, filter: SubscriptionFilter): SubscriptionDefinition {
  return { name, requiresSession: true, maxDeliveryCount: SLOTFLOW_MAX_DELIVERY_COUNT, lockDurationMs: DEFAULT_LOCK_DURATION_MS, filter };
}

export const slotflowTopology: Topology = {
  topics: [
    {
      name: SCHEDULING_EVENTS_TOPIC,
      requiresDuplicateDetection: true,
      duplicateDetectionWindowMs: DEFAULT_DUPLICATE_DETECTION_WINDOW_MS,
      subscriptions: [
        sessionSubscription(Subscriptions.backfill, propertyIn('type', SUBSCRIPTION_EVENT_TYPES.backfill)),
        sessionSubscription(Subscriptions.eligibility, propertyIn('type', SUBSCRIPTION_EVENT_TYPES.eligibility)),
        sessionSubscription(Subscriptions.reminders, propertyIn('type', SUBSCRIPTION_EVENT_TYPES.reminders)),
        sessionSubscription(Subscriptions.providerAbsence, propertyIn('type', SUBSCRIPTION_EVENT_TYPES['provider-absence'])),
        sessionSubscription(Subscriptions.ehrOutbound, propertyStartsWith('type', APPOINTMENT_EVENT_PREFIX)),
        sessionSubscription(Subscriptions.noShowFollowUp, propertyIn('type', SUBSCRIPTION_EVENT_TYPES['no-show-follow-up'])),
      ],
    },
  ],
  queues: [
    {
      name: EHR_INBOUND_QUEUE,
      requiresSession: false,
      maxDeliveryCount: SLOTFLOW_MAX_DELIVERY_COUNT,
      lockDurationMs: DEFAULT_LOCK_DURATION_MS,
      requiresDuplicateDetection: false,
      duplicateDetectionWindowMs: DEFAULT_DUPLICATE_DETECTION_WINDOW_MS,
    },
  ],
};

/** Entity path of a subscription as Service Bus addresses it. */
export function subscriptionPath(topicName: string, subscriptionName: string): string {
  return `${topicName}/Subscriptions/${subscriptionName}`;
}

/** Entity path of an entity's dead-letter sub-queue. */
export function deadLetterPath(entityPath: string): string {
  return `${entityPath}/$DeadLetterQueue`;
}
