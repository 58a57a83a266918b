import type { ICalEventStatus } from 'ical-generator';
import type { Appointment, AppointmentStatus, AppointmentType, Clinic, Provider } from '../../domain';
import { HOLD_EXPIRED_REASON } from '../../domain/ehr';

/**
 * A provider's appointments as RFC 5545 iCalendar, rendered with ical-generator (escaping, line folding,
 * CRLF). Times are UTC (DATE-TIME with Z), which every client converts to its own zone without a
 * VTIMEZONE; X-WR-TIMEZONE names the clinic's zone as a display hint. Patient names appear only when the
 * caller asks for them (ICAL_PATIENT_NAMES=true); otherwise an event names the appointment type and ids.
 */

/** ical-generator, loaded by the first calendar request rather than at import (a cold instance rarely serves one). */
function loadIcal(): typeof import('ical-generator') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('ical-generator') as typeof import('ical-generator');
}

export const ICAL_PRODUCT = { company: 'Slotflow', product: 'Provider calendar', language: 'EN' };

/** iCalendar STATUS for an appointment status. */
export function icalStatusOf(status: AppointmentStatus): ICalEventStatus {
  const { ICalEventStatus } = loadIcal();
  if (status === 'cancelled' || status === 'entered-in-error') return ICalEventStatus.CANCELLED;
  if (status === 'pending' || status === 'proposed' || status === 'waitlist') return ICalEventStatus.TENTATIVE;
  return ICalEventStatus.CONFIRMED;
}

/** A stable UID: the same appointment is always the same event, across reschedules. */
export const icalUid = (a: Pick<Appointment, 'appointmentId'>) => `${a.appointmentId}@slotflow`;

/** Appointments a calendar shows: everything but holds and lapsed holds (never bookings). */
export function isCalendarAppointment(a: Appointment): boolean {
  return a.status !== 'proposed' && a.cancellation?.reasonCode !== HOLD_EXPIRED_REASON;
}

export interface CalendarInput {
  clinic: Clinic;
  provider: Provider;
  types: ReadonlyMap<string, AppointmentType>;
  appointments: Appointment[];
  /** patientId -> display name, only when names are configured. */
  patientNames?: ReadonlyMap<string, string>;
}

/** Renders the calendar; deterministic for the same input (DTSTAMP is the appointment's last change). */
export function renderProviderCalendar(input: CalendarInput): string {
  const { clinic, provider, types } = input;
  const { default: ical, ICalCalendarMethod } = loadIcal();
  const calendar = ical({
    name: `${provider.name} (${clinic.name})`,
    prodId: ICAL_PRODUCT,
    method: ICalCalendarMethod.PUBLISH,
    x: [['X-WR-TIMEZONE', clinic.timeZone]],
  });
  for (const a of input.appointments.filter(isCalendarAppointment)) {
    const type = types.get(a.appointmentType)?.name ?? a.appointmentType;
    const name = input.patientNames?.get(a.patientId);
    calendar.createEvent({
      id: icalUid(a),
      sequence: Math.max(0, a.version - 1),
      start: new Date(a.start),
      end: new Date(a.end),
      stamp: new Date(a.updatedAt),
      created: new Date(a.createdAt),
      lastModified: new Date(a.updatedAt),
      summary: name ? `${type}: ${name}` : type,
      description: `Appointment ${a.appointmentId}; patient ${a.patientId}; type ${a.appointmentType}; status ${a.status}`,
      location: clinic.name,
      status: icalStatusOf(a.status),
      x: [['X-SLOTFLOW-STATUS', a.status]],
    });
  }
  // RFC 5545 3.1: every content line ends with CRLF, the last (END:VCALENDAR) too; ical-generator omits that one.
  const text = calendar.toString();
  return text.endsWith('\r\n') ? text : `${text}\r\n`;
}
