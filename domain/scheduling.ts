import { DateTime } from 'luxon';
import { AccessDenied, requireClinicInScope, type BookingAccess, type ClinicAccess } from './access';
import { bookableWindow, checkBooking, checkCancellation, checkNoShow, startsInWindowMs, type BookingDecision } from './booking-rules';
import { DomainError, ErrorCode, isDomainError } from './errors';
import { EventType, makeEvent, type SchedulingEvent } from './events';
import { parseSlotId } from './ids';
import type { Actor, Appointment, AppointmentType, Channel, Clinic, ExternalId, Provider, Slot } from './model';
import type { AppointmentRepository, Clock, ConfigRepository, IdGenerator, Outbox, PatientRecord, PatientRepository } from './ports';
import { appointmentTypesKey, busyIndex, findSlot, isTaken, longerThanDays, requireType, SlotGenerationMemo, slotSpans } from './slots';
import { parseInstant, toIsoInZone } from './time';

/** What the scheduling use cases need; every channel (API, SMS, links, EHR, workflows) uses the same. */
export interface SchedulingDeps {
  clock: Clock;
  ids: IdGenerator;
  config: ConfigRepository;
  patients: PatientRepository;
  appointments: AppointmentRepository;
  outbox: Outbox;
}

/** Optimistic-concurrency retries before a conflict is reported. */
const MAX_CONFLICT_RETRIES = 3;
/** Longest range a slot search may span. */
export const MAX_SEARCH_DAYS = 31;

async function requireClinic(deps: Pick<SchedulingDeps, 'config'>, clinicId: string): Promise<Clinic> {
  const clinic = await deps.config.getClinic(clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId });
  return clinic;
}

async function typesOf(deps: Pick<SchedulingDeps, 'config'>, clinicId: string): Promise<Map<string, AppointmentType>> {
  return new Map((await deps.config.listAppointmentTypes(clinicId)).map((t) => [t.code, t]));
}

export interface SlotSearch {
  clinicId: string;
  appointmentType: string;
  from: string;
  to: string;
  providerId?: string;
  /**
   * Only slots bookable through this channel at `now` under the clinic's booking policy (bookableWindow):
   * what every list shown to a caller who may book from it asks for.
   */
  bookableBy?: { now: DateTime; channel: Channel };
}

export interface FreeSlot extends Slot {
  appointmentType: string;
}

/** Generated slots of recent searches (see SlotGenerationMemo: keyed by the whole configuration). */
const searchMemo = new SlotGenerationMemo();

/**
 * Slots resolved by id: one slot is resolved many times over a booking's and a backfill's life (offers,
 * replies, the booking), each time the same generation (keyed by the whole configuration, so never stale).
 */
const resolveMemo = new SlotGenerationMemo(5_000);

/** Free slots of a clinic for one appointment type in [from, to), across its providers (or one). */
export async function searchFreeSlots(deps: Pick<SchedulingDeps, 'config' | 'appointments'>, q: SlotSearch): Promise<FreeSlot[]> {
  const clinic = await requireClinic(deps, q.clinicId);
  const types = await typesOf(deps, clinic.clinicId);
  requireType(types, q.appointmentType);
  const from = parseInstant(q.from, 'from');
  const to = parseInstant(q.to, 'to');
  if (to <= from) throw new DomainError(ErrorCode.END_BEFORE_START, 'to must be after from');
  if (longerThanDays(from, to, MAX_SEARCH_DAYS)) {
    throw new DomainError(ErrorCode.RANGE_TOO_LONG, `A search may span at most ${MAX_SEARCH_DAYS} days`, { maxDays: MAX_SEARCH_DAYS });
  }
  let providers = (await deps.config.listProviders(clinic.clinicId)).filter((p) => p.appointmentTypes.includes(q.appointmentType));
  if (q.providerId) {
    providers = providers.filter((p) => p.providerId === q.providerId);
    if (providers.length === 0 && !(await deps.config.getProvider(q.providerId))) {
      throw new DomainError(ErrorCode.PROVIDER_NOT_FOUND, 'Unknown provider', { providerId: q.providerId });
    }
  }
  if (providers.length === 0) return [];
  const typesKey = appointmentTypesKey(types);
  const held = await deps.appointments.listBusy({
    clinicId: clinic.clinicId,
    // A booking that started before `from` can still overlap the first slots.
    from: from.minus({ hours: 12 }).toISO()!,
    to: to.toISO()!,
    ...(q.providerId ? { providerId: q.providerId } : {}),
  });
  const window = q.bookableBy ? bookableWindow(q.bookableBy.now, clinic.bookingPolicy, q.bookableBy.channel) : undefined;
  const busy = busyIndex(held);
  // Provider by provider, each generated list in one pass (its instants remembered with it): in the
  // window, not overlapped by an occupying appointment (freeSlots' rule), of the asked type.
  const out: FreeSlot[] = [];
  for (const provider of providers) {
    const slots = searchMemo.generate({ clinic, provider, appointmentTypes: types, from, to }, typesKey);
    const { startsMs, endsMs } = slotSpans(slots);
    const providerBusy = busy.get(provider.providerId);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (window && !startsInWindowMs(startsMs[i]!, window)) continue;
      if (providerBusy && isTaken(providerBusy, startsMs[i]!, endsMs[i]!)) continue;
      if (slot.appointmentTypes.includes(q.appointmentType)) out.push({ ...slot, appointmentType: q.appointmentType });
    }
  }
  return out;
}

/**
 * Every appointment matching `query`, across continuation pages. `maxItems` stops after that many
 * (for reads that only need a bounded view, such as the console's day view).
 */
export async function listAllAppointments(
  repo: Pick<AppointmentRepository, 'list'>,
  query: Omit<Parameters<AppointmentRepository['list']>[0], 'limit' | 'continuationToken'>,
  opts: { maxItems?: number } = {},
): Promise<Appointment[]> {
  const all: Appointment[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await repo.list({ ...query, limit: 500, ...(continuationToken ? { continuationToken } : {}) });
    all.push(...page.items);
    continuationToken = page.continuationToken;
  } while (continuationToken && all.length < (opts.maxItems ?? Number.POSITIVE_INFINITY));
  return all;
}

export interface BookCommand {
  slotId: string;
  patientId: string;
  appointmentType: string;
  channel: Channel;
  actor: Actor;
  externalIds?: ExternalId[];
  /**
   * The caller's scope, checked on what the booking reads anyway (no second lookup): the clinic right after
   * the slot is resolved, the patient once loaded. Out of scope: AccessDenied, nothing written.
   */
  access?: BookingAccess;
}

/** The patient, or PATIENT.NOT_FOUND. */
export async function requirePatient(deps: Pick<SchedulingDeps, 'patients'>, patientId: string): Promise<PatientRecord> {
  const patient = await deps.patients.get(patientId);
  if (!patient) throw new DomainError(ErrorCode.PATIENT_NOT_FOUND, 'Unknown patient', { patientId });
  return patient;
}

/** The slot behind a slot id, with its provider and clinic; SLOT.NOT_FOUND when it is not in the schedule. */
export async function resolveSlot(
  deps: Pick<SchedulingDeps, 'config'>,
  slotId: string,
): Promise<{ slot: Slot; provider: Provider; clinic: Clinic; types: Map<string, AppointmentType> }> {
  const { providerId, startUtc } = parseSlotId(slotId);
  const provider = await deps.config.getProvider(providerId);
  if (!provider) throw new DomainError(ErrorCode.SLOT_NOT_FOUND, 'No such slot', { slotId });
  const clinic = await requireClinic(deps, provider.clinicId);
  const types = await typesOf(deps, clinic.clinicId);
  const slot = findSlot({ clinic, provider, appointmentTypes: types }, startUtc, slotId, resolveMemo);
  return { slot, provider, clinic, types };
}

/** The appointment fields every appointment event carries. */
export function appointmentRef(a: Appointment) {
  return {
    appointmentId: a.appointmentId,
    slotId: a.slotId,
    clinicId: a.clinicId,
    providerId: a.providerId,
    patientId: a.patientId,
    appointmentType: a.appointmentType,
    start: a.start,
    end: a.end,
  };
}

function eventMeta(deps: Pick<SchedulingDeps, 'ids' | 'clock'>, subject: string) {
  return { id: deps.ids.newId('evt'), time: deps.clock.now().toUTC().toISO()!, subject };
}

/**
 * The booking rules for this patient in this slot, with the patient's appointments around it read
 * from the repository (`ignoreAppointmentId`: the appointment being moved). Used by every path that
 * puts a patient into a slot: booking, rescheduling, EHR holds.
 */
export async function checkBookingFor(
  deps: Pick<SchedulingDeps, 'appointments'>,
  c: {
    now: DateTime;
    clinic: Clinic;
    provider: Provider;
    appointmentType: AppointmentType;
    slot: Slot;
    patient: PatientRecord;
    channel: Channel;
    ignoreAppointmentId?: string;
  },
): Promise<BookingDecision> {
  const slotStart = parseInstant(c.slot.start);
  const around = await deps.appointments.listByPatient(c.patient.patientId, slotStart.minus({ days: 1 }).toISO()!, slotStart.plus({ days: 1 }).toISO()!);
  return checkBooking({
    now: c.now,
    policy: c.clinic.bookingPolicy,
    provider: c.provider,
    appointmentType: c.appointmentType,
    slot: c.slot,
    channel: c.channel,
    patientAppointments: around.filter((a) => a.appointmentId !== c.ignoreAppointmentId),
    patientNoShows: c.patient.noShows,
  });
}

/**
 * A new appointment in a slot, built the one way every path that creates one uses (booking, EHR holds):
 * version 1, start and end from the booking decision in the clinic's zone. A hold is `proposed`.
 */
export function newAppointment(a: {
  appointmentId: string;
  slot: Slot;
  clinic: Clinic;
  provider: Provider;
  patient: Pick<PatientRecord, 'patientId'>;
  appointmentType: AppointmentType;
  decision: BookingDecision;
  source: Channel;
  /** Creation instant (UTC ISO). */
  at: string;
  externalIds?: ExternalId[] | undefined;
  hold?: boolean;
}): Appointment {
  return {
    appointmentId: a.appointmentId,
    slotId: a.slot.slotId,
    clinicId: a.clinic.clinicId,
    providerId: a.provider.providerId,
    patientId: a.patient.patientId,
    appointmentType: a.appointmentType.code,
    status: a.hold ? 'proposed' : a.decision.status,
    start: toIsoInZone(a.decision.start, a.clinic.timeZone),
    end: toIsoInZone(a.decision.end, a.clinic.timeZone),
    source: a.source,
    createdAt: a.at,
    updatedAt: a.at,
    version: 1,
    externalIds: a.externalIds ?? [],
    ...(!a.hold && a.decision.needsStaffConfirmation ? { needsStaffConfirmation: true } : {}),
  };
}

/** Books a slot for a patient through any channel. Double booking is impossible: the repository's create is atomic. */
export async function bookAppointment(deps: SchedulingDeps, cmd: BookCommand): Promise<Appointment> {
  const { slot, provider, clinic, types } = await resolveSlot(deps, cmd.slotId);
  requireClinicInScope(cmd.access, clinic.clinicId, cmd.patientId);
  const patient = await requirePatient(deps, cmd.patientId);
  if (cmd.access && !cmd.access.patient(patient, clinic.clinicId)) throw new AccessDenied('patient', clinic.clinicId, patient.patientId);
  const appointmentType = requireType(types, cmd.appointmentType);
  const now = deps.clock.now();
  const decision = await checkBookingFor(deps, { now, clinic, provider, appointmentType, slot, patient, channel: cmd.channel });
  const appointment = newAppointment({
    appointmentId: deps.ids.newId('apt'),
    slot,
    clinic,
    provider,
    patient,
    appointmentType,
    decision,
    source: cmd.channel,
    at: now.toUTC().toISO()!,
    externalIds: cmd.externalIds,
  });
  const event = makeEvent(
    EventType.appointmentBooked,
    { ...appointmentRef(appointment), status: decision.status, channel: cmd.channel },
    eventMeta(deps, appointment.appointmentId),
  );
  const stored = await deps.appointments.create(appointment, [event]);
  await dispatchQuietly(deps, [event]);
  return stored;
}

/** Publishes now if possible; otherwise the outbox relay publishes later (the change is already stored). */
export async function dispatchQuietly(deps: Pick<SchedulingDeps, 'outbox'>, events: SchedulingEvent[]): Promise<void> {
  try {
    await deps.outbox.dispatch(events);
  } catch {
    // Left pending in the outbox; the relay retries. Nothing to report to the caller.
  }
}

/** The appointment, or APPOINTMENT.NOT_FOUND; AccessDenied when `access` excludes its clinic. */
async function requireAppointment(deps: Pick<SchedulingDeps, 'appointments'>, appointmentId: string, access?: ClinicAccess): Promise<Appointment> {
  const appointment = await deps.appointments.get(appointmentId);
  if (!appointment) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId });
  requireClinicInScope(access, appointment.clinicId, appointment.patientId);
  return appointment;
}

/** Re-reads and re-applies a change on a version conflict, a bounded number of times. */
async function withConflictRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isDomainError(e, ErrorCode.CONCURRENT_MODIFICATION) || i >= MAX_CONFLICT_RETRIES - 1) throw e;
    }
  }
}

/** A cascade link carried by the slot a move-up released (events.ts, `slot.released`.cascade). */
export interface CascadeLink {
  depth: number;
  offerId: string;
  workflowInstanceId: string;
}

function slotReleased(
  deps: Pick<SchedulingDeps, 'ids' | 'clock'>,
  a: Appointment,
  reason: 'cancelled' | 'noshow' | 'rescheduled',
  cascade?: CascadeLink,
): SchedulingEvent {
  return makeEvent(
    EventType.slotReleased,
    {
      slotId: a.slotId,
      clinicId: a.clinicId,
      providerId: a.providerId,
      appointmentType: a.appointmentType,
      start: a.start,
      end: a.end,
      reason,
      appointmentId: a.appointmentId,
      ...(cascade ? { cascade } : {}),
    },
    eventMeta(deps, a.slotId),
  );
}

/** A change to an existing appointment; `access`: the caller's scope, checked on the appointment as loaded (AccessDenied). */
export interface AppointmentChange {
  appointmentId: string;
  actor: Actor;
  access?: ClinicAccess;
}

export interface CancelCommand extends AppointmentChange {
  reasonCode: string;
}

/** Cancels an appointment, releases its slot and publishes cancelled + slot.released (if the slot is still ahead). */
export async function cancelAppointment(deps: SchedulingDeps, cmd: CancelCommand): Promise<Appointment> {
  return withConflictRetry(async () => {
    const current = await requireAppointment(deps, cmd.appointmentId, cmd.access);
    const clinic = await requireClinic(deps, current.clinicId);
    const now = deps.clock.now();
    const decision = checkCancellation(current, now, clinic.bookingPolicy, cmd.actor);
    const at = now.toUTC().toISO()!;
    const updated: Appointment = {
      ...current,
      status: decision.status,
      cancellation: { reasonCode: cmd.reasonCode, at, by: cmd.actor.kind, late: decision.late },
      updatedAt: at,
      version: current.version + 1,
    };
    const events: SchedulingEvent[] = [
      makeEvent(
        EventType.appointmentCancelled,
        { ...appointmentRef(updated), reasonCode: cmd.reasonCode, cancelledBy: cmd.actor.kind, late: decision.late },
        eventMeta(deps, updated.appointmentId),
      ),
    ];
    if (parseInstant(updated.start) > now) events.push(slotReleased(deps, updated, 'cancelled'));
    const stored = await deps.appointments.update(updated, current.version, events);
    await dispatchQuietly(deps, events);
    return stored;
  });
}

/** Records a no-show, counts it against the patient, and releases what is left of the slot. */
export async function markNoShow(deps: SchedulingDeps, cmd: AppointmentChange): Promise<Appointment> {
  const stored = await withConflictRetry(async () => {
    const current = await requireAppointment(deps, cmd.appointmentId, cmd.access);
    const now = deps.clock.now();
    const status = checkNoShow(current, now);
    const at = now.toUTC().toISO()!;
    const updated: Appointment = { ...current, status, noShowAt: at, updatedAt: at, version: current.version + 1 };
    const events: SchedulingEvent[] = [makeEvent(EventType.appointmentNoShow, appointmentRef(updated), eventMeta(deps, updated.appointmentId))];
    if (parseInstant(updated.end) > now) events.push(slotReleased(deps, updated, 'noshow'));
    const result = await deps.appointments.update(updated, current.version, events);
    await dispatchQuietly(deps, events);
    return result;
  });
  const patient = await deps.patients.get(stored.patientId);
  if (patient && stored.noShowAt && !patient.noShows.includes(stored.noShowAt)) {
    await deps.patients.put({ ...patient, noShows: [...patient.noShows, stored.noShowAt], updatedAt: stored.noShowAt });
  }
  return stored;
}

/**
 * Confirmation: a patient's "C" reply records that they will come; staff confirming a pending
 * (no-show policy) booking makes it booked.
 */
export async function confirmAppointment(deps: SchedulingDeps, cmd: AppointmentChange & { channel: Channel }): Promise<Appointment> {
  return withConflictRetry(async () => {
    const current = await requireAppointment(deps, cmd.appointmentId, cmd.access);
    const at = deps.clock.now().toUTC().toISO()!;
    let status = current.status;
    if (current.status === 'pending' && cmd.actor.kind !== 'patient') status = 'booked';
    else if (current.status !== 'booked' && current.status !== 'pending') {
      throw new DomainError(ErrorCode.INVALID_TRANSITION, `Cannot confirm an appointment that is ${current.status}`, { from: current.status, to: 'booked' });
    }
    const updated: Appointment = { ...current, status, confirmedAt: at, updatedAt: at, version: current.version + 1 };
    if (status === 'booked') delete updated.needsStaffConfirmation;
    const events: SchedulingEvent[] = [
      makeEvent(EventType.appointmentConfirmed, { ...appointmentRef(updated), channel: cmd.channel }, eventMeta(deps, updated.appointmentId)),
    ];
    const stored = await deps.appointments.update(updated, current.version, events);
    await dispatchQuietly(deps, events);
    return stored;
  });
}

export interface RescheduleCommand {
  appointmentId: string;
  newSlotId: string;
  actor: Actor;
  channel: Channel;
  appointmentType?: string;
  /**
   * Move only if the appointment is still in this slot (a move-up offer moves it from where it was
   * when offered): else APPOINTMENT.ALREADY_MOVED, nothing written. Checked on every conflict retry,
   * so of two concurrent moves of one appointment exactly one succeeds.
   */
  expectedSlotId?: string;
  /** A move-up: the released slot's event carries this cascade link, so its backfill knows the chain. */
  cascade?: CascadeLink;
}

/**
 * Moves an appointment to another slot (same id, new time) in one write: the appointment is
 * replaced with If-Match, claiming the new slot and releasing the old (the repository keeps that
 * atomic, or compensates, so the patient always holds exactly one of the two).
 */
export async function rescheduleAppointment(deps: SchedulingDeps, cmd: RescheduleCommand): Promise<Appointment> {
  return withConflictRetry(async () => {
    const current = await requireAppointment(deps, cmd.appointmentId);
    if (current.status !== 'booked' && current.status !== 'pending') {
      throw new DomainError(ErrorCode.INVALID_TRANSITION, `Cannot reschedule an appointment that is ${current.status}`, { from: current.status, to: 'booked' });
    }
    if (cmd.expectedSlotId !== undefined && current.slotId !== cmd.expectedSlotId) {
      throw new DomainError(ErrorCode.ALREADY_MOVED, 'The appointment has moved since', { appointmentId: current.appointmentId });
    }
    const { slot, provider, clinic, types } = await resolveSlot(deps, cmd.newSlotId);
    const appointmentType = requireType(types, cmd.appointmentType ?? current.appointmentType);
    const patient = await requirePatient(deps, current.patientId);
    const now = deps.clock.now();
    const decision = await checkBookingFor(deps, {
      now,
      clinic,
      provider,
      appointmentType,
      slot,
      patient,
      channel: cmd.channel,
      ignoreAppointmentId: current.appointmentId,
    });
    const at = now.toUTC().toISO()!;
    const updated: Appointment = {
      ...current,
      slotId: slot.slotId,
      clinicId: clinic.clinicId,
      providerId: provider.providerId,
      appointmentType: appointmentType.code,
      start: toIsoInZone(decision.start, clinic.timeZone),
      end: toIsoInZone(decision.end, clinic.timeZone),
      updatedAt: at,
      version: current.version + 1,
    };
    delete updated.confirmedAt;
    const events: SchedulingEvent[] = [
      makeEvent(
        EventType.appointmentRescheduled,
        { ...appointmentRef(updated), previousSlotId: current.slotId, previousStart: current.start, previousEnd: current.end },
        eventMeta(deps, updated.appointmentId),
      ),
    ];
    if (parseInstant(current.start) > now) events.push(slotReleased(deps, current, 'rescheduled', cmd.cascade));
    const stored = await deps.appointments.update(updated, current.version, events);
    await dispatchQuietly(deps, events);
    return stored;
  });
}

/** Today's date in a zone, for partitioning by clinic-local day. */
export function clinicLocalDate(instant: string, zone: string): string {
  return DateTime.fromISO(instant, { setZone: true }).setZone(zone).toISODate()!;
}
