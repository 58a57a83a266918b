/** Read-through cache with a time to live, for configuration (rarely written, read on every booking). */
export class TtlCache {
  private readonly map = new Map<string, { at: number; value: Promise<unknown> }>();
  constructor(private readonly ttlMs: number) {}
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.map.get(key);
    const now = Date.now();
    if (hit && now - hit.at < this.ttlMs) return structuredClone((await hit.value) as T);
    const value = load();
    this.map.set(key, { at: now, value });
    value.catch(() => this.map.delete(key));
    // Callers get their own copy, so nobody mutates what the cache holds.
    return structuredClone(await value);
  }
  clear(): void {
    this.map.clear();
  }
}
