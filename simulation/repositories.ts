/**
 * Indexed in-memory adapters for the simulator: the same contracts and the same conflict rules as
 * domain/memory.ts (slot taken, provider and patient overlap, versions), with indexes by patient,
 * slot and clinic-day so that a month of a 20-provider clinic does not scan every appointment on
 * every read. test/unit/simulation/repositories.test.ts holds them to the domain's adapters.
 */
import { DomainError, ErrorCode } from '../domain/errors';
import type { SchedulingEvent } from '../domain/events';
import { InMemoryConfig } from '../domain/memory';
import { deepFreeze, frozenCopy } from '../domain/frozen';
import type { Appointment, AppointmentType, Clinic, OfferStatus, Provider, WaitlistEntry, WaitlistOffer } from '../domain/model';
import type {
  AppointmentQuery,
  AppointmentRepository,
  AuditLog,
  BusyAppointment,
  BusyQuery,
  OfferRepository,
  Page,
  PatientRecord,
  PatientRepository,
  WaitlistRepository,
} from '../domain/ports';
import { nameMatches, nameWords } from '../domain/patient-search';
import { OCCUPYING_STATUSES } from '../domain/slots';
import { InMemorySmsMessages, type SmsMessageRecord } from '../domain/sms';
import { acceptsProvider, byCreated } from '../domain/waitlist/eligibility';

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => Math.floor(ms / DAY_MS);

/**
 * Stored records are frozen copies, made once per write and handed out as they are on every read:
 * a caller cannot change stored state through a returned object (a change throws: modules run in
 * strict mode), and reads (the simulator's hottest path) copy nothing. A write stores a new object.
 */
function frozenAppointment(a: Appointment): Appointment {
  const c: Appointment = { ...a, externalIds: a.externalIds.map((x) => Object.freeze({ ...x })) };
  Object.freeze(c.externalIds);
  if (a.cancellation) c.cancellation = Object.freeze({ ...a.cancellation });
  if (a.eligibility) c.eligibility = Object.freeze({ ...a.eligibility });
  return Object.freeze(c);
}

function frozenEntry(e: WaitlistEntry): WaitlistEntry {
  const c: WaitlistEntry = { ...e, providerIds: Object.freeze([...e.providerIds]) as string[] };
  if (e.moveUp) c.moveUp = Object.freeze({ ...e.moveUp });
  return Object.freeze(c);
}

function paginate<T>(items: T[], limit = 100, token?: string): Page<T> {
  const offset = token ? Number.parseInt(token, 10) || 0 : 0;
  const page = items.slice(offset, offset + limit);
  return offset + limit < items.length ? { items: page, continuationToken: String(offset + limit) } : { items: page };
}

interface Stored {
  a: Appointment;
  startMs: number;
  endMs: number;
  day: number;
  occupying: boolean;
  /** The appointment's clinic (read here, not through `a`, whose shape varies with its optional fields). */
  clinicId: string;
  /** What listBusy hands out (frozen). */
  busy: BusyAppointment;
}

function stored(a: Appointment): Stored {
  const f = frozenAppointment(a);
  const startMs = Date.parse(f.start);
  const endMs = Date.parse(f.end);
  return {
    a: f,
    startMs,
    endMs,
    day: dayOf(startMs),
    occupying: OCCUPYING_STATUSES.has(f.status),
    clinicId: f.clinicId,
    busy: Object.freeze({ providerId: f.providerId, start: f.start, end: f.end, status: f.status, startMs, endMs }),
  };
}

/** Records by key, then by UTC day of the start (in insertion order within a day). */
class DayIndex {
  private readonly byKey = new Map<string, Map<number, Set<Stored>>>();
  /**
   * Per key and day: the day's occupying records by start (among equal starts in insertion order, the
   * set's order sorted stably), kept in step with every add and delete.
   */
  private readonly occupyingByKey = new Map<string, Map<number, Stored[]>>();
  add(key: string, s: Stored): void {
    let days = this.byKey.get(key);
    if (!days) this.byKey.set(key, (days = new Map()));
    let set = days.get(s.day);
    if (!set) days.set(s.day, (set = new Set()));
    set.add(s);
    if (s.occupying) {
      const list = this.occupyingList(key, s.day);
      list.splice(startBound(list, s.startMs, true), 0, s);
    }
  }
  delete(key: string, s: Stored): void {
    this.byKey.get(key)?.get(s.day)?.delete(s);
    if (!s.occupying) return;
    const list = this.occupyingByKey.get(key)?.get(s.day);
    if (!list) return;
    for (let i = startBound(list, s.startMs, false); i < list.length && list[i]!.startMs === s.startMs; i++) {
      if (list[i] === s) {
        list.splice(i, 1);
        return;
      }
    }
  }
  days(key: string): Map<number, Set<Stored>> | undefined {
    return this.byKey.get(key);
  }
  /** The occupying records of one day, by start (slot searches read them without filtering or sorting). */
  occupying(key: string, day: number): readonly Stored[] {
    return this.occupyingByKey.get(key)?.get(day) ?? NONE;
  }
  private occupyingList(key: string, day: number): Stored[] {
    let days = this.occupyingByKey.get(key);
    if (!days) this.occupyingByKey.set(key, (days = new Map()));
    let list = days.get(day);
    if (!list) days.set(day, (list = []));
    return list;
  }
}
const NONE: readonly Stored[] = Object.freeze([]);

/** The first index whose start is at least (`after`: past) `startMs` in a list sorted by start. */
function startBound(list: readonly Stored[], startMs: number, after: boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const m = list[mid]!.startMs;
    if (m < startMs || (after && m === startMs)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function addTo<K>(index: Map<K, Set<Stored>>, key: K, s: Stored): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(s);
}

export class IndexedAppointments implements AppointmentRepository {
  private readonly byId = new Map<string, Stored>();
  private readonly byPatient = new Map<string, Set<Stored>>();
  private readonly bySlot = new Map<string, Set<Stored>>();
  /** By clinic, then UTC day of the start. */
  private readonly byClinicDay = new DayIndex();
  /** By provider, then UTC day of the start. */
  private readonly byProviderDay = new DayIndex();

  /** Every appointment, as stored (read-only view for the simulator's metrics). */
  *all(): IterableIterator<Appointment> {
    for (const s of this.byId.values()) yield s.a;
  }

  /** How many appointments are stored. */
  get size(): number {
    return this.byId.size;
  }

  async get(id: string) {
    return this.byId.get(id)?.a;
  }

  private index(s: Stored): void {
    this.byId.set(s.a.appointmentId, s);
    addTo(this.byPatient, s.a.patientId, s);
    addTo(this.bySlot, s.a.slotId, s);
    this.byClinicDay.add(s.a.clinicId, s);
    this.byProviderDay.add(s.a.providerId, s);
  }

  private unindex(s: Stored): void {
    this.byPatient.get(s.a.patientId)?.delete(s);
    this.bySlot.get(s.a.slotId)?.delete(s);
    this.byClinicDay.delete(s.a.clinicId, s);
    this.byProviderDay.delete(s.a.providerId, s);
  }

  private assertNoClash(a: Appointment, ignoreId?: string): void {
    if (!OCCUPYING_STATUSES.has(a.status)) return;
    const start = Date.parse(a.start);
    const end = Date.parse(a.end);
    const occupying = (other: Stored) => other.occupying && other.a.appointmentId !== ignoreId;
    for (const other of this.bySlot.get(a.slotId) ?? []) {
      if (occupying(other)) throw new DomainError(ErrorCode.SLOT_TAKEN, 'The slot is already taken', { slotId: a.slotId });
    }
    // Visits are shorter than a day: an overlapping one starts the day before, the same day or the day after.
    const days = this.byProviderDay.days(a.providerId);
    for (let d = dayOf(start) - 1; days && d <= dayOf(end); d++) {
      for (const other of days.get(d) ?? []) {
        if (occupying(other) && other.startMs < end && start < other.endMs)
          throw new DomainError(ErrorCode.SLOT_TAKEN, 'The slot is already taken', { slotId: a.slotId });
      }
    }
    for (const other of this.byPatient.get(a.patientId) ?? []) {
      if (occupying(other) && other.startMs < end && start < other.endMs) {
        throw new DomainError(ErrorCode.PATIENT_OVERLAP, 'The patient already has an appointment at that time', { appointmentId: other.a.appointmentId });
      }
    }
  }

  async create(a: Appointment, _events: SchedulingEvent[]) {
    if (this.byId.has(a.appointmentId)) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'Appointment id exists');
    this.assertNoClash(a);
    const s = stored(a);
    this.index(s);
    return s.a;
  }

  async update(a: Appointment, expectedVersion: number, _events: SchedulingEvent[]) {
    const current = this.byId.get(a.appointmentId);
    if (!current) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId: a.appointmentId });
    if (current.a.version !== expectedVersion) {
      throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The appointment changed meanwhile', { appointmentId: a.appointmentId });
    }
    this.assertNoClash(a, a.appointmentId);
    this.unindex(current);
    const s = stored(a);
    this.index(s);
    return s.a;
  }

  private inWindow(q: BusyQuery, keep: (s: Stored) => boolean = () => true): Stored[] {
    const from = Date.parse(q.from);
    const to = Date.parse(q.to);
    const out: Stored[] = [];
    const days = q.providerId ? this.byProviderDay.days(q.providerId) : this.byClinicDay.days(q.clinicId);
    if (!days) return out;
    for (let d = dayOf(from); d <= dayOf(to); d++) {
      for (const s of days.get(d) ?? []) {
        if (s.startMs >= from && s.startMs < to && s.clinicId === q.clinicId && keep(s)) out.push(s);
      }
    }
    return out;
  }

  async list(q: AppointmentQuery) {
    const items = this.inWindow(q, (s) => (!q.patientId || s.a.patientId === q.patientId) && (!q.status || s.a.status === q.status))
      .sort((x, y) => x.startMs - y.startMs || x.a.appointmentId.localeCompare(y.a.appointmentId))
      .map((s) => s.a);
    return paginate(items, q.limit, q.continuationToken);
  }

  async listBusy(q: BusyQuery): Promise<BusyAppointment[]> {
    // inWindow's records with `occupying`, through the per-day lists of occupying records.
    const from = Date.parse(q.from);
    const to = Date.parse(q.to);
    const index = q.providerId ? this.byProviderDay : this.byClinicDay;
    const key = q.providerId ?? q.clinicId;
    const out: BusyAppointment[] = [];
    for (let d = dayOf(from); d <= dayOf(to); d++) {
      for (const s of index.occupying(key, d)) if (s.startMs >= from && s.startMs < to && s.clinicId === q.clinicId) out.push(s.busy);
    }
    return out;
  }

  async listByPatient(patientId: string, from: string, to: string) {
    const f = Date.parse(from);
    const t = Date.parse(to);
    const out: Appointment[] = [];
    for (const s of this.byPatient.get(patientId) ?? []) if (s.startMs >= f && s.startMs < t) out.push(s.a);
    return out;
  }

  async findByExternalId(system: string, value: string) {
    for (const s of this.byId.values()) if (s.a.externalIds.some((x) => x.system === system && x.value === value)) return s.a;
    return undefined;
  }
}

// listActive's order is byCreated: created, then id (the domain adapter's order is the order entries were added, stable for ties).

/** First position whose entry does not sort before `e`. */
function lowerBound(list: readonly WaitlistEntry[], e: WaitlistEntry): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byCreated(list[mid]!, e) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position whose entry sorts after `e` (a new entry goes after equal ones, as a stable sort of insertion order puts it). */
function upperBound(list: readonly WaitlistEntry[], e: WaitlistEntry): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byCreated(list[mid]!, e) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class IndexedWaitlist implements WaitlistRepository {
  private readonly byId = new Map<string, WaitlistEntry>();
  /**
   * Active entries (the stored objects) by `${clinicId}|${appointmentType}`, kept in listActive's order
   * (created, then id; equal keys in the order they became active): a candidate load reads thousands
   * of entries, and sorting them on every read was a large share of the simulator's time.
   */
  private readonly active = new Map<string, WaitlistEntry[]>();
  /**
   * The same entries by `${clinicId}|${appointmentType}|${providerId}` for each provider an entry asks
   * for, and by `${clinicId}|${appointmentType}|` for entries with no provider preference: a freed slot's
   * candidates are its provider's list and the any-provider list, a small part of the clinic's.
   */
  private readonly activeByProvider = new Map<string, WaitlistEntry[]>();
  /** Entries with an open offer (the stored objects) by `${clinicId}|${appointmentType}`: few at any time. */
  private readonly offered = new Map<string, Set<WaitlistEntry>>();

  /** Every entry, as stored (read-only view for the simulator's metrics). */
  *all(): IterableIterator<WaitlistEntry> {
    yield* this.byId.values();
  }

  /** The index lists an entry belongs in while active (made with `create`, else only those that exist). */
  private *listsOf(e: WaitlistEntry, create: boolean): IterableIterator<WaitlistEntry[]> {
    const key = `${e.clinicId}|${e.appointmentType}`;
    const listIn = (index: Map<string, WaitlistEntry[]>, k: string): WaitlistEntry[] | undefined => {
      let list = index.get(k);
      if (!list && create) index.set(k, (list = []));
      return list;
    };
    const lists = [
      listIn(this.active, key),
      ...(e.providerIds.length === 0 ? [''] : [...new Set(e.providerIds)]).map((p) => listIn(this.activeByProvider, `${key}|${p}`)),
    ];
    for (const list of lists) if (list) yield list;
  }

  /** `stored` is the object now in byId (after) or the one it replaced (before). */
  private reindex(before: WaitlistEntry | undefined, stored: WaitlistEntry): void {
    if (before) {
      for (const list of this.listsOf(before, false)) {
        const i = list.indexOf(before, lowerBound(list, before));
        if (i >= 0) list.splice(i, 1);
      }
      this.offered.get(`${before.clinicId}|${before.appointmentType}`)?.delete(before);
    }
    if (stored.status === 'active') for (const list of this.listsOf(stored, true)) list.splice(upperBound(list, stored), 0, stored);
    if (stored.status === 'offered') {
      const key = `${stored.clinicId}|${stored.appointmentType}`;
      let set = this.offered.get(key);
      if (!set) this.offered.set(key, (set = new Set()));
      set.add(stored);
    }
  }
  async listOffered(clinicId: string, appointmentType: string, providerId: string): Promise<WaitlistEntry[]> {
    return [...(this.offered.get(`${clinicId}|${appointmentType}`) ?? [])].filter((e) => acceptsProvider(e, providerId)).sort(byCreated);
  }

  async add(e: WaitlistEntry) {
    const before = this.byId.get(e.waitlistEntryId);
    const stored = frozenEntry(e);
    this.byId.set(e.waitlistEntryId, stored);
    this.reindex(before, stored);
  }
  async get(id: string) {
    return this.byId.get(id);
  }
  async update(e: WaitlistEntry, expectedVersion: number) {
    const current = this.byId.get(e.waitlistEntryId);
    if (!current) throw new DomainError(ErrorCode.WAITLIST_ENTRY_NOT_FOUND, 'Unknown waitlist entry');
    if (current.version !== expectedVersion) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The waitlist entry changed meanwhile');
    const stored = frozenEntry(e);
    this.byId.set(e.waitlistEntryId, stored);
    this.reindex(current, stored);
    return stored;
  }
  async listActive(clinicId: string, appointmentType?: string, providerId?: string): Promise<WaitlistEntry[]> {
    if (appointmentType && providerId) {
      // The provider's entries and the any-provider entries, merged in listActive's order.
      const own = this.activeByProvider.get(`${clinicId}|${appointmentType}|${providerId}`) ?? [];
      const any = this.activeByProvider.get(`${clinicId}|${appointmentType}|`) ?? [];
      const out: WaitlistEntry[] = [];
      let i = 0;
      let j = 0;
      while (i < own.length && j < any.length) out.push(byCreated(own[i]!, any[j]!) <= 0 ? own[i++]! : any[j++]!);
      while (i < own.length) out.push(own[i++]!);
      while (j < any.length) out.push(any[j++]!);
      return out;
    }
    if (providerId) {
      const all = await this.listActive(clinicId, appointmentType);
      return all.filter((e) => acceptsProvider(e, providerId));
    }
    const keys = appointmentType ? [`${clinicId}|${appointmentType}`] : [...this.active.keys()].filter((k) => k.startsWith(`${clinicId}|`));
    if (keys.length === 1) return (this.active.get(keys[0]!) ?? []).slice();
    const out: WaitlistEntry[] = [];
    for (const key of keys) for (const e of this.active.get(key) ?? []) out.push(e);
    return out.sort(byCreated);
  }
  async list(clinicId: string, page: { limit?: number; continuationToken?: string }) {
    const items = [...this.byId.values()].filter((e) => e.clinicId === clinicId).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return paginate(items, page.limit, page.continuationToken);
  }
}

/** Offers by patient and by slot (the domain adapter scans every offer on each read), stored frozen. */
export class IndexedOffers implements OfferRepository {
  private readonly byId = new Map<string, WaitlistOffer>();
  private readonly byPatient = new Map<string, string[]>();
  private readonly bySlot = new Map<string, string[]>();
  async create(o: WaitlistOffer) {
    if (this.byId.has(o.offerId)) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'Offer id exists');
    this.byId.set(o.offerId, frozenCopy(o));
    for (const [index, key] of [
      [this.byPatient, o.patientId],
      [this.bySlot, o.slotId],
    ] as const) {
      const ids = index.get(key);
      if (ids) ids.push(o.offerId);
      else index.set(key, [o.offerId]);
    }
  }
  async get(id: string) {
    return this.byId.get(id);
  }
  async update(o: WaitlistOffer, expectedVersion: number) {
    const current = this.byId.get(o.offerId);
    if (!current) throw new DomainError(ErrorCode.OFFER_NOT_FOUND, 'Unknown offer');
    if (current.version !== expectedVersion) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The offer changed meanwhile');
    // Patient and slot are fixed for an offer's life (the domain never changes them); the indexes stay.
    const stored = frozenCopy(o);
    this.byId.set(o.offerId, stored);
    return stored;
  }
  /** In creation order (the domain adapter's order). */
  async listBySlot(slotId: string) {
    return (this.bySlot.get(slotId) ?? []).map((id) => this.byId.get(id)!).filter((o) => o.slotId === slotId);
  }
  async listOpenForPatient(patientId: string) {
    return (this.byPatient.get(patientId) ?? [])
      .map((id) => this.byId.get(id)!)
      .filter((o) => o.patientId === patientId && o.status === 'sent')
      .sort((a, b) => b.sentAt.localeCompare(a.sentAt));
  }
  async listByClinic(clinicId: string, q: { sentFrom: string; sentTo: string; status?: OfferStatus }) {
    const from = Date.parse(q.sentFrom);
    const to = Date.parse(q.sentTo);
    return [...this.byId.values()]
      .filter((o) => o.clinicId === clinicId && Date.parse(o.sentAt) >= from && Date.parse(o.sentAt) < to && (!q.status || o.status === q.status))
      .sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.offerId.localeCompare(b.offerId));
  }
}

/** Patients with a phone index (every inbound SMS looks its sender up), stored frozen. */
export class IndexedPatients implements PatientRepository {
  private readonly byId = new Map<string, PatientRecord>();
  /** Order of first put: findByPhone answers the first such patient, as the domain adapter does. */
  private readonly ordinal = new Map<string, number>();
  private readonly byPhone = new Map<string, Set<string>>();
  async get(id: string) {
    return this.byId.get(id);
  }
  async put(p: PatientRecord) {
    const before = this.byId.get(p.patientId);
    if (before) this.byPhone.get(before.phone)?.delete(p.patientId);
    else this.ordinal.set(p.patientId, this.ordinal.size);
    this.byId.set(p.patientId, frozenCopy(p));
    let ids = this.byPhone.get(p.phone);
    if (!ids) this.byPhone.set(p.phone, (ids = new Set()));
    ids.add(p.patientId);
  }
  async findByPhone(phone: string) {
    let first: string | undefined;
    for (const id of this.byPhone.get(phone) ?? []) if (first === undefined || this.ordinal.get(id)! < this.ordinal.get(first)!) first = id;
    return first === undefined ? undefined : this.byId.get(first);
  }
  async searchByName(text: string, limit: number) {
    const words = nameWords(text);
    return [...this.byId.values()]
      .filter((p) => nameMatches(p.name, words))
      .sort((a, b) => a.name.localeCompare(b.name) || a.patientId.localeCompare(b.patientId))
      .slice(0, limit);
  }
}

/** The simulator keeps no audit trail: nothing reads it, and a month of entries is memory the report does not need. */
export class DiscardingAudit implements AuditLog {
  async record(): Promise<void> {}
}

/** Message records with a per-patient index (the rate limit reads a patient's last day on every send). */
export class IndexedSmsMessages extends InMemorySmsMessages {
  private readonly byPatient = new Map<string, SmsMessageRecord[]>();
  override async create(record: SmsMessageRecord): Promise<void> {
    if (this.byId.has(record.messageId)) return;
    await super.create(record);
    let list = this.byPatient.get(record.patientId);
    if (!list) this.byPatient.set(record.patientId, (list = []));
    list.push(record);
  }
  override async listForPatient(patientId: string, since: string): Promise<SmsMessageRecord[]> {
    const t = Date.parse(since);
    return (this.byPatient.get(patientId) ?? [])
      .map((r) => this.byId.get(r.messageId)!)
      .filter((r) => Date.parse(r.sentAt) >= t)
      .sort((a, b) => a.sentAt.localeCompare(b.sentAt))
      .map((r) => ({ ...r }));
  }
}

/**
 * The domain's in-memory configuration, with reads answered from frozen copies made once per write:
 * the clinic's configuration is read on every slot search, booking and candidate load, and cloning it
 * on each read (structuredClone) was a large share of the simulator's time. Readers never change what
 * they read (a change would throw: the copies are frozen); writes (setup, provider absences) go to the
 * domain adapter and drop the copies.
 */
export class SharedReadConfig extends InMemoryConfig {
  private readonly cache = new Map<string, unknown>();
  private cached<T>(key: string, read: () => Promise<T>): Promise<T> {
    if (this.cache.has(key)) return Promise.resolve(this.cache.get(key) as T);
    return read().then((v) => {
      this.cache.set(key, deepFreeze(v));
      return v;
    });
  }
  override getClinic(id: string) {
    return this.cached(`clinic|${id}`, () => super.getClinic(id));
  }
  override async putClinic(c: Clinic) {
    this.cache.clear();
    await super.putClinic(c);
  }
  override listClinics() {
    return this.cached('clinics', () => super.listClinics());
  }
  override getAppointmentType(code: string) {
    return this.cached(`type|${code}`, () => super.getAppointmentType(code));
  }
  override async putAppointmentType(t: AppointmentType) {
    this.cache.clear();
    await super.putAppointmentType(t);
  }
  override listAppointmentTypes(clinicId: string) {
    return this.cached(`types|${clinicId}`, () => super.listAppointmentTypes(clinicId));
  }
  override getProvider(id: string) {
    return this.cached(`provider|${id}`, () => super.getProvider(id));
  }
  override async putProvider(p: Provider) {
    this.cache.clear();
    await super.putProvider(p);
  }
  override listProviders(clinicId: string) {
    return this.cached(`providers|${clinicId}`, () => super.listProviders(clinicId));
  }
}
