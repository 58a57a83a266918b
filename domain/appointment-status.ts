import { DomainError, ErrorCode } from './errors';
import type { AppointmentStatus } from './model';

/**
 * Allowed Appointment.status transitions, following the FHIR R4 Appointment workflow:
 * proposed/pending/waitlist lead to booked; a booked visit is arrived, checked-in and fulfilled, or
 * ends cancelled or noshow; anything may be marked entered-in-error, which is final.
 */
export const TRANSITIONS: Readonly<Record<AppointmentStatus, readonly AppointmentStatus[]>> = {
  proposed: ['pending', 'booked', 'cancelled', 'waitlist', 'entered-in-error'],
  pending: ['booked', 'cancelled', 'waitlist', 'entered-in-error'],
  waitlist: ['proposed', 'pending', 'booked', 'cancelled', 'entered-in-error'],
  booked: ['arrived', 'checked-in', 'cancelled', 'noshow', 'entered-in-error'],
  arrived: ['checked-in', 'fulfilled', 'entered-in-error'],
  'checked-in': ['fulfilled', 'entered-in-error'],
  fulfilled: ['entered-in-error'],
  cancelled: ['entered-in-error'],
  noshow: ['entered-in-error'],
  'entered-in-error': [],
};

/** True if `from -> to` is an allowed transition. */
export function canTransition(from: AppointmentStatus, to: AppointmentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Returns `to` if allowed, else throws APPOINTMENT.INVALID_TRANSITION naming both statuses. */
export function transition(from: AppointmentStatus, to: AppointmentStatus): AppointmentStatus {
  if (!canTransition(from, to)) {
    throw new DomainError(ErrorCode.INVALID_TRANSITION, `Cannot go from ${from} to ${to}`, { from, to });
  }
  return to;
}

/** Statuses no transition leaves except to entered-in-error. */
export function isFinal(status: AppointmentStatus): boolean {
  return TRANSITIONS[status].every((s) => s === 'entered-in-error');
}
