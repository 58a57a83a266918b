import type { Appointment, AppointmentType, Clinic, Provider, Slot } from '../model';

/**
 * FHIR R4 resources for Slotflow's scheduling data. Resource ids are Slotflow ids (Appointment/{appointmentId},
 * Slot/{slotId}, Schedule/{providerId}, Practitioner/{providerId}, Location/{clinicId}, Patient/{patientId}).
 * Nothing here carries a patient name or contact: a Patient appears only as a reference.
 */

export type FhirResource = { resourceType: string; id?: string } & Record<string, unknown>;

export const APPOINTMENT_TYPE_SYSTEM = 'urn:slotflow:appointment-type';
/** Slotflow's own identifier of a clinic (Location.identifier). */
export const CLINIC_ID_SYSTEM = 'urn:slotflow:clinic';
export const CANCELLATION_REASON_SYSTEM = 'urn:slotflow:cancellation-reason';
export const ERROR_CODE_SYSTEM = 'urn:slotflow:error-code';
/** SMART Scheduling Links: where a person books this slot. */
export const BOOKING_DEEP_LINK_EXTENSION = 'http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link';
/** Until when a $hold keeps its slot (Slotflow extension on a held Appointment). */
export const HOLD_EXPIRES_EXTENSION = 'urn:slotflow:fhir:StructureDefinition:hold-expires';
/** IANA zone of a Location (core extension, also usable in R4). */
export const TIMEZONE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/timezone';
export const FHIR_JSON = 'application/fhir+json';

const typeConcept = (code: string, types?: ReadonlyMap<string, AppointmentType>) => {
  const display = types?.get(code)?.name;
  return { coding: [{ system: APPOINTMENT_TYPE_SYSTEM, code, ...(display ? { display } : {}) }] };
};

/** A clinic as a Location: Slotflow's identifier and the configured ones, phone and address when configured. */
export function locationResource(clinic: Clinic): FhirResource {
  const { address } = clinic;
  return {
    resourceType: 'Location',
    id: clinic.clinicId,
    identifier: [{ system: CLINIC_ID_SYSTEM, value: clinic.clinicId }, ...(clinic.identifiers ?? []).map((i) => ({ system: i.system, value: i.value }))],
    status: 'active',
    name: clinic.name,
    mode: 'instance',
    ...(clinic.phone ? { telecom: [{ system: 'phone', value: clinic.phone, use: 'work' }] } : {}),
    ...(address
      ? {
          address: {
            use: 'work',
            type: 'physical',
            line: [...address.line],
            city: address.city,
            state: address.state,
            postalCode: address.postalCode,
            ...(address.country ? { country: address.country } : {}),
          },
        }
      : {}),
    extension: [{ url: TIMEZONE_EXTENSION, valueCode: clinic.timeZone }],
  };
}

/** A provider's calendar as a Schedule (one per provider; id = providerId). */
export function scheduleResource(provider: Provider, types?: ReadonlyMap<string, AppointmentType>): FhirResource {
  return {
    resourceType: 'Schedule',
    id: provider.providerId,
    active: true,
    serviceType: provider.appointmentTypes.map((code) => typeConcept(code, types)),
    // SMART Scheduling Links: exactly one actor, the Location. The provider is the Schedule itself (id = providerId).
    actor: [{ reference: `Location/${provider.clinicId}` }],
  };
}

export interface SlotOptions {
  types?: ReadonlyMap<string, AppointmentType>;
  /** SMART Scheduling Links deep link (free slots only). */
  bookingUrl?: string;
  lastUpdated?: string;
}

/** A generated slot as a FHIR Slot with its status (free, busy, or busy-unavailable: free of appointments but not bookable now). */
export function slotResource(slot: Slot, status: 'free' | 'busy' | 'busy-unavailable', options: SlotOptions = {}): FhirResource {
  return {
    resourceType: 'Slot',
    id: slot.slotId,
    ...(options.lastUpdated ? { meta: { lastUpdated: options.lastUpdated } } : {}),
    ...(options.bookingUrl && status === 'free' ? { extension: [{ url: BOOKING_DEEP_LINK_EXTENSION, valueUrl: options.bookingUrl }] } : {}),
    serviceType: slot.appointmentTypes.map((code) => typeConcept(code, options.types)),
    schedule: { reference: `Schedule/${slot.providerId}` },
    status,
    start: slot.start,
    end: slot.end,
  };
}

type ParticipantStatus = 'accepted' | 'declined' | 'tentative' | 'needs-action';

function participants(a: Pick<Appointment, 'patientId' | 'providerId' | 'clinicId'> & { patientId?: string }, status: ParticipantStatus) {
  return [
    ...(a.patientId ? [{ actor: { reference: `Patient/${a.patientId}` }, required: 'required', status }] : []),
    { actor: { reference: `Practitioner/${a.providerId}` }, required: 'required', status },
    { actor: { reference: `Location/${a.clinicId}` }, required: 'required', status },
  ];
}

const minutesBetween = (start: string, end: string) => Math.round((Date.parse(end) - Date.parse(start)) / 60_000);

export interface AppointmentOptions {
  types?: ReadonlyMap<string, AppointmentType>;
  /** For a held (proposed) appointment: when the hold lapses. */
  holdExpiresAt?: string;
}

/** A stored appointment as a FHIR Appointment (meta.versionId = Slotflow's version). */
export function appointmentResource(a: Appointment, options: AppointmentOptions = {}): FhirResource {
  const participantStatus: ParticipantStatus = a.status === 'cancelled' ? 'declined' : a.status === 'proposed' ? 'tentative' : 'accepted';
  return {
    resourceType: 'Appointment',
    id: a.appointmentId,
    meta: { versionId: String(a.version), lastUpdated: a.updatedAt },
    ...(options.holdExpiresAt ? { extension: [{ url: HOLD_EXPIRES_EXTENSION, valueInstant: options.holdExpiresAt }] } : {}),
    ...(a.externalIds.length > 0 ? { identifier: a.externalIds.map((x) => ({ system: x.system, value: x.value })) } : {}),
    status: a.status,
    ...(a.cancellation && (a.status === 'cancelled' || a.status === 'noshow')
      ? { cancelationReason: { coding: [{ system: CANCELLATION_REASON_SYSTEM, code: a.cancellation.reasonCode }] } }
      : {}),
    serviceType: [typeConcept(a.appointmentType, options.types)],
    start: a.start,
    end: a.end,
    minutesDuration: minutesBetween(a.start, a.end),
    slot: [{ reference: `Slot/${a.slotId}` }],
    created: a.createdAt,
    participant: participants(a, participantStatus),
  };
}

/** A potential appointment for $find (not stored, so no id): the slot, the type's duration, the participants. */
export function proposedAppointmentResource(slot: Slot, appointmentType: AppointmentType, patientId?: string): FhirResource {
  const end = new Date(Date.parse(slot.start) + appointmentType.durationMinutes * 60_000);
  const endIso = isoWithOffsetOf(slot.start, end);
  return {
    resourceType: 'Appointment',
    status: 'proposed',
    serviceType: [typeConcept(appointmentType.code, new Map([[appointmentType.code, appointmentType]]))],
    start: slot.start,
    end: endIso,
    minutesDuration: appointmentType.durationMinutes,
    slot: [{ reference: `Slot/${slot.slotId}` }],
    participant: participants({ clinicId: slot.clinicId, providerId: slot.providerId, ...(patientId ? { patientId } : { patientId: '' }) }, 'needs-action'),
  };
}

/** Formats `instant` with the same UTC offset as `like` (an ISO string with offset): the slot's local offset. */
function isoWithOffsetOf(like: string, instant: Date): string {
  const m = /(Z|[+-]\d{2}:\d{2})$/.exec(like);
  const offset = m?.[1] ?? 'Z';
  const minutes = offset === 'Z' ? 0 : (offset.startsWith('-') ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  const local = new Date(instant.getTime() + minutes * 60_000).toISOString().slice(0, 19);
  return `${local}${offset === 'Z' ? 'Z' : offset}`;
}

export type IssueType =
  | 'invalid'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'deleted'
  | 'too-costly'
  | 'not-supported'
  | 'business-rule'
  | 'throttled'
  | 'exception'
  | 'processing';

/** The OperationOutcome issue type for an HTTP status. */
export function issueTypeFor(status: number): IssueType {
  const map: Record<number, IssueType> = {
    400: 'invalid',
    401: 'login',
    403: 'forbidden',
    404: 'not-found',
    405: 'not-supported',
    409: 'conflict',
    410: 'deleted',
    412: 'conflict',
    413: 'too-costly',
    415: 'not-supported',
    422: 'business-rule',
    429: 'throttled',
  };
  return map[status] ?? (status >= 500 ? 'exception' : 'processing');
}

/** An error as an OperationOutcome: Slotflow's stable code in details.coding, a PHI-free sentence in diagnostics. */
export function operationOutcome(status: number, code: string, diagnostics: string, expression?: string[]): FhirResource {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: status >= 500 ? 'fatal' : 'error',
        code: issueTypeFor(status),
        details: { coding: [{ system: ERROR_CODE_SYSTEM, code }], text: code },
        diagnostics,
        ...(expression && expression.length > 0 ? { expression } : {}),
      },
    ],
  };
}

export interface BundleEntryInput {
  resource: FhirResource;
  /** Absolute URL of the resource; omitted for resources without an id. */
  fullUrl?: string;
  mode?: 'match' | 'include' | 'outcome';
}

export interface BundleLink {
  relation: 'self' | 'first' | 'previous' | 'next' | 'last';
  url: string;
}

/** A searchset Bundle; `links`: the self URL, or every paging link (self first). */
export function searchsetBundle(entries: BundleEntryInput[], links: string | readonly BundleLink[], total?: number): FhirResource {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(total !== undefined ? { total } : {}),
    link: typeof links === 'string' ? [{ relation: 'self', url: links }] : links.map((l) => ({ relation: l.relation, url: l.url })),
    ...(entries.length > 0
      ? { entry: entries.map((e) => ({ ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}), resource: e.resource, search: { mode: e.mode ?? 'match' } })) }
      : {}),
  };
}
