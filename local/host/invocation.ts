import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import type { CapturedBinding, CapturedFunction, FunctionRegistry } from './registry';

/** A binding as `context.options` carries it: the metadata binding plus its name. */
export type NamedBinding = CapturedBinding & { name: string };

export interface InvocationOptions {
  trigger: NamedBinding;
  return?: NamedBinding;
  extraInputs: NamedBinding[];
  extraOutputs: NamedBinding[];
}

/** `context.options` as the worker derives it from the function's bindings (fromRpcBindings). */
export function invocationOptionsOf(fn: CapturedFunction): InvocationOptions {
  const options: InvocationOptions = { trigger: fn.trigger, extraInputs: [], extraOutputs: [] };
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    const named = { ...binding, name };
    if (/trigger$/i.test(binding.type)) continue;
    if (name === '$return') options.return = named;
    else if (binding.direction === 'in') options.extraInputs.push(named);
    else options.extraOutputs.push(named);
  }
  return options;
}

/** Supplies the value of an input binding (e.g. the durable client) for one invocation. */
export type ExtraInputResolver = (binding: NamedBinding, fn: CapturedFunction) => unknown;

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical';
export type HostLogger = (level: LogLevel, message: string) => void;

/** Prints a line with the function name and invocation id; the app is responsible for PHI-free messages. */
export const consoleLogger: HostLogger = (level, message) => {
  if (level === 'error' || level === 'critical') console.error(message);
  else if (level === 'warning') console.warn(message);
  else if (level !== 'trace' && level !== 'debug') console.log(message);
};

export interface ContextInit {
  triggerMetadata?: Record<string, unknown>;
  resolveExtraInput?: ExtraInputResolver;
  logger?: HostLogger;
  invocationId?: string;
  retryContext?: { retryCount: number; maxRetryCount: number };
}

/** Builds the InvocationContext the Azure host would pass to `fn`, extra inputs bound. */
export function createInvocationContext(fn: CapturedFunction, init: ContextInit = {}): InvocationContext {
  const options = invocationOptionsOf(fn);
  const invocationId = init.invocationId ?? randomUUID();
  const logger = init.logger ?? consoleLogger;
  const context = new InvocationContext({
    functionName: fn.name,
    invocationId,
    options,
    triggerMetadata: init.triggerMetadata,
    retryContext: init.retryContext,
    logHandler: (level, ...args) => logger(level as LogLevel, `[${fn.name}] ${args.map(formatArg).join(' ')}`),
  });
  for (const binding of options.extraInputs) {
    const value = init.resolveExtraInput?.(binding, fn);
    if (value !== undefined) context.extraInputs.set(binding.name, value);
  }
  return context;
}

function formatArg(arg: unknown): string {
  if (typeof arg === 'string') return arg;
  if (arg instanceof Error) return `${arg.name}: ${arg.message}`;
  try {
    return JSON.stringify(arg);
  } catch {
    return String(arg);
  }
}

/** Hook data shared by every invocation of the process (`appHookData` of `app.hook.*`). */
const appHookData: Record<string, unknown> = {};

/**
 * `fn`'s handler as the Functions worker calls it: the app's `preInvocation` hooks first (they may
 * replace the handler or change the inputs), then the handler with the inputs and the context, then
 * the `postInvocation` hooks (which may replace the result or the error). Without hooks, the handler.
 */
export function hookedHandler(registry: Pick<FunctionRegistry, 'hooksFor'>, fn: Pick<CapturedFunction, 'handler'>): CapturedFunction['handler'] {
  return async (...args: unknown[]) => {
    const pre = registry.hooksFor('preInvocation');
    const post = registry.hooksFor('postInvocation');
    if (pre.length === 0 && post.length === 0) return fn.handler(...args);
    const invocationContext = args[args.length - 1];
    const inputs = args.slice(0, -1);
    const hookData: Record<string, unknown> = {};
    const preContext = { invocationContext, inputs, functionCallback: fn.handler, hookData, appHookData };
    for (const hook of pre) await hook(preContext);
    let result: unknown;
    let error: unknown;
    try {
      result = await preContext.functionCallback(...preContext.inputs, invocationContext);
    } catch (e) {
      error = e;
    }
    const postContext = { invocationContext, inputs: preContext.inputs, result, error, hookData, appHookData };
    for (const hook of post) await hook(postContext);
    if (postContext.error !== undefined) throw postContext.error;
    return postContext.result;
  };
}
