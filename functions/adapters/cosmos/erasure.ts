import { EventType, makeEvent, type SchedulingEvent } from '../../../domain/events';
import type { Clock, EventPublisher, IdGenerator } from '../../../domain/ports';
import type { AppointmentDoc } from './appointment-repository';
import type { CosmosAuditLog } from './audit-log';
import { ERASED_PATIENT_ID, type KeyedHasher } from './keys';
import type { OutboxCarrier, PendingEventIndex } from './outbox';
import { PATIENT_DOC_ID, type PatientDoc, phonePk } from './patient-repository';
import { type BaseDoc, type Store, statusOf } from './store';

/**
 * GDPR Art. 17 erasure. Removes or de-identifies every document holding the patient's data:
 * - patients container: the whole partition (record, ledger, offers, SMS history) and the phone lookup;
 * - schedule: appointments stay as de-identified stubs (patientId = "erased") so the clinic's
 *   history and slot claims stay intact; pending events of those appointments are published first
 *   (or, if the broker is down, de-identified too);
 * - waitlist entries: deleted;
 * - idempotency: records whose stored response mentions the patient's id, phone or name: deleted
 *   (a replay after erasure runs again and finds no patient);
 * - audit: entries already hold only keyed hashes; an `erase` entry is added.
 * The tombstone event health.scheduling.patient.erased.v1 goes out through the outbox from a
 * tombstone document keyed by a keyed hash of the id (it tells "erased" from "never existed"
 * without keeping the id).
 */

export interface ErasureContext {
  principalId: string;
  correlationId: string;
}

export interface ErasureReport {
  patientId: string;
  erasedAt: string;
  appointmentsDeidentified: number;
  waitlistEntriesDeleted: number;
  patientDocumentsDeleted: number;
  idempotencyRecordsDeleted: number;
  eventId: string;
}

interface TombstoneDoc extends OutboxCarrier {
  type: 'erasure-tombstone';
  erasedAt: string;
}

export interface ErasureStores {
  schedule: Store;
  patients: Store;
  waitlist: Store;
  idempotency: Store;
}

export class PatientErasure {
  constructor(
    private readonly stores: ErasureStores,
    private readonly hasher: KeyedHasher,
    private readonly audit: CosmosAuditLog,
    private readonly publisher: EventPublisher,
    private readonly outbox: { dispatch(events: SchedulingEvent[]): Promise<void> },
    private readonly pending: PendingEventIndex,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  tombstonePk(patientId: string): string {
    return `erased|${this.hasher.hash('patient', patientId)}`;
  }

  /** When the patient was erased, if they were. */
  async erasedAt(patientId: string): Promise<string | undefined> {
    const r = await this.stores.patients.read<TombstoneDoc>('tombstone', this.tombstonePk(patientId));
    return r?.doc.erasedAt;
  }

  async erasePatient(patientId: string, ctx: ErasureContext): Promise<ErasureReport> {
    const erasedAt = this.clock.now().toUTC().toISO()!;
    const { patients, schedule, waitlist, idempotency } = this.stores;
    const record = await patients.read<PatientDoc>(PATIENT_DOC_ID, patientId);

    let appointmentsDeidentified = 0;
    const appointments = await schedule.queryAll<AppointmentDoc>({
      query: "SELECT * FROM c WHERE c.type = 'appointment' AND c.patientId = @patientId",
      parameters: [{ name: '@patientId', value: patientId }],
    });
    for (const apt of appointments) {
      if (await this.deidentifyAppointment(apt, patientId)) appointmentsDeidentified++;
    }

    const entries = await waitlist.queryAll<BaseDoc>({
      query: "SELECT c.id, c.pk FROM c WHERE c.type = 'waitlist-entry' AND c.patientId = @patientId",
      parameters: [{ name: '@patientId', value: patientId }],
    });
    for (const e of entries) await waitlist.delete(e.id, e.pk);

    const needles = [JSON.stringify(patientId), ...(record ? [record.doc.phone, JSON.stringify(record.doc.name).slice(1, -1)] : [])];
    const records = await idempotency.queryAll<BaseDoc>({
      query: `SELECT c.id, c.pk FROM c WHERE ${needles.map((_, i) => `CONTAINS(c.responseJson, @n${i})`).join(' OR ')} OR CONTAINS(c.id, @n0raw)`,
      parameters: [...needles.map((value, i) => ({ name: `@n${i}`, value })), { name: '@n0raw', value: patientId }],
    });
    // CONTAINS(c.id, id) may match longer ids that contain this one; only delete exact segments.
    const idSegment = new RegExp(`(^|[:|])${patientId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[:|])`);
    let idempotencyRecordsDeleted = 0;
    for (const r of records) {
      const full = await idempotency.read<BaseDoc & { responseJson?: string }>(r.id, r.pk);
      if (!full) continue;
      const mentions = needles.some((n) => full.doc.responseJson?.includes(n)) || idSegment.test(full.doc.id);
      if (mentions && (await idempotency.delete(r.id, r.pk))) idempotencyRecordsDeleted++;
    }

    const own = await patients.queryAll<BaseDoc>(
      { query: 'SELECT c.id, c.pk FROM c WHERE c.pk = @pk', parameters: [{ name: '@pk', value: patientId }] },
      patientId,
    );
    let patientDocumentsDeleted = 0;
    for (const d of own) if (await patients.delete(d.id, d.pk)) patientDocumentsDeleted++;
    if (record) await patients.delete(patientId, phonePk(this.hasher, record.doc.phone));

    await this.audit.record({
      principalId: ctx.principalId,
      action: 'erase',
      resourceType: 'Patient',
      resourceId: patientId,
      patientId,
      correlationId: ctx.correlationId,
      at: erasedAt,
      outcome: 'success',
    });

    const event = makeEvent(EventType.patientErased, { patientId, erasedAt }, { id: this.ids.newId('evt'), time: erasedAt, subject: patientId });
    const tombstone: TombstoneDoc = {
      id: 'tombstone',
      pk: this.tombstonePk(patientId),
      type: 'erasure-tombstone',
      erasedAt,
      pendingEvents: [event],
      pendingSince: erasedAt,
    };
    const etag = await patients.upsert(tombstone);
    this.pending.remember([event], { store: patients, id: tombstone.id, pk: tombstone.pk, written: { doc: tombstone, etag } });
    try {
      await this.outbox.dispatch([event]);
    } catch {
      // Stored; the relay publishes it.
    }
    return {
      patientId,
      erasedAt,
      appointmentsDeidentified,
      waitlistEntriesDeleted: entries.length,
      patientDocumentsDeleted,
      idempotencyRecordsDeleted,
      eventId: event.id,
    };
  }

  private async deidentifyAppointment(apt: AppointmentDoc, patientId: string): Promise<boolean> {
    let current: { doc: AppointmentDoc; etag: string } | undefined = { doc: apt, etag: apt._etag ?? '' };
    for (let attempt = 0; attempt < 6 && current; attempt++) {
      const doc: AppointmentDoc = current.doc;
      if (doc.patientId !== patientId) return false;
      const pendingEvents = doc.pendingEvents ?? [];
      let published = pendingEvents.length === 0;
      if (!published) {
        try {
          await this.publisher.publish(pendingEvents);
          published = true;
        } catch {
          // Broker down: the events stay pending, but without the id.
        }
      }
      const stub: AppointmentDoc = { ...doc, patientId: ERASED_PATIENT_ID };
      delete stub.pendingEvents;
      delete stub.pendingSince;
      if (!published) {
        stub.pendingEvents = pendingEvents.map((e: SchedulingEvent) => scrub(e, patientId));
        stub.pendingSince = doc.pendingSince ?? doc.updatedAt;
      }
      try {
        await this.stores.schedule.replace(stub, current.etag);
        return true;
      } catch (e) {
        if (statusOf(e) !== 412) throw e;
        current = await this.stores.schedule.read<AppointmentDoc>(doc.id, doc.pk);
      }
    }
    return false;
  }
}

function scrub(e: SchedulingEvent, patientId: string): SchedulingEvent {
  const data = { ...(e.data as Record<string, unknown>) };
  if (data.patientId === patientId) data.patientId = ERASED_PATIENT_ID;
  return { ...e, data } as SchedulingEvent;
}
