import { app } from '@azure/functions';
import { operationOutcome } from '../../domain/ehr';
import { HttpErrorCode } from '../http/problem';
import type { RequestContext } from '../http/preamble';
import { fhirHandler, FhirProblem, type FhirResult } from './http';

/**
 * Everything under /fhir that no FHIR route serves: an unknown resource type (GET /fhir/Patient/{id}), an unknown
 * path, or a served path with another method. FHIR clients read errors as OperationOutcome (application/fhir+json),
 * so these answer one too instead of the host's own 404: 404 for what is not served, 405 with Allow for a method a
 * served path does not take. The catch-all route has the lowest precedence, so every served route wins over it.
 */

/** The FHIR routes and their methods (kept equal to the registered ones by test/unit/functions/fhir/errors.test.ts). */
export const SERVED_FHIR_ROUTES: readonly { path: RegExp; methods: readonly string[] }[] = [
  { path: /^metadata$/, methods: ['GET'] },
  { path: /^Slot$/, methods: ['GET'] },
  { path: /^Schedule$/, methods: ['GET'] },
  { path: /^Appointment$/, methods: ['GET'] },
  { path: /^Appointment\/\$find$/, methods: ['GET', 'POST'] },
  { path: /^Appointment\/\$hold$/, methods: ['POST'] },
  { path: /^Appointment\/\$book$/, methods: ['POST'] },
  { path: /^Appointment\/[^/$]+$/, methods: ['GET'] },
  { path: /^\$bulk-publish$/, methods: ['GET'] },
  { path: /^\$bulk-publish\/[^/]+$/, methods: ['GET'] },
];

const SERVED_TYPES = new Set(['Slot', 'Schedule', 'Appointment']);

export async function notServed(ctx: RequestContext): Promise<FhirResult> {
  const path = (ctx.request.params.path ?? '').replace(/^\/+|\/+$/g, '');
  const served = SERVED_FHIR_ROUTES.find((r) => r.path.test(path));
  if (served) {
    const allow = served.methods.join(', ');
    return {
      status: 405,
      body: operationOutcome(405, HttpErrorCode.METHOD_NOT_ALLOWED, `This FHIR endpoint accepts ${allow} only.`),
      headers: { allow },
    };
  }
  const type = /^([A-Z][A-Za-z]{0,63})(\/|$)/.exec(path)?.[1];
  const detail = !type
    ? 'No such FHIR endpoint; see /fhir/metadata.'
    : SERVED_TYPES.has(type)
      ? `This ${type} interaction is not served; see /fhir/metadata for what is.`
      : `Resource type ${type} is not served; see /fhir/metadata for what is.`;
  throw new FhirProblem(404, HttpErrorCode.NOT_FOUND, detail);
}

app.http('fhirNotServed', {
  route: 'fhir/{*path}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'anonymous',
  handler: fhirHandler(['ehr'], notServed),
});
