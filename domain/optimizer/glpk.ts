import type { GLPK } from 'glpk.js/node';

export type { GLPK, LP, Result } from 'glpk.js/node';

let loading: Promise<GLPK> | undefined;

/**
 * Loads glpk.js (the synchronous Node build, `glpk.js/node`) once per thread. The package is ESM-only;
 * Node 22 require()s it synchronously, which works from the CommonJS build.
 */
export function loadGlpk(): Promise<GLPK> {
  if (!loading) {
    const { createRequire } = process.getBuiltinModule('node:module');
    const mod = createRequire(__filename)('glpk.js/node') as { default: () => Promise<GLPK> };
    loading = mod.default();
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

/** Uses an already loaded glpk.js instance in this thread (for runtimes whose module loader cannot load it). */
export function provideGlpk(glpk: GLPK): void {
  loading = Promise.resolve(glpk);
}
