// @ts-check
// Shared page state and the shapes of the API answers the console reads.

/**
 * @typedef {'free' | 'booked' | 'held' | 'pending'} SlotState
 * @typedef {{ appointmentId: string, patientId: string, appointmentType: string, status: string, start: string, end: string, source: string }} SlotAppointment
 * @typedef {{ offerId: string, waitlistEntryId: string, patientId: string, expiresAt: string, round: number, workflowInstanceId: string }} SlotOffer
 * @typedef {{ slotId: string, start: string, end: string, appointmentTypes: string[], state: SlotState, past?: boolean, outsideHours?: boolean, appointment?: SlotAppointment, offer?: SlotOffer }} CalendarSlot
 * @typedef {{ kind: 'absence', from: string, to: string, reason?: string }} Absence
 * @typedef {{ providerId: string, name: string, appointmentTypes: string[], absences: Absence[], days: { date: string, slots: CalendarSlot[] }[] }} CalendarProvider
 * @typedef {{ code: string, name: string, durationMinutes: number }} AppointmentType
 * @typedef {{ clinicId: string, timeZone: string, from: string, dates: string[], now: string, appointmentTypes: AppointmentType[], providers: CalendarProvider[] }} Calendar
 * @typedef {{ clinicId: string, name: string, timeZone: string, smsDisplayName?: string, bookingPolicy: Record<string, number>, offerPolicy: Record<string, number | string>, reminderHoursBefore: number[], eligibilityLeadHours: number }} Clinic
 * @typedef {{ day: string, start: string, end: string, appointmentTypes?: string[] }} WeeklyHours
 * @typedef {{ kind: 'holiday', date: string, reason?: string } | { kind: 'absence', from: string, to: string, reason?: string }} ScheduleException
 * @typedef {{ providerId: string, clinicId: string, name: string, appointmentTypes: string[], weeklyHours: WeeklyHours[], slotMinutes?: number, exceptions: ScheduleException[] }} Provider
 * @typedef {{ patientId: string, name: string, phone: string, smsConsent: boolean, smsOptedOut: boolean, clinicIds: string[], noShows: number, preferredLanguage?: string, smsLanguage?: string }} PatientCard
 */

/**
 * @type {{
 *   clinicId: string, timeZone: string, clinics: Clinic[], providers: Provider[], types: AppointmentType[],
 *   roles: string[] | undefined, dev: boolean, devRoles: string[], skewMs: number, page: string,
 *   view: 'day' | 'week', date: string,
 * }}
 */
export const state = {
  clinicId: '',
  timeZone: 'UTC',
  clinics: [],
  providers: [],
  types: [],
  roles: undefined,
  dev: false,
  devRoles: ['scheduler'],
  skewMs: 0,
  page: 'schedule',
  view: 'week',
  date: '',
};

/** Listeners for a change of clinic (each page reloads what it shows). @type {Set<() => void>} */
export const clinicListeners = new Set();

/** True when the user may use the admin pages (unknown roles: let the API decide). */
export const isAdmin = () => state.roles === undefined || state.roles.includes('admin');

/** Index of an appointment type in the clinic's list, for its colour (8 colours, then they repeat). @param {string} code */
export function typeIndex(code) {
  const i = state.types.findIndex((t) => t.code === code);
  return i < 0 ? 7 : i % 8;
}

/** @param {string} code */
export function typeName(code) {
  return state.types.find((t) => t.code === code)?.name ?? code;
}

/** @param {string} providerId */
export function providerName(providerId) {
  return state.providers.find((p) => p.providerId === providerId)?.name ?? providerId;
}

/** Server time now (countdowns use the server clock, so a skewed workstation still shows the right time left). */
export const serverNow = () => Date.now() + state.skewMs;
