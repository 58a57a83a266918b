import type { GLPK } from 'glpk.js/node';
import { glpkWasmOf, loadCapturingGlpkWasm, provideGlpk, type GlpkWasm } from '../../../../domain/optimizer';
import type { WasmNamespace } from '../../../../domain/optimizer/glpk-wasm';

/**
 * jest's module registry cannot load the ESM-only glpk.js on Node 22; Node's own require, taken from outside
 * the test sandbox, loads it, and the domain then uses that instance (as in optimizer.test.ts). Its C API is
 * captured as loadGlpk() does in production, with the WebAssembly namespace of the realm glpk.js runs in
 * (outside the sandbox), so the tests exercise the incremental restricted LP.
 */
export async function glpkForJest(): Promise<GLPK> {
  const NodeFunction = Object.getPrototypeOf(process.hrtime).constructor as FunctionConstructor;
  const nodeRequire = new NodeFunction('file', "return process.getBuiltinModule('node:module').createRequire(file)")(__filename) as NodeJS.Require;
  const outerWasm = new NodeFunction('return WebAssembly')() as WasmNamespace;
  const { value: glpk, api } = await loadCapturingGlpkWasm(() => (nodeRequire('glpk.js/node') as { default: () => Promise<GLPK> }).default(), outerWasm);
  if (!api) throw new Error('glpk.js C API not captured (glpk.js is not the 5.0.0 build?)');
  provideGlpk(glpk, api);
  return glpk;
}

/** The captured C API of the instance glpkForJest() provided. */
export function glpkWasmForJest(glpk: GLPK): GlpkWasm {
  const api = glpkWasmOf(glpk);
  if (!api) throw new Error('no C API for this glpk instance');
  return api;
}
