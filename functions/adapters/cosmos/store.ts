import type { Container, ItemDefinition, JSONObject, OperationInput, OperationResponse, PatchOperation, SqlQuerySpec } from '@azure/cosmos';
import { inSpan, setSpanAttributes, SpanKind } from '../../app/telemetry';
import { TransientError } from '../../../domain/ports';

/**
 * A thin wrapper over one container: point operations return `undefined`/`false` instead of
 * throwing for "not found", every call is retried on transient failures, and callers see status
 * codes (409, 412) as CosmosStatusError so repositories can map them to domain errors.
 */

/** Fields Cosmos adds to every stored document. */
export interface SystemFields {
  _etag?: string;
  _rid?: string;
  _self?: string;
  _ts?: number;
  _attachments?: string;
}

export interface BaseDoc extends SystemFields {
  id: string;
  pk: string;
  type: string;
  /** Per-item time to live in seconds (containers with TTL enabled). */
  ttl?: number;
}

export interface Stored<T> {
  doc: T;
  etag: string;
}

export class CosmosStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'CosmosStatusError';
  }
}

/** The HTTP status of a Cosmos SDK error (or of CosmosStatusError), if it has one. */
export function statusOf(e: unknown): number | undefined {
  if (e instanceof CosmosStatusError) return e.status;
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code;
    if (typeof code === 'number') return code;
  }
  // The SDK wraps batch failures: new Error('Batch request error: ...', {cause}).
  const cause = causeOf(e);
  return cause ? statusOf(cause) : undefined;
}

function causeOf(e: unknown): unknown {
  return typeof e === 'object' && e !== null && 'cause' in e ? (e as { cause: unknown }).cause : undefined;
}

const TRANSIENT_STATUS = new Set([408, 429, 449, 500, 502, 503, 504]);
const TRANSIENT_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'REQUEST_SEND_ERROR', 'TimeoutError', 'UND_ERR_SOCKET']);

export function isTransient(e: unknown): boolean {
  const status = statusOf(e);
  if (status !== undefined) return TRANSIENT_STATUS.has(status);
  if (typeof e === 'object' && e !== null) {
    const code = (e as { code?: unknown }).code;
    const name = (e as { name?: unknown }).name;
    if ((typeof code === 'string' && TRANSIENT_NET.has(code)) || name === 'TimeoutError') return true;
    const cause = causeOf(e);
    return cause !== undefined && cause !== e && isTransient(cause);
  }
  return false;
}

function retryAfterMsOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const headers = (e as { headers?: Record<string, unknown> }).headers;
  const raw = headers?.['x-ms-retry-after-ms'];
  const ms = typeof raw === 'string' || typeof raw === 'number' ? Number(raw) : NaN;
  if (Number.isFinite(ms)) return ms;
  const cause = causeOf(e);
  return cause !== undefined && cause !== e ? retryAfterMsOf(cause) : undefined;
}

export interface RetryPolicy {
  /** Attempts in total, including the first (on top of the SDK's own 429 retries). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 50, maxDelayMs: 2000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries 503/408/5xx/network errors (which the SDK does not retry for writes in a single-region
 * account) and 429s the SDK gave up on, with jittered exponential backoff. Throws TransientError
 * when the attempts are used up, so callers (activities, Service Bus triggers) retry later.
 */
export async function withRetry<T>(op: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (!isTransient(e)) throw e;
      const retryAfter = retryAfterMsOf(e);
      if (attempt >= policy.attempts) {
        throw new TransientError(`Cosmos DB unavailable (status ${statusOf(e) ?? 'network'}) after ${attempt} attempts`, retryAfter);
      }
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.max(retryAfter ?? 0, backoff / 2 + Math.random() * (backoff / 2)));
    }
  }
}

/**
 * A CLIENT span `cosmos <operation> <container>` around one store operation, when a trace is active
 * (container, operation, status and request charge only: never ids of documents or partition keys).
 */
function traced<T>(operation: string, container: string, op: () => Promise<T>): Promise<T> {
  return inSpan(
    `cosmos ${operation} ${container}`,
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'azure.cosmosdb', 'db.operation.name': operation, 'db.collection.name': container } },
    async (span) => {
      try {
        const res = await op();
        const r = res as { statusCode?: unknown; requestCharge?: unknown } | undefined;
        setSpanAttributes(span, {
          'db.response.status_code': typeof r?.statusCode === 'number' ? String(r.statusCode) : undefined,
          'azure.cosmosdb.operation.request_charge': typeof r?.requestCharge === 'number' ? r.requestCharge : undefined,
        });
        return res;
      } catch (e) {
        const status = statusOf(e);
        if (status !== undefined) setSpanAttributes(span, { 'db.response.status_code': String(status) });
        throw e;
      }
    },
  );
}

function ifMatch(etag: string | undefined) {
  return etag ? { accessCondition: { type: 'IfMatch', condition: etag } } : {};
}

export interface QueryPage<T> {
  items: T[];
  continuationToken?: string;
}

export class Store {
  constructor(
    readonly container: Container,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  get name(): string {
    return this.container.id;
  }

  async read<T extends BaseDoc>(id: string, pk: string): Promise<Stored<T> | undefined> {
    const res = await traced('read', this.name, () => withRetry(() => this.container.item(id, pk).read<T>(), this.retry));
    if (res.statusCode === 404 || !res.resource) return undefined;
    return { doc: res.resource, etag: res.etag };
  }

  /** Create-only: throws CosmosStatusError(409) if the id exists in the partition. */
  async create<T extends BaseDoc>(doc: T): Promise<string> {
    try {
      const res = await traced('create', this.name, () => withRetry(() => this.container.items.create(doc as ItemDefinition), this.retry));
      return res.etag;
    } catch (e) {
      throw asStatusError(e);
    }
  }

  async upsert<T extends BaseDoc>(doc: T): Promise<string> {
    const res = await traced('upsert', this.name, () => withRetry(() => this.container.items.upsert(doc as ItemDefinition), this.retry));
    return res.etag;
  }

  /** Replace, optionally only if the stored ETag is `etag` (else CosmosStatusError 412; 404 if gone). */
  async replace<T extends BaseDoc>(doc: T, etag?: string): Promise<string> {
    try {
      const res = await traced('replace', this.name, () =>
        withRetry(() => this.container.item(doc.id, doc.pk).replace(doc as ItemDefinition, ifMatch(etag)), this.retry),
      );
      return res.etag;
    } catch (e) {
      throw asStatusError(e);
    }
  }

  async patch(id: string, pk: string, operations: PatchOperation[], etag?: string): Promise<string> {
    try {
      const res = await traced('patch', this.name, () => withRetry(() => this.container.item(id, pk).patch(operations, ifMatch(etag)), this.retry));
      return res.etag;
    } catch (e) {
      throw asStatusError(e);
    }
  }

  /** Deletes; false if it was not there. With `etag`, throws CosmosStatusError(412) if it changed. */
  async delete(id: string, pk: string, etag?: string): Promise<boolean> {
    try {
      await traced('delete', this.name, () => withRetry(() => this.container.item(id, pk).delete(ifMatch(etag)), this.retry));
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw asStatusError(e);
    }
  }

  /** One page of a query; single-partition when `partitionKey` is given. */
  async queryPage<T>(spec: SqlQuerySpec, opts: { partitionKey?: string; maxItemCount?: number; continuationToken?: string } = {}): Promise<QueryPage<T>> {
    const res = await traced('query', this.name, () =>
      withRetry(
        () =>
          this.container.items
            .query<T>(spec, {
              ...(opts.partitionKey !== undefined ? { partitionKey: opts.partitionKey } : {}),
              maxItemCount: opts.maxItemCount ?? 100,
              ...(opts.continuationToken ? { continuationToken: opts.continuationToken } : {}),
            })
            .fetchNext(),
        this.retry,
      ),
    );
    return { items: res.resources, ...(res.continuationToken ? { continuationToken: res.continuationToken } : {}) };
  }

  async queryAll<T>(spec: SqlQuerySpec, partitionKey?: string): Promise<T[]> {
    const all: T[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.queryPage<T>(spec, {
        maxItemCount: 1000,
        ...(partitionKey !== undefined ? { partitionKey } : {}),
        ...(continuationToken ? { continuationToken } : {}),
      });
      all.push(...page.items);
      continuationToken = page.continuationToken;
    } while (continuationToken);
    return all;
  }

  /**
   * Transactional batch in one partition. Atomic in Azure. @vercel/cosmosdb-server runs the
   * operations in order without interleaving other requests and stops at the first failure, but
   * does not roll back the ones before it: callers compensate for those (see BatchOutcome.committed).
   */
  async batch(pk: string, operations: OperationInput[]): Promise<BatchOutcome> {
    const results = await traced('batch', this.name, () =>
      withRetry(async (): Promise<OperationResponse[]> => {
        try {
          // Copies: the SDK rewrites operations in place. The local server reads each operation's
          // partition key from the operation itself (the SDK serializes it; Azure accepts it too).
          const r = await this.container.items.batch(
            operations.map((o) => ({ ...o, partitionKey: pk })),
            pk,
          );
          const rs = r.result ?? [];
          // A throttled or unavailable batch as a whole comes back as a status, not an exception.
          if (r.code !== undefined && TRANSIENT_STATUS.has(r.code) && !rs.some((o) => o.statusCode < 400)) {
            throw Object.assign(new Error(`batch ${r.code}`), { code: r.code, headers: r.headers });
          }
          return rs;
        } catch (e) {
          // Azure answers a failed atomic batch with the failing operation's status (409, 412, 404)
          // and the per-operation results as the body, which the SDK throws as an error. The local
          // server answers 200 with the same results. Both become a BatchOutcome.
          const status = statusOf(e);
          if (status === undefined || TRANSIENT_STATUS.has(status)) throw e;
          const body = bodyOf(e);
          if (Array.isArray(body) && body.length === operations.length) return body as OperationResponse[];
          return operations.map((_, i) => ({ statusCode: i === 0 ? status : 424, requestCharge: 0 }) as OperationResponse);
        }
      }, this.retry),
    );
    const failedIndex = results.findIndex((o) => o.statusCode >= 400 && o.statusCode !== 424);
    return {
      ok: failedIndex < 0 && results.length === operations.length,
      results,
      failedIndex,
      failedStatus: failedIndex >= 0 ? results[failedIndex]!.statusCode : undefined,
      committed: results.map((o) => o.statusCode < 400),
    };
  }
}

function bodyOf(e: unknown): unknown {
  if (typeof e !== 'object' || e === null) return undefined;
  if ('body' in e && (e as { body: unknown }).body !== undefined) return (e as { body: unknown }).body;
  const cause = causeOf(e);
  return cause !== undefined && cause !== e ? bodyOf(cause) : undefined;
}

export interface BatchOutcome {
  ok: boolean;
  results: OperationResponse[];
  /** Index of the operation that failed (the others report 424), or -1. */
  failedIndex: number;
  failedStatus: number | undefined;
  /** Per operation: whether it is stored (only ever true next to a failure on the local server). */
  committed: boolean[];
}

function asStatusError(e: unknown): unknown {
  const status = statusOf(e);
  if (status === 409 || status === 412 || status === 404) return new CosmosStatusError(status, `Cosmos DB returned ${status}`);
  return e;
}

const SYSTEM_KEYS = ['_etag', '_rid', '_self', '_ts', '_attachments', 'id', 'pk', 'type', 'ttl'] as const;

/** The domain value inside a stored document: drops Cosmos and envelope fields. */
export function stripDoc<T>(doc: object, extra: readonly string[] = []): T {
  const out: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  for (const k of SYSTEM_KEYS) delete out[k];
  for (const k of extra) delete out[k];
  return out as T;
}

export type { JSONObject };
