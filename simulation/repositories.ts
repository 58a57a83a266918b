/**
 * Indexed in-memory adapters for the simulator: the same contracts and the same conflict rules as
 * domain/memory.ts (slot taken, provider and patient overlap, versions), with indexes by patient,
 * slot and clinic-day so that a month of a 20-provider clinic does not scan every appointment on
 * every read. test/unit/simulation/repositories.test.ts holds them to the domain's adapters.
 */
import { DomainError, ErrorCode } from '../domain/errors';
import type { SchedulingEvent } from '../domain/events';
import { InMemoryConfig } from '../domain/memory';
import type { Appointment, AppointmentType, Clinic, Provider, WaitlistEntry } from '../domain/model';
import type { AppointmentQuery, AppointmentRepository, BusyAppointment, BusyQuery, Page, WaitlistRepository } from '../domain/ports';
import { OCCUPYING_STATUSES } from '../domain/slots';
import { InMemorySmsMessages, type SmsMessageRecord } from '../domain/sms';

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => Math.floor(ms / DAY_MS);

/** A copy callers may change freely (what structuredClone gives, for the shapes appointments have). */
function copyAppointment(a: Appointment): Appointment {
  const c: Appointment = { ...a, externalIds: a.externalIds.map((x) => ({ ...x })) };
  if (a.cancellation) c.cancellation = { ...a.cancellation };
  if (a.eligibility) c.eligibility = { ...a.eligibility };
  return c;
}

function copyEntry(e: WaitlistEntry): WaitlistEntry {
  const c: WaitlistEntry = { ...e, providerIds: [...e.providerIds] };
  if (e.moveUp) c.moveUp = { ...e.moveUp };
  return c;
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
}

function addTo<K>(index: Map<K, Set<string>>, key: K, id: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(id);
}

export class IndexedAppointments implements AppointmentRepository {
  private readonly byId = new Map<string, Stored>();
  private readonly byPatient = new Map<string, Set<string>>();
  private readonly bySlot = new Map<string, Set<string>>();
  /** `${clinicId}|${utcDay}` of the start. */
  private readonly byClinicDay = new Map<string, Set<string>>();
  /** `${providerId}|${utcDay}` of the start. */
  private readonly byProviderDay = new Map<string, Set<string>>();

  /** Every appointment, as stored (read-only view for the simulator's metrics). */
  *all(): IterableIterator<Appointment> {
    for (const s of this.byId.values()) yield s.a;
  }

  async get(id: string) {
    const s = this.byId.get(id);
    return s ? copyAppointment(s.a) : undefined;
  }

  private index(s: Stored): void {
    const id = s.a.appointmentId;
    addTo(this.byPatient, s.a.patientId, id);
    addTo(this.bySlot, s.a.slotId, id);
    addTo(this.byClinicDay, `${s.a.clinicId}|${dayOf(s.startMs)}`, id);
    addTo(this.byProviderDay, `${s.a.providerId}|${dayOf(s.startMs)}`, id);
  }

  private unindex(s: Stored): void {
    const id = s.a.appointmentId;
    this.byPatient.get(s.a.patientId)?.delete(id);
    this.bySlot.get(s.a.slotId)?.delete(id);
    this.byClinicDay.get(`${s.a.clinicId}|${dayOf(s.startMs)}`)?.delete(id);
    this.byProviderDay.get(`${s.a.providerId}|${dayOf(s.startMs)}`)?.delete(id);
  }

  private assertNoClash(a: Appointment, ignoreId?: string): void {
    if (!OCCUPYING_STATUSES.has(a.status)) return;
    const start = Date.parse(a.start);
    const end = Date.parse(a.end);
    const occupying = (id: string) => {
      if (id === ignoreId) return undefined;
      const other = this.byId.get(id);
      return other && OCCUPYING_STATUSES.has(other.a.status) ? other : undefined;
    };
    for (const id of this.bySlot.get(a.slotId) ?? []) {
      if (occupying(id)) throw new DomainError(ErrorCode.SLOT_TAKEN, 'The slot is already taken', { slotId: a.slotId });
    }
    // Visits are shorter than a day: an overlapping one starts the day before, the same day or the day after.
    for (let d = dayOf(start) - 1; d <= dayOf(end); d++) {
      for (const id of this.byProviderDay.get(`${a.providerId}|${d}`) ?? []) {
        const other = occupying(id);
        if (other && other.startMs < end && start < other.endMs) throw new DomainError(ErrorCode.SLOT_TAKEN, 'The slot is already taken', { slotId: a.slotId });
      }
    }
    for (const id of this.byPatient.get(a.patientId) ?? []) {
      const other = occupying(id);
      if (other && other.startMs < end && start < other.endMs) {
        throw new DomainError(ErrorCode.PATIENT_OVERLAP, 'The patient already has an appointment at that time', { appointmentId: other.a.appointmentId });
      }
    }
  }

  async create(a: Appointment, _events: SchedulingEvent[]) {
    if (this.byId.has(a.appointmentId)) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'Appointment id exists');
    this.assertNoClash(a);
    const s = { a: copyAppointment(a), startMs: Date.parse(a.start), endMs: Date.parse(a.end) };
    this.byId.set(a.appointmentId, s);
    this.index(s);
    return copyAppointment(a);
  }

  async update(a: Appointment, expectedVersion: number, _events: SchedulingEvent[]) {
    const current = this.byId.get(a.appointmentId);
    if (!current) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId: a.appointmentId });
    if (current.a.version !== expectedVersion) {
      throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The appointment changed meanwhile', { appointmentId: a.appointmentId });
    }
    this.assertNoClash(a, a.appointmentId);
    this.unindex(current);
    const s = { a: copyAppointment(a), startMs: Date.parse(a.start), endMs: Date.parse(a.end) };
    this.byId.set(a.appointmentId, s);
    this.index(s);
    return copyAppointment(a);
  }

  private inWindow(q: BusyQuery): Stored[] {
    const from = Date.parse(q.from);
    const to = Date.parse(q.to);
    const out: Stored[] = [];
    for (let d = dayOf(from); d <= dayOf(to); d++) {
      const ids = q.providerId ? this.byProviderDay.get(`${q.providerId}|${d}`) : this.byClinicDay.get(`${q.clinicId}|${d}`);
      for (const id of ids ?? []) {
        const s = this.byId.get(id)!;
        if (s.a.clinicId === q.clinicId && s.startMs >= from && s.startMs < to) out.push(s);
      }
    }
    return out;
  }

  async list(q: AppointmentQuery) {
    const items = this.inWindow(q)
      .filter((s) => (!q.patientId || s.a.patientId === q.patientId) && (!q.status || s.a.status === q.status))
      .sort((x, y) => x.startMs - y.startMs || x.a.appointmentId.localeCompare(y.a.appointmentId))
      .map((s) => copyAppointment(s.a));
    return paginate(items, q.limit, q.continuationToken);
  }

  async listBusy(q: BusyQuery): Promise<BusyAppointment[]> {
    return this.inWindow(q)
      .filter((s) => OCCUPYING_STATUSES.has(s.a.status))
      .map((s) => ({ providerId: s.a.providerId, start: s.a.start, end: s.a.end, status: s.a.status }));
  }

  async listByPatient(patientId: string, from: string, to: string) {
    const f = Date.parse(from);
    const t = Date.parse(to);
    const out: Appointment[] = [];
    for (const id of this.byPatient.get(patientId) ?? []) {
      const s = this.byId.get(id)!;
      if (s.startMs >= f && s.startMs < t) out.push(copyAppointment(s.a));
    }
    return out;
  }

  async findByExternalId(system: string, value: string) {
    for (const s of this.byId.values()) if (s.a.externalIds.some((x) => x.system === system && x.value === value)) return copyAppointment(s.a);
    return undefined;
  }
}

/** listActive's order: created, then id (the domain adapter's order is the order entries were added, stable for ties). */
const byCreated = (a: WaitlistEntry, b: WaitlistEntry): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.waitlistEntryId.localeCompare(b.waitlistEntryId);

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

  /** Every entry, as stored (read-only view for the simulator's metrics). */
  *all(): IterableIterator<WaitlistEntry> {
    yield* this.byId.values();
  }

  /** `stored` is the object now in byId (after) or the one it replaced (before). */
  private reindex(before: WaitlistEntry | undefined, stored: WaitlistEntry): void {
    if (before) {
      const list = this.active.get(`${before.clinicId}|${before.appointmentType}`);
      const i = list ? list.indexOf(before, lowerBound(list, before)) : -1;
      if (i >= 0) list!.splice(i, 1);
    }
    if (stored.status === 'active') {
      const key = `${stored.clinicId}|${stored.appointmentType}`;
      let list = this.active.get(key);
      if (!list) this.active.set(key, (list = []));
      list.splice(upperBound(list, stored), 0, stored);
    }
  }

  async add(e: WaitlistEntry) {
    const before = this.byId.get(e.waitlistEntryId);
    const stored = copyEntry(e);
    this.byId.set(e.waitlistEntryId, stored);
    this.reindex(before, stored);
  }
  async get(id: string) {
    const e = this.byId.get(id);
    return e ? copyEntry(e) : undefined;
  }
  async update(e: WaitlistEntry, expectedVersion: number) {
    const current = this.byId.get(e.waitlistEntryId);
    if (!current) throw new DomainError(ErrorCode.WAITLIST_ENTRY_NOT_FOUND, 'Unknown waitlist entry');
    if (current.version !== expectedVersion) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The waitlist entry changed meanwhile');
    const stored = copyEntry(e);
    this.byId.set(e.waitlistEntryId, stored);
    this.reindex(current, stored);
    return copyEntry(e);
  }
  async listActive(clinicId: string, appointmentType?: string) {
    const keys = appointmentType ? [`${clinicId}|${appointmentType}`] : [...this.active.keys()].filter((k) => k.startsWith(`${clinicId}|`));
    if (keys.length === 1) return (this.active.get(keys[0]!) ?? []).map(copyEntry);
    const out: WaitlistEntry[] = [];
    for (const key of keys) for (const e of this.active.get(key) ?? []) out.push(copyEntry(e));
    return out.sort(byCreated);
  }
  async list(clinicId: string, page: { limit?: number; continuationToken?: string }) {
    const items = [...this.byId.values()]
      .filter((e) => e.clinicId === clinicId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map(copyEntry);
    return paginate(items, page.limit, page.continuationToken);
  }
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

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
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
