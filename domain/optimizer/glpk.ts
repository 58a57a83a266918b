import type { GLPK } from 'glpk.js/node';
import { loadCapturingGlpkWasm, type GlpkWasm } from './glpk-wasm';

export type { GLPK, LP, Result } from 'glpk.js/node';

let loading: Promise<GLPK> | undefined;
/** The GLPK C API of each loaded glpk.js instance, when it could be captured (see glpk-wasm.ts). */
const wasmOf = new WeakMap<GLPK, GlpkWasm>();

/**
 * Loads glpk.js (the synchronous Node build, `glpk.js/node`) once per thread. The package is ESM-only;
 * Node 22 require()s it synchronously, which works from the CommonJS build. The plain `require` is what
 * the production bundle follows (glpk.js bundled, its WASM beside it); module loaders that cannot
 * require ESM (Jest's) fall back to Node's own `require`. The instance's C API is captured on the way
 * (incremental restricted LPs); without it the solver uses glpk.js's solve() only.
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
    loading = loadCapturingGlpkWasm(() => mod.default()).then(({ value, api }) => {
      if (api) wasmOf.set(value, api);
      return value;
    });
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

/**
 * Uses an already loaded glpk.js instance in this thread (for runtimes whose module loader cannot load it),
 * with its C API when the caller captured it (loadCapturingGlpkWasm).
 */
export function provideGlpk(glpk: GLPK, api?: GlpkWasm): void {
  if (api) wasmOf.set(glpk, api);
  loading = Promise.resolve(glpk);
}

/** The GLPK C API of this glpk.js instance, if captured. */
export function glpkWasmOf(glpk: GLPK): GlpkWasm | undefined {
  return wasmOf.get(glpk);
}
