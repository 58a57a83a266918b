/**
 * Direct access to the GLPK C API inside glpk.js's WebAssembly instance, for LPs that live across solves.
 *
 * glpk.js builds a fresh problem from JSON for every solve() and deletes it afterwards, so a restricted LP
 * that gains a few hundred columns is solved from scratch each round. GLPK itself keeps the basis of a
 * problem object: columns added with glp_add_cols are non-basic at their lower bound, glp_load_matrix
 * only invalidates the factorization, and glp_simplex (presolve off) restarts the primal simplex from the
 * previous optimal basis. The functions are exported by glpk.js's WASM (its Makefile's EXPORTED_FUNCTIONS),
 * but its Node build does not hand out the emscripten module, so the instance is captured while glpk.js
 * creates it (WebAssembly.Module/Instance wrapped for the duration of the load) and recognised by the
 * SHA-256 of its bytes: the export names below are the minified ones of exactly that binary (glpk.js
 * 5.0.0). Any other binary is not used (callers then fall back to glpk.js's solve()).
 */

/** The GLPK calls used by the incremental restricted LP (1-based rows and columns, like GLPK). */
export interface GlpkWasm {
  createProb(): number;
  deleteProb(p: number): void;
  setObjDir(p: number, dir: number): void;
  addRows(p: number, count: number): number;
  addCols(p: number, count: number): number;
  setRowBnds(p: number, i: number, type: number, lb: number, ub: number): void;
  setColBnds(p: number, j: number, type: number, lb: number, ub: number): void;
  setObjCoef(p: number, j: number, coef: number): void;
  /** Replaces the constraint matrix: ne elements (ia, ja, ar 1-based, index 0 unused). */
  loadMatrix(p: number, ne: number, ia: Int32Array, ja: Int32Array, ar: Float64Array): void;
  /** glp_simplex with msg_lev, tm_lim (ms) and presolve; returns GLPK's return code (0 = solved). */
  simplex(p: number, msgLev: number, tmLimMs: number, presolve: number): number;
  getStatus(p: number): number;
  getObjVal(p: number): number;
  getRowDual(p: number, i: number): number;
  getColPrim(p: number, j: number): number;
  version(): string;
}

/** SHA-256 of glpk.js 5.0.0's dist/glpk.wasm. */
export const GLPK_WASM_SHA256 = 'acf09a204bbed381fd00fe57a3d4f8337986f28245daba5e977831ba1fc090ca';

/** Export names of that binary (from the emscripten glue of glpk.js 5.0.0: `Module._glp_simplex = exports.I`, ...). */
const EXPORTS = {
  createProb: 'o',
  setObjDir: 'q',
  addRows: 'r',
  addCols: 's',
  setRowBnds: 'v',
  setColBnds: 'w',
  setObjCoef: 'x',
  loadMatrix: 'y',
  deleteProb: 'A',
  getStatus: 'J',
  getObjVal: 'K',
  getRowDual: 'M',
  getColPrim: 'N',
  version: 'V',
  malloc: 'X',
  free: 'Y',
  solveLp: '_',
  memory: 'l',
} as const;

type Fn = (...args: number[]) => number;

/** The parts of the WebAssembly namespace used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmExports = Record<string, unknown>;
interface WasmInstance {
  readonly exports: WasmExports;
}
type Constructor = new (...args: never[]) => object;
export interface WasmNamespace {
  Module: Constructor;
  Instance: Constructor;
}

function sha256(bytes: Uint8Array): string {
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bytes of a BufferSource (also from another realm, where instanceof fails). */
function bytesOf(source: unknown): Uint8Array | undefined {
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (Object.prototype.toString.call(source) === '[object ArrayBuffer]') return new Uint8Array(source as ArrayBuffer);
  return undefined;
}

function wrap(exports: WasmExports): GlpkWasm | undefined {
  const fn = (name: string): Fn | undefined => (typeof exports[name] === 'function' ? (exports[name] as Fn) : undefined);
  const memory = exports[EXPORTS.memory];
  if (typeof memory !== 'object' || memory === null || !('buffer' in memory)) return undefined;
  const mem = memory as WasmMemory;
  const f: Record<keyof typeof EXPORTS, Fn | undefined> = {} as Record<keyof typeof EXPORTS, Fn | undefined>;
  for (const [key, name] of Object.entries(EXPORTS)) if (key !== 'memory') f[key as keyof typeof EXPORTS] = fn(name);
  for (const [key, value] of Object.entries(f)) if (key !== 'memory' && !value) return undefined;
  const call = f as Record<Exclude<keyof typeof EXPORTS, 'memory'>, Fn>;
  const copyIn = (data: Int32Array | Float64Array): number => {
    const ptr = call.malloc(data.byteLength);
    // The buffer may have grown (and been replaced) by malloc: view it afterwards.
    new Uint8Array(mem.buffer, ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return ptr;
  };
  const api: GlpkWasm = {
    createProb: () => call.createProb(),
    deleteProb: (p) => void call.deleteProb(p),
    setObjDir: (p, dir) => void call.setObjDir(p, dir),
    addRows: (p, count) => call.addRows(p, count),
    addCols: (p, count) => call.addCols(p, count),
    setRowBnds: (p, i, type, lb, ub) => void call.setRowBnds(p, i, type, lb, ub),
    setColBnds: (p, j, type, lb, ub) => void call.setColBnds(p, j, type, lb, ub),
    setObjCoef: (p, j, coef) => void call.setObjCoef(p, j, coef),
    loadMatrix: (p, ne, ia, ja, ar) => {
      const pi = copyIn(ia);
      const pj = copyIn(ja);
      const pa = copyIn(ar);
      try {
        call.loadMatrix(p, ne, pi, pj, pa);
      } finally {
        call.free(pi);
        call.free(pj);
        call.free(pa);
      }
    },
    simplex: (p, msgLev, tmLimMs, presolve) => call.solveLp(p, msgLev, tmLimMs, presolve),
    getStatus: (p) => call.getStatus(p),
    getObjVal: (p) => call.getObjVal(p),
    getRowDual: (p, i) => call.getRowDual(p, i),
    getColPrim: (p, j) => call.getColPrim(p, j),
    version: () => {
      const ptr = call.version();
      const bytes = new Uint8Array(mem.buffer);
      let end = ptr;
      while (end < bytes.length && bytes[end] !== 0 && end - ptr < 32) end++;
      return new TextDecoder().decode(bytes.subarray(ptr, end));
    },
  };
  return api;
}

/**
 * Runs load() (which instantiates glpk.js) with the given WebAssembly namespace wrapped, and returns what
 * it resolves to together with the GLPK API of the instance it created, when that is the known binary and
 * answers with GLPK 5.0. `wasm` is the namespace of the realm glpk.js runs in (a test sandbox has its own).
 */
export async function loadCapturingGlpkWasm<T>(
  load: () => Promise<T>,
  wasm: WasmNamespace = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly,
): Promise<{ value: T; api?: GlpkWasm }> {
  const OriginalModule = wasm.Module;
  const OriginalInstance = wasm.Instance;
  const known = new WeakSet<object>();
  let captured: WasmInstance | undefined;
  const ModuleProxy = new Proxy(OriginalModule, {
    construct(target, args: unknown[], newTarget) {
      const module = Reflect.construct(target, args, newTarget === ModuleProxy ? target : newTarget) as object;
      const bytes = bytesOf(args[0]);
      if (bytes && sha256(bytes) === GLPK_WASM_SHA256) known.add(module);
      return module;
    },
  });
  const InstanceProxy = new Proxy(OriginalInstance, {
    construct(target, args: unknown[], newTarget) {
      const instance = Reflect.construct(target, args, newTarget === InstanceProxy ? target : newTarget) as WasmInstance;
      if (!captured && typeof args[0] === 'object' && args[0] !== null && known.has(args[0])) captured = instance;
      return instance;
    },
  });
  wasm.Module = ModuleProxy;
  wasm.Instance = InstanceProxy;
  let value: T;
  try {
    value = await load();
  } finally {
    wasm.Module = OriginalModule;
    wasm.Instance = OriginalInstance;
  }
  if (!captured) return { value };
  try {
    const api = wrap(captured.exports);
    return api && api.version().startsWith('5.') ? { value, api } : { value };
  } catch {
    return { value };
  }
}
