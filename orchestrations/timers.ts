/**
 * Shared waiting logic for workflows that sleep until a moment before a visit but must react when
 * the appointment changes. Registers nothing.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { DateTime } from 'luxon';
import { APPOINTMENT_CHANGED_EVENT, type AppointmentChanged } from './names';

export { APPOINTMENT_CHANGED_EVENT, type AppointmentChanged } from './names';

/** JS durable timers are limited to 6 days; longer waits continue as new after this step. */
export const MAX_TIMER_STEP_DAYS = 5;

export type WaitResult = { kind: 'reached' } | { kind: 'continue' } | { kind: 'changed'; change: AppointmentChanged };

/**
 * Waits until `fireAt` or an AppointmentChanged event, whichever comes first. A wait longer than
 * the timer limit returns `continue` after one step: the caller continues as new with the same
 * input, which keeps the history short too.
 */
export function* waitForTimeOrChange(context: OrchestrationContext, fireAt: DateTime): Generator<Task, WaitResult, unknown> {
  const now = DateTime.fromJSDate(context.df.currentUtcDateTime, { zone: 'utc' });
  if (fireAt <= now) return { kind: 'reached' };
  const maxStep = now.plus({ days: MAX_TIMER_STEP_DAYS });
  const step = fireAt < maxStep ? fireAt : maxStep;
  const changed = context.df.waitForExternalEvent(APPOINTMENT_CHANGED_EVENT);
  const timer = context.df.createTimer(step.toJSDate());
  const winner = yield context.df.Task.any([changed, timer]);
  if (winner === changed) {
    timer.cancel();
    return { kind: 'changed', change: changed.result as AppointmentChanged };
  }
  return step < fireAt ? { kind: 'continue' } : { kind: 'reached' };
}
