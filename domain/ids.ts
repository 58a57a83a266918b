import { DateTime } from 'luxon';
import { z } from 'zod';
import { DomainError, ErrorCode } from './errors';

/**
 * Every id Slotflow issues doubles as a FHIR resource id: [A-Za-z0-9\-.]{1,64}.
 * Ids chosen by clients (clinic, provider, patient, appointment type) are shorter so derived ids fit.
 */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
export const entityIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/, 'must be 1-40 letters, digits or hyphens, starting with a letter or digit');
export const fhirIdSchema = z.string().regex(FHIR_ID, 'must be a FHIR id: 1-64 of [A-Za-z0-9-.]');

const SLOT_TIME_FORMAT = "yyyyMMdd'T'HHmm";

/** Deterministic slot id: provider and UTC start; the same inputs always give the same id. */
export function slotIdFor(providerId: string, startUtc: DateTime): string {
  return `${providerId}.${startUtc.toUTC().toFormat(SLOT_TIME_FORMAT)}`;
}

/** slotIdFor for an epoch-millisecond instant (hot path of slot generation). */
export function slotIdForMs(providerId: string, startMs: number): string {
  const iso = new Date(startMs).toISOString(); // 2026-03-02T14:00:00.000Z
  return `${providerId}.${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

/** Splits a slot id into provider id and UTC start; throws SLOT_NOT_FOUND for anything malformed. */
export function parseSlotId(slotId: string): { providerId: string; startUtc: DateTime } {
  const { providerId, startMs } = parseSlotIdMs(slotId);
  return { providerId, startUtc: DateTime.fromMillis(startMs, { zone: 'utc' }) };
}

/**
 * parseSlotId with the start as epoch milliseconds: the digits read arithmetically (a real calendar
 * date, hour 00-23 or 24:00, minute 00-59, as luxon's fromFormat accepts), without a format parse per slot
 * lookup. Throws SLOT_NOT_FOUND for anything malformed.
 */
export function parseSlotIdMs(slotId: string): { providerId: string; startMs: number } {
  const m = /^([A-Za-z0-9][A-Za-z0-9-]{0,39})\.(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})$/.exec(slotId);
  if (m) {
    const [y, mo, d, h, mi] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
    const date = new Date(Date.UTC(2000, 0, 1));
    // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear takes the year as written.
    date.setUTCFullYear(y, mo - 1, d);
    // luxon reads 24:00 as the end of the day.
    const time = (h <= 23 || (h === 24 && mi === 0)) && mi <= 59;
    if (time && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d) {
      return { providerId: m[1]!, startMs: date.getTime() + (h * 60 + mi) * 60_000 };
    }
  }
  throw new DomainError(ErrorCode.SLOT_NOT_FOUND, 'Malformed slot id', { slotId: 'malformed' });
}
