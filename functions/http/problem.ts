import { HttpResponse } from '@azure/functions';
import { z, ZodError } from 'zod';
import { DomainError, ErrorCode, type ErrorDetails } from '../../domain';

/**
 * RFC 9457 problem details for every HTTP error. Bodies carry a stable `code`, ids and field names,
 * never PHI: DomainError messages and details are PHI-free by contract, zod issues are reduced to the
 * schema-defined field path and the schema's own message (input values are never echoed).
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** HTTP-level codes that have no domain counterpart. */
export const HttpErrorCode = {
  UNAUTHENTICATED: 'AUTH.UNAUTHENTICATED',
  FORBIDDEN: 'AUTH.FORBIDDEN',
  CLINIC_FORBIDDEN: 'AUTH.CLINIC_FORBIDDEN',
  PAYLOAD_TOO_LARGE: 'HTTP.PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'HTTP.UNSUPPORTED_MEDIA_TYPE',
  NOT_FOUND: 'HTTP.NOT_FOUND',
  METHOD_NOT_ALLOWED: 'HTTP.METHOD_NOT_ALLOWED',
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY.IN_PROGRESS',
  WORKFLOW_NOT_FOUND: 'WORKFLOW.NOT_FOUND',
  WORKFLOW_UNAVAILABLE: 'WORKFLOW.UNAVAILABLE',
  ERASURE_UNAVAILABLE: 'ERASURE.UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

export type ProblemCode = ErrorCode | HttpErrorCode;

/** Every domain code has a status here; the Record type makes a new code without a status a compile error. */
export const DOMAIN_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.INVALID_INPUT]: 400,
  [ErrorCode.INVALID_TIME_ZONE]: 400,
  [ErrorCode.INVALID_TIME]: 400,
  [ErrorCode.END_BEFORE_START]: 400,
  [ErrorCode.RANGE_TOO_LONG]: 400,
  [ErrorCode.INVALID_PHONE]: 400,
  [ErrorCode.INVALID_ID]: 400,
  [ErrorCode.CLINIC_NOT_FOUND]: 404,
  [ErrorCode.PROVIDER_NOT_FOUND]: 404,
  [ErrorCode.PATIENT_NOT_FOUND]: 404,
  [ErrorCode.PATIENT_ERASED]: 410,
  [ErrorCode.APPOINTMENT_TYPE_UNKNOWN]: 422,
  [ErrorCode.APPOINTMENT_TYPE_NOT_OFFERED]: 422,
  [ErrorCode.APPOINTMENT_TYPE_DOES_NOT_FIT]: 422,
  [ErrorCode.SLOT_NOT_FOUND]: 404,
  [ErrorCode.SLOT_TAKEN]: 409,
  [ErrorCode.PATIENT_OVERLAP]: 409,
  [ErrorCode.TOO_LITTLE_NOTICE]: 422,
  [ErrorCode.BEYOND_HORIZON]: 422,
  [ErrorCode.IN_THE_PAST]: 422,
  [ErrorCode.CANCELLATION_WINDOW_PASSED]: 422,
  [ErrorCode.STAFF_CONFIRMATION_REQUIRED]: 422,
  [ErrorCode.INVALID_TRANSITION]: 409,
  [ErrorCode.APPOINTMENT_NOT_FOUND]: 404,
  [ErrorCode.CONCURRENT_MODIFICATION]: 409,
  [ErrorCode.NOT_YET_HAPPENED]: 422,
  [ErrorCode.WAITLIST_ENTRY_NOT_FOUND]: 404,
  [ErrorCode.WAITLIST_NOT_ACTIVE]: 409,
  [ErrorCode.MOVE_UP_APPOINTMENT_NOT_BOOKED]: 409,
  [ErrorCode.MOVE_UP_APPOINTMENT_PAST]: 422,
  [ErrorCode.MOVE_UP_MISMATCH]: 400,
  [ErrorCode.MOVE_UP_DUPLICATE]: 409,
  [ErrorCode.ALREADY_MOVED]: 409,
  [ErrorCode.OFFER_NOT_FOUND]: 404,
  [ErrorCode.OFFER_EXPIRED]: 409,
  [ErrorCode.OFFER_NOT_OPEN]: 409,
  [ErrorCode.SMS_NO_CONSENT]: 422,
  [ErrorCode.SMS_QUIET_HOURS]: 422,
  [ErrorCode.SMS_RATE_LIMITED]: 429,
  [ErrorCode.IDEMPOTENCY_KEY_REUSED]: 422,
  [ErrorCode.EVENT_INVALID]: 400,
  [ErrorCode.EVENT_UNKNOWN_TYPE]: 400,
};

const HTTP_STATUS: Readonly<Record<HttpErrorCode, number>> = {
  [HttpErrorCode.UNAUTHENTICATED]: 401,
  [HttpErrorCode.FORBIDDEN]: 403,
  [HttpErrorCode.CLINIC_FORBIDDEN]: 403,
  [HttpErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [HttpErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [HttpErrorCode.NOT_FOUND]: 404,
  [HttpErrorCode.METHOD_NOT_ALLOWED]: 405,
  [HttpErrorCode.IDEMPOTENCY_IN_PROGRESS]: 409,
  [HttpErrorCode.WORKFLOW_NOT_FOUND]: 404,
  [HttpErrorCode.WORKFLOW_UNAVAILABLE]: 503,
  [HttpErrorCode.ERASURE_UNAVAILABLE]: 503,
  [HttpErrorCode.INTERNAL]: 500,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** HTTP status for a stable code. */
export function statusOf(code: ProblemCode): number {
  return (DOMAIN_STATUS as Record<string, number>)[code] ?? (HTTP_STATUS as Record<string, number>)[code] ?? 500;
}

/** The problem `type` URI: a URN, so nobody expects it to dereference. */
export function problemType(code: ProblemCode): string {
  return `urn:slotflow:problem:${code.toLowerCase()}`;
}

/** One invalid field: the schema's path (never an input value) and the schema's message. */
export interface FieldIssue {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  instance?: string;
  /** Ids, codes and counts only (DomainError details). */
  details?: ErrorDetails;
  errors?: FieldIssue[];
  correlationId?: string;
}

/** The problem body as the OpenAPI document describes it (every `Problem` is one: see the check below). */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({ description: 'Stable error code, e.g. APPOINTMENT.SLOT_TAKEN' }),
    instance: z.string().optional(),
    correlationId: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ description: 'RFC 9457 problem details. Never carries PHI: ids, codes and schema field names only.' });
const _everyProblemIsDescribed = (p: Problem): z.output<typeof problemSchema> => p;

export interface ProblemOptions {
  instance?: string;
  correlationId?: string;
  details?: ErrorDetails;
  errors?: FieldIssue[];
  headers?: Record<string, string>;
}

/** Builds the problem body for a code. `detail` must be PHI-free (a fixed sentence, ids or codes). */
export function problemBody(code: ProblemCode, detail: string, options: ProblemOptions = {}): Problem {
  const status = statusOf(code);
  return {
    type: problemType(code),
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(options.instance ? { instance: options.instance } : {}),
    ...(options.details && Object.keys(options.details).length > 0 ? { details: options.details } : {}),
    ...(options.errors ? { errors: options.errors } : {}),
    ...(options.correlationId ? { correlationId: options.correlationId } : {}),
  };
}

/** An application/problem+json response. */
export function problemResponse(code: ProblemCode, detail: string, options: ProblemOptions = {}): HttpResponse {
  const body = problemBody(code, detail, options);
  return new HttpResponse({
    status: body.status,
    jsonBody: body,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...(options.correlationId ? { 'x-correlation-id': options.correlationId } : {}), ...options.headers },
  });
}

/** Raised by HTTP helpers (auth, body parsing) for non-domain failures. */
export class HttpProblem extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly options: Omit<ProblemOptions, 'instance' | 'correlationId'> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

const FIELD_SEGMENT = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Zod issues as field issues. Unknown keys are reported by their parent path and count, never by name:
 * a client-chosen key is input, and input is never echoed. Messages are the schema's own (zod 4 does not
 * put input values into messages).
 */
export function fieldIssues(error: ZodError, root = 'body'): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues.slice(0, 20)) {
    const path = [root, ...issue.path.map((p) => (typeof p === 'number' ? String(p) : typeof p === 'string' && FIELD_SEGMENT.test(p) ? p : '?'))].join('.');
    if (issue.code === 'unrecognized_keys') {
      issues.push({ field: path, message: `${issue.keys.length} unknown field(s)` });
    } else {
      issues.push({ field: path, message: issue.message.slice(0, 200) });
    }
  }
  return issues;
}

/** A failure a route answers with its own error body (problem+json, OperationOutcome): status, stable code, PHI-free detail. */
export interface Failure {
  status: number;
  code: string;
  detail: string;
  /** Ids, codes and counts only (DomainError details). */
  details?: ErrorDetails;
  errors?: FieldIssue[];
  headers?: Record<string, string>;
}

/** Validation failure of a zod parse (input values are never echoed: field paths and schema messages only). */
export function zodProblem(error: ZodError, root = 'body'): HttpProblem {
  const errors = fieldIssues(error, root);
  return new HttpProblem(ErrorCode.INVALID_INPUT, `Invalid request: ${errors.map((e) => e.field).join(', ')}`, { errors });
}

/** The one mapping of thrown values: DomainError, HttpProblem and zod errors as a Failure; anything else is unknown (`undefined`). */
export function failureOf(thrown: unknown): Failure | undefined {
  const error = thrown instanceof ZodError ? zodProblem(thrown) : thrown;
  if (error instanceof DomainError) return { status: statusOf(error.code), code: error.code, detail: error.message.slice(0, 300), details: error.details };
  if (error instanceof HttpProblem) return { status: statusOf(error.code), code: error.code, detail: error.detail, ...error.options };
  return undefined;
}

/** Maps any thrown value to a problem response. Unknown errors become a bare 500 (the cause goes to the log by id). */
export function toProblemResponse(error: unknown, options: { instance?: string; correlationId?: string } = {}): HttpResponse {
  const failure = failureOf(error);
  if (!failure) return problemResponse(HttpErrorCode.INTERNAL, 'The request could not be completed; quote the correlation id when reporting it.', options);
  const { code, detail, details, errors, headers } = failure;
  return problemResponse(code as ProblemCode, detail, { ...options, details, errors, headers });
}
