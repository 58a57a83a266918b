/**
 * No-show follow-up: some time after a no-show (the clinic's `noShowFollowUp.delayMinutes`, 60 by
 * default) the patient is texted a PHI-free rebooking link, within sending hours. Pure decisions;
 * orchestrations/no-show-follow-up.ts waits and sends. docs/patient-channels.md, "No-show follow-up".
 */
import { DateTime } from 'luxon';
import type { Appointment, AppointmentType, Clinic } from '../model';
import { nextSendTime } from '../waitlist/eligibility';

/** Delay when the clinic sets none. */
export const DEFAULT_NO_SHOW_FOLLOW_UP_MINUTES = 60;
/** How far ahead the rebooking link looks, and how long it lives. */
export const FOLLOW_UP_SEARCH_DAYS = 14;
export const FOLLOW_UP_LINK_TTL_MINUTES = 72 * 60;

export type FollowUpPlan = { kind: 'send'; at: string } | { kind: 'skip'; reason: 'clinic-off' | 'type-off' };

/**
 * When to text the follow-up of a no-show recorded at `noShowAt`: the delay later, moved to the end
 * of quiet hours if it falls inside them (clinic zone); or not at all when the clinic or the
 * appointment type turned it off.
 */
export function planNoShowFollowUp(input: {
  noShowAt: string;
  clinic: Pick<Clinic, 'timeZone' | 'offerPolicy' | 'noShowFollowUp'>;
  appointmentType?: Pick<AppointmentType, 'noShowFollowUp'>;
}): FollowUpPlan {
  const setting = input.clinic.noShowFollowUp;
  if (setting && !setting.enabled) return { kind: 'skip', reason: 'clinic-off' };
  if (input.appointmentType?.noShowFollowUp === false) return { kind: 'skip', reason: 'type-off' };
  const due = DateTime.fromISO(input.noShowAt, { zone: 'utc' }).plus({ minutes: setting?.delayMinutes ?? DEFAULT_NO_SHOW_FOLLOW_UP_MINUTES });
  return { kind: 'send', at: nextSendTime(due, input.clinic.timeZone, input.clinic.offerPolicy).toUTC().toISO()! };
}

export type FollowUpDue = { due: true } | { due: false; reason: 'not-noshow' | 'rebooked' };

/**
 * Still worth sending when the time comes? Not if staff corrected the no-show, or the patient has
 * booked again at that clinic meanwhile (a rebooking link would then be noise).
 */
export function isFollowUpDue(appointment: Pick<Appointment, 'status' | 'clinicId'>, patientAppointments: readonly Appointment[], nowIso: string): FollowUpDue {
  if (appointment.status !== 'noshow') return { due: false, reason: 'not-noshow' };
  const now = Date.parse(nowIso);
  const rebooked = patientAppointments.some(
    (a) => a.clinicId === appointment.clinicId && (a.status === 'booked' || a.status === 'pending') && Date.parse(a.start) > now,
  );
  return rebooked ? { due: false, reason: 'rebooked' } : { due: true };
}
