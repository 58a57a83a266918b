/**
 * Provider absence: a provider is out for [from, to). The workflow blocks the window in the
 * provider's schedule, finds every booked appointment of theirs in it, re-assigns them jointly to
 * compatible free slots (same clinic and appointment type, other providers or the same provider
 * after the absence) with the optimizer, then fans out: the original is cancelled with reason
 * `provider-absence`, the patient is booked into the new slot and texted the new time (C to
 * confirm, X to cancel). What could not be re-homed is reported to the front desk in the output.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import { bookAppointment, cancelAppointment, isDomainError } from '../domain';
import { findDisplaced, planAbsenceRehoming, withAbsence, type AbsencePlan, type DisplacedAppointment } from '../domain/absence';
import { notifyPatient } from '../domain/sms';
import { getServices } from '../functions/app/services';
import { AbsenceActivities, PROVIDER_ABSENCE_ORCHESTRATOR, type AbsenceInput } from './names';
import { tracedOrchestrator } from './tracing';

export { AbsenceActivities, absenceInstanceId, PROVIDER_ABSENCE_ORCHESTRATOR, type AbsenceInput } from './names';

type Displaced = DisplacedAppointment;
type Plan = AbsencePlan;

export interface RehomeResult {
  appointmentId: string;
  outcome: 'rehomed' | 'slot-taken' | 'not-booked' | 'failed';
  newAppointmentId?: string;
  slotId?: string;
}

export interface AbsenceOutput {
  displaced: number;
  rehomed: RehomeResult[];
  /** For the front desk: appointments left in place that need a call. */
  needsAttention: { appointmentId: string; reason: string }[];
  optimizer: { status: string; solveMs: number };
}

const retry = new df.RetryOptions(2000, 5);
retry.backoffCoefficient = 2;

export const providerAbsenceOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<AbsenceInput>();
  context.df.setCustomStatus({ state: 'finding-appointments' });
  const displaced: Displaced[] = yield context.df.callActivityWithRetry(AbsenceActivities.record, retry, input);
  if (displaced.length === 0) {
    return { displaced: 0, rehomed: [], needsAttention: [], optimizer: { status: 'empty', solveMs: 0 } } satisfies AbsenceOutput;
  }
  context.df.setCustomStatus({ state: 'planning', displaced: displaced.length });
  const plan: Plan = yield context.df.callActivityWithRetry(AbsenceActivities.plan, retry, { ...input, displaced });
  context.df.setCustomStatus({ state: 'rehoming', assigned: plan.assignments.length });
  const tasks: Task[] = plan.assignments.map((a) =>
    context.df.callActivityWithRetry(AbsenceActivities.rehome, retry, { ...a, workflowInstanceId: context.df.instanceId }),
  );
  const results: RehomeResult[] = tasks.length ? yield context.df.Task.all(tasks) : [];
  const needsAttention = [
    ...plan.unplaced,
    ...results
      .filter((r) => r.outcome !== 'rehomed' && r.outcome !== 'not-booked')
      .map((r) => ({ appointmentId: r.appointmentId, reason: `re-homing failed: ${r.outcome}` })),
  ];
  const output: AbsenceOutput = {
    displaced: displaced.length,
    rehomed: results.filter((r) => r.outcome === 'rehomed'),
    needsAttention,
    optimizer: { status: plan.status, solveMs: plan.solveMs },
  };
  context.df.setCustomStatus({ state: 'done', rehomed: output.rehomed.length, needsAttention: needsAttention.length });
  return output;
};

/** Blocks the window in the provider's schedule (idempotent) and lists the appointments in it. */
export async function recordAbsence(input: AbsenceInput): Promise<Displaced[]> {
  const services = await getServices();
  const provider = await services.config.getProvider(input.providerId);
  if (!provider) return [];
  const blocked = withAbsence(provider, input);
  if (blocked !== provider) await services.config.putProvider(blocked);
  return (await findDisplaced(services, provider, input)).map(({ appointmentId, patientId, appointmentType, start }) => ({
    appointmentId,
    patientId,
    appointmentType,
    start,
  }));
}

/** Jointly assigns displaced patients to free compatible slots with the optimizer (all must be placed if possible). */
export async function planRehoming(input: AbsenceInput & { displaced: Displaced[] }): Promise<Plan> {
  const services = await getServices();
  const provider = await services.config.getProvider(input.providerId);
  const clinic = provider ? await services.config.getClinic(provider.clinicId) : undefined;
  if (!provider || !clinic)
    return {
      assignments: [],
      unplaced: input.displaced.map((d) => ({ appointmentId: d.appointmentId, reason: 'provider or clinic not found' })),
      status: 'empty',
      solveMs: 0,
    };
  return planAbsenceRehoming(services, {
    provider,
    clinic,
    window: input,
    displaced: input.displaced,
    ...(input.searchDays !== undefined ? { searchDays: input.searchDays } : {}),
  });
}

/** Books the new slot for the patient, then cancels the original with reason provider-absence, then texts them. */
export async function rehome(input: { appointmentId: string; slotId: string; workflowInstanceId: string }): Promise<RehomeResult> {
  const services = await getServices();
  const original = await services.appointments.get(input.appointmentId);
  if (!original) return { appointmentId: input.appointmentId, outcome: 'not-booked' };
  const actor = { kind: 'system' as const, principalId: input.workflowInstanceId };
  const cancelledByUs = original.status === 'cancelled' && original.cancellation?.reasonCode === 'provider-absence';
  if (original.status !== 'booked' && original.status !== 'pending' && !cancelledByUs) return { appointmentId: input.appointmentId, outcome: 'not-booked' };
  // The original is cancelled first: the new slot may overlap it in time (another provider, same hour),
  // and the visit cannot take place anyway. A retried activity skips what it already did.
  if (!cancelledByUs) await cancelAppointment(services, { appointmentId: original.appointmentId, actor, reasonCode: 'provider-absence' });
  const existing = (await services.appointments.listByPatient(original.patientId, '1970-01-01T00:00:00Z', '9999-01-01T00:00:00Z')).find(
    (a) => a.slotId === input.slotId && a.source === 'absence' && (a.status === 'booked' || a.status === 'pending'),
  );
  let replacement = existing;
  if (!replacement) {
    try {
      replacement = await bookAppointment(services, {
        slotId: input.slotId,
        patientId: original.patientId,
        appointmentType: original.appointmentType,
        channel: 'absence',
        actor,
      });
    } catch (e) {
      if (isDomainError(e)) return { appointmentId: input.appointmentId, outcome: 'slot-taken' };
      throw e;
    }
    const clinic = await services.config.getClinic(original.clinicId);
    if (clinic) {
      await notifyPatient(services, {
        patientId: original.patientId,
        clinic,
        template: 'rehomed',
        params: { start: replacement.start, previousStart: original.start },
        purpose: 'confirmation',
        correlationId: input.workflowInstanceId,
      });
    }
  }
  return { appointmentId: input.appointmentId, outcome: 'rehomed', newAppointmentId: replacement.appointmentId, slotId: replacement.slotId };
}

df.app.orchestration(PROVIDER_ABSENCE_ORCHESTRATOR, tracedOrchestrator(PROVIDER_ABSENCE_ORCHESTRATOR, providerAbsenceOrchestrator));
df.app.activity(AbsenceActivities.record, { handler: (input: AbsenceInput) => recordAbsence(input) });
df.app.activity(AbsenceActivities.plan, { handler: (input: Parameters<typeof planRehoming>[0]) => planRehoming(input) });
df.app.activity(AbsenceActivities.rehome, { handler: (input: Parameters<typeof rehome>[0]) => rehome(input) });
