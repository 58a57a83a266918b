/**
 * Eligibility: one instance per appointment (`eligibility-<appointmentId>`). Waits with a durable
 * timer until the clinic's lead time before the visit, then verifies coverage through the
 * eligibility port (retried with backoff on transient failures), records the result on the
 * appointment, and tells the front desk (event + appointment flag) and, where configured, the
 * patient about inactive coverage. A cancellation ends the check; a reschedule restarts the wait.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { DateTime } from 'luxon';
import { EventType, makeEvent, TransientError, type Appointment } from '../domain';
import { notifyPatient } from '../domain/sms';
import { getServices } from '../functions/app/services';
import { CHECK_ELIGIBILITY_ACTIVITY, ELIGIBILITY_ORCHESTRATOR, type EligibilityInput } from './names';
import { tracedOrchestrator } from './tracing';
import { waitForTimeOrChange } from './timers';

export { CHECK_ELIGIBILITY_ACTIVITY, ELIGIBILITY_ORCHESTRATOR, eligibilityInstanceId, type EligibilityInput } from './names';

export interface EligibilityOutput {
  outcome: 'active' | 'inactive' | 'error' | 'cancelled' | 'no-coverage' | 'not-booked';
}

const retry = new df.RetryOptions(5000, 6);
retry.backoffCoefficient = 2;
retry.maxRetryIntervalInMilliseconds = 5 * 60_000;

export const eligibilityOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<EligibilityInput>();
  const checkAt = DateTime.fromISO(input.start, { setZone: true }).minus({ hours: input.leadHours });
  context.df.setCustomStatus({ state: 'waiting', checkAt: checkAt.toUTC().toISO() });
  const waited = yield* waitForTimeOrChange(context, checkAt);
  if (waited.kind === 'continue') {
    context.df.continueAsNew(input);
    return undefined;
  }
  if (waited.kind === 'changed') {
    if (waited.change.status === 'cancelled' || !waited.change.start) return { outcome: 'cancelled' } satisfies EligibilityOutput;
    context.df.continueAsNew({ ...input, start: waited.change.start });
    return undefined;
  }
  context.df.setCustomStatus({ state: 'checking' });
  try {
    const output: EligibilityOutput = yield context.df.callActivityWithRetry(CHECK_ELIGIBILITY_ACTIVITY, retry, {
      appointmentId: input.appointmentId,
      start: input.start,
    });
    context.df.setCustomStatus({ state: 'done', outcome: output.outcome });
    return output;
  } catch {
    // Retries exhausted (payer down or timing out): record the error for the front desk.
    const output: EligibilityOutput = yield context.df.callActivity(CHECK_ELIGIBILITY_ACTIVITY, {
      appointmentId: input.appointmentId,
      start: input.start,
      recordError: true,
    });
    return output;
  }
};

/** Verifies coverage for a still-booked appointment and records the result. */
export async function checkEligibility(input: { appointmentId: string; start: string; recordError?: boolean }): Promise<EligibilityOutput> {
  const services = await getServices();
  const appointment = await services.appointments.get(input.appointmentId);
  if (!appointment || (appointment.status !== 'booked' && appointment.status !== 'pending') || appointment.start !== input.start)
    return { outcome: 'not-booked' };
  const patient = await services.patients.get(appointment.patientId);
  const now = services.clock.now().toUTC().toISO()!;
  let status: 'active' | 'inactive' | 'error';
  let reasonCode: string | undefined;
  if (input.recordError) {
    status = 'error';
    reasonCode = 'PAYER_UNAVAILABLE';
  } else if (!patient?.coverage) {
    status = 'inactive';
    reasonCode = 'NO_COVERAGE_ON_FILE';
  } else {
    try {
      const result = await services.eligibility.check({
        appointmentId: appointment.appointmentId,
        patientId: appointment.patientId,
        clinicId: appointment.clinicId,
        coverage: patient.coverage,
        serviceDate: appointment.start,
      });
      status = result.status;
      reasonCode = result.reasonCode;
    } catch (e) {
      if (e instanceof TransientError) throw e; // retried by the orchestrator with backoff
      status = 'error';
      reasonCode = 'PAYER_ERROR';
    }
  }
  await recordResult(appointment, status, now, reasonCode);
  if (status !== 'active') {
    const clinic = await services.config.getClinic(appointment.clinicId);
    if (clinic && status === 'inactive') {
      await notifyPatient(services, {
        patientId: appointment.patientId,
        clinic,
        template: 'eligibility',
        params: { start: appointment.start },
        purpose: 'eligibility',
        correlationId: appointment.appointmentId,
      });
    }
  }
  return { outcome: status === 'inactive' && reasonCode === 'NO_COVERAGE_ON_FILE' ? 'no-coverage' : status };
}

async function recordResult(appointment: Appointment, status: 'active' | 'inactive' | 'error', checkedAt: string, reasonCode?: string): Promise<void> {
  const services = await getServices();
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = attempt === 0 ? appointment : await services.appointments.get(appointment.appointmentId);
    if (!current) return;
    const updated: Appointment = {
      ...current,
      eligibility: { status, checkedAt, ...(reasonCode ? { reasonCode } : {}) },
      updatedAt: checkedAt,
      version: current.version + 1,
    };
    const meta = { id: services.ids.newId('evt'), time: checkedAt, subject: current.appointmentId };
    const event =
      status === 'active'
        ? makeEvent(
            EventType.eligibilityVerified,
            { appointmentId: current.appointmentId, patientId: current.patientId, clinicId: current.clinicId, checkedAt },
            meta,
          )
        : makeEvent(
            EventType.eligibilityFailed,
            {
              appointmentId: current.appointmentId,
              patientId: current.patientId,
              clinicId: current.clinicId,
              checkedAt,
              outcome: status,
              reasonCode: reasonCode ?? 'UNKNOWN',
            },
            meta,
          );
    try {
      await services.appointments.update(updated, current.version, [event]);
      await services.outbox.dispatch([event]).catch(() => undefined);
      return;
    } catch (e) {
      if (attempt === 2) throw e;
    }
  }
}

df.app.orchestration(ELIGIBILITY_ORCHESTRATOR, tracedOrchestrator(ELIGIBILITY_ORCHESTRATOR, eligibilityOrchestrator));
df.app.activity(CHECK_ELIGIBILITY_ACTIVITY, { handler: (input: Parameters<typeof checkEligibility>[0]) => checkEligibility(input) });
