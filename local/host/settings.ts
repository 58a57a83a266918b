import { existsSync, readFileSync } from 'node:fs';

/**
 * Settings the way the Functions host applies them locally: `local.settings.json` Values fill the
 * environment, but a variable already set in the environment wins.
 */

/** Applies `Values` from local.settings.json to `env` where unset; returns the keys applied (never values). */
export function applyLocalSettings(path: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!existsSync(path)) return [];
  let parsed: { Values?: Record<string, unknown> };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as { Values?: Record<string, unknown> };
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const applied: string[] = [];
  for (const [key, value] of Object.entries(parsed.Values ?? {})) {
    if (env[key] !== undefined || value === undefined || value === null) continue;
    env[key] = String(value);
    applied.push(key);
  }
  return applied;
}

/** `extensions.http.routePrefix` from host.json; "api" when absent, as in the host. */
export function routePrefixFrom(hostJsonPath: string): string {
  if (!existsSync(hostJsonPath)) return 'api';
  const hostJson = JSON.parse(readFileSync(hostJsonPath, 'utf8')) as { extensions?: { http?: { routePrefix?: unknown } } };
  const prefix = hostJson.extensions?.http?.routePrefix;
  return typeof prefix === 'string' ? prefix : 'api';
}

/** The parts of host.json the local host applies. */
export interface HostJsonSettings {
  routePrefix: string;
  maxConcurrentActivityFunctions?: number;
  serviceBus: { maxConcurrentCalls?: number; maxConcurrentSessions?: number };
}

export function hostJsonSettings(hostJsonPath: string): HostJsonSettings {
  const json = existsSync(hostJsonPath)
    ? (JSON.parse(readFileSync(hostJsonPath, 'utf8')) as {
        extensions?: {
          durableTask?: { maxConcurrentActivityFunctions?: unknown };
          serviceBus?: { maxConcurrentCalls?: unknown; maxConcurrentSessions?: unknown };
        };
      })
    : {};
  const num = (v: unknown) => (typeof v === 'number' && v > 0 ? v : undefined);
  return {
    routePrefix: routePrefixFrom(hostJsonPath),
    maxConcurrentActivityFunctions: num(json.extensions?.durableTask?.maxConcurrentActivityFunctions),
    serviceBus: {
      maxConcurrentCalls: num(json.extensions?.serviceBus?.maxConcurrentCalls),
      maxConcurrentSessions: num(json.extensions?.serviceBus?.maxConcurrentSessions),
    },
  };
}
