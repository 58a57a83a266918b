import { DomainError, ErrorCode } from '../../../domain/errors';
import type { Clock } from '../../../domain/ports';
import { LruMap } from '../../../domain/lru';
import { type BaseDoc, type Store, type Stored, statusOf } from './store';

/**
 * The patient's appointment ledger: one document per patient (id "ledger", in the patient's
 * partition) listing every appointment with its partition and interval. It is the patient-side
 * claim: a booking adds its interval with a conditional write (If-Match on the ledger's ETag), and
 * the check for overlapping intervals happens against exactly the version being replaced, so two
 * concurrent bookings for one patient cannot both pass it. It doubles as the per-patient index
 * behind listByPatient and erasure.
 *
 * Entries are not rewritten when an appointment is cancelled (that would cost two more requests per
 * cancellation). Instead, an overlapping entry is checked against its appointment document: a
 * final, non-occupying status (cancelled, noshow, entered-in-error) marks the entry released for
 * good. An entry without a document is a booking in flight; after IN_FLIGHT_MS it is a crashed one
 * and is dropped.
 */

export interface LedgerEntry {
  appointmentId: string;
  /** Schedule partition of the appointment document. */
  pk: string;
  startMs: number;
  endMs: number;
  /** When the entry was written. */
  at: string;
  released?: boolean;
}

export interface LedgerDoc extends BaseDoc {
  type: 'ledger';
  entries: LedgerEntry[];
}

export const LEDGER_ID = 'ledger';
/** A ledger entry or slot claim whose appointment document is still missing after this is stale. */
export const IN_FLIGHT_MS = 30_000;

export type EntryVerdict = 'occupying' | 'free' | 'released' | 'stale';

const MAX_ATTEMPTS = 10;

export class PatientLedger {
  /** Last seen ledger per patient; null = known not to exist yet. */
  private readonly cache = new LruMap<string, Stored<LedgerDoc> | null>(5_000);

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Reads the ledger (and remembers its ETag for the conditional write that usually follows). */
  async read(patientId: string): Promise<Stored<LedgerDoc> | undefined> {
    const r = await this.store.read<LedgerDoc>(LEDGER_ID, patientId);
    this.cache.set(patientId, r ?? null);
    return r;
  }

  /**
   * Adds `entry` unless an overlapping entry of another appointment is still occupying
   * (APPOINTMENT.PATIENT_OVERLAP). `judge` tells whether an overlapping entry still holds its time.
   */
  async acquire(patientId: string, entry: LedgerEntry, judge: ((e: LedgerEntry) => Promise<EntryVerdict>) | 'no-check'): Promise<void> {
    let cached = this.cache.get(patientId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = cached === undefined ? await this.read(patientId) : (cached ?? undefined);
      const entries = current?.doc.entries ?? [];
      const kept: LedgerEntry[] = [];
      for (const e of entries) {
        if (e.appointmentId === entry.appointmentId && e.startMs === entry.startMs) continue; // replaced below
        if (judge !== 'no-check' && e.appointmentId !== entry.appointmentId && !e.released && e.startMs < entry.endMs && entry.startMs < e.endMs) {
          const verdict = await judge(e);
          if (verdict === 'occupying') {
            throw new DomainError(ErrorCode.PATIENT_OVERLAP, 'The patient already has an appointment at that time', { appointmentId: e.appointmentId });
          }
          if (verdict === 'stale') continue;
          kept.push(verdict === 'released' ? { ...e, released: true } : e);
          continue;
        }
        kept.push(e);
      }
      kept.push(entry);
      if (await this.write(patientId, current, kept)) return;
      cached = undefined;
    }
    throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, "The patient's schedule is changing concurrently; try again", { patientId });
  }

  /** Removes the entry of one appointment at one start (compensation, or the old time after a reschedule). */
  async remove(patientId: string, appointmentId: string, startMs?: number): Promise<void> {
    let cached = this.cache.get(patientId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = cached === undefined ? await this.read(patientId) : cached;
      if (!current) return;
      const entries = current.doc.entries.filter((e) => !(e.appointmentId === appointmentId && (startMs === undefined || e.startMs === startMs)));
      if (entries.length === current.doc.entries.length) return;
      if (await this.write(patientId, current, entries)) return;
      cached = undefined;
    }
  }

  /** Conditional write; false if someone else wrote first (412, or 409 on a first create). */
  private async write(patientId: string, current: Stored<LedgerDoc> | undefined, entries: LedgerEntry[]): Promise<boolean> {
    const doc: LedgerDoc = { id: LEDGER_ID, pk: patientId, type: 'ledger', entries };
    try {
      const etag = current ? await this.store.replace(doc, current.etag) : await this.store.create(doc);
      this.cache.set(patientId, { doc, etag });
      return true;
    } catch (e) {
      const s = statusOf(e);
      if (s === 412 || s === 409 || s === 404) {
        this.cache.delete(patientId);
        return false;
      }
      throw e;
    }
  }

  isInFlight(at: string): boolean {
    return this.clock.now().toMillis() - Date.parse(at) < IN_FLIGHT_MS;
  }
}
