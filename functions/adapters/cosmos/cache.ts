/** A bounded map that forgets the least recently used entries. */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity = 10_000) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }
  delete(key: K): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
}

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
