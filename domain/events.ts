import { z } from 'zod';
import { DomainError, ErrorCode } from './errors';
import { EventType } from './event-types';
import { instantSchema } from './model';

export { EventType };

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/);
const appointmentRef = {
  appointmentId: id,
  slotId: id,
  clinicId: id,
  providerId: id,
  patientId: id,
  appointmentType: id,
  start: instantSchema,
  end: instantSchema,
};

/** Payload schemas: identifiers, instants and codes only, never PHI (no names, phones or clinical text). */
export const eventDataSchemas = {
  [EventType.appointmentBooked]: z.object({ ...appointmentRef, status: z.enum(['booked', 'pending']), channel: z.string().max(20) }).strict(),
  [EventType.appointmentCancelled]: z
    .object({ ...appointmentRef, reasonCode: z.string().max(64), cancelledBy: z.enum(['staff', 'patient', 'ehr', 'system']), late: z.boolean() })
    .strict(),
  [EventType.appointmentNoShow]: z.object({ ...appointmentRef }).strict(),
  [EventType.appointmentRescheduled]: z.object({ ...appointmentRef, previousSlotId: id, previousStart: instantSchema, previousEnd: instantSchema }).strict(),
  [EventType.appointmentConfirmed]: z.object({ ...appointmentRef, channel: z.string().max(20) }).strict(),
  [EventType.slotReleased]: z
    .object({
      slotId: id,
      clinicId: id,
      providerId: id,
      appointmentType: id,
      start: instantSchema,
      end: instantSchema,
      reason: z.enum(['cancelled', 'noshow', 'offer-lapsed', 'rescheduled', 'absence']),
      appointmentId: id.optional(),
      /** A move-up freed this slot: the link of the cascade that did (the offer accepted, and how deep the chain now is). */
      cascade: z
        .object({ depth: z.number().int().min(1).max(50), offerId: id, workflowInstanceId: id })
        .strict()
        .optional(),
    })
    .strict(),
  [EventType.offerSent]: z
    .object({ offerId: id, waitlistEntryId: id, patientId: id, slotId: id, clinicId: id, expiresAt: instantSchema, round: z.number().int().min(1) })
    .strict(),
  [EventType.offerAccepted]: z
    .object({
      offerId: id,
      waitlistEntryId: id,
      patientId: id,
      slotId: id,
      clinicId: id,
      appointmentId: id,
      /** True when the offer moved an appointment the patient already held (the appointment id is unchanged). */
      moveUp: z.boolean(),
      /** Move-ups: the slot the appointment left (released with reason `rescheduled`). */
      previousSlotId: id.optional(),
    })
    .strict(),
  [EventType.offerExpired]: z.object({ offerId: id, waitlistEntryId: id, patientId: id, slotId: id, clinicId: id, appointmentType: id }).strict(),
  [EventType.eligibilityVerified]: z.object({ appointmentId: id, patientId: id, clinicId: id, checkedAt: instantSchema }).strict(),
  [EventType.eligibilityFailed]: z
    .object({
      appointmentId: id,
      patientId: id,
      clinicId: id,
      checkedAt: instantSchema,
      outcome: z.enum(['inactive', 'error']),
      reasonCode: z.string().max(64),
    })
    .strict(),
  [EventType.providerAbsence]: z
    .object({ absenceId: id, providerId: id, clinicId: id, from: instantSchema, to: instantSchema, reasonCode: z.string().max(64) })
    .strict(),
  [EventType.patientErased]: z.object({ patientId: id, erasedAt: instantSchema }).strict(),
} as const;

export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

/** A CloudEvents 1.0 structured-mode envelope. */
export interface CloudEvent<T extends EventType = EventType> {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  /** The appointment id for appointment events, else the slot, offer, provider or patient id. */
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: EventData<T>;
}
export type SchedulingEvent = { [T in EventType]: CloudEvent<T> }[EventType];

export const EVENT_SOURCE = '/slotflow/scheduling';

const envelopeSchema = z
  .object({
    specversion: z.literal('1.0'),
    id,
    source: z.string().min(1).max(200),
    type: z.string().min(1).max(100),
    subject: id,
    time: instantSchema,
    datacontenttype: z.literal('application/json').optional(),
    data: z.unknown(),
  })
  .passthrough();

/** Builds a validated event; throws if the payload breaks its schema (a programming error). */
export function makeEvent<T extends EventType>(type: T, data: EventData<T>, meta: { id: string; time: string; subject: string }): CloudEvent<T> {
  const parsed = eventDataSchemas[type].parse(data) as EventData<T>;
  return {
    specversion: '1.0',
    id: meta.id,
    source: EVENT_SOURCE,
    type,
    subject: meta.subject,
    time: meta.time,
    datacontenttype: 'application/json',
    data: parsed,
  };
}

/** Parses an event from the wire; EVENT.INVALID or EVENT.UNKNOWN_TYPE with the offending field, never the value. */
export function parseEvent(raw: unknown): SchedulingEvent {
  const value = typeof raw === 'string' ? safeJson(raw) : raw;
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) {
    throw new DomainError(ErrorCode.EVENT_INVALID, 'Not a CloudEvents 1.0 envelope', { field: envelope.error.issues[0]?.path.join('.') ?? '' });
  }
  const type = envelope.data.type as EventType;
  const schema = (eventDataSchemas as Record<string, z.ZodType>)[type];
  if (!schema) throw new DomainError(ErrorCode.EVENT_UNKNOWN_TYPE, 'Unknown event type', { type: envelope.data.type.slice(0, 100) });
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) {
    throw new DomainError(ErrorCode.EVENT_INVALID, 'Event data does not match its schema', { type, field: data.error.issues[0]?.path.join('.') ?? '' });
  }
  return { ...envelope.data, datacontenttype: 'application/json', type, data: data.data } as SchedulingEvent;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DomainError(ErrorCode.EVENT_INVALID, 'Event body is not JSON', { field: 'body' });
  }
}
