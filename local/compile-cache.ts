import { enableCompileCache } from 'node:module';

/**
 * Node's on-disk compile cache for the whole local host process, turned on before the host's own
 * modules, @vercel/cosmosdb-server (with @zeit/cosmosdb-query and babel), rhea and the app bundle are
 * compiled: imported first by start.ts. Same rule as the bundle's main.js (scripts/bundle.cjs): on by
 * default (Node's folder under the OS temp directory), SLOTFLOW_COMPILE_CACHE=<folder> picks another,
 * =off disables it, off by default under Jest. An unwritable folder only means no cache.
 */
export function enableLocalCompileCache(env: NodeJS.ProcessEnv = process.env): boolean {
  const setting = env.SLOTFLOW_COMPILE_CACHE;
  if (setting === 'off' || (!setting && env.JEST_WORKER_ID) || typeof enableCompileCache !== 'function') return false;
  enableCompileCache(setting && setting !== 'on' ? setting : undefined);
  return true;
}

enableLocalCompileCache();
