import { app } from '@azure/functions';
import { scheduleResource } from '../../domain/ehr';
import { baseUrlOf, countParam, fhirHandler, OFFSET_PARAM, offsetParam, referenceIds, searchParams, searchsetPage, type FhirResult } from './http';
import { typesOf } from '../../domain/slot-states';
import { visibleClinics } from '../http/auth';
import type { ApiContext } from '../http/handlers';

/** GET /fhir/Schedule (role ehr): one Schedule per provider (id = providerId); search by `actor` (Practitioner or Location) or `_id`; paged by `_count` and `_offset`. */
export async function searchSchedules(ctx: ApiContext): Promise<FhirResult> {
  const params = searchParams(ctx.request, ['actor', '_id', '_count', OFFSET_PARAM]);
  const count = countParam(params, 500, 2000);
  const offset = offsetParam(params);
  const actors = referenceIds(params, 'actor', ['Practitioner', 'Location']);
  const ids = referenceIds(params, '_id', ['Schedule'])?.map((r) => r.id);
  const base = baseUrlOf(ctx);
  const entries = [];
  for (const clinic of await visibleClinics(ctx.services, ctx.principal)) {
    const types = await typesOf(ctx.services, clinic.clinicId);
    const providers = (await ctx.services.config.listProviders(clinic.clinicId)).sort((a, b) => a.providerId.localeCompare(b.providerId));
    for (const provider of providers) {
      if (ids && !ids.includes(provider.providerId)) continue;
      if (actors && !actors.some((a) => (a.type !== 'Location' && a.id === provider.providerId) || (a.type !== 'Practitioner' && a.id === clinic.clinicId)))
        continue;
      entries.push({ fullUrl: `${base}/fhir/Schedule/${provider.providerId}`, resource: scheduleResource(provider, types) });
    }
  }
  return { status: 200, body: searchsetPage(ctx, entries.slice(offset, offset + count), { count, offset, total: entries.length }) };
}

app.http('fhirScheduleSearch', { route: 'fhir/Schedule', methods: ['GET'], authLevel: 'anonymous', handler: fhirHandler(['ehr'], searchSchedules) });
