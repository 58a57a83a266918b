/**
 * Interactive work first. The local host runs everything in one Node process on one event loop:
 * HTTP requests from people (the console, the API, SMS webhooks) and the background work their
 * changes cause (Service Bus trigger invocations, durable episodes and activities, timer triggers).
 * In Azure those run on separate, independently scaled workers; here they compete for the same CPU,
 * and a burst of bookings would otherwise queue every request behind the workflows of the bookings
 * before it.
 *
 * The gate admits background units (one trigger invocation, one episode, one activity) with a small
 * concurrency while any interactive request is in flight (`busyLimit`, default 1: background always
 * makes progress, it never starves) and a larger one when none is (`idleLimit`). Units queue in FIFO
 * order. A background unit must never wait for another background unit to finish (none does: an
 * episode only schedules work, an activity or trigger only calls the durable client over HTTP, which
 * is not gated), so the gate cannot deadlock.
 */
export interface ForegroundGateOptions {
  /** Background units admitted at once while an interactive request is in flight (>= 1). */
  busyLimit?: number;
  /** Background units admitted at once when no interactive request is in flight. */
  idleLimit?: number;
}

export class ForegroundGate {
  private foreground = 0;
  private background = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly busyLimit: number;
  private readonly idleLimit: number;
  /** Background units that had to wait for a slot (for benchmarks and tests). */
  deferred = 0;

  constructor(options: ForegroundGateOptions = {}) {
    this.busyLimit = Math.max(1, options.busyLimit ?? 1);
    this.idleLimit = Math.max(this.busyLimit, options.idleLimit ?? 4);
  }

  get foregroundInFlight(): number {
    return this.foreground;
  }

  get backgroundInFlight(): number {
    return this.background;
  }

  get backgroundWaiting(): number {
    return this.waiting.length;
  }

  /** Marks one interactive request in flight; call the returned function (idempotent) when it ends. */
  enterForeground(): () => void {
    this.foreground++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.foreground--;
      if (this.foreground === 0) {
        for (const w of this.idleWaiters.splice(0)) w();
      }
      this.admit();
    };
  }

  /** Runs one background unit when the gate admits it. */
  async runBackground<T>(work: () => Promise<T> | T): Promise<T> {
    if (this.waiting.length === 0 && this.background < this.limit()) this.background++;
    else {
      this.deferred++;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      this.background--;
      this.admit();
    }
  }

  /** Resolves once no interactive request is in flight (at once if none is). */
  whenForegroundIdle(): Promise<void> {
    if (this.foreground === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private limit(): number {
    return this.foreground > 0 ? this.busyLimit : this.idleLimit;
  }

  /** Admits queued units up to the current limit (the admitted unit's slot is counted here). */
  private admit(): void {
    while (this.waiting.length > 0 && this.background < this.limit()) {
      this.background++;
      this.waiting.shift()!();
    }
  }
}

/** How a component runs one unit of background work (a gate's `runBackground`, or at once without one). */
export type BackgroundRunner = <T>(work: () => Promise<T>) => Promise<T>;
export const runAtOnce: BackgroundRunner = (work) => work();
