import { createHash } from 'node:crypto';
import { HttpResponse, type HttpHandler, type HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { DomainError, ErrorCode, type IdempotencyRecord } from '../../domain';
import type { Role } from './auth';
import {
  failureOf,
  HttpErrorCode,
  HttpProblem,
  PROBLEM_CONTENT_TYPE,
  problemBody,
  toProblemResponse,
  zodProblem,
  type Failure,
  type ProblemCode,
} from './problem';
import { authenticatedHandler, MAX_QUERY_CHARS, readBody, type RequestContext } from './preamble';

export { audit, correlationIdOf } from './preamble';

/**
 * The JSON API's side of the handler preamble (preamble.ts): results as JSON, failures as problem+json;
 * bounded body, query and path parsing with zod; Idempotency-Key handling; continuation tokens.
 */

/** Largest JSON body the API accepts. */
export const MAX_BODY_BYTES = 64 * 1024;
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** A reservation without a response older than this is treated as abandoned (its request crashed). */
const IDEMPOTENCY_LEASE_MS = 30_000;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

export type ApiContext = RequestContext;

/** What a handler returns: a JSON result (stored verbatim for idempotent replays). */
export interface ApiResult {
  status: number;
  body?: unknown;
  /** The body already serialized as JSON (takes precedence over `body`): for results shared by many responses. */
  jsonText?: string;
  headers?: Record<string, string>;
}

/** JSON result helper. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return { status, body, headers };
}

function toHttpResponse(result: ApiResult, correlationId: string): HttpResponse {
  const headers: Record<string, string> = { 'x-correlation-id': correlationId, 'cache-control': 'no-store', ...result.headers };
  if (result.body === undefined && result.jsonText === undefined) return new HttpResponse({ status: result.status, headers });
  headers['content-type'] ??= 'application/json; charset=utf-8';
  return new HttpResponse({ status: result.status, body: result.jsonText ?? JSON.stringify(result.body), headers });
}

function problemResult(failure: Failure, correlationId: string): ApiResult {
  const { code, detail, details, errors, headers } = failure;
  const body = problemBody(code as ProblemCode, detail, { details, errors, instance: `urn:slotflow:request:${correlationId}`, correlationId });
  return { status: body.status, body, headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers } };
}

/** problem+json for a failure; an unknown error is a bare 500 (the cause goes to the log by name only). */
const apiEdge = {
  respond: toHttpResponse,
  fail: (failure: Failure | undefined, correlationId: string): HttpResponse =>
    failure
      ? toHttpResponse(problemResult(failure, correlationId), correlationId)
      : toProblemResponse(undefined, { instance: `urn:slotflow:request:${correlationId}`, correlationId }),
};

/** Wraps an API handler: the shared preamble (principal with one of `allowed` roles, services, correlation id), problem+json for every failure. */
export function apiHandler(allowed: readonly Role[], handler: (ctx: ApiContext) => Promise<ApiResult>): HttpHandler {
  return authenticatedHandler(allowed, handler, apiEdge);
}

function invalid(field: string, message: string): HttpProblem {
  return new HttpProblem(ErrorCode.INVALID_INPUT, `Invalid request: ${field}`, { errors: [{ field, message }] });
}

/** Parses a JSON body against a schema; empty bodies parse as `{}` (routes whose fields are all optional). */
export async function readJson<S extends z.ZodType>(request: HttpRequest, schema: S, maxBytes = MAX_BODY_BYTES): Promise<z.infer<S>> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (Number.isFinite(declared) && declared > maxBytes) throw new HttpProblem(HttpErrorCode.PAYLOAD_TOO_LARGE, `The body may be at most ${maxBytes} bytes.`);
  const bytes = await readBody(request, { maxBytes, mediaType: JSON_MEDIA_TYPE, expected: 'application/json' });
  const text = bytes.toString('utf8').trim();
  let value: unknown = {};
  if (text.length > 0) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpProblem(ErrorCode.INVALID_INPUT, 'Invalid request: body is not valid JSON', { errors: [{ field: 'body', message: 'not valid JSON' }] });
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw zodProblem(parsed.error, 'body');
  return parsed.data;
}

/** Parses the query string against a (strict) object schema; repeated parameters are rejected. */
export function readQuery<S extends z.ZodType>(request: HttpRequest, schema: S): z.infer<S> {
  const search = new URL(request.url).search;
  if (search.length > MAX_QUERY_CHARS) throw invalid('query', 'too long');
  const query: Record<string, string> = {};
  for (const [key, value] of request.query.entries()) {
    if (Object.prototype.hasOwnProperty.call(query, key)) throw invalid('query', 'a parameter is repeated');
    query[key] = value;
  }
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw zodProblem(parsed.error, 'query');
  return parsed.data;
}

/** Parses route parameters. */
export function readParams<S extends z.ZodType>(request: HttpRequest, schema: S): z.infer<S> {
  const parsed = schema.safeParse({ ...request.params });
  if (!parsed.success) throw zodProblem(parsed.error, 'path');
  return parsed.data;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Hash of what makes two requests "the same" for Idempotency-Key: method, path and the parsed body. */
export function requestHash(request: HttpRequest, body: unknown): string {
  return createHash('sha256')
    .update(`${request.method} ${new URL(request.url).pathname}\n${canonicalJson(body)}`)
    .digest('hex');
}

/**
 * Runs a creating request at most once per Idempotency-Key (per principal): the first response (success
 * or 4xx) is stored and replayed with `idempotent-replayed: true`; the same key with another body or path
 * is 422 IDEMPOTENCY.KEY_REUSED; a repeat while the first is still running is 409 IDEMPOTENCY.IN_PROGRESS.
 * Without the header the request simply runs.
 */
export async function withIdempotency(ctx: ApiContext, body: unknown, run: () => Promise<ApiResult>): Promise<ApiResult> {
  const key = ctx.request.headers.get('idempotency-key');
  if (key === null) return run();
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpProblem(ErrorCode.INVALID_INPUT, 'Invalid request: Idempotency-Key must be 1-255 visible ASCII characters', {
      errors: [{ field: 'header.idempotency-key', message: 'must be 1-255 visible ASCII characters' }],
    });
  }
  const store = ctx.services.idempotency;
  const nowIso = ctx.services.clock.now().toUTC().toISO()!;
  const record: IdempotencyRecord = {
    scope: 'api',
    key: `${ctx.principal.principalId}|${key}`,
    requestHash: requestHash(ctx.request, body),
    createdAt: nowIso,
  };
  if (!(await store.putIfAbsent(record, IDEMPOTENCY_TTL_SECONDS))) {
    const existing = await store.get('api', record.key);
    if (existing) {
      if (existing.requestHash !== record.requestHash) {
        throw new DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was used for a different request');
      }
      if (existing.response) {
        return { ...existing.response, headers: { ...existing.response.headers, 'idempotent-replayed': 'true' } };
      }
      if (Date.parse(nowIso) - Date.parse(existing.createdAt) < IDEMPOTENCY_LEASE_MS) {
        throw new HttpProblem(HttpErrorCode.IDEMPOTENCY_IN_PROGRESS, 'A request with this Idempotency-Key is still being processed; retry shortly.', {
          headers: { 'retry-after': '1' },
        });
      }
    }
    // Abandoned (or expired between the two calls): take the reservation over.
    await store.complete(record, IDEMPOTENCY_TTL_SECONDS);
  }
  let result: ApiResult;
  try {
    result = await run();
  } catch (thrown) {
    const failure = failureOf(thrown);
    if (failure) {
      result = problemResult(failure, ctx.correlationId);
    } else {
      // Release the reservation at once (an expired lease) so a retry is not blocked by a crash.
      await store.complete({ ...record, createdAt: new Date(0).toISOString() }, IDEMPOTENCY_TTL_SECONDS).catch(() => undefined);
      throw thrown;
    }
  }
  await store.complete(
    {
      ...record,
      response: {
        status: result.status,
        body: result.jsonText !== undefined ? (JSON.parse(result.jsonText) as unknown) : result.body,
        ...(result.headers ? { headers: result.headers } : {}),
      },
    },
    IDEMPOTENCY_TTL_SECONDS,
  );
  return result;
}

function tokenScope(scope: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(scope)).digest('base64url').slice(0, 12);
}

/**
 * Wraps a repository continuation token for clients: opaque, and bound to the query it continues
 * (`scope`: the filters, not the page size), so a token replayed against another query is a clean 400.
 */
export function encodeContinuation(token: string | undefined, scope: Record<string, unknown>): string | undefined {
  return token === undefined ? undefined : Buffer.from(JSON.stringify({ s: tokenScope(scope), t: token })).toString('base64url');
}

const badToken = () =>
  new HttpProblem(ErrorCode.INVALID_INPUT, 'Invalid request: query.continuationToken', {
    errors: [{ field: 'query.continuationToken', message: 'not a continuation token of this query' }],
  });

/** Unwraps a client's continuation token (400 when malformed or issued for another query). */
export function decodeContinuation(raw: string | undefined, scope: Record<string, unknown>): string | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw badToken();
  }
  const { s, t } = (parsed ?? {}) as { s?: unknown; t?: unknown };
  if (typeof t !== 'string' || s !== tokenScope(scope)) throw badToken();
  return t;
}

/**
 * Runs a page query; a store that rejects the (well-formed but stale or forged) token with HTTP 400
 * becomes a clean 400 instead of a 500.
 */
export async function withContinuation<T>(token: string | undefined, query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (e) {
    const status = (e as { code?: unknown; statusCode?: unknown } | null)?.statusCode ?? (e as { code?: unknown } | null)?.code;
    if (token !== undefined && !(e instanceof DomainError) && (status === 400 || (e instanceof Error && /continuation/i.test(e.message)))) throw badToken();
    throw e;
  }
}
