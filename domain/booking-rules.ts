import { DateTime } from 'luxon';
import { transition } from './appointment-status';
import { DomainError, ErrorCode } from './errors';
import type { Actor, Appointment, AppointmentStatus, AppointmentType, BookingPolicy, Channel, Provider, Slot } from './model';
import { OCCUPYING_STATUSES } from './slots';
import { fastInstantMs, parseInstant } from './time';

/** Channels where the patient books for themselves (minimum notice and no-show policy apply). */
export const SELF_SERVICE_CHANNELS: ReadonlySet<Channel> = new Set(['sms', 'link']);

export interface BookingCheck {
  now: DateTime;
  policy: BookingPolicy;
  provider: Pick<Provider, 'providerId' | 'appointmentTypes'>;
  appointmentType: AppointmentType;
  slot: Slot;
  channel: Channel;
  /** The patient's appointments that might overlap (any status; only occupying ones count). */
  patientAppointments: readonly Pick<Appointment, 'appointmentId' | 'start' | 'end' | 'status'>[];
  /** Instants of the patient's past no-shows. */
  patientNoShows: readonly string[];
}

export interface BookingDecision {
  status: Extract<AppointmentStatus, 'booked' | 'pending'>;
  start: DateTime;
  end: DateTime;
  needsStaffConfirmation: boolean;
}

/** Applies the booking rules; throws a DomainError with a stable code for the first one broken. */
export function checkBooking(c: BookingCheck): BookingDecision {
  const { now, policy, slot, appointmentType } = c;
  if (!c.provider.appointmentTypes.includes(appointmentType.code)) {
    throw new DomainError(ErrorCode.APPOINTMENT_TYPE_NOT_OFFERED, 'The provider does not offer this appointment type', {
      appointmentType: appointmentType.code,
      providerId: c.provider.providerId,
    });
  }
  if (!slot.appointmentTypes.includes(appointmentType.code)) {
    throw new DomainError(ErrorCode.APPOINTMENT_TYPE_DOES_NOT_FIT, 'This appointment type cannot be booked in this slot', {
      appointmentType: appointmentType.code,
      slotId: slot.slotId,
    });
  }
  const start = parseInstant(slot.start, 'slot.start');
  // Minutes are elapsed time in luxon's plus: the same instant and zone without a Duration.
  const end = DateTime.fromMillis(start.toMillis() + appointmentType.durationMinutes * 60_000, { zone: start.zone });
  const broken = bookingTimeRuleBroken(start.toMillis(), bookableWindow(now, policy, c.channel));
  if (broken === ErrorCode.IN_THE_PAST) throw new DomainError(ErrorCode.IN_THE_PAST, 'The slot has already started', { slotId: slot.slotId });
  if (broken === ErrorCode.TOO_LITTLE_NOTICE) {
    throw new DomainError(ErrorCode.TOO_LITTLE_NOTICE, `Bookings need ${policy.minNoticeMinutes} minutes notice`, {
      minNoticeMinutes: policy.minNoticeMinutes,
    });
  }
  if (broken === ErrorCode.BEYOND_HORIZON) {
    throw new DomainError(ErrorCode.BEYOND_HORIZON, `Bookings may be at most ${policy.maxHorizonDays} days ahead`, {
      maxHorizonDays: policy.maxHorizonDays,
    });
  }
  const selfService = SELF_SERVICE_CHANNELS.has(c.channel);
  const [startMs, endMs] = [start.toMillis(), end.toMillis()];
  const clash = c.patientAppointments.find((a) => {
    if (!OCCUPYING_STATUSES.has(a.status)) return false;
    const [aStart, aEnd] = [instantOf(a.start), instantOf(a.end)];
    return startMs < aEnd && aStart < endMs;
  });
  if (clash) {
    throw new DomainError(ErrorCode.PATIENT_OVERLAP, 'The patient already has an appointment at that time', {
      appointmentId: clash.appointmentId,
    });
  }
  const needsStaffConfirmation = selfService && recentNoShows(c.patientNoShows, now, policy) >= policy.noShowThreshold;
  return { status: needsStaffConfirmation ? 'pending' : 'booked', start, end, needsStaffConfirmation };
}

/**
 * When a slot may start to be bookable through a channel at `now`, as epoch milliseconds: after `now` (never a
 * slot that has started), for self-service channels at least the minimum notice ahead, and except for the EHR
 * at most the horizon ahead. Booking checks it, and every list of free slots filters with it, so a slot listed
 * as free can be booked through the channel that listed it.
 */
export interface BookableWindow {
  /** A slot must start after this instant (exclusive). */
  startsAfterMs: number;
  /** ... and not before this one (minimum notice; equal to startsAfterMs when none applies). */
  notBeforeMs: number;
  /** ... and not after this one (the horizon; Infinity when none applies). */
  notAfterMs: number;
}

/** The bookable window of a channel under a clinic's booking policy at `now`. */
export function bookableWindow(now: DateTime, policy: Pick<BookingPolicy, 'minNoticeMinutes' | 'maxHorizonDays'>, channel: Channel): BookableWindow {
  const nowMs = now.toMillis();
  return {
    startsAfterMs: nowMs,
    notBeforeMs: SELF_SERVICE_CHANNELS.has(channel) ? nowMs + policy.minNoticeMinutes * 60_000 : nowMs,
    notAfterMs: channel === 'ehr' ? Number.POSITIVE_INFINITY : plusDaysMs(now, policy.maxHorizonDays),
  };
}

export type BookingTimeRule = typeof ErrorCode.IN_THE_PAST | typeof ErrorCode.TOO_LITTLE_NOTICE | typeof ErrorCode.BEYOND_HORIZON;

/** The timing rule a slot starting at `startMs` breaks in this window, or undefined when its start is bookable. */
export function bookingTimeRuleBroken(startMs: number, window: BookableWindow): BookingTimeRule | undefined {
  if (startMs <= window.startsAfterMs) return ErrorCode.IN_THE_PAST;
  if (startMs < window.notBeforeMs) return ErrorCode.TOO_LITTLE_NOTICE;
  if (startMs > window.notAfterMs) return ErrorCode.BEYOND_HORIZON;
  return undefined;
}

/** Whether a slot starting at `start` (ISO instant) is bookable in this window. */
export const startsInWindow = (start: string, window: BookableWindow): boolean => startsInWindowMs(Date.parse(start), window);
/** startsInWindow for a start already in epoch milliseconds. */
export const startsInWindowMs = (startMs: number, window: BookableWindow): boolean => bookingTimeRuleBroken(startMs, window) === undefined;

/** No-shows within the policy's rolling window ending now. */
export function recentNoShows(noShows: readonly string[], now: DateTime, policy: Pick<BookingPolicy, 'noShowWindowDays'>): number {
  const sinceMs = plusDaysMs(now, -policy.noShowWindowDays);
  const nowMs = now.toMillis();
  return noShows.filter((iso) => {
    // An instant with an offset is the same with or without setZone; any other string as luxon reads it.
    const atMs = fastInstantMs(iso) ?? DateTime.fromISO(iso).toMillis();
    return atMs > sinceMs && atMs <= nowMs;
  }).length;
}

/**
 * `now.plus({ days }).toMillis()`: calendar days in now's zone, which in a zone of fixed offset (UTC,
 * what the clock hands out) are 24 hours each; other zones take luxon's calendar arithmetic.
 */
function plusDaysMs(now: DateTime, days: number): number {
  return now.zone.isUniversal ? now.toMillis() + days * 86_400_000 : now.plus({ days }).toMillis();
}

/** parseInstant(iso).toMillis(), through the fast path where it applies (the same instant; a bad value throws as parseInstant does). */
function instantOf(iso: string): number {
  return fastInstantMs(iso) ?? parseInstant(iso).toMillis();
}

export interface CancellationDecision {
  status: 'cancelled';
  /** Inside the cancellation window (only staff may do that). */
  late: boolean;
}

/** Cancellation: patients only outside the window and before the start; staff, EHR and the system always. */
export function checkCancellation(
  appointment: Pick<Appointment, 'status' | 'start'>,
  now: DateTime,
  policy: Pick<BookingPolicy, 'cancellationWindowHours'>,
  actor: Actor,
): CancellationDecision {
  transition(appointment.status, 'cancelled');
  const start = parseInstant(appointment.start);
  const late = start < now.plus({ hours: policy.cancellationWindowHours });
  if (actor.kind === 'patient' && late) {
    throw new DomainError(
      ErrorCode.CANCELLATION_WINDOW_PASSED,
      `Patients can cancel up to ${policy.cancellationWindowHours} hours before the visit; please call the clinic`,
      { cancellationWindowHours: policy.cancellationWindowHours },
    );
  }
  return { status: 'cancelled', late };
}

/** A no-show can be recorded only for a booked visit whose start has passed. */
export function checkNoShow(appointment: Pick<Appointment, 'status' | 'start'>, now: DateTime): 'noshow' {
  transition(appointment.status, 'noshow');
  if (parseInstant(appointment.start) > now) {
    throw new DomainError(ErrorCode.NOT_YET_HAPPENED, 'A no-show can be recorded only after the start time');
  }
  return 'noshow';
}
