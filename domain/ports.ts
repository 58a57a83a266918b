import type { DateTime } from 'luxon';
import type { SchedulingEvent } from './events';
import type { Appointment, AppointmentStatus, AppointmentType, Clinic, Coverage, OfferStatus, Patient, Provider, WaitlistEntry, WaitlistOffer } from './model';

/** Time source; orchestrations pass context.df.currentUtcDateTime through a fixed clock. */
export interface Clock {
  now(): DateTime;
}

/** Id source. Ids are FHIR-safe: prefix + '-' + [A-Za-z0-9]. */
export interface IdGenerator {
  newId(prefix: string): string;
}

export interface Page<T> {
  items: T[];
  continuationToken?: string;
}

export interface ConfigRepository {
  getClinic(clinicId: string): Promise<Clinic | undefined>;
  putClinic(clinic: Clinic): Promise<void>;
  listClinics(): Promise<Clinic[]>;
  getAppointmentType(code: string): Promise<AppointmentType | undefined>;
  putAppointmentType(type: AppointmentType): Promise<void>;
  listAppointmentTypes(clinicId: string): Promise<AppointmentType[]>;
  getProvider(providerId: string): Promise<Provider | undefined>;
  putProvider(provider: Provider): Promise<void>;
  listProviders(clinicId: string): Promise<Provider[]>;
}

/** Stored patient: the contact record plus what the no-show policy needs. PHI. */
export interface PatientRecord extends Patient {
  /** Instants of recorded no-shows (for the rolling-window policy). */
  noShows: string[];
  updatedAt: string;
}

export interface PatientRepository {
  get(patientId: string): Promise<PatientRecord | undefined>;
  put(patient: PatientRecord): Promise<void>;
  /** Finds a patient by E.164 phone (inbound SMS). */
  findByPhone(phone: string): Promise<PatientRecord | undefined>;
  /**
   * Patients whose name contains every word of `text` (case-insensitive), at most `limit`, by name:
   * the front desk's lookup by name. Callers audit it; the text is PHI and is never logged.
   */
  searchByName(text: string, limit: number): Promise<PatientRecord[]>;
}

export interface AppointmentQuery {
  clinicId: string;
  from: string;
  to: string;
  providerId?: string;
  patientId?: string;
  status?: AppointmentStatus;
  limit?: number;
  continuationToken?: string;
}

export interface BusyQuery {
  clinicId: string;
  from: string;
  to: string;
  providerId?: string;
}

/** What slot search needs of an appointment that holds its time. */
export type BusyAppointment = Pick<Appointment, 'providerId' | 'start' | 'end' | 'status'> & {
  /** `Date.parse(start)` and `Date.parse(end)`, where an adapter already holds them (saves a parse per read in slot searches). */
  startMs?: number;
  endMs?: number;
};

export interface AppointmentRepository {
  get(appointmentId: string): Promise<Appointment | undefined>;
  /**
   * Stores a new appointment and its events (outbox) atomically with a claim on its slot and the
   * patient's time. Throws APPOINTMENT.SLOT_TAKEN or APPOINTMENT.PATIENT_OVERLAP on conflict, so
   * concurrent bookings of one slot give exactly one success.
   */
  create(appointment: Appointment, events: SchedulingEvent[]): Promise<Appointment>;
  /**
   * Replaces the appointment if its stored version is `expectedVersion` (else
   * APPOINTMENT.CONCURRENT_MODIFICATION), storing its events with it and releasing the slot and
   * patient claims when the new status no longer holds the time.
   */
  update(appointment: Appointment, expectedVersion: number, events: SchedulingEvent[]): Promise<Appointment>;
  list(query: AppointmentQuery): Promise<Page<Appointment>>;
  /**
   * The appointments of a clinic (or one provider) starting in [from, to) whose status holds their
   * time (OCCUPYING_STATUSES), with only what slot search needs: a cheaper read than `list`.
   */
  listBusy(query: BusyQuery): Promise<BusyAppointment[]>;
  /** The patient's appointments starting in [from, to). */
  listByPatient(patientId: string, from: string, to: string): Promise<Appointment[]>;
  findByExternalId(system: string, value: string): Promise<Appointment | undefined>;
}

export interface WaitlistRepository {
  add(entry: WaitlistEntry): Promise<void>;
  get(waitlistEntryId: string): Promise<WaitlistEntry | undefined>;
  update(entry: WaitlistEntry, expectedVersion: number): Promise<WaitlistEntry>;
  /**
   * Active entries of a clinic, optionally of one appointment type and only those a slot of
   * `providerId` can serve (no provider asked for, or that one among them).
   */
  listActive(clinicId: string, appointmentType?: string, providerId?: string): Promise<WaitlistEntry[]>;
  /** Entries of a clinic holding an open offer (status `offered`), of one appointment type, that a slot of `providerId` can serve; oldest first. */
  listOffered(clinicId: string, appointmentType: string, providerId: string): Promise<WaitlistEntry[]>;
  list(clinicId: string, page: { limit?: number; continuationToken?: string }): Promise<Page<WaitlistEntry>>;
}

export interface OfferRepository {
  create(offer: WaitlistOffer): Promise<void>;
  get(offerId: string): Promise<WaitlistOffer | undefined>;
  update(offer: WaitlistOffer, expectedVersion: number): Promise<WaitlistOffer>;
  listBySlot(slotId: string): Promise<WaitlistOffer[]>;
  /** The patient's offers with status `sent`, newest first. */
  listOpenForPatient(patientId: string): Promise<WaitlistOffer[]>;
  /** A clinic's offers sent in [sentFrom, sentTo) (optionally of one status), oldest first: the console's live workflow view. */
  listByClinic(clinicId: string, query: { sentFrom: string; sentTo: string; status?: OfferStatus }): Promise<WaitlistOffer[]>;
}

/**
 * Transactional outbox: events are stored with the state change that caused them; dispatch
 * publishes them (idempotent: the event id is the Service Bus MessageId) and marks them sent.
 * A relay re-dispatches whatever is still pending, so a change and its event never diverge for good.
 */
export interface Outbox {
  dispatch(events: SchedulingEvent[]): Promise<void>;
}

export interface EventPublisher {
  publish(events: SchedulingEvent[]): Promise<void>;
}

export type IdempotencyScope = 'event' | 'sms-inbound' | 'api' | 'hl7' | 'link';

export interface IdempotencyRecord {
  scope: IdempotencyScope;
  key: string;
  /** Hash of the request, to tell a replay from a reuse of the key with another body. */
  requestHash?: string;
  /** The first response, replayed for repeats. */
  response?: { status: number; body: unknown; headers?: Record<string, string> };
  createdAt: string;
}

export interface IdempotencyStore {
  get(scope: IdempotencyScope, key: string): Promise<IdempotencyRecord | undefined>;
  /** Create-only: returns false if the key already exists (the caller lost the race or is a repeat). */
  putIfAbsent(record: IdempotencyRecord, ttlSeconds: number): Promise<boolean>;
  /** Sets the response of a record this caller created. */
  complete(record: IdempotencyRecord, ttlSeconds: number): Promise<void>;
}

/** accept / dismiss: staff decisions on a suggestion (overbooking). */
export type AuditAction = 'read' | 'create' | 'update' | 'delete' | 'erase' | 'search' | 'accept' | 'dismiss';

/** Who did what to which resource: ids only, no PHI. */
export interface AuditEntry {
  principalId: string;
  action: AuditAction;
  resourceType: 'Patient' | 'Appointment' | 'WaitlistEntry' | 'WaitlistOffer' | 'SmsMessage' | 'Coverage' | 'OverbookingSuggestion';
  resourceId: string;
  /** The patient whose data was touched, for "who accessed my record" reports. */
  patientId?: string;
  correlationId: string;
  at: string;
  outcome: 'success' | 'denied' | 'failure';
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

export interface OutboundSms {
  to: string;
  body: string;
  /** For the message record and logs (never the phone or body). */
  patientId: string;
  purpose: 'offer' | 'offer-taken' | 'confirmation' | 'reminder' | 'cancellation' | 'eligibility' | 'reply' | 'booking-link' | 'follow-up';
  correlationId: string;
}

export interface SmsSender {
  /** Sends one SMS; returns the provider's message id. Throws TransientError on retryable failures. */
  send(message: OutboundSms): Promise<{ messageId: string }>;
}

export interface EligibilityRequest {
  appointmentId: string;
  patientId: string;
  clinicId: string;
  coverage: Coverage;
  serviceDate: string;
}

export interface EligibilityResult {
  status: 'active' | 'inactive';
  reasonCode?: string;
}

export interface EligibilityChecker {
  /** Throws TransientError for timeouts and 5xx (retried by the workflow). */
  check(request: EligibilityRequest): Promise<EligibilityResult>;
}

/** A failure worth retrying (timeouts, throttling, 5xx). */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}
