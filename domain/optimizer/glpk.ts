import type { GLPK } from 'glpk.js/node';

export type { GLPK, LP, Result } from 'glpk.js/node';

let loading: Promise<GLPK> | undefined;

/**
 * Loads glpk.js (the synchronous Node build, `glpk.js/node`) once per thread. The package is ESM-only;
 * Node 22 require()s it synchronously, which works from the CommonJS build. The plain `require` is what
 * the production bundle follows (glpk.js bundled, its WASM beside it); module loaders that cannot
 * require ESM (Jest's) fall back to Node's own `require`.
 */
export function loadGlpk(): Promise<GLPK> {
  if (!loading) {
    type GlpkModule = { default: () => Promise<GLPK> };
    let mod: GlpkModule;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require('glpk.js/node') as GlpkModule;
    } catch {
      const { createRequire } = process.getBuiltinModule('node:module');
      mod = createRequire(__filename)('glpk.js/node') as GlpkModule;
    }
    loading = mod.default();
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

/** Uses an already loaded glpk.js instance in this thread (for runtimes whose module loader cannot load it). */
export function provideGlpk(glpk: GLPK): void {
  loading = Promise.resolve(glpk);
}
