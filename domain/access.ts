import type { PatientRecord } from './ports';

/**
 * The caller's access scope as plain predicates over domain data. The edge computes them from its
 * principal; the use cases run them on what they load anyway (no second lookup) and stop with
 * AccessDenied before anything is written. Authorization outcomes (status codes, audit) stay at the edge.
 */
export interface ClinicAccess {
  /** True if the caller may act on this clinic. */
  clinic(clinicId: string): boolean;
}

export interface BookingAccess extends ClinicAccess {
  /** True if the caller may see this patient record, reached through an appointment in `viaClinicId`. */
  patient(patient: Pick<PatientRecord, 'patientId' | 'clinicIds'>, viaClinicId: string): boolean;
}

/** A use case stopped because the caller's scope excludes the clinic or the patient record (ids only, no PHI). */
export class AccessDenied extends Error {
  constructor(
    /** What was out of scope. */
    readonly denied: 'clinic' | 'patient',
    readonly clinicId: string,
    /** The patient the change was about (for the edge's audit entry). */
    readonly patientId: string,
  ) {
    super(denied === 'clinic' ? 'The caller is limited to other clinics' : 'The patient record belongs to other clinics');
    this.name = 'AccessDenied';
  }
}

/** Throws AccessDenied unless `access` (when given) allows the clinic. */
export function requireClinicInScope(access: ClinicAccess | undefined, clinicId: string, patientId: string): void {
  if (access && !access.clinic(clinicId)) throw new AccessDenied('clinic', clinicId, patientId);
}
