import { HttpEhrPush, RecordingEhrPush, type EhrAppointmentPush } from '../adapters/fhir/ehr-push';
import type { AppSettings } from './config';

let current: EhrAppointmentPush | undefined;

/** The outbound EHR push for these settings: HTTP to EHR_FHIR_ENDPOINT, else the in-memory recorder. */
export function ehrPushFor(settings: AppSettings): EhrAppointmentPush {
  current ??= settings.EHR_FHIR_ENDPOINT ? new HttpEhrPush(settings.EHR_FHIR_ENDPOINT) : new RecordingEhrPush();
  return current;
}

/** Tests: replace the process-wide push adapter. */
export function setEhrPush(push: EhrAppointmentPush | undefined): void {
  current = push;
}
