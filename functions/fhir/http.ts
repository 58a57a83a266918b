import { HttpResponse, type HttpHandler, type HttpRequest } from '@azure/functions';
import { DateTime } from 'luxon';
import { ZodError } from 'zod';
import { ErrorCode } from '../../domain';
import { EhrError, FHIR_JSON, operationOutcome, searchsetBundle, type BundleEntryInput, type BundleLink, type FhirResource } from '../../domain/ehr';
import type { Role } from '../http/auth';
import { failureOf, fieldIssues, HttpErrorCode, type Failure } from '../http/problem';
import { authenticatedHandler, MAX_QUERY_CHARS, readBody, type RequestContext } from '../http/preamble';

/**
 * The FHIR routes' side of the handler preamble (functions/http/preamble.ts: the same principal, services,
 * correlation id and failure mapping as the JSON API): FHIR media types and OperationOutcome for every
 * error, and FHIR search parameters (repeatable, with prefixes) instead of the API's strict query objects.
 */

export const FHIR_CONTENT_TYPE = `${FHIR_JSON}; charset=utf-8`;
const MAX_FHIR_BODY_BYTES = 64 * 1024;

/** A FHIR-level failure with no domain code (bad search parameter, unsupported operation input). */
export class FhirProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly diagnostics: string,
    readonly expression?: string[],
  ) {
    super(diagnostics);
    this.name = 'FhirProblem';
  }
}

export const invalidParam = (name: string, why: string) => new FhirProblem(400, ErrorCode.INVALID_INPUT, `Invalid parameter ${name}: ${why}`, [name]);

export interface FhirResult {
  status: number;
  /** A resource (JSON) or a pre-serialised body (NDJSON). */
  body?: FhirResource | string;
  headers?: Record<string, string>;
}

/** A failure with the OperationOutcome's `expression` (the parameters or fields at fault). */
interface FhirFailure extends Failure {
  expression?: string[];
}

const EHR_STATUS: Record<EhrError['code'], number> = { 'AUTH.CLINIC_FORBIDDEN': 403, 'HOLD.EXPIRED': 409, 'HOLD.NOT_FOUND': 404 };

/** The failures only FHIR routes raise, and zod issues as OperationOutcome diagnostics with their fields as expressions. */
function fhirFailureOf(error: unknown): FhirFailure | undefined {
  if (error instanceof FhirProblem) return { status: error.status, code: error.code, detail: error.diagnostics, expression: error.expression };
  if (error instanceof EhrError) return { status: EHR_STATUS[error.code], code: error.code, detail: error.message };
  if (error instanceof ZodError) {
    const issues = fieldIssues(error, 'body');
    return {
      status: 400,
      code: ErrorCode.INVALID_INPUT,
      detail: `Invalid request: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`.slice(0, 300),
      expression: issues.map((i) => i.field),
    };
  }
  return undefined;
}

function outcomeOf(failure: FhirFailure | undefined, correlationId: string): HttpResponse {
  const { status, code, detail, expression, headers } = failure ?? {
    status: 500,
    code: HttpErrorCode.INTERNAL,
    detail: 'The request could not be completed; quote the correlation id when reporting it.',
  };
  return new HttpResponse({
    status,
    body: JSON.stringify(operationOutcome(status, code, detail, expression)),
    headers: { 'content-type': FHIR_CONTENT_TYPE, 'cache-control': 'no-store', 'x-correlation-id': correlationId, ...headers },
  });
}

/** The OperationOutcome response for any thrown value; unknown errors become a bare 500. */
export function outcomeResponse(error: unknown, correlationId: string): HttpResponse {
  return outcomeOf(fhirFailureOf(error) ?? failureOf(error), correlationId);
}

function fhirResponse(result: FhirResult, correlationId: string): HttpResponse {
  const headers: Record<string, string> = { 'cache-control': 'no-store', 'x-correlation-id': correlationId, ...result.headers };
  if (result.body === undefined) return new HttpResponse({ status: result.status, headers });
  headers['content-type'] ??= FHIR_CONTENT_TYPE;
  return new HttpResponse({ status: result.status, body: typeof result.body === 'string' ? result.body : JSON.stringify(result.body), headers });
}

const fhirEdge = { respond: fhirResponse, fail: outcomeOf, classify: fhirFailureOf };

/** Wraps a FHIR handler: the shared preamble (principal with one of `allowed` roles, services, correlation id), OperationOutcome on failure. */
export function fhirHandler(allowed: readonly Role[], handler: (ctx: RequestContext) => Promise<FhirResult>): HttpHandler {
  return authenticatedHandler(allowed, handler, fhirEdge);
}

/** The base URL resources are addressed under: PUBLIC_BASE_URL when set, else the request's origin. */
export function baseUrlOf(ctx: Pick<RequestContext, 'request' | 'services'>): string {
  return (ctx.services.settings.PUBLIC_BASE_URL ?? new URL(ctx.request.url).origin).replace(/\/+$/, '');
}

/** FHIR search parameters: repeatable, so a map of name -> values. Unknown parameters are checked by the caller. */
export function searchParams(request: HttpRequest, allowed: readonly string[]): Map<string, string[]> {
  const url = new URL(request.url);
  if (url.search.length > MAX_QUERY_CHARS) throw invalidParam('query', 'too long');
  const params = new Map<string, string[]>();
  for (const [key, value] of url.searchParams.entries()) {
    if (!allowed.includes(key))
      throw new FhirProblem(400, ErrorCode.INVALID_INPUT, `Unsupported search parameter: ${/^[A-Za-z_.:-]{1,40}$/.test(key) ? key : '?'}`, [key.slice(0, 40)]);
    params.set(key, [...(params.get(key) ?? []), value]);
  }
  return params;
}

/** A single-valued parameter (repeats are an error). */
export function single(params: Map<string, string[]>, name: string): string | undefined {
  const values = params.get(name);
  if (!values) return undefined;
  if (values.length > 1) throw invalidParam(name, 'may be given once');
  return values[0];
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Ids from a reference parameter (`Practitioner/p1`, `p1`, comma-separated for OR); the type must match if given. */
export function referenceIds(params: Map<string, string[]>, name: string, types: readonly string[]): { type: string | undefined; id: string }[] | undefined {
  const raw = single(params, name);
  if (raw === undefined) return undefined;
  return raw.split(',').map((v) => {
    const m = /^(?:([A-Za-z]+)\/)?([A-Za-z0-9\-.]{1,64})$/.exec(v.trim());
    if (!m || (m[1] && !types.includes(m[1]))) throw invalidParam(name, `must be a reference to ${types.join(' or ')}`);
    return { type: m[1], id: m[2]! };
  });
}

/** A plain id (path parameter) or 404. */
export function requireFhirId(value: string | undefined, resourceType: string): string {
  if (!value || !ID.test(value)) throw new FhirProblem(404, HttpErrorCode.NOT_FOUND, `No such ${resourceType}`);
  return value;
}

/** [from, to) from date parameters with prefixes (ge, gt, le, lt, eq); dates without a time are UTC days. */
export function dateRange(params: Map<string, string[]>, name: string): { from?: DateTime; to?: DateTime } {
  let from: DateTime | undefined;
  let to: DateTime | undefined;
  for (const raw of params.get(name) ?? []) {
    const m = /^(eq|ge|gt|le|lt)?(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(raw);
    if (!m) throw invalidParam(name, 'must be a date or a dateTime with an offset, optionally prefixed ge, gt, le, lt or eq');
    const prefix = m[1] ?? 'eq';
    const dateOnly = !m[3];
    const at = DateTime.fromISO(raw.slice(m[1]?.length ?? 0), { zone: 'utc', setZone: !dateOnly });
    if (!at.isValid) throw invalidParam(name, 'is not a valid date');
    const lower = dateOnly ? at.startOf('day') : at;
    const upper = dateOnly ? at.startOf('day').plus({ days: 1 }) : at.plus({ milliseconds: 1 });
    if (prefix === 'ge' || prefix === 'eq') from = lower;
    if (prefix === 'gt') from = upper;
    if (prefix === 'lt') to = lower;
    if (prefix === 'le' || prefix === 'eq') to = upper;
  }
  if (from && to && to <= from) throw invalidParam(name, 'the range is empty');
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/** _count, bounded. */
export function countParam(params: Map<string, string[]>, fallback: number, max: number): number {
  const raw = single(params, '_count');
  if (raw === undefined) return fallback;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1) throw invalidParam('_count', 'must be a positive integer');
  return Math.min(Number(raw), max);
}

/** Where a page starts in a search's matches: `_offset`, as the paging links carry it. */
export const OFFSET_PARAM = '_offset';
const MAX_OFFSET = 100_000;

/** `_offset` (0 when absent). */
export function offsetParam(params: Map<string, string[]>): number {
  const raw = single(params, OFFSET_PARAM);
  if (raw === undefined) return 0;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) > MAX_OFFSET) throw invalidParam(OFFSET_PARAM, `must be an integer from 0 to ${MAX_OFFSET}`);
  return Number(raw);
}

export interface SearchPage {
  /** Page size (`_count`). */
  count: number;
  /** Index of the page's first match (`_offset`). */
  offset: number;
  /** Every match, on all pages. */
  total: number;
  /**
   * Parameters the paging links carry instead of the request's: a default time window resolved to explicit
   * instants, so later pages cover the same window whatever the clock says when they are fetched.
   */
  pinned?: Record<string, string[]>;
  /** Path the paging links point at when not the request's (a POST operation pages through its GET form). */
  path?: string;
}

/**
 * One page of a search's matches (`entries`: matches offset to offset + count of all, in a stable order) as a
 * searchset Bundle with `total` and the links self (the request as sent), first, previous, next and last. The links are the request's parameters with the
 * pinned ones replaced and `_offset` set.
 */
export function searchsetPage(
  ctx: Pick<RequestContext, 'request' | 'services'>,
  entries: readonly BundleEntryInput[],
  page: SearchPage,
  query: URLSearchParams = new URL(ctx.request.url).searchParams,
): FhirResource {
  const url = new URL(ctx.request.url);
  const base = `${baseUrlOf(ctx)}${page.path ?? url.pathname}`;
  const linkTo = (offset: number) => {
    const q = new URLSearchParams();
    for (const [key, value] of query) if (key !== OFFSET_PARAM && !(page.pinned && key in page.pinned)) q.append(key, value);
    for (const [key, values] of Object.entries(page.pinned ?? {})) for (const value of values) q.append(key, value);
    if (offset > 0) q.set(OFFSET_PARAM, String(offset));
    // FHIR search values keep ':' and '|' readable; URLSearchParams would escape them (both forms are valid).
    return `${base}?${q.toString().replace(/%3A/gi, ':').replace(/%7C/gi, '|').replace(/%2C/gi, ',').replace(/%2F/gi, '/')}`;
  };
  const { count, offset, total } = page;
  const lastOffset = total === 0 ? 0 : Math.floor((total - 1) / count) * count;
  const links: BundleLink[] = [
    // A POST operation's self link is its GET form.
    { relation: 'self', url: ctx.request.method === 'GET' ? `${baseUrlOf(ctx)}${url.pathname}${url.search}` : linkTo(offset) },
    { relation: 'first', url: linkTo(0) },
    ...(offset > 0 ? [{ relation: 'previous' as const, url: linkTo(Math.max(0, Math.min(offset, lastOffset + count) - count)) }] : []),
    ...(offset + count < total ? [{ relation: 'next' as const, url: linkTo(offset + count) }] : []),
    { relation: 'last', url: linkTo(lastOffset) },
  ];
  return searchsetBundle([...entries], links, total);
}

/** Reads a FHIR JSON body (application/fhir+json or application/json). */
export async function readFhirBody(request: HttpRequest): Promise<unknown> {
  const bytes = await readBody(request, {
    maxBytes: MAX_FHIR_BODY_BYTES,
    mediaType: /^application\/(fhir\+)?json\s*(;|$)/i,
    expected: 'application/fhir+json',
  });
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new FhirProblem(400, ErrorCode.INVALID_INPUT, 'The body is not valid JSON.');
  }
}
