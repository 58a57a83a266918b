/**
 * Stable error codes. Adapters map them to HTTP status (functions/lib/problem.ts), HL7 ACK codes or
 * dead-letter reasons. Messages and details never carry PHI: ids and codes only.
 */
export const ErrorCode = {
  INVALID_INPUT: 'VALIDATION.INVALID_INPUT',
  INVALID_TIME_ZONE: 'CLINIC.INVALID_TIME_ZONE',
  INVALID_TIME: 'TIME.INVALID',
  END_BEFORE_START: 'RANGE.END_BEFORE_START',
  RANGE_TOO_LONG: 'RANGE.TOO_LONG',
  INVALID_PHONE: 'PATIENT.INVALID_PHONE',
  INVALID_ID: 'ID.INVALID',
  CLINIC_NOT_FOUND: 'CLINIC.NOT_FOUND',
  PROVIDER_NOT_FOUND: 'PROVIDER.NOT_FOUND',
  PATIENT_NOT_FOUND: 'PATIENT.NOT_FOUND',
  PATIENT_ERASED: 'PATIENT.ERASED',
  APPOINTMENT_TYPE_UNKNOWN: 'APPOINTMENT_TYPE.UNKNOWN',
  APPOINTMENT_TYPE_NOT_OFFERED: 'APPOINTMENT_TYPE.NOT_OFFERED_BY_PROVIDER',
  APPOINTMENT_TYPE_DOES_NOT_FIT: 'APPOINTMENT_TYPE.DOES_NOT_FIT_SLOT',
  SLOT_NOT_FOUND: 'SLOT.NOT_FOUND',
  SLOT_TAKEN: 'APPOINTMENT.SLOT_TAKEN',
  PATIENT_OVERLAP: 'APPOINTMENT.PATIENT_OVERLAP',
  TOO_LITTLE_NOTICE: 'APPOINTMENT.TOO_LITTLE_NOTICE',
  BEYOND_HORIZON: 'APPOINTMENT.BEYOND_HORIZON',
  IN_THE_PAST: 'APPOINTMENT.IN_THE_PAST',
  CANCELLATION_WINDOW_PASSED: 'APPOINTMENT.CANCELLATION_WINDOW_PASSED',
  STAFF_CONFIRMATION_REQUIRED: 'APPOINTMENT.STAFF_CONFIRMATION_REQUIRED',
  INVALID_TRANSITION: 'APPOINTMENT.INVALID_TRANSITION',
  APPOINTMENT_NOT_FOUND: 'APPOINTMENT.NOT_FOUND',
  CONCURRENT_MODIFICATION: 'APPOINTMENT.CONCURRENT_MODIFICATION',
  NOT_YET_HAPPENED: 'APPOINTMENT.NOT_YET_STARTED',
  WAITLIST_ENTRY_NOT_FOUND: 'WAITLIST.NOT_FOUND',
  WAITLIST_NOT_ACTIVE: 'WAITLIST.NOT_ACTIVE',
  OFFER_NOT_FOUND: 'OFFER.NOT_FOUND',
  OFFER_EXPIRED: 'OFFER.EXPIRED',
  OFFER_NOT_OPEN: 'OFFER.NOT_OPEN',
  SMS_NO_CONSENT: 'SMS.NO_CONSENT',
  SMS_QUIET_HOURS: 'SMS.QUIET_HOURS',
  SMS_RATE_LIMITED: 'SMS.RATE_LIMITED',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY.KEY_REUSED',
  EVENT_INVALID: 'EVENT.INVALID',
  EVENT_UNKNOWN_TYPE: 'EVENT.UNKNOWN_TYPE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Details are ids, codes, counts and flags only: they end up in problem+json bodies and logs. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | readonly string[]>>;

/** A rule or validation failure the caller can act on; never wraps a library exception verbatim. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** True if `e` is a DomainError, optionally with the given code. */
export function isDomainError(e: unknown, code?: ErrorCode): e is DomainError {
  return e instanceof DomainError && (code === undefined || e.code === code);
}
