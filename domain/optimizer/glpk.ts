import { createRequire } from 'node:module';
import type { GLPK } from 'glpk.js/node';

export type { GLPK, LP, Result } from 'glpk.js/node';

let loading: Promise<GLPK> | undefined;

/**
 * Loads glpk.js (the synchronous Node build) once per thread. The package is ESM-only; Node 22 can
 * require() it synchronously, which also works under the CommonJS test runner, where import() does not.
 */
export function loadGlpk(): Promise<GLPK> {
  if (!loading) {
    const load = createRequire(__filename)('glpk.js/node') as { default: () => Promise<GLPK> };
    loading = load.default();
    loading.catch(() => (loading = undefined));
  }
  return loading;
}
