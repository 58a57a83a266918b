import type { IdempotencyRecord, IdempotencyScope, IdempotencyStore } from './ports';

/** Single-use claims over the IdempotencyStore port: one-shot links and inbound MessageSids. */
export type Claim = { kind: 'claimed'; record: IdempotencyRecord } | { kind: 'done'; record: IdempotencyRecord } | { kind: 'in-progress' };

/** Attempts after a failed one (e.g. the chosen slot was taken) before a key is spent for good. */
const MAX_CLAIM_ATTEMPTS = 5;

/**
 * Create-only claim of `key` in `scope`. A finished record ends the chain (a repeat); a record
 * completed with `{failed: true}` lets the next attempt claim `key#n`, so a failure that changed
 * nothing does not burn a single-use key, while two concurrent attempts still get one winner.
 */
export async function claimOnce(store: IdempotencyStore, scope: IdempotencyScope, key: string, createdAt: string, ttlSeconds: number): Promise<Claim> {
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    const record: IdempotencyRecord = { scope, key: attempt === 0 ? key : `${key}#${attempt}`, createdAt };
    if (await store.putIfAbsent(record, ttlSeconds)) return { kind: 'claimed', record };
    const existing = await store.get(scope, record.key);
    if (!existing) return { kind: 'in-progress' }; // expired between the two calls: treat as busy
    if (!existing.response) return { kind: 'in-progress' };
    if (!isFailed(existing)) return { kind: 'done', record: existing };
  }
  return { kind: 'done', record: { scope, key, createdAt, response: { status: 410, body: { failed: true, exhausted: true } } } };
}

/** The finished record of `key`'s chain, if any (for GET pages that only look). */
export async function findClaim(store: IdempotencyStore, scope: IdempotencyScope, key: string): Promise<Claim | undefined> {
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    const existing = await store.get(scope, attempt === 0 ? key : `${key}#${attempt}`);
    if (!existing) return undefined;
    if (!existing.response) return { kind: 'in-progress' };
    if (!isFailed(existing)) return { kind: 'done', record: existing };
  }
  return { kind: 'done', record: { scope, key, createdAt: '', response: { status: 410, body: { failed: true, exhausted: true } } } };
}

function isFailed(r: IdempotencyRecord): boolean {
  const body = r.response?.body;
  return typeof body === 'object' && body !== null && (body as { failed?: unknown }).failed === true;
}
