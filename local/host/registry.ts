/**
 * What the Azure Functions host learns from the app at start-up: one entry per registered function,
 * exactly as `@azure/functions` (and `durable-functions`, through it) hands it to the host module
 * `@azure/functions-core`.
 */

/** A binding as it appears in the metadata the worker sends to the host. */
export interface CapturedBinding {
  type: string;
  direction: 'in' | 'out';
  name?: string;
  [key: string]: unknown;
}

/** Function metadata as `registerFunction` receives it (`toCoreFunctionMetadata`). */
export interface CapturedMetadata {
  name: string;
  bindings: Record<string, CapturedBinding>;
  retryOptions?: unknown;
}

export type CapturedHandler = (...args: unknown[]) => unknown;

export interface CapturedFunction {
  name: string;
  metadata: CapturedMetadata;
  handler: CapturedHandler;
  /** The binding whose type ends in "Trigger". */
  trigger: CapturedBinding & { name: string };
  triggerType: string;
}

/** Registrations captured from the app, in registration order. */
export class FunctionRegistry {
  private readonly byName = new Map<string, CapturedFunction>();
  private readonly hooks = new Map<string, Set<(...args: unknown[]) => unknown>>();
  programmingModel: unknown;

  register(metadata: CapturedMetadata, handler: CapturedHandler): void {
    if (!metadata || typeof metadata.name !== 'string') throw new Error('registerFunction: metadata.name is required');
    if (typeof handler !== 'function') throw new Error(`registerFunction: handler of "${metadata.name}" is not a function`);
    const key = metadata.name.toLowerCase();
    // The Azure host refuses two functions with the same name (names are case-insensitive).
    if (this.byName.has(key)) throw new Error(`A function named "${metadata.name}" is already registered`);
    const entry = Object.entries(metadata.bindings ?? {}).find(([, b]) => /trigger$/i.test(b.type));
    if (!entry) throw new Error(`Function "${metadata.name}" has no trigger binding`);
    const [bindingName, binding] = entry;
    this.byName.set(key, {
      name: metadata.name,
      metadata,
      handler,
      trigger: { ...binding, name: bindingName },
      triggerType: binding.type,
    });
  }

  registerHook(hookName: string, callback: (...args: unknown[]) => unknown): { dispose(): void } {
    let set = this.hooks.get(hookName);
    if (!set) this.hooks.set(hookName, (set = new Set()));
    set.add(callback);
    return { dispose: () => void set.delete(callback) };
  }

  /** Hooks registered with `app.hook.*` for one hook name (e.g. `appStart`). */
  hooksFor(hookName: string): ((...args: unknown[]) => unknown)[] {
    return [...(this.hooks.get(hookName) ?? [])];
  }

  get(name: string): CapturedFunction | undefined {
    return this.byName.get(name.toLowerCase());
  }

  all(): CapturedFunction[] {
    return [...this.byName.values()];
  }

  ofType(triggerType: string): CapturedFunction[] {
    return this.all().filter((f) => f.triggerType.toLowerCase() === triggerType.toLowerCase());
  }

  clear(): void {
    this.byName.clear();
    this.hooks.clear();
    this.programmingModel = undefined;
  }
}
