import { DateTime } from 'luxon';
import { transition } from './appointment-status';
import { DomainError, ErrorCode } from './errors';
import type { Actor, Appointment, AppointmentStatus, AppointmentType, BookingPolicy, Channel, Provider, Slot } from './model';
import { OCCUPYING_STATUSES } from './slots';
import { overlaps, parseInstant } from './time';

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
  const end = start.plus({ minutes: appointmentType.durationMinutes });
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
  const clash = c.patientAppointments.find((a) => OCCUPYING_STATUSES.has(a.status) && overlaps(start, end, parseInstant(a.start), parseInstant(a.end)));
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
    notBeforeMs: SELF_SERVICE_CHANNELS.has(channel) ? now.plus({ minutes: policy.minNoticeMinutes }).toMillis() : nowMs,
    notAfterMs: channel === 'ehr' ? Number.POSITIVE_INFINITY : now.plus({ days: policy.maxHorizonDays }).toMillis(),
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
  const since = now.minus({ days: policy.noShowWindowDays });
  return noShows.filter((iso) => {
    const at = DateTime.fromISO(iso);
    return at.isValid && at > since && at <= now;
  }).length;
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
