import { randomUUID } from 'node:crypto';
import type { Clock, IdempotencyRecord, IdempotencyScope, IdempotencyStore } from '../../../domain/ports';
import { safeIdPart } from './keys';
import { type BaseDoc, type Store, statusOf } from './store';

/**
 * Processed event ids, Twilio MessageSids, API Idempotency-Keys, HL7 control ids and link tokens.
 * One document per key, partition = id = `{scope}:{key}` (keys that are not safe as ids are
 * digested). Create-only, so of two concurrent deliveries exactly one wins. Records expire through
 * the container's per-item TTL; the local server never deletes expired items, so reads also
 * check `expiresAt` and an expired record may be taken over (conditionally).
 * The stored response is kept as JSON text so erasure can search it for a patient's identifiers.
 */

interface IdempotencyDoc extends BaseDoc {
  type: 'idempotency';
  scope: IdempotencyScope;
  requestHash?: string;
  responseJson?: string;
  createdAt: string;
  expiresAt: string;
  /** Nonce of the writer: tells our own retried create (after a lost response) from a competitor's. */
  writer: string;
}

export const idempotencyPk = (scope: IdempotencyScope, key: string) => `${scope}:${safeIdPart(key)}`;

export class CosmosIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async get(scope: IdempotencyScope, key: string): Promise<IdempotencyRecord | undefined> {
    const pk = idempotencyPk(scope, key);
    const r = await this.store.read<IdempotencyDoc>(pk, pk);
    if (!r || this.expired(r.doc)) return undefined;
    return this.toRecord(r.doc, key);
  }

  async putIfAbsent(record: IdempotencyRecord, ttlSeconds: number): Promise<boolean> {
    const doc = this.toDoc(record, ttlSeconds, randomUUID());
    try {
      await this.store.create(doc);
      return true;
    } catch (e) {
      if (statusOf(e) !== 409) throw e;
    }
    const existing = await this.store.read<IdempotencyDoc>(doc.id, doc.pk);
    if (!existing) return this.putIfAbsent(record, ttlSeconds);
    if (existing.doc.writer === doc.writer) return true;
    if (!this.expired(existing.doc)) return false;
    try {
      await this.store.replace(doc, existing.etag);
      return true;
    } catch (e) {
      if (statusOf(e) === 412 || statusOf(e) === 404) return false;
      throw e;
    }
  }

  /** One blind upsert: only the caller that won putIfAbsent completes a record. */
  async complete(record: IdempotencyRecord, ttlSeconds: number): Promise<void> {
    await this.store.upsert(this.toDoc(record, ttlSeconds, 'completed'));
  }

  private toDoc(r: IdempotencyRecord, ttlSeconds: number, writer: string): IdempotencyDoc {
    const pk = idempotencyPk(r.scope, r.key);
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const expiresAt = this.clock.now().toUTC().plus({ seconds: ttl }).toISO()!;
    return {
      id: pk,
      pk,
      type: 'idempotency',
      scope: r.scope,
      ...(r.requestHash ? { requestHash: r.requestHash } : {}),
      ...(r.response ? { responseJson: JSON.stringify(r.response) } : {}),
      createdAt: r.createdAt,
      expiresAt,
      ttl,
      writer,
    };
  }

  private toRecord(d: IdempotencyDoc, key: string): IdempotencyRecord {
    return {
      scope: d.scope,
      key,
      ...(d.requestHash ? { requestHash: d.requestHash } : {}),
      ...(d.responseJson ? { response: JSON.parse(d.responseJson) as IdempotencyRecord['response'] } : {}),
      createdAt: d.createdAt,
    };
  }

  private expired(d: IdempotencyDoc): boolean {
    return Date.parse(d.expiresAt) <= this.clock.now().toMillis();
  }
}
