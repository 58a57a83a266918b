/**
 * Reminders: one instance per appointment (`reminders-<appointmentId>`). Sends an SMS at each of the
 * clinic's reminder offsets before the visit (48 h and 2 h by default), skipping offsets already
 * past. Replies C (confirm) and X (cancel) are handled by the SMS webhook; an X cancels through the
 * domain, which releases the slot and so feeds backfill. A cancellation ends the instance; a
 * reschedule starts the sequence again for the new time.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { isoEpochMs } from '../domain';
import { notifyPatient } from '../domain/sms';
import { getServices } from '../functions/app/services';
import { REMINDERS_ORCHESTRATOR, SEND_REMINDER_ACTIVITY, type RemindersInput } from './names';
import { tracedOrchestrator } from './tracing';
import { waitForTimeOrChange } from './timers';

export { REMINDERS_ORCHESTRATOR, SEND_REMINDER_ACTIVITY, remindersInstanceId, type RemindersInput } from './names';

const retry = new df.RetryOptions(2000, 5);
retry.backoffCoefficient = 2;

const HOUR_MS = 3600_000;
const LATE_MS = 30 * 60_000;

export const remindersOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<RemindersInput>();
  // The instants as epoch milliseconds: hours and minutes are exact milliseconds in luxon's
  // arithmetic too (no calendar units), so these are the instants its minus/plus gave, without
  // luxon's work on every replayed offset of every episode.
  const startMs = isoEpochMs(input.start);
  const done = new Set(input.done ?? []);
  const offsets = [...input.hoursBefore].sort((a, b) => b - a);
  const sent: number[] = [];
  for (const hours of offsets) {
    if (done.has(hours)) continue;
    const sendAtMs = startMs - hours * HOUR_MS;
    if (sendAtMs + LATE_MS < context.df.currentUtcDateTime.getTime()) {
      done.add(hours); // too late for this one; a reminder hours late is noise
      continue;
    }
    const nextAt = Number.isFinite(sendAtMs) ? new Date(sendAtMs).toISOString() : null;
    context.df.setCustomStatus({ state: 'waiting', nextAt, hoursBefore: hours });
    const waited = yield* waitForTimeOrChange(context, sendAtMs);
    if (waited.kind === 'continue') {
      context.df.continueAsNew({ ...input, done: [...done] });
      return undefined;
    }
    if (waited.kind === 'changed') {
      if (waited.change.status === 'cancelled' || !waited.change.start) return { outcome: 'cancelled', sent };
      context.df.continueAsNew({ ...input, start: waited.change.start, done: [] });
      return undefined;
    }
    const result: string = yield context.df.callActivityWithRetry(SEND_REMINDER_ACTIVITY, retry, {
      appointmentId: input.appointmentId,
      start: input.start,
      hoursBefore: hours,
    });
    done.add(hours);
    if (result === 'not-booked') return { outcome: 'not-booked', sent };
    if (result === 'sent') sent.push(hours);
  }
  context.df.setCustomStatus({ state: 'done' });
  return { outcome: 'done', sent };
};

/** Texts a reminder if the appointment is still booked at that time; idempotent per offset. */
export async function sendReminder(input: { appointmentId: string; start: string; hoursBefore: number }): Promise<string> {
  const services = await getServices();
  const appointment = await services.appointments.get(input.appointmentId);
  if (!appointment || !['booked', 'pending'].includes(appointment.status) || appointment.start !== input.start) return 'not-booked';
  const key = `reminder:${input.appointmentId}:${input.start}:${input.hoursBefore}`;
  const first = await services.idempotency.putIfAbsent({ scope: 'event', key, createdAt: services.clock.now().toUTC().toISO()! }, 30 * 24 * 3600);
  if (!first) return 'already-sent';
  const clinic = await services.config.getClinic(appointment.clinicId);
  if (!clinic) return 'not-booked';
  return notifyPatient(services, {
    patientId: appointment.patientId,
    clinic,
    template: 'reminder',
    params: { start: appointment.start },
    purpose: 'reminder',
    correlationId: appointment.appointmentId,
  });
}

df.app.orchestration(REMINDERS_ORCHESTRATOR, tracedOrchestrator(REMINDERS_ORCHESTRATOR, remindersOrchestrator));
df.app.activity(SEND_REMINDER_ACTIVITY, { handler: (input: Parameters<typeof sendReminder>[0]) => sendReminder(input) });
