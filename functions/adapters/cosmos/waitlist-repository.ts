import { DomainError, ErrorCode } from '../../../domain/errors';
import type { OfferStatus, WaitlistEntry, WaitlistOffer } from '../../../domain/model';
import type { OfferRepository, Page, WaitlistRepository } from '../../../domain/ports';
import { LruMap } from '../../../domain/lru';
import { type BaseDoc, type Store, type Stored, statusOf, stripDoc } from './store';

/**
 * Waitlist entries live in the `waitlist` container, partitioned by clinic: backfill ranks a
 * clinic's active entries with one single-partition query. Offers live with the patient (patients
 * container, partition = patient id): an SMS reply is matched to the sender's open offers with a
 * single-partition query, and erasure removes them with the rest of the patient's partition.
 * Lookups by id alone use the last known partition, else a cross-partition query on id.
 */

type EntryDoc = BaseDoc & WaitlistEntry & { type: 'waitlist-entry' };
type OfferDoc = BaseDoc & WaitlistOffer & { type: 'offer' };

/** Optimistic update: replace if the stored version is `expectedVersion`, retrying only ETag-only changes. */
async function replaceVersioned<D extends BaseDoc & { version: number }>(
  store: Store,
  known: LruMap<string, Stored<D>>,
  find: () => Promise<Stored<D> | undefined>,
  next: D,
  expectedVersion: number,
  notFound: () => DomainError,
  conflict: () => DomainError,
): Promise<void> {
  let current = known.get(next.id) ?? (await find());
  for (let attempt = 0; attempt < 5; attempt++) {
    if (!current) throw notFound();
    if (current.doc.version !== expectedVersion) throw conflict();
    try {
      const etag = await store.replace({ ...next, pk: current.doc.pk }, current.etag);
      known.set(next.id, { doc: { ...next, pk: current.doc.pk }, etag });
      return;
    } catch (e) {
      if (statusOf(e) !== 412 && statusOf(e) !== 404) throw e;
      known.delete(next.id);
      current = await find();
    }
  }
  throw conflict();
}

async function findById<D extends BaseDoc>(store: Store, known: LruMap<string, Stored<D>>, id: string, type: string): Promise<Stored<D> | undefined> {
  const k = known.get(id);
  if (k) {
    const r = await store.read<D>(id, k.doc.pk);
    if (r) {
      known.set(id, r);
      return r;
    }
  }
  const docs = await store.queryAll<D>({
    query: 'SELECT * FROM c WHERE c.id = @id AND c.type = @type',
    parameters: [
      { name: '@id', value: id },
      { name: '@type', value: type },
    ],
  });
  const d = docs[0];
  if (!d) return undefined;
  const s = { doc: d, etag: d._etag ?? '' };
  known.set(id, s);
  return s;
}

export class CosmosWaitlistRepository implements WaitlistRepository {
  private readonly known = new LruMap<string, Stored<EntryDoc>>(5_000);
  constructor(private readonly store: Store) {}

  private toDoc(e: WaitlistEntry): EntryDoc {
    return { ...structuredClone(e), id: e.waitlistEntryId, pk: e.clinicId, type: 'waitlist-entry' };
  }

  async add(entry: WaitlistEntry): Promise<void> {
    const doc = this.toDoc(entry);
    this.known.set(doc.id, { doc, etag: await this.store.upsert(doc) });
  }

  async get(waitlistEntryId: string): Promise<WaitlistEntry | undefined> {
    const s = await findById<EntryDoc>(this.store, this.known, waitlistEntryId, 'waitlist-entry');
    return s ? stripDoc<WaitlistEntry>(s.doc) : undefined;
  }

  async update(entry: WaitlistEntry, expectedVersion: number): Promise<WaitlistEntry> {
    await replaceVersioned(
      this.store,
      this.known,
      () => findById<EntryDoc>(this.store, this.known, entry.waitlistEntryId, 'waitlist-entry'),
      this.toDoc(entry),
      expectedVersion,
      () => new DomainError(ErrorCode.WAITLIST_ENTRY_NOT_FOUND, 'Unknown waitlist entry', { waitlistEntryId: entry.waitlistEntryId }),
      () => new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The waitlist entry changed meanwhile', { waitlistEntryId: entry.waitlistEntryId }),
    );
    return structuredClone(entry);
  }

  async listActive(clinicId: string, appointmentType?: string, providerId?: string): Promise<WaitlistEntry[]> {
    return this.listWithStatus('active', clinicId, appointmentType, providerId);
  }

  async listOffered(clinicId: string, appointmentType: string, providerId: string): Promise<WaitlistEntry[]> {
    return this.listWithStatus('offered', clinicId, appointmentType, providerId);
  }

  /** One partition: the clinic's entries in `status`, optionally of one type and a slot of `providerId` can serve, oldest first. */
  private async listWithStatus(status: 'active' | 'offered', clinicId: string, appointmentType?: string, providerId?: string): Promise<WaitlistEntry[]> {
    const parameters = [
      { name: '@pk', value: clinicId },
      { name: '@status', value: status },
    ];
    let query = "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'waitlist-entry' AND c.status = @status";
    if (appointmentType) {
      query += ' AND c.appointmentType = @type';
      parameters.push({ name: '@type', value: appointmentType });
    }
    if (providerId) {
      query += ' AND (ARRAY_LENGTH(c.providerIds) = 0 OR ARRAY_CONTAINS(c.providerIds, @provider))';
      parameters.push({ name: '@provider', value: providerId });
    }
    query += ' ORDER BY c.createdAt';
    const docs = await this.store.queryAll<EntryDoc>({ query, parameters }, clinicId);
    return docs.map((d) => stripDoc<WaitlistEntry>(d));
  }

  async list(clinicId: string, page: { limit?: number; continuationToken?: string }): Promise<Page<WaitlistEntry>> {
    const res = await this.store.queryPage<EntryDoc>(
      { query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'waitlist-entry' ORDER BY c.createdAt", parameters: [{ name: '@pk', value: clinicId }] },
      { partitionKey: clinicId, maxItemCount: page.limit ?? 100, ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) },
    );
    return { items: res.items.map((d) => stripDoc<WaitlistEntry>(d)), ...(res.continuationToken ? { continuationToken: res.continuationToken } : {}) };
  }
}

export class CosmosOfferRepository implements OfferRepository {
  private readonly known = new LruMap<string, Stored<OfferDoc>>(5_000);
  constructor(private readonly patients: Store) {}

  private toDoc(o: WaitlistOffer): OfferDoc {
    return { ...structuredClone(o), id: o.offerId, pk: o.patientId, type: 'offer' };
  }

  async create(offer: WaitlistOffer): Promise<void> {
    const doc = this.toDoc(offer);
    try {
      this.known.set(doc.id, { doc, etag: await this.patients.create(doc) });
    } catch (e) {
      if (statusOf(e) === 409) throw new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'Offer id exists', { offerId: offer.offerId });
      throw e;
    }
  }

  async get(offerId: string): Promise<WaitlistOffer | undefined> {
    const s = await findById<OfferDoc>(this.patients, this.known, offerId, 'offer');
    return s ? stripDoc<WaitlistOffer>(s.doc) : undefined;
  }

  async update(offer: WaitlistOffer, expectedVersion: number): Promise<WaitlistOffer> {
    await replaceVersioned(
      this.patients,
      this.known,
      () => findById<OfferDoc>(this.patients, this.known, offer.offerId, 'offer'),
      this.toDoc(offer),
      expectedVersion,
      () => new DomainError(ErrorCode.OFFER_NOT_FOUND, 'Unknown offer', { offerId: offer.offerId }),
      () => new DomainError(ErrorCode.CONCURRENT_MODIFICATION, 'The offer changed meanwhile', { offerId: offer.offerId }),
    );
    return structuredClone(offer);
  }

  async listBySlot(slotId: string): Promise<WaitlistOffer[]> {
    // Cross-partition (offers are kept with patients); used by backfill for one freed slot.
    const docs = await this.patients.queryAll<OfferDoc>({
      query: "SELECT * FROM c WHERE c.type = 'offer' AND c.slotId = @slotId",
      parameters: [{ name: '@slotId', value: slotId }],
    });
    return docs.map((d) => stripDoc<WaitlistOffer>(d)).sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.offerId.localeCompare(b.offerId));
  }

  async listOpenForPatient(patientId: string): Promise<WaitlistOffer[]> {
    const docs = await this.patients.queryAll<OfferDoc>(
      {
        query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'offer' AND c.status = 'sent' ORDER BY c.sentAt DESC",
        parameters: [{ name: '@pk', value: patientId }],
      },
      patientId,
    );
    return docs.map((d) => stripDoc<WaitlistOffer>(d));
  }

  async listByClinic(clinicId: string, q: { sentFrom: string; sentTo: string; status?: OfferStatus }): Promise<WaitlistOffer[]> {
    // Cross-partition (offers are kept with patients), bounded by the clinic and the sending window.
    // sentAt is stored in UTC (toUTC().toISO()), so the bounds compare as UTC strings.
    const from = new Date(Date.parse(q.sentFrom)).toISOString();
    const to = new Date(Date.parse(q.sentTo)).toISOString();
    const docs = await this.patients.queryAll<OfferDoc>({
      query: `SELECT * FROM c WHERE c.type = 'offer' AND c.clinicId = @clinicId AND c.sentAt >= @from AND c.sentAt < @to${q.status ? ' AND c.status = @status' : ''}`,
      parameters: [
        { name: '@clinicId', value: clinicId },
        { name: '@from', value: from },
        { name: '@to', value: to },
        ...(q.status ? [{ name: '@status', value: q.status }] : []),
      ],
    });
    return docs
      .map((d) => stripDoc<WaitlistOffer>(d))
      .filter((o) => Date.parse(o.sentAt) >= Date.parse(q.sentFrom) && Date.parse(o.sentAt) < Date.parse(q.sentTo))
      .sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.offerId.localeCompare(b.offerId));
  }
}
