import { app } from '@azure/functions';
import { overbookingSuggestions } from '../../domain/risk';
import { requireClinicAccess } from '../http/auth';
import { apiHandler, audit, json, readJson, readQuery, type ApiContext, type ApiResult } from '../http/handlers';
import { overbookingDecisionBodySchema, overbookingQuerySchema } from './schemas';

/**
 * Overbooking suggestions (docs/no-show-risk.md): provider-days whose expected no-shows reach the
 * clinic's threshold, and the booked slots that could take one extra booking. Read-only: nothing is
 * overbooked here; a staff decision on a suggestion is recorded in the audit log.
 */

export async function listOverbookingSuggestions(ctx: ApiContext): Promise<ApiResult> {
  const q = readQuery(ctx.request, overbookingQuerySchema);
  requireClinicAccess(ctx.principal, q.clinicId);
  const suggestions = await overbookingSuggestions(ctx.services, q);
  // Each suggested slot shows one appointment's risk: audited like a search hit.
  await Promise.all(
    suggestions.flatMap((s) => s.slots.map((slot) => audit(ctx, { action: 'search', resourceType: 'Appointment', resourceId: slot.appointmentId }))),
  );
  return json(200, { suggestions });
}

export async function decideOverbooking(ctx: ApiContext): Promise<ApiResult> {
  const body = await readJson(ctx.request, overbookingDecisionBodySchema);
  requireClinicAccess(ctx.principal, body.clinicId);
  const suggestionId = `${body.clinicId}|${body.providerId}|${body.date}|${body.slotId}`;
  await audit(ctx, { action: body.decision === 'accepted' ? 'accept' : 'dismiss', resourceType: 'OverbookingSuggestion', resourceId: suggestionId });
  return json(201, { suggestionId, decision: body.decision, recordedAt: ctx.services.clock.now().toUTC().toISO() });
}

const staff = ['scheduler', 'admin'] as const;
app.http('listOverbookingSuggestions', {
  route: 'api/overbooking-suggestions',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: apiHandler(staff, listOverbookingSuggestions),
});
app.http('decideOverbooking', {
  route: 'api/overbooking-suggestions/decisions',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: apiHandler(staff, decideOverbooking),
});
