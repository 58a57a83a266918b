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
  if (start <= now) throw new DomainError(ErrorCode.IN_THE_PAST, 'The slot has already started', { slotId: slot.slotId });
  const selfService = SELF_SERVICE_CHANNELS.has(c.channel);
  if (selfService && start < now.plus({ minutes: policy.minNoticeMinutes })) {
    throw new DomainError(ErrorCode.TOO_LITTLE_NOTICE, `Bookings need ${policy.minNoticeMinutes} minutes notice`, {
      minNoticeMinutes: policy.minNoticeMinutes,
    });
  }
  if (c.channel !== 'ehr' && start > now.plus({ days: policy.maxHorizonDays })) {
    throw new DomainError(ErrorCode.BEYOND_HORIZON, `Bookings may be at most ${policy.maxHorizonDays} days ahead`, {
      maxHorizonDays: policy.maxHorizonDays,
    });
  }
  const clash = c.patientAppointments.find((a) => OCCUPYING_STATUSES.has(a.status) && overlaps(start, end, parseInstant(a.start), parseInstant(a.end)));
  if (clash) {
    throw new DomainError(ErrorCode.PATIENT_OVERLAP, 'The patient already has an appointment at that time', {
      appointmentId: clash.appointmentId,
    });
  }
  const needsStaffConfirmation = selfService && recentNoShows(c.patientNoShows, now, policy) >= policy.noShowThreshold;
  return { status: needsStaffConfirmation ? 'pending' : 'booked', start, end, needsStaffConfirmation };
}

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
