/**
 * Shared waiting logic for workflows that sleep until a moment before a visit but must react when
 * the appointment changes. Registers nothing.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { DateTime } from 'luxon';
import { APPOINTMENT_CHANGED_EVENT, type AppointmentChanged } from './names';

export { APPOINTMENT_CHANGED_EVENT, type AppointmentChanged } from './names';

/** JS durable timers are limited to 6 days; longer waits take several steps of at most this. */
export const MAX_TIMER_STEP_DAYS = 5;
const MAX_TIMER_STEP_MS = MAX_TIMER_STEP_DAYS * 24 * 3600_000;

/**
 * Timer steps one wait takes inside one generation before it returns `continue` (the caller then
 * continues as new): 8 steps (40 days) add about 32 events to the history.
 */
export const MAX_TIMER_STEPS_PER_GENERATION = 8;

export type WaitResult = { kind: 'reached' } | { kind: 'continue' } | { kind: 'changed'; change: AppointmentChanged };

/**
 * Waits until `fireAt` (a DateTime or epoch milliseconds) or an AppointmentChanged event, whichever
 * comes first. A wait longer than the timer limit takes steps of at most
 * {@link MAX_TIMER_STEP_DAYS}, each timed from the orchestration's current time when it starts
 * (the instant the previous step fired); after `maxSteps` steps it returns `continue`: the caller
 * continues as new with the same input, which keeps the history short, and the next generation's
 * first step is timed from the same instant.
 *
 * Replay-safe for histories written when a wait took one step per generation: the first step is
 * the same action (the same event wait and the same timer), so such a history replays as the first
 * step of this loop and the next step is new work.
 *
 * One event task serves every step of the wait: the SDK hands a raised event to a waiting task by
 * name, and each step's `Task.any` takes over the same task.
 */
export function* waitForTimeOrChange(
  context: OrchestrationContext,
  fireAt: DateTime | number,
  maxSteps = MAX_TIMER_STEPS_PER_GENERATION,
): Generator<Task, WaitResult, unknown> {
  // Plain UTC milliseconds: the same instants as luxon's `now.plus({ days })` in UTC (no DST there),
  // without luxon's calendar arithmetic on every step of every replay.
  const fireAtMs = typeof fireAt === 'number' ? fireAt : fireAt.toMillis();
  let changed: Task | undefined;
  for (let steps = 0; ; steps++) {
    const nowMs = context.df.currentUtcDateTime.getTime();
    if (fireAtMs <= nowMs) return { kind: 'reached' };
    if (steps >= maxSteps) return { kind: 'continue' };
    const maxStepMs = nowMs + MAX_TIMER_STEP_MS;
    const stepMs = fireAtMs < maxStepMs ? fireAtMs : maxStepMs;
    changed ??= context.df.waitForExternalEvent(APPOINTMENT_CHANGED_EVENT);
    const timer = context.df.createTimer(new Date(stepMs));
    const winner = yield context.df.Task.any([changed, timer]);
    if (winner === changed) {
      timer.cancel();
      return { kind: 'changed', change: changed.result as AppointmentChanged };
    }
    if (!(stepMs < fireAtMs)) return { kind: 'reached' };
  }
}
