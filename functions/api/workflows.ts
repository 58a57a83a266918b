import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { DomainError, ErrorCode } from '../../domain';
import { canAccessClinic, requireClinicAccess } from '../http/auth';
import { HttpErrorCode, HttpProblem } from '../http/problem';
import { absenceInstanceId, BACKFILL_ORCHESTRATOR, PROVIDER_ABSENCE_ORCHESTRATOR, type AbsenceInput } from '../../orchestrations/names';
import { apiHandler, json, readJson, readParams, withIdempotency, type ApiContext, type ApiResult } from '../http/handlers';
import type { z } from 'zod';
import { withTraceparent } from '../app/telemetry';
import { absenceBodySchema, type cascadeLinkSchema, providerParamsSchema as providerParams, workflowParamsSchema as instanceParams } from './schemas';

/** Provider absences (start the re-assignment workflow) and workflow status. */

/**
 * What the API passes to the orchestration: its own input plus the clinic (so workflow status can be
 * scoped to clinic claims) and who asked. The instance id is the orchestration's own deterministic id,
 * so an absence reported here and the same absence arriving as an event start one workflow.
 */
export type ProviderAbsenceStart = AbsenceInput & { clinicId: string; requestedBy: string; correlationId: string };

/** What these routes need of the durable client (a fake with these methods can be injected in tests). */
export interface WorkflowClient {
  startNew(name: string, options?: { instanceId?: string; input?: unknown }): Promise<string>;
  getStatus(instanceId: string): Promise<
    | {
        name?: string;
        instanceId?: string;
        runtimeStatus?: string;
        customStatus?: unknown;
        output?: unknown;
        input?: unknown;
        createdTime?: Date | string;
        lastUpdatedTime?: Date | string;
      }
    | undefined
  >;
}

const durableClientInput = df.input.durableClient();

/**
 * The durable client bound to this invocation. A value in the binding that already is a client (has
 * `startNew`) is used as is: unit tests inject a fake that way, since no Durable extension runs in-process.
 */
export function workflowClientOf(context: InvocationContext): WorkflowClient {
  const binding = context.options.extraInputs.find((i) => i.type === 'durableClient');
  const value: unknown = binding ? context.extraInputs.get(binding) : undefined;
  if (value && typeof (value as WorkflowClient).startNew === 'function') return value as WorkflowClient;
  try {
    return df.getClient(context);
  } catch {
    throw new HttpProblem(HttpErrorCode.WORKFLOW_UNAVAILABLE, 'The workflow engine is not available.');
  }
}

/** getStatus that reads "no such instance" (undefined, or the client's HTTP 404 error) as undefined. */
async function statusOf(client: WorkflowClient, instanceId: string) {
  try {
    return await client.getStatus(instanceId);
  } catch (e) {
    if (e instanceof Error && /\b404\b/.test(e.message)) return undefined;
    throw new HttpProblem(HttpErrorCode.WORKFLOW_UNAVAILABLE, 'The workflow engine did not answer.');
  }
}

export async function reportAbsence(ctx: ApiContext): Promise<ApiResult> {
  const { providerId } = readParams(ctx.request, providerParams);
  const body = await readJson(ctx.request, absenceBodySchema);
  return withIdempotency(ctx, body, async () => {
    const provider = await ctx.services.config.getProvider(providerId);
    if (!provider) throw new DomainError(ErrorCode.PROVIDER_NOT_FOUND, 'Unknown provider', { providerId });
    requireClinicAccess(ctx.principal, provider.clinicId);
    const instanceId = absenceInstanceId(providerId, body.from, body.to);
    const client = workflowClientOf(ctx.invocation);
    const existing = await statusOf(client, instanceId);
    if (!existing) {
      const input: ProviderAbsenceStart = {
        providerId,
        clinicId: provider.clinicId,
        from: body.from,
        to: body.to,
        reasonCode: (body.reason ?? 'absence').trim().toLowerCase().replace(/\s+/g, '-'),
        requestedBy: ctx.principal.principalId,
        correlationId: ctx.correlationId,
      };
      await client.startNew(PROVIDER_ABSENCE_ORCHESTRATOR, { instanceId, input: withTraceparent(input) });
    }
    return json(202, { instanceId, statusUrl: `/api/workflows/${instanceId}` }, { location: `/api/workflows/${instanceId}` });
  });
}

function isoOf(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  const t = typeof d === 'string' ? Date.parse(d) : d.getTime();
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

type WorkflowState = NonNullable<Awaited<ReturnType<WorkflowClient['getStatus']>>>;
/** Longest cascade walked in either direction (the clinic bound is at most 20). */
const MAX_CHAIN_LINKS = 25;

/** One backfill of a move-up cascade as GET /api/workflows shows it: ids and outcomes only. */
function chainLinkOf(instanceId: string, status: WorkflowState): z.output<typeof cascadeLinkSchema> | undefined {
  const input = status.input as { slotId?: unknown; cascade?: { depth?: unknown; offerId?: unknown; workflowInstanceId?: unknown } } | undefined;
  if (typeof input?.slotId !== 'string') return undefined;
  const output = status.output as {
    outcome?: unknown;
    cascade?: { moved?: { offerId: string; appointmentId: string; releasedSlotId: string; nextInstanceId: string } };
  } | null;
  const moved = output?.cascade?.moved;
  return {
    instanceId,
    slotId: input.slotId,
    depth: typeof input.cascade?.depth === 'number' ? input.cascade.depth : 0,
    runtimeStatus: status.runtimeStatus ?? 'Unknown',
    ...(typeof output?.outcome === 'string' ? { outcome: output.outcome } : {}),
    ...(typeof input.cascade?.offerId === 'string' ? { freedByOfferId: input.cascade.offerId } : {}),
    ...(typeof input.cascade?.workflowInstanceId === 'string' ? { previousInstanceId: input.cascade.workflowInstanceId } : {}),
    ...(moved
      ? { movedOfferId: moved.offerId, movedAppointmentId: moved.appointmentId, releasedSlotId: moved.releasedSlotId, nextInstanceId: moved.nextInstanceId }
      : {}),
  };
}

/**
 * The move-up cascade a backfill belongs to, first link first: walks back through the links that
 * freed each slot and forward through the slots each move-up released. Undefined for workflows that
 * are not backfills.
 */
async function cascadeChain(client: WorkflowClient, instanceId: string, status: WorkflowState) {
  const here = chainLinkOf(instanceId, status);
  if (!here) return undefined;
  const chain = [here];
  for (let back = here; back.previousInstanceId && chain.length < MAX_CHAIN_LINKS;) {
    const s = await statusOf(client, back.previousInstanceId);
    const link = s && chainLinkOf(back.previousInstanceId, s);
    if (!link) break;
    chain.unshift(link);
    back = link;
  }
  for (let next = here; next.nextInstanceId && chain.length < 2 * MAX_CHAIN_LINKS;) {
    const s = await statusOf(client, next.nextInstanceId);
    const link = s && chainLinkOf(next.nextInstanceId, s);
    if (!link) break;
    chain.push(link);
    next = link;
  }
  return chain;
}

export async function workflowStatus(ctx: ApiContext): Promise<ApiResult> {
  const { instanceId } = readParams(ctx.request, instanceParams);
  const client = workflowClientOf(ctx.invocation);
  const status = await statusOf(client, instanceId);
  if (!status) throw new HttpProblem(HttpErrorCode.WORKFLOW_NOT_FOUND, 'Unknown workflow instance.', { details: { instanceId } });
  // Workflows of another clinic are invisible to clinic-scoped staff (their input names the clinic).
  const clinicId = (status.input as { clinicId?: unknown } | undefined)?.clinicId;
  if (typeof clinicId === 'string' && !canAccessClinic(ctx.principal, clinicId)) requireClinicAccess(ctx.principal, clinicId);
  const createdTime = isoOf(status.createdTime);
  const lastUpdatedTime = isoOf(status.lastUpdatedTime);
  const cascade = status.name === BACKFILL_ORCHESTRATOR ? await cascadeChain(client, instanceId, status) : undefined;
  return json(200, {
    instanceId,
    name: status.name,
    runtimeStatus: status.runtimeStatus,
    customStatus: status.customStatus ?? null,
    output: status.output ?? null,
    ...(createdTime ? { createdTime } : {}),
    ...(lastUpdatedTime ? { lastUpdatedTime } : {}),
    ...(cascade ? { cascade } : {}),
  });
}

const staff = ['scheduler', 'admin'] as const;

app.http('reportProviderAbsence', {
  route: 'api/providers/{providerId}/absences',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [durableClientInput],
  handler: apiHandler(staff, reportAbsence),
});
app.http('getWorkflowStatus', {
  route: 'api/workflows/{instanceId}',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [durableClientInput],
  handler: apiHandler(staff, workflowStatus),
});
