import type { Hl7Message, Hl7Segment } from '@medplum/core';
import { entityIdSchema } from '../ids';
import { languageFromPid15 } from '../sms/locale';
import { componentOf, parseHl7, parseHl7Timestamp, repetitionsOf, type Hl7Timestamp } from './hl7';

/**
 * SIU (scheduling information unsolicited) messages to Slotflow commands. Pure: no lookups. Slotflow's
 * ids are the identifiers: PID-3 = patientId, AIP-3 = providerId, AIS-3 = appointment type code,
 * AIL-3 = clinicId; the start comes from SCH-11.4 (TQ start), TQ1-7 or AIS-4; the duration from
 * AIS-7/AIS-8 or SCH-9/SCH-10. SCH-1 / SCH-2 are the EHR's own ids, kept as external ids.
 */

export const SIU_TRIGGERS = ['S12', 'S13', 'S14', 'S15', 'S17', 'S26'] as const;
export type SiuTrigger = (typeof SIU_TRIGGERS)[number];

/** External id systems of SCH-1 (placer) and SCH-2 (filler) appointment ids. */
export const HL7_PLACER_SYSTEM = 'urn:slotflow:hl7:placer';
export const HL7_FILLER_SYSTEM = 'urn:slotflow:hl7:filler';
/** PID-3 repetitions assigned by this authority win over the others. */
export const SLOTFLOW_ASSIGNING_AUTHORITY = 'SLOTFLOW';

export interface Hl7Header {
  sendingApplication: string[];
  sendingFacility: string[];
  receivingApplication: string[];
  receivingFacility: string[];
  messageType: string;
  trigger: string;
  controlId: string;
  processingId: string;
  version: string;
}

export interface SiuCommand {
  header: Hl7Header;
  trigger: SiuTrigger;
  placerId?: string;
  fillerId?: string;
  /** PID-3 candidates in preference order (Slotflow-assigned first); only well-formed ids. */
  patientIds: string[];
  /** True when PID-3 was present at all (even with ids Slotflow cannot know). */
  patientGiven: boolean;
  /** AIP-3 ids in segment order; the first that is a Slotflow provider is the provider. */
  providerIds: string[];
  providerGiven: boolean;
  appointmentType?: string;
  appointmentTypeGiven: boolean;
  clinicId?: string;
  clinicGiven: boolean;
  start?: Hl7Timestamp;
  durationMinutes?: number;
  /** SCH-6 event reason code (cancellations), normalised to a reason code. */
  reasonCode?: string;
  /** PID-15 primary language as a canonical BCP 47 tag (ISO 639 codes canonicalize: spa -> es); absent if unreadable. */
  preferredLanguage?: string;
}

/** HL7 table 0357 message error condition codes used in ERR-3. */
export const Hl7ErrorCondition = {
  SEGMENT_SEQUENCE: '100',
  REQUIRED_FIELD_MISSING: '101',
  DATA_TYPE: '102',
  UNSUPPORTED_MESSAGE_TYPE: '200',
  UNSUPPORTED_EVENT: '201',
  UNSUPPORTED_PROCESSING_ID: '202',
  UNSUPPORTED_VERSION: '203',
  UNKNOWN_KEY: '204',
  DUPLICATE_KEY: '205',
  RECORD_LOCKED: '206',
  INTERNAL: '207',
} as const;
export type Hl7ErrorCondition = (typeof Hl7ErrorCondition)[keyof typeof Hl7ErrorCondition];

export const HL7_ERROR_TEXT: Readonly<Record<Hl7ErrorCondition, string>> = {
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

/** Why a message is rejected (AR): a code, where, and a fixed PHI-free text. */
export interface SiuReject {
  condition: Hl7ErrorCondition;
  /** Stable Slotflow code, e.g. HL7.REQUIRED_FIELD_MISSING. */
  code: string;
  text: string;
  /** ERR-2 location: segment id, sequence, field position. */
  location?: { segment: string; field?: number };
  /** Whatever of the header could be read, to address the ACK. */
  header?: Hl7Header;
}

export type SiuParseResult = { ok: true; command: SiuCommand } | { ok: false; reject: SiuReject };

const MAX_EXTERNAL_ID = 100;
const MAX_CONTROL_ID = 199;

/** HL7 "" is an explicit null: treat as absent. */
const value = (s: string): string => (s === '""' ? '' : s);

function hdOf(segment: Hl7Segment, field: number): string[] {
  return [1, 2, 3].map((c) => value(componentOf(segment, field, c)));
}

function headerOf(msh: Hl7Segment): Hl7Header {
  return {
    sendingApplication: hdOf(msh, 3),
    sendingFacility: hdOf(msh, 4),
    receivingApplication: hdOf(msh, 5),
    receivingFacility: hdOf(msh, 6),
    messageType: value(componentOf(msh, 9, 1)).toUpperCase(),
    trigger: value(componentOf(msh, 9, 2)).toUpperCase(),
    controlId: value(componentOf(msh, 10)),
    processingId: value(componentOf(msh, 11)),
    version: value(componentOf(msh, 12)),
  };
}

class Reject extends Error {
  constructor(readonly reject: Omit<SiuReject, 'header'>) {
    super(reject.code);
  }
}

const fail = (condition: Hl7ErrorCondition, code: string, text: string, segment?: string, field?: number): never => {
  throw new Reject({ condition, code, text, ...(segment ? { location: { segment, ...(field ? { field } : {}) } } : {}) });
};

const isEntityId = (s: string) => entityIdSchema.safeParse(s).success;

function timestampAt(segment: Hl7Segment | undefined, field: number, component: number, name: string): Hl7Timestamp | undefined {
  const raw = value(componentOf(segment, field, component));
  if (!raw) return undefined;
  return (
    parseHl7Timestamp(raw) ?? fail(Hl7ErrorCondition.DATA_TYPE, 'HL7.DATA_TYPE', `${name} is not an HL7 timestamp with minutes`, name.split('-')[0], field)
  );
}

const UNIT_MINUTES: Readonly<Record<string, number>> = {
  MIN: 1,
  M: 1,
  MINUTE: 1,
  MINUTES: 1,
  S: 1 / 60,
  SEC: 1 / 60,
  H: 60,
  HR: 60,
  HOUR: 60,
  HOURS: 60,
  D: 1440,
};

function durationAt(segment: Hl7Segment | undefined, field: number, unitField: number, name: string): number | undefined {
  const raw = value(componentOf(segment, field));
  if (!raw) return undefined;
  const unit = value(componentOf(segment, unitField)).toUpperCase() || 'MIN';
  const factor = UNIT_MINUTES[unit];
  if (!/^\d{1,5}(\.\d+)?$/.test(raw) || factor === undefined) {
    return fail(Hl7ErrorCondition.DATA_TYPE, 'HL7.DATA_TYPE', `${name} must be a number of minutes, hours or seconds`, name.split('-')[0], field);
  }
  return Math.round(Number(raw) * factor);
}

function externalId(sch: Hl7Segment, field: number): string | undefined {
  const id = value(componentOf(sch, field, 1));
  if (!id) return undefined;
  if (id.length > MAX_EXTERNAL_ID) fail(Hl7ErrorCondition.DATA_TYPE, 'HL7.DATA_TYPE', `SCH-${field} is too long`, 'SCH', field);
  return id;
}

/** PID-3 repetitions: the ones Slotflow assigned first, then the others, in order; well-formed ids only. */
function patientIdsOf(pid: Hl7Segment | undefined): string[] {
  const n = repetitionsOf(pid, 3);
  const reps = Array.from({ length: n }, (_, i) => ({
    id: value(componentOf(pid, 3, 1, i + 1)),
    authority: value(componentOf(pid, 3, 4, i + 1)).toUpperCase(),
  }));
  const ordered = [...reps.filter((r) => r.authority === SLOTFLOW_ASSIGNING_AUTHORITY), ...reps.filter((r) => r.authority !== SLOTFLOW_ASSIGNING_AUTHORITY)];
  return [...new Set(ordered.map((r) => r.id).filter(isEntityId))];
}

/** A reason code from SCH-6: lower case letters, digits and hyphens (free text never becomes a code). */
function reasonCodeOf(sch: Hl7Segment): string | undefined {
  const raw = value(componentOf(sch, 6, 1))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return raw ? `ehr-${raw}` : undefined;
}

function segmentsAfter(message: Hl7Message, name: string): Hl7Segment[] {
  return message.getAllSegments(name).filter((s) => s.name === name);
}

/** Reads an SIU message. Never throws: anything unreadable is a reject (AR) with a code. */
export function parseSiu(text: string): SiuParseResult {
  const message = parseHl7(text);
  if (!message)
    return {
      ok: false,
      reject: {
        condition: Hl7ErrorCondition.SEGMENT_SEQUENCE,
        code: 'HL7.MALFORMED',
        text: 'Not an HL7 v2 message (no MSH segment)',
        location: { segment: 'MSH' },
      },
    };
  const msh = message.header;
  let header: Hl7Header;
  try {
    header = headerOf(msh);
  } catch {
    return {
      ok: false,
      reject: { condition: Hl7ErrorCondition.SEGMENT_SEQUENCE, code: 'HL7.MALFORMED', text: 'Unreadable MSH segment', location: { segment: 'MSH' } },
    };
  }
  try {
    return { ok: true, command: commandOf(message, header) };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, reject: { ...e.reject, header } };
    return { ok: false, reject: { condition: Hl7ErrorCondition.SEGMENT_SEQUENCE, code: 'HL7.MALFORMED', text: 'Unreadable message', header } };
  }
}

function commandOf(message: Hl7Message, header: Hl7Header): SiuCommand {
  if (!header.controlId) fail(Hl7ErrorCondition.REQUIRED_FIELD_MISSING, 'HL7.REQUIRED_FIELD_MISSING', 'MSH-10 (message control id) is required', 'MSH', 10);
  if (header.controlId.length > MAX_CONTROL_ID) fail(Hl7ErrorCondition.DATA_TYPE, 'HL7.DATA_TYPE', 'MSH-10 is too long', 'MSH', 10);
  if (header.version && !/^2\.\d/.test(header.version))
    fail(Hl7ErrorCondition.UNSUPPORTED_VERSION, 'HL7.UNSUPPORTED_VERSION', 'Only HL7 v2.x is supported', 'MSH', 12);
  if (header.processingId && !['P', 'T', 'D'].includes(header.processingId.toUpperCase())) {
    fail(Hl7ErrorCondition.UNSUPPORTED_PROCESSING_ID, 'HL7.UNSUPPORTED_PROCESSING_ID', 'MSH-11 must be P, T or D', 'MSH', 11);
  }
  if (header.messageType !== 'SIU')
    fail(Hl7ErrorCondition.UNSUPPORTED_MESSAGE_TYPE, 'HL7.UNSUPPORTED_MESSAGE_TYPE', 'Only SIU messages are accepted', 'MSH', 9);
  const trigger = header.trigger as SiuTrigger;
  if (!SIU_TRIGGERS.includes(trigger))
    fail(Hl7ErrorCondition.UNSUPPORTED_EVENT, 'HL7.UNSUPPORTED_EVENT', `Supported SIU events: ${SIU_TRIGGERS.join(', ')}`, 'MSH', 9);

  const sch = message.getSegment('SCH');
  if (!sch) return fail(Hl7ErrorCondition.SEGMENT_SEQUENCE, 'HL7.SEGMENT_MISSING', 'SIU messages need an SCH segment', 'SCH');
  const placerId = externalId(sch, 1);
  const fillerId = externalId(sch, 2);
  if (!placerId && !fillerId)
    fail(Hl7ErrorCondition.REQUIRED_FIELD_MISSING, 'HL7.REQUIRED_FIELD_MISSING', 'SCH-1 or SCH-2 (appointment id) is required', 'SCH', 2);

  const pid = message.getSegment('PID');
  const patientGiven = repetitionsOf(pid, 3) > 0;
  // Service, personnel and location segments may repeat (one per resource); the first service is the visit.
  const ais = segmentsAfter(message, 'AIS')[0];
  const aips = segmentsAfter(message, 'AIP').filter((s) => value(componentOf(s, 2)).toUpperCase() !== 'D');
  const ail = segmentsAfter(message, 'AIL').find((s) => value(componentOf(s, 2)).toUpperCase() !== 'D');
  const providerRaw = aips.map((s) => value(componentOf(s, 3, 1))).filter((v) => v !== '');
  const typeRaw = value(componentOf(ais, 3, 1));
  const clinicRaw = value(componentOf(ail, 3, 1)) || value(componentOf(ail, 3, 4));
  const tq1 = message.getSegment('TQ1');
  const start = timestampAt(sch, 11, 4, 'SCH-11') ?? timestampAt(tq1, 7, 1, 'TQ1-7') ?? timestampAt(ais, 4, 1, 'AIS-4');
  const durationMinutes = durationAt(ais, 7, 8, 'AIS-7') ?? durationAt(sch, 9, 10, 'SCH-9');

  const needsBooking = trigger === 'S12' || trigger === 'S13';
  if (needsBooking) {
    if (!patientGiven) fail(Hl7ErrorCondition.REQUIRED_FIELD_MISSING, 'HL7.REQUIRED_FIELD_MISSING', 'PID-3 (patient id) is required', 'PID', 3);
    if (providerRaw.length === 0) fail(Hl7ErrorCondition.REQUIRED_FIELD_MISSING, 'HL7.REQUIRED_FIELD_MISSING', 'AIP-3 (provider id) is required', 'AIP', 3);
    if (!start) fail(Hl7ErrorCondition.REQUIRED_FIELD_MISSING, 'HL7.REQUIRED_FIELD_MISSING', 'A start time is required (SCH-11.4, TQ1-7 or AIS-4)', 'SCH', 11);
  }
  if (trigger === 'S12' && !typeRaw)
    fail(Hl7ErrorCondition.REQUIRED_FIELD_MISSING, 'HL7.REQUIRED_FIELD_MISSING', 'AIS-3 (appointment type) is required', 'AIS', 3);
  if (durationMinutes !== undefined && durationMinutes <= 0) fail(Hl7ErrorCondition.DATA_TYPE, 'HL7.DATA_TYPE', 'The duration must be positive', 'AIS', 7);

  const reasonCode = reasonCodeOf(sch);
  const preferredLanguage = languageFromPid15(value(componentOf(pid, 15, 1)));
  return {
    header,
    trigger,
    ...(placerId ? { placerId } : {}),
    ...(fillerId ? { fillerId } : {}),
    patientIds: patientIdsOf(pid),
    patientGiven,
    providerIds: [...new Set(providerRaw.filter(isEntityId))],
    providerGiven: providerRaw.length > 0,
    ...(typeRaw && isEntityId(typeRaw) ? { appointmentType: typeRaw } : {}),
    appointmentTypeGiven: typeRaw !== '',
    ...(clinicRaw && isEntityId(clinicRaw) ? { clinicId: clinicRaw } : {}),
    clinicGiven: clinicRaw !== '',
    ...(start ? { start } : {}),
    ...(durationMinutes !== undefined ? { durationMinutes } : {}),
    ...(reasonCode ? { reasonCode } : {}),
    ...(preferredLanguage ? { preferredLanguage } : {}),
  };
}

/** The MSH header of any HL7 v2 message (for an ACK from a transport that cannot apply it), or undefined. */
export function messageHeaderOf(text: string): Hl7Header | undefined {
  const msh = parseHl7(text)?.header;
  return msh ? headerOf(msh) : undefined;
}
