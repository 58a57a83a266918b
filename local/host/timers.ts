import { createInvocationContext, consoleLogger, hookedHandler, type ExtraInputResolver, type HostLogger } from './invocation';
import { parseSchedule, type Schedule } from './ncrontab';
import type { CapturedFunction, FunctionRegistry } from './registry';
import { runAtOnce, type BackgroundRunner } from './priority';

/** Fires captured `app.timer` functions on their NCRONTAB schedules (UTC). */

export interface TimerClock {
  now(): Date;
}

interface Armed {
  fn: CapturedFunction;
  schedule: Schedule;
  handle?: NodeJS.Timeout;
  last?: Date;
}

/** The timer value the worker passes to a timer trigger (camel-cased TimerInfo). */
export interface TimerInfo {
  schedule: { adjustForDST: boolean };
  scheduleStatus: { last: string; next: string; lastUpdated: string };
  isPastDue: boolean;
}

export class TimerScheduler {
  private readonly armed: Armed[] = [];
  private stopped = false;
  private readonly logger: HostLogger;
  /** Invocations so far, by function name (for tests). */
  readonly fired = new Map<string, number>();

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly options: {
      clock?: TimerClock;
      resolveExtraInput?: ExtraInputResolver;
      logger?: HostLogger;
      /** Runs each invocation (the host's foreground gate); default: at once. */
      runBackground?: BackgroundRunner;
    } = {},
  ) {
    this.logger = options.logger ?? consoleLogger;
  }

  private now(): Date {
    return this.options.clock?.now() ?? new Date();
  }

  start(): void {
    for (const fn of this.registry.ofType('timerTrigger')) {
      const expression = String(fn.trigger.schedule ?? '');
      let schedule: Schedule;
      try {
        schedule = parseSchedule(expression);
      } catch (err) {
        this.logger('error', `[timer] ${fn.name}: ${(err as Error).message}; not scheduled`);
        continue;
      }
      const armed: Armed = { fn, schedule };
      this.armed.push(armed);
      if (fn.trigger.runOnStartup === true) void this.invoke(armed, this.now(), false);
      this.arm(armed);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.armed) if (a.handle) clearTimeout(a.handle);
  }

  /** Next occurrence of each timer function (for the start-up banner). */
  nextOccurrences(): { functionName: string; schedule: string; next: string }[] {
    const now = this.now();
    return this.armed.map((a) => ({ functionName: a.fn.name, schedule: a.schedule.expression, next: a.schedule.next(now).toISOString() }));
  }

  private arm(armed: Armed): void {
    if (this.stopped) return;
    const now = this.now();
    const due = armed.schedule.next(now);
    const delay = Math.min(due.getTime() - now.getTime(), 2 ** 31 - 1);
    armed.handle = setTimeout(() => {
      if (this.now().getTime() + 5 < due.getTime()) return this.arm(armed); // long wait re-armed
      void this.invoke(armed, due, false).finally(() => this.arm(armed));
    }, delay);
    armed.handle.unref?.();
  }

  private async invoke(armed: Armed, scheduled: Date, isPastDue: boolean): Promise<void> {
    const { fn } = armed;
    const now = this.now();
    const info: TimerInfo = {
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: (armed.last ?? new Date(0)).toISOString(),
        next: armed.schedule.next(scheduled).toISOString(),
        lastUpdated: now.toISOString(),
      },
      isPastDue,
    };
    armed.last = scheduled;
    const context = createInvocationContext(fn, { resolveExtraInput: this.options.resolveExtraInput, logger: this.logger });
    this.fired.set(fn.name, (this.fired.get(fn.name) ?? 0) + 1);
    try {
      const run = () => Promise.resolve(hookedHandler(this.registry, fn)(info, context));
      await (this.options.runBackground ?? runAtOnce)(run);
    } catch (err) {
      this.logger('error', `[timer] ${fn.name} invocation ${context.invocationId} failed: ${(err as Error).message}`);
    }
  }
}
