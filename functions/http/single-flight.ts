/**
 * Coalesces identical concurrent reads: while a computation for `key` is in flight, later callers
 * with the same key share its promise instead of starting their own. Nothing is cached once it
 * settles, so no caller sees a result older than its own request.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, compute: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = compute().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  get size(): number {
    return this.inFlight.size;
  }
}
