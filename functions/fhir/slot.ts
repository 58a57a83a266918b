import { app } from '@azure/functions';
import { slotResource } from '../../domain/ehr';
import { canAccessClinic } from '../http/auth';
import {
  baseUrlOf,
  countParam,
  dateRange,
  fhirHandler,
  invalidParam,
  OFFSET_PARAM,
  offsetParam,
  referenceIds,
  searchParams,
  searchsetPage,
  single,
  type FhirResult,
} from './http';
import { providerSlotStates, typesOf } from '../../domain/slot-states';
import type { ApiContext } from '../http/handlers';

/**
 * GET /fhir/Slot (role ehr): a provider's generated slots with status free or busy. `schedule` (Schedule/{providerId},
 * comma-separated for several) is required; `_count` (default 500) and `_offset` page (Bundle links first, previous,
 * next, last); `start` takes ge/gt/le/lt/eq prefixes (default: the next 7 days,
 * at most 31); `status` free|busy|busy-unavailable (free: bookable through $book now; busy-unavailable: no appointment,
 * but started or otherwise outside the booking rules); `service-type` an appointment type code (optionally system|code).
 */

export const SLOT_SEARCH_DEFAULT_DAYS = 7;
export const SLOT_SEARCH_MAX_DAYS = 31;
const SLOT_STATUSES: readonly string[] = ['free', 'busy', 'busy-unavailable'];

export async function searchSlots(ctx: ApiContext): Promise<FhirResult> {
  const params = searchParams(ctx.request, ['schedule', 'start', 'status', 'service-type', '_count', OFFSET_PARAM]);
  const schedules = referenceIds(params, 'schedule', ['Schedule']);
  if (!schedules) throw invalidParam('schedule', 'is required (Schedule/{providerId})');
  const status = single(params, 'status');
  if (status !== undefined && !SLOT_STATUSES.includes(status)) throw invalidParam('status', `must be one of ${SLOT_STATUSES.join(', ')}`);
  const serviceType = single(params, 'service-type')?.split('|').at(-1);
  const now = ctx.services.clock.now().toUTC();
  const range = dateRange(params, 'start');
  const from = range.from ?? now;
  const to = range.to ?? from.plus({ days: SLOT_SEARCH_DEFAULT_DAYS });
  if (to.diff(from, 'days').days > SLOT_SEARCH_MAX_DAYS) throw invalidParam('start', `may span at most ${SLOT_SEARCH_MAX_DAYS} days`);
  const count = countParam(params, 500, 2000);
  const offset = offsetParam(params);
  const base = baseUrlOf(ctx);
  const entries = [];
  for (const { id } of schedules) {
    const provider = await ctx.services.config.getProvider(id);
    // Search semantics: schedules that do not exist or are out of the principal's scope match nothing.
    if (!provider || !canAccessClinic(ctx.principal, provider.clinicId)) continue;
    const clinic = await ctx.services.config.getClinic(provider.clinicId);
    if (!clinic) continue;
    const types = await typesOf(ctx.services, clinic.clinicId);
    const states = await providerSlotStates(ctx.services, { clinic, provider, types, from, to, bookableBy: { now, channel: 'ehr' } });
    for (const s of states) {
      if (status && s.status !== status) continue;
      if (serviceType && !s.slot.appointmentTypes.includes(serviceType)) continue;
      entries.push({
        fullUrl: `${base}/fhir/Slot/${s.slot.slotId}`,
        resource: slotResource(s.slot, s.status, { types, ...(s.lastUpdated ? { lastUpdated: s.lastUpdated } : {}) }),
      });
    }
  }
  entries.sort(
    (a, b) => Date.parse(String(a.resource.start)) - Date.parse(String(b.resource.start)) || String(a.resource.id).localeCompare(String(b.resource.id)),
  );
  const pinned = range.from && range.to ? undefined : { start: [`ge${from.toISO()!}`, `lt${to.toISO()!}`] };
  return {
    status: 200,
    body: searchsetPage(ctx, entries.slice(offset, offset + count), { count, offset, total: entries.length, ...(pinned ? { pinned } : {}) }),
  };
}

app.http('fhirSlotSearch', { route: 'fhir/Slot', methods: ['GET'], authLevel: 'anonymous', handler: fhirHandler(['ehr'], searchSlots) });
