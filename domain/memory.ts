import { DateTime } from 'luxon';
import { DomainError, ErrorCode } from './errors';
import type { SchedulingEvent } from './events';
import type { Appointment, AppointmentType, Clinic, OfferStatus, Provider, WaitlistEntry, WaitlistOffer } from './model';
import { nameMatches, nameWords } from './patient-search';
import type {
  AppointmentQuery,
  AppointmentRepository,
  AuditEntry,
  BusyAppointment,
  BusyQuery,
  AuditLog,
  Clock,
  ConfigRepository,
  EventPublisher,
  IdempotencyRecord,
  IdempotencyScope,
  IdempotencyStore,
  IdGenerator,
  OfferRepository,
  OutboundSms,
  Outbox,
  Page,
  PatientRecord,
  PatientRepository,
  SmsSender,
  WaitlistRepository,
} from './ports';
import { OCCUPYING_STATUSES } from './slots';
import { acceptsProvider, byCreated } from './waitlist/eligibility';

/** In-memory adapters for unit tests. Each write checks and mutates synchronously, so it is atomic. */

/**
 * What structuredClone gives for the plain data these adapters hold (objects, arrays, primitives),
 * copied directly: structuredClone serializes, and the simulator reads patients and offers on
 * every request. Anything else (a Date, a Map, a function) still goes through structuredClone.
 */
function clone<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return typeof v === 'function' || typeof v === 'symbol' ? structuredClone(v) : v;
  if (Array.isArray(v)) return Object.getPrototypeOf(v) === Array.prototype ? (v.map(clone) as T) : structuredClone(v);
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) out[key] = clone((v as Record<string, unknown>)[key]);
  return out as T;
}

export class FixedClock implements Clock {
  constructor(private current: DateTime) {}
  now(): DateTime {
    return this.current;
  }
  set(to: DateTime): void {
    this.current = to;
  }
  advance(duration: { minutes?: number; hours?: number; days?: number }): void {
    this.current = this.current.plus(duration);
  }
}

export class SequentialIds implements IdGenerator {
  private n = 0;
  newId(prefix: string): string {
    this.n += 1;
    return `${prefix}-${String(this.n).padStart(6, '0')}`;
  }
}

export class InMemoryConfig implements ConfigRepository {
  readonly clinics = new Map<string, Clinic>();
  readonly types = new Map<string, AppointmentType>();
  readonly providers = new Map<string, Provider>();
  async getClinic(id: string) {
    return clone(this.clinics.get(id));
  }
  async putClinic(c: Clinic) {
    this.clinics.set(c.clinicId, clone(c));
  }
  async listClinics() {
    return [...this.clinics.values()].map(clone);
  }
  async getAppointmentType(code: string) {
    return clone(this.types.get(code));
  }
  async putAppointmentType(t: AppointmentType) {
    this.types.set(t.code, clone(t));
  }
  async listAppointmentTypes(clinicId: string) {
    return [...this.types.values()].filter((t) => t.clinicId === clinicId).map(clone);
  }
  async getProvider(id: string) {
    return clone(this.providers.get(id));
  }
  async putProvider(p: Provider) {
    this.providers.set(p.providerId, clone(p));
  }
  async listProviders(clinicId: string) {
    return [...this.providers.values()].filter((p) => p.clinicId === clinicId).map(clone);
  }
}

export class InMemoryPatients implements PatientRepository {
  readonly byId = new Map<string, PatientRecord>();
  async get(id: string) {
    return clone(this.byId.get(id));
  }
  async put(p: PatientRecord) {
    this.byId.set(p.patientId, clone(p));
  }
  async findByPhone(phone: string) {
    return clone([...this.byId.values()].find((p) => p.phone === phone));
  }
  async searchByName(text: string, limit: number) {
    const words = nameWords(text);
    return [...this.byId.values()]
      .filter((p) => nameMatches(p.name, words))
      .sort((a, b) => a.name.localeCompare(b.name) || a.patientId.localeCompare(b.patientId))
      .slice(0, limit)
      .map((p) => clone(p));
  }
}

function paginate<T>(items: T[], limit = 100, token?: string): Page<T> {
  const offset = token ? Number.parseInt(token, 10) || 0 : 0;
  const page = items.slice(offset, offset + limit);
  return offset + limit < items.length ? { items: page, continuationToken: String(offset + limit) } : { items: page };
}

export class InMemoryAppointments implements AppointmentRepository {
  readonly byId = new Map<string, Appointment>();
  /** Every event stored with a change, in order (the outbox). */
  readonly stored: SchedulingEvent[] = [];

  async get(id: string) {
    return clone(this.byId.get(id));
  }

  private assertNoClash(a: Appointment, ignoreId?: string) {
    if (!OCCUPYING_STATUSES.has(a.status)) return;
    const start = Date.parse(a.start);
    const end = Date.parse(a.end);
    const others = [...this.byId.values()].filter((o) => o.appointmentId !== ignoreId && OCCUPYING_STATUSES.has(o.status));
    const overlaps = (o: Appointment) => Date.parse(o.start) < end && start < Date.parse(o.end);
    // A taken slot wins over the patient's own overlap, whatever the order of the stored appointments.
    if (others.some((o) => o.slotId === a.slotId || (o.providerId === a.providerId && overlaps(o)))) {
      throw new DomainError(ErrorCode.SLOT_TAKEN, 'The slot is already taken', { slotId: a.slotId });
    }
    const own = others.find((o) => o.patientId === a.patientId && overlaps(o));
    if (own) throw new DomainError(ErrorCode.PATIENT_OVERLAP, 'The patient already has an appointment at that time', { appointmentId: own.appointmentId });
  }

  async create(a: Appointment, events: SchedulingEvent[]) {
    if (this.byId.has(a.appointmentId)) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'Appointment id exists');
    this.assertNoClash(a);
    this.byId.set(a.appointmentId, clone(a));
    this.stored.push(...events);
    return clone(a);
  }

  async update(a: Appointment, expectedVersion: number, events: SchedulingEvent[]) {
    const current = this.byId.get(a.appointmentId);
    if (!current) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId: a.appointmentId });
    if (current.version !== expectedVersion) {
      throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The appointment changed meanwhile', { appointmentId: a.appointmentId });
    }
    this.assertNoClash(a, a.appointmentId);
    this.byId.set(a.appointmentId, clone(a));
    this.stored.push(...events);
    return clone(a);
  }

  /** Appointments of the clinic (or one provider) starting in [from, to). */
  private inWindow(q: BusyQuery): Appointment[] {
    const from = Date.parse(q.from);
    const to = Date.parse(q.to);
    return [...this.byId.values()].filter(
      (a) => a.clinicId === q.clinicId && Date.parse(a.start) >= from && Date.parse(a.start) < to && (!q.providerId || a.providerId === q.providerId),
    );
  }

  async list(q: AppointmentQuery) {
    const items = this.inWindow(q)
      .filter((a) => (!q.patientId || a.patientId === q.patientId) && (!q.status || a.status === q.status))
      .sort((x, y) => Date.parse(x.start) - Date.parse(y.start) || x.appointmentId.localeCompare(y.appointmentId))
      .map(clone);
    return paginate(items, q.limit, q.continuationToken);
  }

  async listBusy(q: BusyQuery): Promise<BusyAppointment[]> {
    return this.inWindow(q)
      .filter((a) => OCCUPYING_STATUSES.has(a.status))
      .map((a) => ({ providerId: a.providerId, start: a.start, end: a.end, status: a.status }));
  }

  async listByPatient(patientId: string, from: string, to: string) {
    return [...this.byId.values()]
      .filter((a) => a.patientId === patientId && Date.parse(a.start) >= Date.parse(from) && Date.parse(a.start) < Date.parse(to))
      .map(clone);
  }

  async findByExternalId(system: string, value: string) {
    return clone([...this.byId.values()].find((a) => a.externalIds.some((x) => x.system === system && x.value === value)));
  }
}

export class InMemoryWaitlist implements WaitlistRepository {
  readonly byId = new Map<string, WaitlistEntry>();
  async add(e: WaitlistEntry) {
    this.byId.set(e.waitlistEntryId, clone(e));
  }
  async get(id: string) {
    return clone(this.byId.get(id));
  }
  async update(e: WaitlistEntry, expectedVersion: number) {
    const current = this.byId.get(e.waitlistEntryId);
    if (!current) throw new DomainError(ErrorCode.WAITLIST_ENTRY_NOT_FOUND, 'Unknown waitlist entry');
    if (current.version !== expectedVersion) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The waitlist entry changed meanwhile');
    this.byId.set(e.waitlistEntryId, clone(e));
    return clone(e);
  }
  async listActive(clinicId: string, appointmentType?: string, providerId?: string) {
    return [...this.byId.values()]
      .filter(
        (e) =>
          e.clinicId === clinicId &&
          e.status === 'active' &&
          (!appointmentType || e.appointmentType === appointmentType) &&
          (!providerId || acceptsProvider(e, providerId)),
      )
      .map(clone);
  }
  async listOffered(clinicId: string, appointmentType: string, providerId: string) {
    return [...this.byId.values()]
      .filter((e) => e.clinicId === clinicId && e.status === 'offered' && e.appointmentType === appointmentType && acceptsProvider(e, providerId))
      .sort(byCreated)
      .map(clone);
  }
  async list(clinicId: string, page: { limit?: number; continuationToken?: string }) {
    const items = [...this.byId.values()]
      .filter((e) => e.clinicId === clinicId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map(clone);
    return paginate(items, page.limit, page.continuationToken);
  }
}

export class InMemoryOffers implements OfferRepository {
  readonly byId = new Map<string, WaitlistOffer>();
  async create(o: WaitlistOffer) {
    if (this.byId.has(o.offerId)) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'Offer id exists');
    this.byId.set(o.offerId, clone(o));
  }
  async get(id: string) {
    return clone(this.byId.get(id));
  }
  async update(o: WaitlistOffer, expectedVersion: number) {
    const current = this.byId.get(o.offerId);
    if (!current) throw new DomainError(ErrorCode.OFFER_NOT_FOUND, 'Unknown offer');
    if (current.version !== expectedVersion) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The offer changed meanwhile');
    this.byId.set(o.offerId, clone(o));
    return clone(o);
  }
  async listBySlot(slotId: string) {
    return [...this.byId.values()].filter((o) => o.slotId === slotId).map(clone);
  }
  async listOpenForPatient(patientId: string) {
    return [...this.byId.values()]
      .filter((o) => o.patientId === patientId && o.status === 'sent')
      .sort((a, b) => b.sentAt.localeCompare(a.sentAt))
      .map(clone);
  }
  async listByClinic(clinicId: string, q: { sentFrom: string; sentTo: string; status?: OfferStatus }) {
    const from = Date.parse(q.sentFrom);
    const to = Date.parse(q.sentTo);
    return [...this.byId.values()]
      .filter((o) => o.clinicId === clinicId && Date.parse(o.sentAt) >= from && Date.parse(o.sentAt) < to && (!q.status || o.status === q.status))
      .sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.offerId.localeCompare(b.offerId))
      .map(clone);
  }
}

export class RecordingPublisher implements EventPublisher {
  readonly published: SchedulingEvent[] = [];
  async publish(events: SchedulingEvent[]) {
    this.published.push(...clone(events));
  }
}

/** Outbox that publishes straight away (unit tests); the Cosmos adapter stores events first. */
export class DirectOutbox implements Outbox {
  constructor(private readonly publisher: EventPublisher) {}
  async dispatch(events: SchedulingEvent[]) {
    await this.publisher.publish(events);
  }
}

export class InMemoryIdempotency implements IdempotencyStore {
  readonly records = new Map<string, IdempotencyRecord>();
  async get(scope: IdempotencyScope, key: string) {
    return clone(this.records.get(`${scope}:${key}`));
  }
  async putIfAbsent(r: IdempotencyRecord) {
    const k = `${r.scope}:${r.key}`;
    if (this.records.has(k)) return false;
    this.records.set(k, clone(r));
    return true;
  }
  async complete(r: IdempotencyRecord) {
    this.records.set(`${r.scope}:${r.key}`, clone(r));
  }
}

export class InMemoryAudit implements AuditLog {
  readonly entries: AuditEntry[] = [];
  async record(e: AuditEntry) {
    this.entries.push(clone(e));
  }
}

export class RecordingSms implements SmsSender {
  readonly sent: (OutboundSms & { messageId: string })[] = [];
  async send(m: OutboundSms) {
    const messageId = `SM${String(this.sent.length + 1).padStart(32, '0')}`;
    this.sent.push({ ...m, messageId });
    return { messageId };
  }
}
