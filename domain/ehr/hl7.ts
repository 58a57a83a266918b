import type { Hl7Context, Hl7Message, Hl7Segment } from '@medplum/core';
import { DateTime } from 'luxon';
import { resolveLocalTime } from '../slots';

/**
 * HL7 v2 plumbing around @medplum/core's parser. Medplum splits a message into segments, fields,
 * repetitions, components and subcomponents with the encoding characters declared in MSH-1/MSH-2; it
 * does not decode escape sequences, so `unescapeHl7` does that for every value read here.
 */

/** MLLP framing (start block VT, end block FS CR), stripped when an engine forwards a framed message. */
const MLLP_START = '\x0b';
const MLLP_END = '\x1c';

/** Removes MLLP framing and surrounding whitespace; segment separators (CR, LF, CRLF) are left alone. */
export function stripMllp(text: string): string {
  let t = text;
  const start = t.indexOf(MLLP_START);
  if (start >= 0 && t.slice(0, start).trim() === '') t = t.slice(start + 1);
  const end = t.lastIndexOf(MLLP_END);
  if (end >= 0 && t.slice(end + 1).trim() === '') t = t.slice(0, end);
  return t.replace(/^[\s\uFEFF]+/, '').replace(/\s+$/, '');
}

/** Normalises segment separators to CR (the standard) and drops blank lines. */
export function normaliseSegments(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .filter((s) => s.trim() !== '')
    .join('\r');
}

/** @medplum/core, loaded by the first HL7 message rather than at import (most cold instances parse none). */
function medplum(): typeof import('@medplum/core') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@medplum/core') as typeof import('@medplum/core');
}

/** Parses an HL7 v2 message; undefined when it does not start with a usable MSH segment. */
export function parseHl7(text: string): Hl7Message | undefined {
  const normalised = normaliseSegments(stripMllp(text));
  // MSH, then the field separator, then four encoding characters that must all differ from it and from each other.
  const m = /^MSH(.)([^\r]{4})/.exec(normalised);
  if (!m) return undefined;
  const [fieldSep, enc] = [m[1]!, m[2]!];
  const chars = [fieldSep, ...enc];
  if (new Set(chars).size !== 5 || chars.some((c) => /[A-Za-z0-9\r\n ]/.test(c))) return undefined;
  const { Hl7Message } = medplum();
  try {
    const message = Hl7Message.parse(normalised);
    return message.header?.name === 'MSH' ? message : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes HL7 escape sequences (\F\ \S\ \T\ \R\ \E\, \Xhh..\, \.br\; highlighting \H\ \N\ dropped). */
export function unescapeHl7(value: string, context: Hl7Context): string {
  const e = context.escapeCharacter;
  if (!value.includes(e)) return value;
  const esc = e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return value.replace(new RegExp(`${esc}([^${esc}]{1,32})${esc}`, 'g'), (whole, seq: string) => {
    switch (seq) {
      case 'F':
        return context.fieldSeparator;
      case 'S':
        return context.componentSeparator;
      case 'T':
        return context.subcomponentSeparator;
      case 'R':
        return context.repetitionSeparator;
      case 'E':
        return e;
      case 'H':
      case 'N':
        return '';
      case '.br':
        return '\n';
      default:
        if (/^X([0-9A-Fa-f]{2})+$/.test(seq)) return Buffer.from(seq.slice(1), 'hex').toString('latin1');
        return whole;
    }
  });
}

/** Encodes a value for an outgoing field with the standard encoding characters (|^~\&). */
export function escapeHl7(value: string): string {
  return value
    .replace(/\\/g, '\\E\\')
    .replace(/\|/g, '\\F\\')
    .replace(/\^/g, '\\S\\')
    .replace(/&/g, '\\T\\')
    .replace(/~/g, '\\R\\')
    .replace(/[\r\n]+/g, ' ');
}

/** One decoded component (1-based field, component and repetition as in HL7 names, e.g. PID-3.1 of repetition 2). */
export function componentOf(segment: Hl7Segment | undefined, field: number, component = 1, repetition = 1): string {
  if (!segment) return '';
  const raw = segment.getField(field)?.getComponent(component, undefined, repetition - 1) ?? '';
  return unescapeHl7(raw, segment.context).trim();
}

/** Number of repetitions of a field (0 when empty). */
export function repetitionsOf(segment: Hl7Segment | undefined, field: number): number {
  if (!segment) return 0;
  const f = segment.getField(field);
  if (!f) return 0;
  return f.components.filter((c) => c.some((v) => v.trim() !== '')).length;
}

/** An HL7 TS/DTM value: wall-clock fields and, if given, the UTC offset in minutes. */
export interface Hl7Timestamp {
  local: { year: number; month: number; day: number; hour: number; minute: number; second: number };
  offsetMinutes?: number;
}

/** Parses HL7 TS (YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]) to minute precision at least; undefined if malformed. */
export function parseHl7Timestamp(value: string): Hl7Timestamp | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(?:(\d{2})(?:\.\d{1,4})?)?([+-])?(\d{2})?(\d{2})?$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, sign, oh, om] = m;
  if ((sign === undefined) !== (oh === undefined) || (oh !== undefined && om === undefined)) return undefined;
  const local = { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s ?? '0') };
  const check = DateTime.fromObject(local, { zone: 'utc' });
  if (!check.isValid) return undefined;
  const offsetMinutes = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : undefined;
  if (offsetMinutes !== undefined && Math.abs(offsetMinutes) > 14 * 60) return undefined;
  return offsetMinutes === undefined ? { local } : { local, offsetMinutes };
}

/**
 * The instant of an HL7 timestamp: its own offset when it has one, else read as wall-clock time in
 * `zone` (the clinic's; a time in a DST gap moves forward, an ambiguous one is its first occurrence).
 */
export function hl7TimestampToInstant(ts: Hl7Timestamp, zone: string): DateTime {
  if (ts.offsetMinutes !== undefined) {
    const utc = DateTime.fromObject(ts.local, { zone: 'utc' }).minus({ minutes: ts.offsetMinutes });
    return utc.setZone(zone);
  }
  const day = DateTime.fromObject({ year: ts.local.year, month: ts.local.month, day: ts.local.day }, { zone: 'utc' });
  return resolveLocalTime(day, ts.local.hour * 60 + ts.local.minute, zone).plus({ seconds: ts.local.second });
}

/** HL7 DTM with offset, e.g. 20260302130000+0000. */
export function formatHl7Timestamp(instant: DateTime): string {
  return instant.toFormat('yyyyMMddHHmmssZZZ');
}
