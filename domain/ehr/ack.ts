import type { DateTime } from 'luxon';
import { escapeHl7, formatHl7Timestamp } from './hl7';
import { HL7_ERROR_TEXT, type Hl7ErrorCondition, type Hl7Header } from './siu';

/** Application-level HL7 acknowledgement codes (original mode). */
export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckError {
  condition: Hl7ErrorCondition;
  /** Stable Slotflow code (a domain error code or HL7.*), in ERR-5. */
  code: string;
  /** Fixed, PHI-free text. */
  text: string;
  location?: { segment: string; field?: number };
}

export interface AckInput {
  header?: Hl7Header;
  ackCode: AckCode;
  /** MSH-10 of the ACK itself. */
  ackControlId: string;
  now: DateTime;
  /** MSA-3 text (ids only). */
  text?: string;
  error?: AckError;
}

/** Identifies Slotflow in MSH-3 of its ACKs when the message did not name a receiving application. */
export const SLOTFLOW_APPLICATION = 'SLOTFLOW';

const hd = (parts: readonly string[] | undefined): string => (parts ?? []).map(escapeHl7).join('^').replace(/\^+$/, '');

/**
 * Builds the ACK for a message: MSH addressed back to the sender, MSA with the code and the original
 * control id, and for AE/AR an ERR segment (v2.5 layout: ERR-2 location, ERR-3 HL7 table 0357 code,
 * ERR-4 severity, ERR-5 Slotflow's code, ERR-8 text). Segments are separated by CR.
 */
export function buildAck(input: AckInput): string {
  const h = input.header;
  const msh = [
    'MSH',
    '^~\\&',
    hd(h?.receivingApplication) || SLOTFLOW_APPLICATION,
    hd(h?.receivingFacility),
    hd(h?.sendingApplication),
    hd(h?.sendingFacility),
    formatHl7Timestamp(input.now.toUTC()),
    '',
    `ACK^${escapeHl7(h?.trigger ?? '')}^ACK`,
    escapeHl7(input.ackControlId),
    escapeHl7(h?.processingId || 'P'),
    escapeHl7(h?.version || '2.5.1'),
  ].join('|');
  const msa = ['MSA', input.ackCode, escapeHl7(h?.controlId ?? ''), escapeHl7(input.text ?? input.error?.text ?? '')].join('|').replace(/\|+$/, '');
  const segments = [msh, msa];
  if (input.error) {
    const e = input.error;
    const location = e.location ? [e.location.segment, '1', e.location.field ? String(e.location.field) : ''].join('^').replace(/\^+$/, '') : '';
    segments.push(
      [
        'ERR',
        '',
        location,
        `${e.condition}^${HL7_ERROR_TEXT[e.condition]}^HL70357`,
        'E',
        `${escapeHl7(e.code)}^${escapeHl7(e.text)}^SLOTFLOW`,
        '',
        '',
        escapeHl7(e.text),
      ].join('|'),
    );
  }
  return segments.join('\r');
}
