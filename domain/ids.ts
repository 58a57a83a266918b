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
  const m = /^([A-Za-z0-9][A-Za-z0-9-]{0,39})\.(\d{8}T\d{4})$/.exec(slotId);
  const start = m ? DateTime.fromFormat(m[2]!, SLOT_TIME_FORMAT, { zone: 'utc' }) : undefined;
  if (!m || !start?.isValid) throw new DomainError(ErrorCode.SLOT_NOT_FOUND, 'Malformed slot id', { slotId: 'malformed' });
  return { providerId: m[1]!, startUtc: start };
}
