import { app } from '@azure/functions';
import * as df from 'durable-functions';
import type { z } from 'zod';
import { DomainError, ErrorCode, parseSlotId, toIsoInZone, type WaitlistOffer } from '../../domain';
import { requireClinicAccess } from '../http/auth';
import { apiHandler, audit, json, readQuery, type ApiContext, type ApiResult } from '../http/handlers';
import { backfillRoundsQuerySchema, type backfillRoundsSchema } from './schemas';
import { workflowClientOf } from './workflows';

/**
 * The console's live workflow view: the backfill workflows of a clinic that sent offers in the last
 * `hours` (default 24), each with its rounds and every offer's state, and the workflow's runtime status
 * when the workflow engine answers, and its place in a move-up cascade (depth; move-up offers name the
 * appointment they would move, so the console links an accepted move-up to the backfill of the slot it
 * released). One offer query for the clinic (OfferRepository.listByClinic);
 * the console polls it every few seconds.
 */

interface WorkflowStatus {
  runtimeStatus?: string;
  customStatus?: unknown;
}

async function statusesOf(ctx: ApiContext, instanceIds: string[]): Promise<Map<string, WorkflowStatus>> {
  const found = new Map<string, WorkflowStatus>();
  let client;
  try {
    client = workflowClientOf(ctx.invocation);
  } catch {
    return found; // no workflow engine here: offers alone still tell the story
  }
  await Promise.all(
    instanceIds.map(async (id) => {
      try {
        const s = await client.getStatus(id);
        if (s) found.set(id, { ...(s.runtimeStatus ? { runtimeStatus: s.runtimeStatus } : {}), customStatus: s.customStatus ?? null });
      } catch {
        // unknown or unreachable instance: shown without a status
      }
    }),
  );
  return found;
}

export async function backfillRounds(ctx: ApiContext): Promise<ApiResult> {
  const q = readQuery(ctx.request, backfillRoundsQuerySchema);
  requireClinicAccess(ctx.principal, q.clinicId);
  const clinic = await ctx.services.config.getClinic(q.clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId: q.clinicId });
  const now = ctx.services.clock.now();
  const offers = await ctx.services.offers.listByClinic(clinic.clinicId, {
    sentFrom: now.minus({ hours: q.hours ?? 24 }).toISO()!,
    sentTo: now.plus({ minutes: 5 }).toISO()!,
  });
  const byWorkflow = new Map<string, WaitlistOffer[]>();
  for (const o of offers) byWorkflow.set(o.workflowInstanceId, [...(byWorkflow.get(o.workflowInstanceId) ?? []), o]);
  const statuses = await statusesOf(ctx, [...byWorkflow.keys()]);
  const workflows = [...byWorkflow.entries()].map(([instanceId, list]) => {
    const slotId = list[0]!.slotId;
    const { providerId, startUtc } = parseSlotId(slotId);
    const rounds = [...new Set(list.map((o) => o.round))]
      .sort((a, b) => a - b)
      .map((round) => {
        const inRound = list.filter((o) => o.round === round);
        return {
          round,
          sentAt: inRound[0]!.sentAt,
          expiresAt: inRound[0]!.expiresAt,
          offers: inRound.map((o) => ({
            offerId: o.offerId,
            patientId: o.patientId,
            waitlistEntryId: o.waitlistEntryId,
            status: o.status,
            sentAt: o.sentAt,
            expiresAt: o.expiresAt,
            ...(o.respondedAt ? { respondedAt: o.respondedAt } : {}),
            // A move-up offer: the appointment it would move (accepted: moved, and that slot is the next cascade link).
            ...(o.moveUp ? { moveUp: { ...o.moveUp } } : {}),
          })),
        };
      });
    const outcome = list.some((o) => o.status === 'accepted')
      ? ('booked' as const)
      : list.some((o) => o.status === 'sent')
        ? ('offering' as const)
        : ('no-taker-yet' as const);
    const cascadeDepth = Math.max(0, ...list.map((o) => o.cascadeDepth ?? 0));
    return {
      instanceId,
      slotId,
      providerId,
      slotStart: toIsoInZone(startUtc, clinic.timeZone),
      outcome,
      ...(cascadeDepth > 0 ? { cascadeDepth } : {}),
      rounds,
      ...statuses.get(instanceId),
    };
  });
  workflows.sort((a, b) => (b.rounds.at(-1)?.sentAt ?? '').localeCompare(a.rounds.at(-1)?.sentAt ?? ''));
  await Promise.all(offers.map((o) => audit(ctx, { action: 'search', resourceType: 'WaitlistOffer', resourceId: o.offerId, patientId: o.patientId })));
  const view: z.output<typeof backfillRoundsSchema> = { clinicId: clinic.clinicId, timeZone: clinic.timeZone, now: now.toUTC().toISO()!, workflows };
  return json(200, view);
}

app.http('backfillRounds', {
  route: 'api/backfills',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: apiHandler(['scheduler', 'admin'], backfillRounds),
});
