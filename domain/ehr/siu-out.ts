import { DateTime } from 'luxon';
import { EventType, type SchedulingEvent } from '../events';
import type { Appointment } from '../model';
import { escapeHl7, formatHl7Timestamp } from './hl7';
import { HL7_FILLER_SYSTEM, HL7_PLACER_SYSTEM, SLOTFLOW_ASSIGNING_AUTHORITY, type SiuTrigger } from './siu';

/**
 * Outbound SIU (HL7 v2.5.1) for an appointment event: S12 booked, S13 rescheduled (a move-up is a
 * reschedule: same appointment, new time and slot), S15 cancelled, S26 no-show. Pure. Ids only, as
 * inbound (docs/ehr.md): PID-3 = patientId (authority SLOTFLOW; no name or other PHI), AIP-3 =
 * providerId, AIS-3 = appointment type code, AIL-3 = clinicId; SCH-1 / SCH-2 = the EHR's placer and
 * filler ids when Slotflow has them, else SCH-1 = the appointment id. The time is in SCH-11.4/11.5
 * and AIS-4 with its UTC offset, SCH-25 the filler status. An S13 has SCH-6 (event reason)
 * `RESCHEDULED` and an NTE naming the previous start and slot. Slotflow's own inbound parser reads
 * the message back to the same appointment (tested).
 */

export interface SiuOutbound {
  trigger: SiuTrigger;
  controlId: string;
  /** The ER7 text, segments separated by CR. */
  message: string;
}

const TRIGGER_OF: Partial<Record<SchedulingEvent['type'], SiuTrigger>> = {
  [EventType.appointmentBooked]: 'S12',
  [EventType.appointmentRescheduled]: 'S13',
  [EventType.appointmentCancelled]: 'S15',
  [EventType.appointmentNoShow]: 'S26',
};

const FILLER_STATUS: Record<SiuTrigger, string> = { S12: 'Booked', S13: 'Booked', S14: 'Booked', S15: 'Cancelled', S17: 'Deleted', S26: 'Noshow' };

const ts = (iso: string) => formatHl7Timestamp(DateTime.fromISO(iso, { setZone: true }));
const e = escapeHl7;

/** One segment from its non-empty fields by HL7 field number. */
function segment(name: string, fields: Record<number, string>): string {
  const last = Math.max(...Object.keys(fields).map(Number));
  return [name, ...Array.from({ length: last }, (_, i) => fields[i + 1] ?? '')].join('|');
}

/**
 * The SIU message for `event` about `appointment` as it stands now, or undefined for events SIU has
 * no trigger for. `controlId` derives from the event id, so a redelivered event yields the same MSH-10.
 */
export function siuForEvent(event: SchedulingEvent, appointment: Appointment, opts: { sendingFacility?: string } = {}): SiuOutbound | undefined {
  const trigger = TRIGGER_OF[event.type];
  if (!trigger) return undefined;
  const controlId = event.id.slice(0, 20);
  const a = appointment;
  const placer = a.externalIds.find((x) => x.system === HL7_PLACER_SYSTEM)?.value ?? a.appointmentId;
  const filler = a.externalIds.find((x) => x.system === HL7_FILLER_SYSTEM)?.value ?? '';
  const minutes = Math.round((Date.parse(a.end) - Date.parse(a.start)) / 60_000);
  const reason =
    trigger === 'S13'
      ? 'RESCHEDULED^Rescheduled'
      : trigger === 'S15' && a.cancellation
        ? `${e(a.cancellation.reasonCode)}^${e(a.cancellation.reasonCode)}`
        : '';
  const facility = e(opts.sendingFacility ?? a.clinicId);
  const segments = [
    `MSH|^~\\&|SLOTFLOW|${facility}|EHR|${facility}|${ts(event.time)}||SIU^${trigger}^SIU_S12|${e(controlId)}|P|2.5.1`,
    segment('SCH', {
      1: `${e(placer)}^SLOTFLOW`,
      2: filler ? `${e(filler)}^EHR` : '',
      6: reason,
      9: String(minutes),
      10: 'min',
      11: `^^${minutes}^${ts(a.start)}^${ts(a.end)}`,
      25: FILLER_STATUS[trigger],
    }),
    `PID|1||${e(a.patientId)}^^^${SLOTFLOW_ASSIGNING_AUTHORITY}^PI`,
    'RGS|1|U',
    `AIS|1|U|${e(a.appointmentType)}|${ts(a.start)}|||${minutes}|min`,
    `AIL|1|U|${e(a.clinicId)}`,
    `AIP|1|U|${e(a.providerId)}`,
  ];
  if (trigger === 'S13' && event.type === EventType.appointmentRescheduled) {
    // The time it moved from, for EHRs that show it (NTE: notes; ids and times only).
    segments.push(`NTE|1||Previous start ${ts(event.data.previousStart)} slot ${e(event.data.previousSlotId)}`);
  }
  return { trigger, controlId, message: segments.join('\r') };
}
