import { z } from 'zod';
import { entityIdSchema } from '../ids';
import { appointmentTypeCodeSchema } from '../model';
import type { Appointment } from '../model';

/**
 * A past appointment as the risk model sees it. Only these fields exist here: the history file's
 * other fields (and any name, phone or note a file might carry) are dropped by the parser, and
 * appointments from Cosmos are copied field by field (fromAppointment).
 */
export type VisitOutcome = 'attended' | 'noshow' | 'late-cancel' | 'cancel';

export interface PastAppointment {
  appointmentId: string;
  patientId: string;
  appointmentType: string;
  createdAt: string;
  start: string;
  outcome: VisitOutcome;
  confirmedAt?: string;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:\d{2}(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * The same instants as the API's instantSchema (ISO 8601 with an offset, a real calendar date),
 * checked arithmetically: instantSchema asks luxon, which costs ~25 us an instant, and a history
 * file has hundreds of thousands.
 */
export function isHistoryInstant(iso: string): boolean {
  const m = INSTANT.exec(iso);
  if (!m) return false;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59) return false;
  if (m[9] !== undefined && (Number(m[9]) > 18 || Number(m[10]) > 59)) return false;
  return Number.isFinite(Date.parse(iso));
}
const historyInstantSchema = z.string().max(40).refine(isHistoryInstant, 'must be ISO 8601 with an offset, e.g. 2026-03-09T09:00:00-04:00');

/** One line of a history file: `{appointmentId, patientId, clinicId, providerId, appointmentType, createdAt, start, status, confirmedAt?, cancelledAt?}`. */
export const historyStatuses = ['fulfilled', 'noshow', 'cancelled'] as const;

export const historyRowSchema = z.object({
  appointmentId: entityIdSchema,
  patientId: entityIdSchema,
  clinicId: entityIdSchema,
  providerId: entityIdSchema,
  appointmentType: appointmentTypeCodeSchema,
  createdAt: historyInstantSchema,
  start: historyInstantSchema,
  status: z.enum(historyStatuses, { error: 'unknown status (expected fulfilled, noshow or cancelled)' }),
  confirmedAt: historyInstantSchema.optional(),
  /** When a cancelled appointment was cancelled; a cancellation within the clinic's window before the start is late. */
  cancelledAt: historyInstantSchema.optional(),
});
export type HistoryRow = z.infer<typeof historyRowSchema>;

/** A problem with one line of a history file: 1-based line, the field, and what is wrong (never the value: it could be PHI). */
export interface HistoryIssue {
  line: number;
  field: string;
  message: string;
}

export class HistoryInputError extends Error {
  constructor(readonly issues: HistoryIssue[]) {
    super(issues.map((i) => (i.line > 0 ? `line ${i.line}: ${i.field}: ${i.message}` : `${i.field}: ${i.message}`)).join('\n'));
    this.name = 'HistoryInputError';
  }
}

/** Stops collecting after this many problems: a wrong file would otherwise print one line per row. */
const MAX_ISSUES = 20;

/**
 * Parses NDJSON history (one appointment a line; blank lines ignored). Throws HistoryInputError
 * naming each bad line and field: malformed JSON, a missing or invalid field, an unknown status,
 * a start before createdAt, or no rows at all.
 */
export function parseHistory(text: string): HistoryRow[] {
  const rows: HistoryRow[] = [];
  const issues: HistoryIssue[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && issues.length < MAX_ISSUES; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      // The parser's own message quotes the text, which may be PHI.
      issues.push({ line, field: '(line)', message: 'not valid JSON' });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ line, field: '(line)', message: 'must be a JSON object' });
      continue;
    }
    const parsed = historyRowSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues.slice(0, 3)) {
        issues.push({ line, field: issue.path.join('.') || '(line)', message: issue.message });
      }
      continue;
    }
    const row = parsed.data;
    if (Date.parse(row.start) < Date.parse(row.createdAt)) issues.push({ line, field: 'start', message: 'is before createdAt' });
    else if (row.cancelledAt !== undefined && row.status !== 'cancelled')
      issues.push({ line, field: 'cancelledAt', message: 'only a cancelled appointment has one' });
    else rows.push(row);
  }
  if (issues.length > 0) throw new HistoryInputError(issues);
  if (rows.length === 0) throw new HistoryInputError([{ line: 0, field: 'history', message: 'no rows: the file has no appointments' }]);
  return rows;
}

/** A history row as a past appointment: a cancellation less than `cancellationWindowHours` before the start is late. */
export function fromHistoryRow(row: HistoryRow, cancellationWindowHours: number): PastAppointment {
  let outcome: VisitOutcome = row.status === 'fulfilled' ? 'attended' : row.status === 'noshow' ? 'noshow' : 'cancel';
  if (row.status === 'cancelled' && row.cancelledAt !== undefined) {
    if (Date.parse(row.start) - Date.parse(row.cancelledAt) < cancellationWindowHours * 3_600_000) outcome = 'late-cancel';
  }
  return {
    appointmentId: row.appointmentId,
    patientId: row.patientId,
    appointmentType: row.appointmentType,
    createdAt: row.createdAt,
    start: row.start,
    outcome,
    ...(row.confirmedAt !== undefined ? { confirmedAt: row.confirmedAt } : {}),
  };
}

/** Statuses of a visit that took place (the patient came). */
const ATTENDED: ReadonlySet<string> = new Set(['arrived', 'checked-in', 'fulfilled']);

/**
 * A stored appointment as a past appointment, or undefined while its outcome is open (booked,
 * pending, ...) or void (entered-in-error). Copies the fields the model may use and nothing else.
 */
export function fromAppointment(a: Appointment): PastAppointment | undefined {
  let outcome: VisitOutcome;
  if (ATTENDED.has(a.status)) outcome = 'attended';
  else if (a.status === 'noshow') outcome = 'noshow';
  else if (a.status === 'cancelled') outcome = a.cancellation?.late ? 'late-cancel' : 'cancel';
  else return undefined;
  return {
    appointmentId: a.appointmentId,
    patientId: a.patientId,
    appointmentType: a.appointmentType,
    createdAt: a.createdAt,
    start: a.start,
    outcome,
    ...(a.confirmedAt !== undefined ? { confirmedAt: a.confirmedAt } : {}),
  };
}
