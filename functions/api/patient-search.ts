import { app } from '@azure/functions';
import type { z } from 'zod';
import { NAME_QUERY_MAX_RESULTS } from '../../domain/patient-search';
import { canAccessPatient, requireClinicAccess, type Role } from '../http/auth';
import { apiHandler, audit, json, readJson, type ApiContext, type ApiResult } from '../http/handlers';
import { patientSearchBodySchema, type patientMatchesSchema } from './schemas';

/**
 * Front desk: find patients by name. A POST, so the name (PHI) travels in the body and never in a URL,
 * an access log or a browser history. Only PATIENT_NAME_SEARCH_ROLES may search; every match is
 * audited (action `search`, ids only), and so is a search that found nobody. Results are limited to
 * patients the principal may see (through `clinicId` for organisation-wide records).
 */

/** Roles allowed to look patients up by name (lookup by id is open to every front-desk role). */
export const PATIENT_NAME_SEARCH_ROLES: readonly Role[] = ['scheduler', 'admin'];

export async function searchPatients(ctx: ApiContext): Promise<ApiResult> {
  const body = await readJson(ctx.request, patientSearchBodySchema);
  if (body.clinicId) requireClinicAccess(ctx.principal, body.clinicId);
  const limit = body.limit ?? 10;
  // Ask for more than the limit: records of other clinics are filtered out after the query.
  const found = await ctx.services.patients.searchByName(body.name, ctx.principal.clinicIds ? NAME_QUERY_MAX_RESULTS * 5 : limit);
  const visible = found.filter((p) => canAccessPatient(ctx.principal, p, body.clinicId)).slice(0, limit);
  if (visible.length === 0) await audit(ctx, { action: 'search', resourceType: 'Patient', resourceId: 'name-search' });
  await Promise.all(visible.map((p) => audit(ctx, { action: 'search', resourceType: 'Patient', resourceId: p.patientId, patientId: p.patientId })));
  const matches: z.output<typeof patientMatchesSchema> = { patients: visible.map((p) => ({ patientId: p.patientId, name: p.name, clinicIds: p.clinicIds })) };
  return json(200, matches);
}

app.http('searchPatients', {
  route: 'api/patients/search',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: apiHandler(PATIENT_NAME_SEARCH_ROLES, searchPatients),
});
