import type { HttpHandler, HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import type { AuditAction, AuditEntry } from '../../domain';
import { getServices, type Services } from '../app/services';
import { inSpan } from '../app/telemetry';
import { requirePrincipal, type Principal, type Role } from './auth';
import { failureOf, HttpErrorCode, HttpProblem, type Failure } from './problem';

/**
 * The one preamble of the authenticated HTTP routes, shared by the JSON API's wrapper (`apiHandler`,
 * problem+json) and the FHIR routes' (`fhirHandler`, OperationOutcome): correlation id, services, the
 * principal with one of the allowed roles, the handler, and every thrown value mapped to a `Failure`
 * (problem.ts `failureOf`: status, stable code, PHI-free detail) or to "unknown" (logged by error name
 * only, answered 500).
 * Also shared: body reading with its media-type and size limits, and audit entries. Each wrapper adds
 * only how a result and a failure are written.
 */

/** Longest query string a route reads. */
export const MAX_QUERY_CHARS = 2048;
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What a handler gets: the request, the invocation, the services, the authenticated principal, the correlation id. */
export interface RequestContext {
  request: HttpRequest;
  invocation: InvocationContext;
  services: Services;
  principal: Principal;
  correlationId: string;
}

/** How one kind of route writes results and failures; `classify` maps the error types only it knows. */
export interface RouteEdge<R, F extends Failure = Failure> {
  respond(result: R, correlationId: string): HttpResponse;
  /** The error response; `undefined` is an unknown error (a bare 500). */
  fail(failure: F | Failure | undefined, correlationId: string): HttpResponse;
  classify?(error: unknown): F | undefined;
}

/** Correlation id: the caller's `x-correlation-id` if well-formed, else the invocation id. */
export function correlationIdOf(request: HttpRequest, invocation: InvocationContext): string {
  const given = request.headers.get('x-correlation-id');
  return given && CORRELATION_ID.test(given) ? given : invocation.invocationId;
}

/**
 * Wraps a handler: principal with one of `allowed` roles (else 401/403), services, correlation id; the
 * result through `edge.respond`, every failure through `edge.fail`. Known failures are logged by code,
 * unknown ones by error name only (messages could carry data).
 */
export function authenticatedHandler<R, F extends Failure = Failure>(
  allowed: readonly Role[],
  handler: (ctx: RequestContext) => Promise<R>,
  edge: RouteEdge<R, F>,
): HttpHandler {
  return async (request: HttpRequest, invocation: InvocationContext): Promise<HttpResponse> => {
    const correlationId = correlationIdOf(request, invocation);
    try {
      const services = await getServices();
      const principal = requirePrincipal(request, allowed, services.settings.CLINIC_CLAIM_TYPE);
      // The use case in a span of its own under the request's (its Cosmos calls and events below it); a failure carries its code.
      const result = await inSpan(`use-case ${invocation.functionName}`, { attributes: { 'faas.name': invocation.functionName } }, () =>
        handler({ request, invocation, services, principal, correlationId }),
      );
      return edge.respond(result, correlationId);
    } catch (error) {
      const failure = edge.classify?.(error) ?? failureOf(error);
      if (failure) invocation.log(`${invocation.functionName} ${failure.code} correlation=${correlationId}`);
      else invocation.error(`${invocation.functionName} failed: ${error instanceof Error ? error.name : typeof error} correlation=${correlationId}`);
      return edge.fail(failure, correlationId);
    }
  };
}

/**
 * Reads a request body of an accepted media type (415 otherwise; no content-type is accepted) of at most
 * `maxBytes` (413).
 */
export async function readBody(request: HttpRequest, options: { maxBytes: number; mediaType: RegExp; expected: string }): Promise<Buffer> {
  const contentType = request.headers.get('content-type');
  if (contentType && !options.mediaType.test(contentType.trim())) {
    throw new HttpProblem(HttpErrorCode.UNSUPPORTED_MEDIA_TYPE, `The body must be ${options.expected}.`);
  }
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.byteLength > options.maxBytes) throw new HttpProblem(HttpErrorCode.PAYLOAD_TOO_LARGE, `The body may be at most ${options.maxBytes} bytes.`);
  return bytes;
}

/**
 * Writes an audit entry for patient data (ids only), and the same entry as one `audit {json}` log line:
 * the audit container is the record, the line is what the after-hours and bulk-read alerts query in
 * Log Analytics (bicep/modules/alerts.bicep), since Cosmos DB documents never reach the workspace.
 */
export async function audit(
  ctx: RequestContext,
  entry: { action: AuditAction; resourceType: AuditEntry['resourceType']; resourceId: string; patientId?: string; outcome?: AuditEntry['outcome'] },
): Promise<void> {
  const record: AuditEntry = {
    principalId: ctx.principal.principalId,
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId,
    ...(entry.patientId ? { patientId: entry.patientId } : {}),
    correlationId: ctx.correlationId,
    at: ctx.services.clock.now().toUTC().toISO()!,
    outcome: entry.outcome ?? 'success',
  };
  await ctx.services.audit.record(record);
  ctx.invocation.log(auditLogLine(record));
}

/** The log line of an audit entry: `audit ` and a JSON object of ids and codes (alerts.bicep parses it). */
export function auditLogLine(entry: AuditEntry): string {
  const { principalId, action, resourceType, resourceId, outcome, correlationId } = entry;
  const patientId = entry.patientId ?? (resourceType === 'Patient' ? resourceId : undefined);
  return `audit ${JSON.stringify({ action, resourceType, outcome, principalId, resourceId, ...(patientId ? { patientId } : {}), correlationId })}`;
}
