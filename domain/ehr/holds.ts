import type { DateTime } from 'luxon';
import { DomainError, ErrorCode } from '../errors';
import { EventType, makeEvent } from '../events';
import type { Actor, Appointment, ExternalId } from '../model';
import { requireClinicInScope, type ClinicAccess } from '../access';
import { appointmentRef, checkBookingFor, dispatchQuietly, newAppointment, requirePatient, resolveSlot, type SchedulingDeps } from '../scheduling';
import { requireType } from '../slots';
import { parseInstant } from '../time';
import { EhrError } from './siu-apply';

/**
 * FHIR $hold: a hold is an appointment with status `proposed`, stored through the same repository
 * (so the slot claim that prevents double booking blocks the slot for everybody, API and SMS included)
 * but without events (nothing was booked, so no reminders, eligibility checks or EHR pushes). It
 * lapses HOLD_MINUTES after it was made: the sweeper (and any $hold/$book meeting it) cancels it with
 * reason `hold-expired`, which releases the claim. $book turns the hold into a booking in place (same
 * id, status booked) and publishes appointment.booked, as any other booking does.
 */

export const HOLD_MINUTES = 10;
export const HOLD_EXPIRED_REASON = 'hold-expired';

/** True for an appointment that is a $hold. */
export function isHold(a: Pick<Appointment, 'status'>): boolean {
  return a.status === 'proposed';
}

/** When a hold lapses (createdAt + HOLD_MINUTES). */
export function holdExpiresAt(a: Pick<Appointment, 'createdAt'>): DateTime {
  return parseInstant(a.createdAt).toUTC().plus({ minutes: HOLD_MINUTES });
}

export function isExpiredHold(a: Pick<Appointment, 'status' | 'createdAt'>, now: DateTime): boolean {
  return isHold(a) && holdExpiresAt(a) <= now;
}

export interface HoldCommand {
  slotId: string;
  patientId: string;
  appointmentType: string;
  actor: Actor;
  externalIds?: ExternalId[];
}

/** Places a hold on a slot; releases a lapsed hold in the way first. SLOT_TAKEN if someone holds or booked it. */
export async function placeHold(deps: SchedulingDeps, cmd: HoldCommand): Promise<Appointment> {
  const { slot, provider, clinic, types } = await resolveSlot(deps, cmd.slotId);
  const appointmentType = requireType(types, cmd.appointmentType);
  const patient = await requirePatient(deps, cmd.patientId);
  const now = deps.clock.now();
  const slotStart = parseInstant(slot.start);
  await releaseExpiredHolds(deps, {
    clinicId: clinic.clinicId,
    providerId: provider.providerId,
    from: slotStart.minus({ hours: 12 }),
    to: slotStart.plus({ hours: 12 }),
  });
  const decision = await checkBookingFor(deps, { now, clinic, provider, appointmentType, slot, patient, channel: 'ehr' });
  const hold = newAppointment({
    appointmentId: deps.ids.newId('apt'),
    slot,
    clinic,
    provider,
    patient,
    appointmentType,
    decision,
    source: 'ehr',
    at: now.toUTC().toISO()!,
    externalIds: cmd.externalIds,
    hold: true,
  });
  return deps.appointments.create(hold, []);
}

/** Cancels one lapsed hold (reason hold-expired, by system); the repository releases its slot claim. */
export async function releaseHold(deps: Pick<SchedulingDeps, 'appointments' | 'clock'>, hold: Appointment): Promise<Appointment> {
  const at = deps.clock.now().toUTC().toISO()!;
  const released: Appointment = {
    ...hold,
    status: 'cancelled',
    cancellation: { reasonCode: HOLD_EXPIRED_REASON, at, by: 'system', late: false },
    updatedAt: at,
    version: hold.version + 1,
  };
  return deps.appointments.update(released, hold.version, []);
}

/** Releases the lapsed holds of a clinic (optionally one provider) whose start is in [from, to); returns how many. */
export async function releaseExpiredHolds(
  deps: Pick<SchedulingDeps, 'appointments' | 'clock'>,
  q: { clinicId: string; providerId?: string; from: DateTime; to: DateTime },
): Promise<number> {
  const now = deps.clock.now();
  let released = 0;
  let continuationToken: string | undefined;
  do {
    const page = await deps.appointments.list({
      clinicId: q.clinicId,
      from: q.from.toUTC().toISO()!,
      to: q.to.toUTC().toISO()!,
      status: 'proposed',
      limit: 200,
      ...(q.providerId ? { providerId: q.providerId } : {}),
      ...(continuationToken ? { continuationToken } : {}),
    });
    for (const a of page.items.filter((x) => isExpiredHold(x, now))) {
      try {
        await releaseHold(deps, a);
        released += 1;
      } catch (e) {
        // Someone else released or booked it meanwhile: that is the outcome we wanted.
        if (!(e instanceof DomainError && e.code === ErrorCode.CONCURRENT_MODIFICATION)) throw e;
      }
    }
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return released;
}

/** Releases lapsed holds in every clinic, for slots from a week ago to two years ahead (the sweeper). */
export async function sweepExpiredHolds(deps: Pick<SchedulingDeps, 'appointments' | 'clock' | 'config'>): Promise<number> {
  const now = deps.clock.now();
  let total = 0;
  for (const clinic of await deps.config.listClinics()) {
    total += await releaseExpiredHolds(deps, { clinicId: clinic.clinicId, from: now.minus({ days: 7 }), to: now.plus({ days: 731 }) });
  }
  return total;
}

/**
 * $book of a held appointment: re-checks the booking rules (time may have passed) and turns the hold into
 * a booking in place, publishing appointment.booked. A lapsed hold is released and HOLD.EXPIRED thrown.
 * `access`: the caller's scope, checked on the appointment as loaded (AccessDenied).
 */
export async function bookHold(
  deps: SchedulingDeps,
  cmd: { appointmentId: string; actor: Actor; patientId?: string; access?: ClinicAccess },
): Promise<Appointment> {
  const current = await deps.appointments.get(cmd.appointmentId);
  if (!current) throw new EhrError('HOLD.NOT_FOUND', 'No such held appointment');
  requireClinicInScope(cmd.access, current.clinicId, current.patientId);
  if (cmd.patientId && cmd.patientId !== current.patientId)
    throw new DomainError(ErrorCode.INVALID_INPUT, 'The patient differs from the hold', { field: 'participant' });
  // Booking a hold twice returns the booking (a retried $book).
  if (current.status === 'booked' && current.source === 'ehr') return current;
  if (!isHold(current)) throw new EhrError('HOLD.NOT_FOUND', 'The appointment is not on hold');
  const now = deps.clock.now();
  if (isExpiredHold(current, now)) {
    await releaseHold(deps, current).catch(() => undefined);
    throw new EhrError('HOLD.EXPIRED', 'The hold has lapsed; place a new one');
  }
  const { slot, provider, clinic, types } = await resolveSlot(deps, current.slotId);
  const appointmentType = requireType(types, current.appointmentType);
  const patient = await requirePatient(deps, current.patientId);
  const decision = await checkBookingFor(deps, {
    now,
    clinic,
    provider,
    appointmentType,
    slot,
    patient,
    channel: 'ehr',
    ignoreAppointmentId: current.appointmentId,
  });
  const at = now.toUTC().toISO()!;
  const booked: Appointment = { ...current, status: decision.status, updatedAt: at, version: current.version + 1 };
  const event = makeEvent(
    EventType.appointmentBooked,
    { ...appointmentRef(booked), status: decision.status, channel: 'ehr' },
    { id: deps.ids.newId('evt'), time: at, subject: booked.appointmentId },
  );
  const stored = await deps.appointments.update(booked, current.version, [event]);
  await dispatchQuietly(deps, [event]);
  return stored;
}
