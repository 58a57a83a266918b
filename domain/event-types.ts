/**
 * The CloudEvents type names on their own (no schemas, no zod): the Service Bus topology and the
 * local broker read them without loading the payload schemas of events.ts, which re-exports them.
 */
/** CloudEvents 1.0 type names; the `.v1` suffix versions the payload schema. */
export const EventType = {
  appointmentBooked: 'health.scheduling.appointment.booked.v1',
  appointmentCancelled: 'health.scheduling.appointment.cancelled.v1',
  appointmentNoShow: 'health.scheduling.appointment.noshow.v1',
  appointmentRescheduled: 'health.scheduling.appointment.rescheduled.v1',
  appointmentConfirmed: 'health.scheduling.appointment.confirmed.v1',
  slotReleased: 'health.scheduling.slot.released.v1',
  offerSent: 'health.scheduling.waitlist.offer.sent.v1',
  offerAccepted: 'health.scheduling.waitlist.offer.accepted.v1',
  offerExpired: 'health.scheduling.waitlist.offer.expired.v1',
  eligibilityVerified: 'health.scheduling.eligibility.verified.v1',
  eligibilityFailed: 'health.scheduling.eligibility.failed.v1',
  providerAbsence: 'health.scheduling.provider.absence.v1',
  patientErased: 'health.scheduling.patient.erased.v1',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];
