import type { JSONObject, OperationInput, SqlParameter } from '@azure/cosmos';
import { DomainError, ErrorCode } from '../../../domain/errors';
import type { SchedulingEvent } from '../../../domain/events';
import type { Appointment, AppointmentStatus } from '../../../domain/model';
import type { AppointmentQuery, AppointmentRepository, BusyAppointment, BusyQuery, Clock, Page } from '../../../domain/ports';
import { OCCUPYING_STATUSES } from '../../../domain/slots';
import { LruMap } from '../../../domain/lru';
import { localDateOf, schedulePk, slotClaimId } from './keys';
import { type OutboxCarrier, type PendingEventIndex, withPending } from './outbox';
import { type EntryVerdict, IN_FLIGHT_MS, type LedgerEntry, type PatientLedger } from './patient-ledger';
import { type BaseDoc, CosmosStatusError, type Store, type Stored, statusOf, stripDoc } from './store';

/**
 * Appointments in the `schedule` container, partitioned by clinic and clinic-local day
 * (`{clinicId}|{YYYY-MM-DD}`): the appointment, the claim on its slot and its pending events share
 * a partition, and a day view or slot search reads a few partitions.
 *
 * No double booking, by construction:
 * - Provider: a slot claim `claim|{slotId}` (slot id = provider + UTC start) is created together
 *   with the appointment in one transactional batch. Create-only, so of N concurrent bookings of a
 *   slot exactly one batch succeeds; the others get 409 -> APPOINTMENT.SLOT_TAKEN. A provider's
 *   slots never overlap (generateSlots lays them back to back), and every appointment type booked in
 *   a slot claims the same id, so different types cannot overlap either.
 * - Patient: before the batch, the appointment's interval is added to the patient's ledger with
 *   If-Match (see PatientLedger) -> APPOINTMENT.PATIENT_OVERLAP.
 * - Changes: replace with If-Match on the appointment's ETag; the stored version must equal the
 *   caller's expectedVersion, else APPOINTMENT.CONCURRENT_MODIFICATION (the domain retries).
 *   Releasing a slot deletes its claim with If-Match, only if the claim is still this
 *   appointment's.
 *
 * The local server's batch is not atomic, but it runs a batch's operations back to back and stops
 * at the first failure; the claim is always the first operation, so a lost race writes nothing,
 * and the one remaining case (claim written, appointment write failed) is compensated by deleting
 * the claim. A crash in between leaves a claim whose appointment is missing or no longer holds the
 * slot: the next booking of that slot finds it, sees it is stale, and deletes it (healClaim).
 *
 * Moves across days (a reschedule to another clinic-day partition) cannot be one batch. They take
 * three writes: (1) the old copy is marked `movingTo` (If-Match), (2) the new copy and its slot
 * claim are written in the new partition, (3) the old copy becomes a forwarding stub (If-Match)
 * and its claim is released. Between (2) and (3), or forever after a crash there, both copies
 * exist; a read resolves a marked copy against its target (the new copy wins once it exists), and
 * list() also keeps one document per id, so no read returns the appointment twice or not at all.
 * The read that finds a stale copy turns it into the stub (repairStale), finishing the move.
 */

export type AppointmentDoc = BaseDoc &
  Appointment &
  OutboxCarrier & {
    type: 'appointment';
    /** Epoch ms of start/end: ISO strings with different offsets do not sort. */
    startMs: number;
    endMs: number;
    /**
     * Set on the old copy before a reschedule writes the new copy in another day's partition: while
     * the new copy (this version or later) exists there, this copy is stale and every read skips it
     * (and repairs it into a forwarding stub). See "Moves across days" below.
     */
    movingTo?: { pk: string; version: number };
  };

/** Left behind when a reschedule moves an appointment to another day's partition. */
interface MovedDoc extends BaseDoc {
  type: 'appointment-moved';
  movedToPk: string;
  version: number;
}

interface ClaimDoc extends BaseDoc {
  type: 'slot-claim';
  slotId: string;
  providerId: string;
  appointmentId: string;
  claimedAt: string;
}

const APPOINTMENT_META = ['startMs', 'endMs', 'pendingEvents', 'pendingSince', 'movingTo'] as const;
/** Statuses no transition leaves except to entered-in-error, and that do not hold time. */
const FINAL_FREE: ReadonlySet<AppointmentStatus> = new Set(['cancelled', 'noshow', 'entered-in-error']);
const DAY_MS = 86_400_000;
const MAX_LIST_DAYS = 400;

/** Internal: the ETag moved on; re-read and try again. */
class EtagMismatch extends Error {}

export function toAppointment(doc: AppointmentDoc): Appointment {
  return stripDoc<Appointment>(doc, APPOINTMENT_META);
}

export function appointmentPk(a: Pick<Appointment, 'clinicId' | 'start'>): string {
  return schedulePk(a.clinicId, localDateOf(a.start));
}

/** Clinic-local dates lie within one day of the UTC date, so these clinic-day partitions hold every appointment starting in [fromMs, toMs). */
function partitionsOf(clinicId: string, fromMs: number, toMs: number): string[] {
  const pks: string[] = [];
  for (let t = Date.UTC(...utcYmd(fromMs - DAY_MS)); t <= toMs + DAY_MS && pks.length < MAX_LIST_DAYS; t += DAY_MS) {
    pks.push(schedulePk(clinicId, new Date(t).toISOString().slice(0, 10)));
  }
  return pks;
}

/** WHERE clause and parameters for a clinic's (or one provider's) appointments starting in [fromMs, toMs), over its clinic-day partitions. */
function windowFilter(clinicId: string, fromMs: number, toMs: number, providerId?: string): { where: string; parameters: SqlParameter[] } {
  const pks = partitionsOf(clinicId, fromMs, toMs);
  const parameters: SqlParameter[] = [
    ...pks.map((value, i) => ({ name: `@p${i}`, value })),
    { name: '@clinicId', value: clinicId },
    { name: '@from', value: fromMs },
    { name: '@to', value: toMs },
  ];
  let where = `c.pk IN (${pks.map((_, i) => `@p${i}`).join(', ')}) AND c.type = 'appointment' AND c.clinicId = @clinicId AND c.startMs >= @from AND c.startMs < @to`;
  if (providerId) {
    where += ' AND c.providerId = @providerId';
    parameters.push({ name: '@providerId', value: providerId });
  }
  return { where, parameters };
}

export class CosmosAppointmentRepository implements AppointmentRepository {
  /** Last known document and ETag per appointment: saves the read in update() after get(). */
  private readonly known = new LruMap<string, Stored<AppointmentDoc>>(5_000);

  constructor(
    private readonly store: Store,
    private readonly ledger: PatientLedger,
    private readonly pending: PendingEventIndex,
    private readonly clock: Clock,
  ) {}

  /** Keeps the cache in step when the outbox marks this appointment's events sent. */
  noteWritten(doc: AppointmentDoc, etag: string): void {
    const k = this.known.get(doc.id);
    if (k && k.doc.pk === doc.pk) this.known.set(doc.id, { doc, etag });
  }

  async get(appointmentId: string): Promise<Appointment | undefined> {
    const s = await this.find(appointmentId);
    return s ? toAppointment(s.doc) : undefined;
  }

  async create(appointment: Appointment, events: SchedulingEvent[]): Promise<Appointment> {
    const now = this.nowIso();
    const pk = appointmentPk(appointment);
    const doc = withPending(this.toDoc(appointment, pk), undefined, events, now);
    const entry = this.entryOf(appointment, pk, now);
    if (!OCCUPYING_STATUSES.has(appointment.status)) {
      await this.ledger.acquire(appointment.patientId, entry, 'no-check');
      try {
        this.remember(doc, await this.store.create(doc), events);
      } catch (e) {
        if (statusOf(e) === 409)
          throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'Appointment id exists', { appointmentId: appointment.appointmentId });
        throw e;
      }
      return structuredClone(appointment);
    }
    await this.ledger.acquire(appointment.patientId, entry, (e) => this.judge(e));
    try {
      const etag = await this.claimAndWrite(
        pk,
        this.claimOf(appointment, pk, now),
        { operationType: 'Create', resourceBody: json(doc) },
        appointment.appointmentId,
      );
      this.remember(doc, etag, events);
    } catch (e) {
      await this.ledger.remove(appointment.patientId, appointment.appointmentId, entry.startMs).catch(() => undefined);
      throw e;
    }
    return structuredClone(appointment);
  }

  async update(appointment: Appointment, expectedVersion: number, events: SchedulingEvent[]): Promise<Appointment> {
    const id = appointment.appointmentId;
    let current = this.known.get(id) ?? (await this.find(id));
    for (let attempt = 0; attempt < 6; attempt++) {
      if (!current) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId: id });
      if (current.doc.version !== expectedVersion) {
        throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The appointment changed meanwhile', { appointmentId: id });
      }
      try {
        return await this.applyUpdate(current, appointment, events);
      } catch (e) {
        if (!(e instanceof EtagMismatch)) throw e;
        this.known.delete(id);
        current = await this.find(id);
      }
    }
    throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The appointment keeps changing', { appointmentId: id });
  }

  private async applyUpdate(current: Stored<AppointmentDoc>, a: Appointment, events: SchedulingEvent[]): Promise<Appointment> {
    const prev = current.doc;
    const now = this.nowIso();
    const pk = appointmentPk(a);
    const doc = withPending({ ...this.toDoc(a, pk), ...(prev.pendingSince ? { pendingSince: prev.pendingSince } : {}) }, prev.pendingEvents, events, now);
    const wasOcc = OCCUPYING_STATUSES.has(prev.status);
    const isOcc = OCCUPYING_STATUSES.has(a.status);
    const slotChanged = prev.slotId !== a.slotId;
    const timeChanged = prev.startMs !== doc.startMs || prev.endMs !== doc.endMs;
    const needClaim = isOcc && (!wasOcc || slotChanged);
    const releaseOld = wasOcc && (!isOcc || slotChanged);
    const needLedger = isOcc && (!wasOcc || timeChanged);
    const entry = this.entryOf(a, pk, now);
    if (needLedger) await this.ledger.acquire(a.patientId, entry, (e) => this.judge(e));
    else if (timeChanged) await this.ledger.acquire(a.patientId, entry, 'no-check');
    // Releasing the old slot rides in the same batch as the conditional replace: while the
    // appointment is unchanged (If-Match) and holds the slot, nobody else can hold its claim, so
    // the delete needs no condition of its own.
    const releaseOp: OperationInput[] = releaseOld ? [{ operationType: 'Delete', id: slotClaimId(prev.slotId) }] : [];
    let etag: string;
    try {
      if (pk === prev.pk) {
        const replaceOp: OperationInput = { operationType: 'Replace', id: a.appointmentId, resourceBody: json(doc), ifMatch: current.etag };
        etag = needClaim
          ? await this.claimAndWrite(pk, this.claimOf(a, pk, now), replaceOp, a.appointmentId, releaseOp)
          : await this.writeAndRelease(pk, doc, current.etag, releaseOp);
      } else {
        const marked = await this.markMoving(current, pk, a.version);
        etag = needClaim
          ? await this.claimAndWrite(pk, this.claimOf(a, pk, now), { operationType: 'Upsert', resourceBody: json(doc) }, a.appointmentId)
          : await this.store.upsert(doc);
        await this.leaveForwardingStub(marked, pk, a, needClaim, releaseOld);
      }
    } catch (e) {
      if (timeChanged) await this.ledger.remove(a.patientId, a.appointmentId, entry.startMs).catch(() => undefined);
      throw e;
    }
    this.remember(doc, etag, doc.pendingEvents ?? []);
    if (timeChanged) await this.ledger.remove(a.patientId, a.appointmentId, prev.startMs).catch(() => undefined);
    return structuredClone(a);
  }

  /** Step (1) of a move across days: the old copy names where the new one goes (If-Match), so reads can tell when it is stale. */
  private async markMoving(current: Stored<AppointmentDoc>, newPk: string, version: number): Promise<Stored<AppointmentDoc>> {
    const { _etag, _rid, _self, _ts, _attachments, ...rest } = current.doc;
    void [_etag, _rid, _self, _ts, _attachments];
    const doc: AppointmentDoc = { ...rest, movingTo: { pk: newPk, version } };
    return { doc, etag: await this.replaceOnly(doc, current.etag) };
  }

  /**
   * The copy a read should see for `s`: itself, or, when it is the old copy of a move across days
   * whose new copy exists, that new copy (the old one is then repaired into a forwarding stub).
   */
  private async resolveMoving(s: Stored<AppointmentDoc>, hops = 0): Promise<Stored<AppointmentDoc>> {
    const target = s.doc.movingTo;
    if (!target || hops > 3) return s;
    const there = await this.store.read<AppointmentDoc | MovedDoc>(s.doc.id, target.pk);
    if (!there || there.doc.version < target.version) return s;
    // The new copy may have moved on again (a stub there): follow it.
    const newer =
      there.doc.type === 'appointment'
        ? await this.resolveMoving(there as Stored<AppointmentDoc>, hops + 1)
        : await this.readAt(s.doc.id, (there.doc as MovedDoc).movedToPk);
    if (!newer) return s;
    await this.repairStale(s, newer);
    return newer;
  }

  /**
   * A stale copy left by a move across days that stopped between writing the new copy and the
   * stub (a crash, or a read racing the move): the stale copy becomes the forwarding stub (If-Match:
   * a concurrent writer's change wins) and releases its slot claim if the claim is still its own.
   */
  private async repairStale(stale: Stored<AppointmentDoc>, current: Stored<AppointmentDoc>): Promise<void> {
    if (stale.doc.pk === current.doc.pk) return;
    // Only a copy marked for this move, or an unmarked one strictly older (a move from before markers).
    const marked = stale.doc.movingTo !== undefined && stale.doc.movingTo.version <= current.doc.version;
    if (!marked && stale.doc.version >= current.doc.version) return;
    const stub: MovedDoc = {
      id: stale.doc.id,
      pk: stale.doc.pk,
      type: 'appointment-moved',
      movedToPk: current.doc.pk,
      version: current.doc.version,
      ttl: 90 * 86_400,
    };
    try {
      await this.replaceOnly(stub, stale.etag);
    } catch (e) {
      if (e instanceof EtagMismatch) return; // someone else repaired or changed it; their write stands
      throw e;
    }
    if (stale.doc.slotId !== current.doc.slotId) await this.releaseClaim(stale.doc.pk, stale.doc.slotId, stale.doc.id).catch(() => undefined);
  }

  /**
   * Step (3) of a move across days: the old copy becomes a pointer, conditionally (the
   * linearization point), then its slot claim is released if still its own (read-checked: once the
   * new copy exists, another booking may already have healed and re-claimed the old slot). A write
   * that only touched the marked copy (the outbox relay) does not stop the move: the stub is
   * retried on the fresh ETag. A read may have written the stub already (repairStale): done. A
   * domain change to the old copy (its marker gone) wins: the new copy and its claim are undone.
   */
  private async leaveForwardingStub(marked: Stored<AppointmentDoc>, newPk: string, a: Appointment, claimed: boolean, releaseOld: boolean): Promise<void> {
    const stub: MovedDoc = { id: marked.doc.id, pk: marked.doc.pk, type: 'appointment-moved', movedToPk: newPk, version: a.version, ttl: 90 * 86_400 };
    let etag = marked.etag;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.replaceOnly(stub, etag);
        break;
      } catch (e) {
        if (!(e instanceof EtagMismatch)) throw e;
      }
      const now = await this.store.read<AppointmentDoc | MovedDoc>(marked.doc.id, marked.doc.pk);
      if (now?.doc.type === 'appointment-moved' && (now.doc as MovedDoc).movedToPk === newPk) break;
      const still = now?.doc.type === 'appointment' && (now.doc as AppointmentDoc).movingTo;
      if (now && still && still.pk === newPk && still.version === a.version && attempt < 4) {
        etag = now.etag;
        continue;
      }
      await this.store.delete(a.appointmentId, newPk).catch(() => undefined);
      if (claimed) await this.releaseClaim(newPk, a.slotId, a.appointmentId).catch(() => undefined);
      throw new EtagMismatch();
    }
    if (releaseOld) await this.releaseClaim(marked.doc.pk, marked.doc.slotId, marked.doc.id).catch(() => undefined);
  }

  /** Conditional replace plus, in the same batch, the release of the old slot's claim. */
  private async writeAndRelease(pk: string, doc: AppointmentDoc | MovedDoc, etag: string, releaseOp: OperationInput[]): Promise<string> {
    if (releaseOp.length === 0) return this.replaceOnly(doc, etag);
    const out = await this.store.batch(pk, [{ operationType: 'Replace', id: doc.id, resourceBody: json(doc), ifMatch: etag }, ...releaseOp]);
    if (out.ok) return out.results[0]!.eTag ?? '';
    if (out.failedIndex === 0) {
      if (out.failedStatus === 412 || out.failedStatus === 404) throw new EtagMismatch();
      throw new Error(`Cosmos DB batch operation failed with status ${out.failedStatus}`);
    }
    // The claim was already gone (404). The local server kept the replace; Azure rolled it back.
    if (out.committed[0]) return out.results[0]!.eTag ?? '';
    return this.replaceOnly(doc, etag);
  }

  private async replaceOnly(doc: AppointmentDoc | MovedDoc, etag: string): Promise<string> {
    try {
      return await this.store.replace(doc, etag);
    } catch (e) {
      if (e instanceof CosmosStatusError && (e.status === 412 || e.status === 404)) throw new EtagMismatch();
      throw e;
    }
  }

  /**
   * Writes the slot claim and the appointment operation as one batch. Returns the appointment's
   * new ETag; throws SLOT_TAKEN if another live appointment holds the slot.
   */
  private async claimAndWrite(pk: string, claim: ClaimDoc, op: OperationInput, appointmentId: string, extra: OperationInput[] = []): Promise<string> {
    let extras = extra;
    for (let attempt = 0; attempt < 4; attempt++) {
      const out = await this.store.batch(pk, [{ operationType: 'Create', resourceBody: json(claim) }, op, ...extras]);
      if (out.ok) return out.results[1]!.eTag ?? '';
      if (out.failedIndex >= 2) {
        // Releasing the old claim failed (already gone). Local server: the rest is stored. Azure: retry without it.
        if (out.committed[1]) return out.results[1]!.eTag ?? '';
        extras = [];
        continue;
      }
      if (out.failedIndex === 1) {
        // Only the local server gets here with the claim stored (Azure rolled it back): undo it.
        if (out.committed[0]) await this.store.delete(claim.id, pk, out.results[0]!.eTag).catch(() => undefined);
        if (out.failedStatus === 412 || out.failedStatus === 404) throw new EtagMismatch();
        if (out.failedStatus === 409) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'Appointment id exists', { appointmentId });
        throw new Error(`Cosmos DB batch operation failed with status ${out.failedStatus}`);
      }
      if (out.failedIndex === 0 && out.failedStatus === 409) {
        const verdict = await this.healClaim(pk, claim, appointmentId);
        if (verdict === 'freed') continue;
        if (verdict === 'ours') {
          const etag = await this.writeAlone(pk, op, appointmentId);
          for (const x of extras) await this.store.delete((x as { id: string }).id, pk).catch(() => undefined);
          return etag;
        }
        throw new DomainError(ErrorCode.SLOT_TAKEN, 'The slot is already taken', { slotId: claim.slotId });
      }
      throw new Error(`Cosmos DB batch failed with status ${out.failedStatus ?? 'unknown'}`);
    }
    throw new DomainError(ErrorCode.SLOT_TAKEN, 'The slot is already taken', { slotId: claim.slotId });
  }

  /** The claim is already this appointment's (a retried request): write just the appointment. */
  private async writeAlone(pk: string, op: OperationInput, appointmentId: string): Promise<string> {
    const body = (op as unknown as { resourceBody: AppointmentDoc }).resourceBody;
    if (op.operationType === 'Replace') return this.replaceOnly(body, (op as { ifMatch?: string }).ifMatch ?? '');
    if (op.operationType === 'Upsert') return this.store.upsert(body);
    try {
      return await this.store.create(body);
    } catch (e) {
      if (statusOf(e) !== 409) throw e;
      const existing = await this.store.read<AppointmentDoc>(appointmentId, pk);
      if (existing && existing.doc.version === body.version) return existing.etag;
      throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'Appointment id exists', { appointmentId });
    }
  }

  /** A 409 on a claim: is the holder still holding? Deletes (If-Match) claims that are not. */
  private async healClaim(pk: string, claim: ClaimDoc, appointmentId: string): Promise<'ours' | 'freed' | 'taken'> {
    const existing = await this.store.read<ClaimDoc>(claim.id, pk);
    if (!existing) return 'freed';
    if (existing.doc.appointmentId === appointmentId) return 'ours';
    const holder = await this.readAt(existing.doc.appointmentId, pk);
    const stale = holder
      ? !OCCUPYING_STATUSES.has(holder.doc.status) || holder.doc.slotId !== existing.doc.slotId
      : this.clock.now().toMillis() - Date.parse(existing.doc.claimedAt) >= IN_FLIGHT_MS;
    if (!stale) return 'taken';
    await this.store.delete(existing.doc.id, pk, existing.etag).catch((e) => (statusOf(e) === 412 ? undefined : Promise.reject(e)));
    return 'freed';
  }

  private async releaseClaim(pk: string, slotId: string, appointmentId: string): Promise<void> {
    const claim = await this.store.read<ClaimDoc>(slotClaimId(slotId), pk);
    if (claim && claim.doc.appointmentId === appointmentId) await this.store.delete(claim.doc.id, pk, claim.etag);
  }

  /** Whether a ledger entry that overlaps a new booking still holds the patient's time. */
  private async judge(e: LedgerEntry): Promise<EntryVerdict> {
    const s = await this.readAt(e.appointmentId, e.pk);
    if (!s) return this.ledger.isInFlight(e.at) ? 'occupying' : 'stale';
    if (FINAL_FREE.has(s.doc.status)) return 'released';
    if (!OCCUPYING_STATUSES.has(s.doc.status)) return 'free';
    if (s.doc.startMs === e.startMs && s.doc.endMs === e.endMs) return 'occupying';
    // The appointment is at another time: this entry is a reschedule in flight, or left over from one.
    return this.ledger.isInFlight(e.at) ? 'occupying' : 'stale';
  }

  async list(q: AppointmentQuery): Promise<Page<Appointment>> {
    const fromMs = Date.parse(q.from);
    const toMs = Date.parse(q.to);
    if (!(toMs > fromMs)) return { items: [] };
    const window = windowFilter(q.clinicId, fromMs, toMs, q.providerId);
    const parameters = window.parameters;
    let where = window.where;
    if (q.patientId) {
      where += ' AND c.patientId = @patientId';
      parameters.push({ name: '@patientId', value: q.patientId });
    }
    if (q.status) {
      where += ' AND c.status = @status';
      parameters.push({ name: '@status', value: q.status });
    }
    const page = await this.store.queryPage<AppointmentDoc>(
      { query: `SELECT * FROM c WHERE ${where} ORDER BY c.startMs`, parameters },
      { maxItemCount: q.limit ?? 100, ...(q.continuationToken ? { continuationToken: q.continuationToken } : {}) },
    );
    return { items: await this.liveCopies(page.items), ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) };
  }

  /**
   * One appointment per id from a query's documents: the old copy of a move across days is left out
   * once its new copy exists (that copy is listed where its own partition is read), and of two
   * copies of one id (a move that stopped before either was marked) the later version is kept.
   */
  private async liveCopies(docs: AppointmentDoc[]): Promise<Appointment[]> {
    const byId = new Map<string, AppointmentDoc>();
    for (const doc of docs) {
      if (doc.movingTo) {
        const resolved = await this.resolveMoving({ doc, etag: doc._etag ?? '' });
        if (resolved.doc !== doc) continue;
      }
      const seen = byId.get(doc.id);
      if (!seen || seen.version < doc.version) byId.set(doc.id, doc);
    }
    return docs.filter((d) => byId.get(d.id) === d).map(toAppointment);
  }

  /**
   * Slot search's read: one query over the clinic-day partitions (named in the WHERE clause, so Cosmos
   * routes it to them), projected to four fields and filtered to occupying statuses, without list()'s
   * ORDER BY over whole documents. One query rather than one per partition: every SDK query is two
   * requests (query plan + query).
   */
  async listBusy(q: BusyQuery): Promise<BusyAppointment[]> {
    const fromMs = Date.parse(q.from);
    const toMs = Date.parse(q.to);
    if (!(toMs > fromMs)) return [];
    const { where, parameters } = windowFilter(q.clinicId, fromMs, toMs, q.providerId);
    parameters.push({ name: '@statuses', value: [...OCCUPYING_STATUSES] });
    const query = `SELECT c.providerId, c.start, c["end"], c.status FROM c WHERE ${where} AND ARRAY_CONTAINS(@statuses, c.status)`;
    return this.store.queryAll<BusyAppointment>({ query, parameters });
  }

  async listByPatient(patientId: string, from: string, to: string): Promise<Appointment[]> {
    const fromMs = Date.parse(from);
    const toMs = Date.parse(to);
    const ledger = await this.ledger.read(patientId);
    const seen = new Set<string>();
    const out: Appointment[] = [];
    for (const e of ledger?.doc.entries ?? []) {
      if (e.startMs < fromMs || e.startMs >= toMs || seen.has(e.appointmentId)) continue;
      seen.add(e.appointmentId);
      const s = await this.readAt(e.appointmentId, e.pk);
      if (s && s.doc.patientId === patientId && s.doc.startMs >= fromMs && s.doc.startMs < toMs) out.push(toAppointment(s.doc));
    }
    return out.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  }

  async findByExternalId(system: string, value: string): Promise<Appointment | undefined> {
    // Cross-partition, served by the index on externalIds; used by EHR updates, not by patients.
    const docs = await this.store.queryAll<AppointmentDoc>({
      query: `SELECT * FROM c WHERE c.type = 'appointment' AND ARRAY_CONTAINS(c.externalIds, {"system": @system, "value": @value}, true)`,
      parameters: [
        { name: '@system', value: system },
        { name: '@value', value },
      ],
    });
    const best = docs.sort((a, b) => b.version - a.version)[0];
    if (!best) return undefined;
    this.known.set(best.id, { doc: best, etag: best._etag ?? '' });
    return toAppointment(best);
  }

  /** Point read at a known partition, following forwarding stubs. */
  async readAt(id: string, pk: string): Promise<Stored<AppointmentDoc> | undefined> {
    let at = pk;
    for (let hop = 0; hop < 4; hop++) {
      const r = await this.store.read<AppointmentDoc | MovedDoc>(id, at);
      if (!r) return undefined;
      if (r.doc.type === 'appointment') {
        const s = await this.resolveMoving(r as Stored<AppointmentDoc>);
        this.known.set(id, s);
        return s;
      }
      at = (r.doc as MovedDoc).movedToPk;
    }
    return undefined;
  }

  /** Finds an appointment by id alone: the cached partition, else a cross-partition query on id. */
  private async find(id: string): Promise<Stored<AppointmentDoc> | undefined> {
    const known = this.known.get(id);
    if (known) {
      const s = await this.readAt(id, known.doc.pk);
      if (s) return s;
    }
    const docs = await this.store.queryAll<AppointmentDoc>({
      query: "SELECT * FROM c WHERE c.id = @id AND c.type = 'appointment'",
      parameters: [{ name: '@id', value: id }],
    });
    const [best, ...older] = docs.sort((a, b) => b.version - a.version);
    if (!best) return undefined;
    const s = await this.resolveMoving({ doc: best, etag: best._etag ?? '' });
    // More than one copy: a move across days stopped before its stub; finish it now.
    for (const stale of older) await this.repairStale({ doc: stale, etag: stale._etag ?? '' }, s);
    this.known.set(id, s);
    return s;
  }

  private remember(doc: AppointmentDoc, etag: string, events: readonly SchedulingEvent[]): void {
    this.known.set(doc.id, { doc, etag });
    if (events.length > 0) this.pending.remember(events, { store: this.store, id: doc.id, pk: doc.pk, written: { doc, etag } });
  }

  private toDoc(a: Appointment, pk: string): AppointmentDoc {
    return { ...structuredClone(a), id: a.appointmentId, pk, type: 'appointment', startMs: Date.parse(a.start), endMs: Date.parse(a.end) };
  }

  private entryOf(a: Appointment, pk: string, at: string): LedgerEntry {
    return { appointmentId: a.appointmentId, pk, startMs: Date.parse(a.start), endMs: Date.parse(a.end), at };
  }

  private claimOf(a: Appointment, pk: string, at: string): ClaimDoc {
    // The claim expires with the schedule's TTL a week after the slot (Azure; the local server keeps it).
    const ttl = Math.max(3600, Math.ceil((Date.parse(a.end) - this.clock.now().toMillis()) / 1000) + 7 * 86_400);
    return {
      id: slotClaimId(a.slotId),
      pk,
      type: 'slot-claim',
      slotId: a.slotId,
      providerId: a.providerId,
      appointmentId: a.appointmentId,
      claimedAt: at,
      ttl,
    };
  }

  private nowIso(): string {
    return this.clock.now().toUTC().toISO()!;
  }
}

const json = (doc: object) => doc as unknown as JSONObject;

function utcYmd(ms: number): [number, number, number] {
  const d = new Date(ms);
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
}
