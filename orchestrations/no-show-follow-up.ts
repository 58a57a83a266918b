/**
 * No-show follow-up: one instance per no-show (`noshow-follow-up-<appointmentId>`). Plans the text
 * (domain/sms/follow-up.ts: the clinic's delay, default 60 minutes, moved out of quiet hours; off per
 * clinic or appointment type), sleeps on a durable timer, then texts a PHI-free rebooking link unless
 * the no-show was corrected or the patient booked again meanwhile. A send deferred by quiet hours or
 * the rate limit waits on another timer, a bounded number of times.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { DateTime } from 'luxon';
import { FOLLOW_UP_LINK_TTL_MINUTES, FOLLOW_UP_SEARCH_DAYS, isFollowUpDue, planNoShowFollowUp, sendPatientSms, type FollowUpPlan } from '../domain/sms';
import { getServices } from '../functions/app/services';
import { bookingLinkIssuerOf } from '../functions/patient/links';
import { FollowUpActivities, NO_SHOW_FOLLOW_UP_ORCHESTRATOR, type NoShowFollowUpInput } from './names';
import { tracedOrchestrator } from './tracing';
import { MAX_TIMER_STEP_DAYS } from './timers';

export { FollowUpActivities, NO_SHOW_FOLLOW_UP_ORCHESTRATOR, noShowFollowUpInstanceId, type NoShowFollowUpInput } from './names';

/** What the send activity reports: sent, or why not, or when it may try again. */
export type FollowUpSendResult =
  | { outcome: 'sent' | 'already-sent' | 'not-noshow' | 'rebooked' | 'unknown-appointment' | 'no-consent' | 'opted-out' | 'invalid-phone' | 'unknown-patient' }
  | { outcome: 'quiet-hours' | 'rate-limited'; nextAllowedAt: string };

export interface NoShowFollowUpOutput {
  outcome: FollowUpSendResult['outcome'] | 'skipped' | 'gave-up';
  reason?: string;
}

/** Sends deferred more often than this give up (the patient is texting a lot or the clinic is always quiet). */
const MAX_DEFERRALS = 3;

const retry = new df.RetryOptions(2000, 5);
retry.backoffCoefficient = 2;

/** Waits until `at` (never more than one timer step: the planner's delay stays well under it). */
function* sleepUntil(context: OrchestrationContext, at: string) {
  const now = DateTime.fromJSDate(context.df.currentUtcDateTime, { zone: 'utc' });
  const fireAt = DateTime.min(DateTime.fromISO(at, { zone: 'utc' }), now.plus({ days: MAX_TIMER_STEP_DAYS }));
  if (fireAt > now) yield context.df.createTimer(fireAt.toJSDate());
}

export const noShowFollowUpOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<NoShowFollowUpInput>();
  const plan: FollowUpPlan = yield context.df.callActivityWithRetry(FollowUpActivities.plan, retry, input);
  if (plan.kind === 'skip') {
    context.df.setCustomStatus({ state: 'done', outcome: 'skipped', reason: plan.reason });
    return { outcome: 'skipped', reason: plan.reason } satisfies NoShowFollowUpOutput;
  }
  context.df.setCustomStatus({ state: 'waiting', sendAt: plan.at });
  yield* sleepUntil(context, plan.at);
  for (let deferrals = 0; ; deferrals++) {
    const result: FollowUpSendResult = yield context.df.callActivityWithRetry(FollowUpActivities.send, retry, { appointmentId: input.appointmentId });
    if (result.outcome !== 'quiet-hours' && result.outcome !== 'rate-limited') {
      context.df.setCustomStatus({ state: 'done', outcome: result.outcome });
      return { outcome: result.outcome } satisfies NoShowFollowUpOutput;
    }
    if (deferrals + 1 >= MAX_DEFERRALS) {
      context.df.setCustomStatus({ state: 'done', outcome: 'gave-up', reason: result.outcome });
      return { outcome: 'gave-up', reason: result.outcome } satisfies NoShowFollowUpOutput;
    }
    context.df.setCustomStatus({ state: 'deferred', sendAt: result.nextAllowedAt, reason: result.outcome });
    yield* sleepUntil(context, result.nextAllowedAt);
  }
};

/** The plan from the clinic's and the appointment type's settings (config reads; the decision is pure). */
export async function planFollowUp(input: NoShowFollowUpInput): Promise<FollowUpPlan> {
  const services = await getServices();
  const appointment = await services.appointments.get(input.appointmentId);
  const clinic = appointment ? await services.config.getClinic(appointment.clinicId) : undefined;
  if (!appointment || !clinic) return { kind: 'skip', reason: 'clinic-off' };
  const type = await services.config.getAppointmentType(appointment.appointmentType);
  return planNoShowFollowUp({ noShowAt: input.noShowAt, clinic, ...(type ? { appointmentType: type } : {}) });
}

/** Texts the rebooking link once per no-show, if it is still due (idempotent per appointment). */
export async function sendFollowUp(input: { appointmentId: string }): Promise<FollowUpSendResult> {
  const services = await getServices();
  const appointment = await services.appointments.get(input.appointmentId);
  if (!appointment) return { outcome: 'unknown-appointment' };
  const now = services.clock.now().toUTC();
  const later = await services.appointments.listByPatient(appointment.patientId, now.toISO()!, now.plus({ days: 365 }).toISO()!);
  const due = isFollowUpDue(appointment, later, now.toISO()!);
  if (!due.due) return { outcome: due.reason };
  const key = `noshow-follow-up:${appointment.appointmentId}`;
  if (await services.idempotency.get('event', key)) return { outcome: 'already-sent' };
  const link = bookingLinkIssuerOf(services).issue({
    patientId: appointment.patientId,
    scope: {
      kind: 'search',
      clinicId: appointment.clinicId,
      appointmentType: appointment.appointmentType,
      from: now.toISO()!,
      to: now.plus({ days: FOLLOW_UP_SEARCH_DAYS }).toISO()!,
    },
    ttlMinutes: FOLLOW_UP_LINK_TTL_MINUTES,
  });
  const sent = await sendPatientSms(services, {
    patientId: appointment.patientId,
    clinicId: appointment.clinicId,
    template: 'noshow-follow-up',
    params: { url: link.url, expiresAt: link.expiresAt },
    purpose: 'follow-up',
    correlationId: appointment.appointmentId,
  });
  if (sent.outcome === 'quiet-hours' || sent.outcome === 'rate-limited') return { outcome: sent.outcome, nextAllowedAt: sent.nextAllowedAt };
  if (sent.outcome === 'sent') await services.idempotency.putIfAbsent({ scope: 'event', key, createdAt: now.toISO()! }, 30 * 24 * 3600);
  return { outcome: sent.outcome };
}

df.app.orchestration(NO_SHOW_FOLLOW_UP_ORCHESTRATOR, tracedOrchestrator(NO_SHOW_FOLLOW_UP_ORCHESTRATOR, noShowFollowUpOrchestrator));
df.app.activity(FollowUpActivities.plan, { handler: (input: NoShowFollowUpInput) => planFollowUp(input) });
df.app.activity(FollowUpActivities.send, { handler: (input: { appointmentId: string }) => sendFollowUp(input) });
