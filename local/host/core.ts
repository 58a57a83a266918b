import Module from 'node:module';
import { FunctionRegistry, type CapturedHandler, type CapturedMetadata } from './registry';

/**
 * A stand-in for `@azure/functions-core`, the module the Azure Functions host injects into the Node
 * worker. `@azure/functions` registers every function through it; outside Azure it is absent and the
 * library drops registrations ("test mode"). Providing it lets the local host see each registration
 * exactly as the Azure host does, including those `durable-functions` makes through `app.generic`.
 */

/** The registry that the module stand-in below feeds. One per process (per Jest module registry). */
export const capturedFunctions = new FunctionRegistry();

/** Host version the stand-in reports (what `func --version` 4.x reports at the time of writing). */
export const LOCAL_HOST_VERSION = '4.1036.0';

export interface FunctionsCoreModule {
  version: string;
  hostVersion: string;
  registerFunction(metadata: CapturedMetadata, handler: CapturedHandler): { dispose(): void };
  registerHook(hookName: string, callback: (...args: unknown[]) => unknown): { dispose(): void };
  setProgrammingModel(programmingModel: unknown): void;
  getProgrammingModel(): unknown;
  log(level: string, category: string, message: string): void;
}

/** Builds the module object `require('@azure/functions-core')` returns. */
export function createFunctionsCore(registry: FunctionRegistry = capturedFunctions): FunctionsCoreModule {
  return {
    version: '3.10.1',
    hostVersion: LOCAL_HOST_VERSION,
    registerFunction(metadata, handler) {
      registry.register(metadata, handler);
      return { dispose: () => undefined };
    },
    registerHook: (hookName, callback) => registry.registerHook(hookName, callback),
    setProgrammingModel(programmingModel) {
      registry.programmingModel = programmingModel;
    },
    getProgrammingModel: () => registry.programmingModel,
    log(level, category, message) {
      if (category === 'system' && level !== 'error' && level !== 'warning') return;
      const line = `[functions:${category}] ${message}`;
      if (level === 'error' || level === 'critical') console.error(line);
      else if (level === 'warning') console.warn(line);
      else console.log(line);
    },
  };
}

/** The module object for this process, shared by the resolve hook and by Jest's virtual mock. */
export const functionsCore: FunctionsCoreModule = createFunctionsCore(capturedFunctions);

const VIRTUAL_ID = '@azure/functions-core';
const VIRTUAL_FILENAME = '/$slotflow-local-host$/@azure/functions-core.js';
let installed = false;

interface ModuleInternals {
  _resolveFilename(request: string, parent: unknown, ...rest: unknown[]): string;
  _cache: Record<string, unknown>;
}

/**
 * Makes `require('@azure/functions-core')` resolve to {@link functionsCore} in this process. Call it
 * before the app (and `@azure/functions`) is first required. Idempotent.
 *
 * In Jest, whose module registry does not go through Node's resolver, use instead:
 * `jest.mock('@azure/functions-core', () => jest.requireActual('<path>/local/host/core').functionsCore, { virtual: true })`
 * or, simpler, `jest.mock('@azure/functions-core', () => require('<path>/core').functionsCore, { virtual: true })`.
 */
export function installFunctionsCore(): FunctionsCoreModule {
  if (installed) return functionsCore;
  const internals = Module as unknown as ModuleInternals;
  const original = internals._resolveFilename;
  internals._resolveFilename = function (request: string, parent: unknown, ...rest: unknown[]): string {
    if (request === VIRTUAL_ID) return VIRTUAL_FILENAME;
    return original.call(this, request, parent, ...rest);
  };
  const mod = new Module(VIRTUAL_FILENAME);
  mod.filename = VIRTUAL_FILENAME;
  mod.loaded = true;
  mod.exports = functionsCore;
  internals._cache[VIRTUAL_FILENAME] = mod;
  installed = true;
  return functionsCore;
}
