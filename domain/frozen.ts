/**
 * Deeply frozen values: a record frozen all the way down can never change, so what is derived from
 * it (its JSON, a cache key) stands for as long as the object lives.
 */

/** Freezes the value and everything it holds. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** True when the object and everything it holds are frozen. */
export function isDeepFrozen(value: object): boolean {
  return Object.isFrozen(value) && Object.values(value).every((v) => v === null || typeof v !== 'object' || isDeepFrozen(v as object));
}

const jsonOfFrozen = new WeakMap<object, string>();

/** `JSON.stringify(value)`, computed once per deeply frozen object (any other object: every call). */
export function stableJson(value: object): string {
  const known = jsonOfFrozen.get(value);
  if (known !== undefined) return known;
  const json = JSON.stringify(value);
  if (isDeepFrozen(value)) jsonOfFrozen.set(value, json);
  return json;
}

/**
 * A deeply frozen copy: `deepFreeze(structuredClone(value))` for plain data (objects of Object.prototype
 * or none, arrays, primitives) in one walk, without structuredClone's serialisation; anything else
 * inside (a Date, a Map) goes through structuredClone.
 */
export function frozenCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Object.freeze(value.map((v: unknown) => frozenCopy(v))) as T;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return deepFreeze(structuredClone(value));
  const copy: Record<string, unknown> = proto === null ? (Object.create(null) as Record<string, unknown>) : {};
  for (const key of Object.keys(value)) copy[key] = frozenCopy((value as Record<string, unknown>)[key]);
  return Object.freeze(copy) as T;
}
