import type { SchedulingEvent } from '../../../domain/events';
import type { Clock, EventPublisher, Outbox } from '../../../domain/ports';
import { LruMap } from '../../../domain/lru';
import { activeTraceparent } from '../../app/telemetry';
import { type BaseDoc, CosmosStatusError, type Store, statusOf } from './store';

/**
 * Transactional outbox. Events are stored inside the document whose change caused them
 * (`pendingEvents`), so the change and its events are one write: atomic on every server, with no
 * batch needed. `dispatch` publishes (the event id is the Service Bus MessageId, so a repeat is
 * dropped by duplicate detection) and then removes the events from the document; `relayPending`
 * (a timer) publishes whatever a crash or a broker outage left behind.
 */

export interface OutboxCarrier extends BaseDoc {
  pendingEvents?: SchedulingEvent[];
  /** When the oldest pending event was stored (relay skips very fresh ones being dispatched inline). */
  pendingSince?: string;
}

export interface CarrierLocation {
  store: Store;
  id: string;
  pk: string;
  /** The carrier as this process wrote it, and its ETag right after that write. */
  written?: { doc: OutboxCarrier; etag: string };
}

/** Where each pending event of this process lives, so dispatch can mark it sent without a query. */
export class PendingEventIndex {
  private readonly byEvent = new LruMap<string, CarrierLocation>(20_000);
  remember(events: readonly SchedulingEvent[], loc: CarrierLocation): void {
    for (const e of events) this.byEvent.set(e.id, loc);
  }
  locate(eventId: string): CarrierLocation | undefined {
    return this.byEvent.get(eventId);
  }
  forget(eventId: string): void {
    this.byEvent.delete(eventId);
  }
}

/** Adds events to a carrier document about to be written. */
export function withPending<T extends OutboxCarrier>(
  doc: T,
  previous: readonly SchedulingEvent[] | undefined,
  events: readonly SchedulingEvent[],
  now: string,
): T {
  // Stored with the trace context of the change, so the relay's later publish continues the same trace.
  const traceparent = activeTraceparent();
  const pending = [...(previous ?? []), ...(traceparent ? events.map((e) => ({ ...e, traceparent })) : events)];
  const out: T = { ...doc };
  delete out.pendingEvents;
  delete out.pendingSince;
  if (pending.length > 0) {
    out.pendingEvents = pending;
    out.pendingSince = doc.pendingSince ?? now;
  }
  return out;
}

export class CosmosOutbox implements Outbox {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly index: PendingEventIndex,
    /** Containers whose documents may carry pending events. */
    private readonly carriers: Store[],
    private readonly clock: Clock,
    /** Called with the carrier's new ETag after it is marked sent (keeps repository caches warm). */
    private readonly onMarked: (store: Store, doc: OutboxCarrier, etag: string) => void = () => {},
  ) {}

  /** Publishes the events, then removes them from the documents that carry them. */
  async dispatch(events: SchedulingEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.publisher.publish(events);
    const groups = new Map<string, { loc: CarrierLocation; ids: Set<string> }>();
    for (const e of events) {
      const loc = this.index.locate(e.id);
      if (!loc) continue; // stored by another process: the relay marks it
      const key = `${loc.store.name}/${loc.pk}/${loc.id}`;
      const g = groups.get(key) ?? { loc, ids: new Set<string>() };
      g.ids.add(e.id);
      groups.set(key, g);
    }
    for (const { loc, ids } of groups.values()) {
      await this.markSent(loc, ids);
      for (const id of ids) this.index.forget(id);
    }
  }

  /**
   * Publishes every event still pending anywhere (oldest documents first) and marks it sent.
   * `minAgeMs` skips events stored moments ago that an inline dispatch is about to publish.
   * Returns the number of events published.
   */
  async relayPending(opts: { minAgeMs?: number; maxDocuments?: number } = {}): Promise<number> {
    const cutoff = this.clock
      .now()
      .toUTC()
      .minus({ milliseconds: opts.minAgeMs ?? 0 })
      .toISO()!;
    let published = 0;
    for (const store of this.carriers) {
      // Cross-partition, but only over documents that carry events (an indexed IS_DEFINED filter).
      const docs = await store.queryAll<OutboxCarrier>({
        query: 'SELECT * FROM c WHERE IS_DEFINED(c.pendingEvents) AND c.pendingSince <= @cutoff',
        parameters: [{ name: '@cutoff', value: cutoff }],
      });
      docs.sort((a, b) => (a.pendingSince ?? '').localeCompare(b.pendingSince ?? ''));
      for (const doc of docs.slice(0, opts.maxDocuments ?? docs.length)) {
        const events = doc.pendingEvents ?? [];
        if (events.length === 0) continue;
        await this.publisher.publish(events);
        await this.markSent({ store, id: doc.id, pk: doc.pk }, new Set(events.map((e) => e.id)));
        published += events.length;
      }
    }
    return published;
  }

  private async markSent(loc: CarrierLocation, ids: Set<string>): Promise<void> {
    // Fast path: this process wrote the carrier and nothing changed since: one conditional patch.
    const written = loc.written;
    if (written && (written.doc.pendingEvents ?? []).every((e) => ids.has(e.id))) {
      try {
        const etag = await loc.store.patch(
          loc.id,
          loc.pk,
          [
            { op: 'remove', path: '/pendingEvents' },
            { op: 'remove', path: '/pendingSince' },
          ],
          written.etag,
        );
        const sent: OutboxCarrier = { ...written.doc };
        delete sent.pendingEvents;
        delete sent.pendingSince;
        this.onMarked(loc.store, sent, etag);
        return;
      } catch (e) {
        if (!(e instanceof CosmosStatusError)) throw e;
        // 412: changed meanwhile (e.g. another update added events); 404: moved or erased.
      }
    }
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await loc.store.read<OutboxCarrier>(loc.id, loc.pk);
      if (!current) return;
      const pending = current.doc.pendingEvents ?? [];
      const remaining = pending.filter((e) => !ids.has(e.id));
      if (remaining.length === pending.length) return;
      const next: OutboxCarrier = { ...current.doc };
      delete next.pendingEvents;
      delete next.pendingSince;
      if (remaining.length > 0) {
        next.pendingEvents = remaining;
        next.pendingSince = current.doc.pendingSince ?? this.clock.now().toUTC().toISO()!;
      }
      try {
        const etag = await loc.store.replace(next, current.etag);
        this.onMarked(loc.store, next, etag);
        return;
      } catch (e) {
        if (statusOf(e) === 412) continue;
        if (statusOf(e) === 404) return;
        throw e;
      }
    }
  }
}
