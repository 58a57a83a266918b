import type { SmsPurpose } from './rules';

/** Twilio's message statuses we track, in delivery order. */
export const smsStatuses = ['accepted', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'read'] as const;
export type SmsStatus = (typeof smsStatuses)[number];

/**
 * Progress rank: a callback may only move a message forward. failed/undelivered are terminal and
 * rank with delivered, so a late "sent" after "failed" (callbacks arrive out of order) changes nothing.
 */
const RANK: Record<SmsStatus, number> = { accepted: 0, queued: 1, sending: 2, sent: 3, delivered: 4, undelivered: 4, failed: 4, read: 5 };
const TERMINAL: ReadonlySet<SmsStatus> = new Set(['delivered', 'undelivered', 'failed', 'read']);

/** Who was texted, when, why and what became of it. No phone and no body: ids and codes only. */
export interface SmsMessageRecord {
  /** The provider's message id (Twilio MessageSid). */
  messageId: string;
  patientId: string;
  clinicId?: string;
  purpose: SmsPurpose;
  /** The template rendered (not the text). */
  template: string;
  /** The catalog language it went out in (en, es, vi). */
  language?: string;
  correlationId: string;
  /** The offer this SMS made, so a late YES can be told the offer expired or was taken. */
  offerId?: string;
  status: SmsStatus;
  sentAt: string;
  updatedAt: string;
  errorCode?: string;
}

/** Applies a delivery callback; returns undefined when it would move the status backwards or sideways. */
export function advanceStatus(record: SmsMessageRecord, status: SmsStatus, at: string, errorCode?: string): SmsMessageRecord | undefined {
  if (record.status === status) return undefined;
  if (TERMINAL.has(record.status) && !(record.status === 'delivered' && status === 'read')) return undefined;
  if (RANK[status] < RANK[record.status]) return undefined;
  return { ...record, status, updatedAt: at, ...(errorCode ? { errorCode } : {}) };
}

/** Message records (Cosmos: the patient's partition, so erasure removes them with the patient). */
export interface SmsMessageRepository {
  create(record: SmsMessageRecord): Promise<void>;
  get(messageId: string): Promise<SmsMessageRecord | undefined>;
  /** Applies a status change if it moves the message forward; concurrent callbacks must not regress it. */
  advance(messageId: string, status: SmsStatus, at: string, errorCode?: string): Promise<SmsMessageRecord | undefined>;
  /** The patient's messages sent at or after `since`, oldest first. */
  listForPatient(patientId: string, since: string): Promise<SmsMessageRecord[]>;
}

/** In-memory message records: each call checks and writes synchronously, so `advance` is atomic. */
export class InMemorySmsMessages implements SmsMessageRepository {
  readonly byId = new Map<string, SmsMessageRecord>();
  async create(record: SmsMessageRecord): Promise<void> {
    if (!this.byId.has(record.messageId)) this.byId.set(record.messageId, { ...record });
  }
  async get(messageId: string): Promise<SmsMessageRecord | undefined> {
    const r = this.byId.get(messageId);
    return r ? { ...r } : undefined;
  }
  async advance(messageId: string, status: SmsStatus, at: string, errorCode?: string): Promise<SmsMessageRecord | undefined> {
    const current = this.byId.get(messageId);
    if (!current) return undefined;
    const next = advanceStatus(current, status, at, errorCode);
    if (next) this.byId.set(messageId, next);
    return { ...(next ?? current) };
  }
  async listForPatient(patientId: string, since: string): Promise<SmsMessageRecord[]> {
    const t = Date.parse(since);
    return [...this.byId.values()]
      .filter((r) => r.patientId === patientId && Date.parse(r.sentAt) >= t)
      .sort((a, b) => a.sentAt.localeCompare(b.sentAt))
      .map((r) => ({ ...r }));
  }
}
