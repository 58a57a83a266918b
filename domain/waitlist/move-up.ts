/**
 * Move-up entries: a patient who already holds an appointment asks to be moved earlier. The entry
 * names the appointment; clinic, type and patient come from it; only slots starting before it are
 * offered (eligibility.ts), and accepting moves the appointment (offers.ts, acceptOffer) instead of
 * booking a second one. docs/patient-channels.md, "Move-up offers".
 */
import { DomainError, ErrorCode } from '../errors';
import type { Appointment, MoveUp, TimeOfDay, Urgency, WaitlistEntry } from '../model';
import type { AppointmentRepository, Clock, WaitlistRepository } from '../ports';

/** One move-up entry per appointment: a deterministic id, so a repeated request (API retry, EARLIER twice) finds it. */
export function moveUpEntryId(appointmentId: string): string {
  return `wl-up-${appointmentId}`.slice(0, 64);
}

/** An appointment a move-up may move: booked (or pending staff confirmation) and still ahead. */
export function isMovable(a: Appointment | undefined, nowMs: number): a is Appointment {
  return a !== undefined && (a.status === 'booked' || a.status === 'pending') && Date.parse(a.start) > nowMs;
}

/** The appointment a move-up entry or offer refers to, as it stands now. */
export function moveUpOf(a: Appointment): MoveUp {
  return { appointmentId: a.appointmentId, slotId: a.slotId, start: a.start };
}

export interface MoveUpRequest {
  appointmentId: string;
  /** If given, must match the appointment (else WAITLIST.MOVE_UP_MISMATCH naming the field). */
  patientId?: string;
  clinicId?: string;
  appointmentType?: string;
  providerIds?: string[];
  earliest?: string;
  latest?: string;
  urgency?: Urgency;
  clinicalDeadline?: string;
  timeOfDay?: TimeOfDay;
}

export interface MoveUpDeps {
  appointments: Pick<AppointmentRepository, 'get'>;
  waitlist: Pick<WaitlistRepository, 'get' | 'add' | 'update'>;
  clock: Clock;
}

/**
 * The appointment a move-up request names, checked: known (APPOINTMENT.NOT_FOUND), booked
 * (WAITLIST.MOVE_UP_APPOINTMENT_NOT_BOOKED), ahead (WAITLIST.MOVE_UP_APPOINTMENT_PAST), and not
 * contradicted by the request's patient, clinic or type (WAITLIST.MOVE_UP_MISMATCH with `field`).
 */
export async function requireMovableAppointment(deps: Pick<MoveUpDeps, 'appointments' | 'clock'>, req: MoveUpRequest): Promise<Appointment> {
  const appointment = await deps.appointments.get(req.appointmentId);
  if (!appointment) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId: req.appointmentId });
  for (const field of ['patientId', 'clinicId', 'appointmentType'] as const) {
    if (req[field] !== undefined && req[field] !== appointment[field]) {
      throw new DomainError(ErrorCode.MOVE_UP_MISMATCH, `${field} does not match the appointment`, { field, appointmentId: appointment.appointmentId });
    }
  }
  if (appointment.status !== 'booked' && appointment.status !== 'pending') {
    throw new DomainError(ErrorCode.MOVE_UP_APPOINTMENT_NOT_BOOKED, 'Only a booked appointment can be moved earlier', {
      appointmentId: appointment.appointmentId,
      status: appointment.status,
    });
  }
  if (Date.parse(appointment.start) <= deps.clock.now().toMillis()) {
    throw new DomainError(ErrorCode.MOVE_UP_APPOINTMENT_PAST, 'The appointment has already started', { appointmentId: appointment.appointmentId });
  }
  return appointment;
}

/**
 * Puts a booked appointment on the waitlist to move earlier. Returns `created: false` with the
 * entry already waiting for that appointment when there is one (callers decide whether that is a
 * conflict); an entry of an earlier, finished move-up of the same appointment is reopened.
 */
export async function addMoveUpEntry(deps: MoveUpDeps, req: MoveUpRequest): Promise<{ entry: WaitlistEntry; created: boolean }> {
  const appointment = await requireMovableAppointment(deps, req);
  const now = deps.clock.now().toUTC().toISO()!;
  const id = moveUpEntryId(appointment.appointmentId);
  const existing = await deps.waitlist.get(id);
  if (existing && (existing.status === 'active' || existing.status === 'offered')) return { entry: existing, created: false };
  const entry: WaitlistEntry = {
    waitlistEntryId: id,
    clinicId: appointment.clinicId,
    patientId: appointment.patientId,
    appointmentType: appointment.appointmentType,
    providerIds: [...new Set(req.providerIds ?? [])],
    ...(req.earliest ? { earliest: req.earliest } : {}),
    ...(req.latest ? { latest: req.latest } : {}),
    urgency: req.urgency ?? 'routine',
    ...(req.clinicalDeadline ? { clinicalDeadline: req.clinicalDeadline } : {}),
    timeOfDay: req.timeOfDay ?? 'any',
    moveUp: moveUpOf(appointment),
    status: 'active',
    createdAt: now,
    updatedAt: now,
    version: (existing?.version ?? 0) + 1,
  };
  if (existing) return { entry: await deps.waitlist.update(entry, existing.version), created: true };
  await deps.waitlist.add(entry);
  return { entry, created: true };
}

/**
 * A move-up entry with its appointment as it stands now (the start may have changed), or undefined
 * when the appointment no longer holds a time ahead (cancelled, past): nothing to move any more.
 */
export async function refreshMoveUp(
  deps: { appointments: Pick<AppointmentRepository, 'get'>; clock: Clock },
  entry: WaitlistEntry,
): Promise<WaitlistEntry | undefined> {
  if (!entry.moveUp) return entry;
  const appointment = await deps.appointments.get(entry.moveUp.appointmentId);
  if (!isMovable(appointment, deps.clock.now().toMillis())) return undefined;
  return { ...entry, moveUp: moveUpOf(appointment) };
}
