import type { GLPK } from 'glpk.js/node';
import { buildModel, decompose, loadCapturingGlpkWasm, optimizeAssignment, parseInstance, provideGlpk } from '../../../../domain/optimizer';
import { prepareComponent } from '../../../../domain/optimizer/component-problem';
import { GLPK_WASM_SHA256, type WasmNamespace } from '../../../../domain/optimizer/glpk-wasm';
import { ColdRestrictedLp, IncrementalRestrictedLp, RestrictedColumns, RestrictedLpBuilder } from '../../../../domain/optimizer/restricted-lp';
import { generateInstance, prng } from '../../../../testkit/optimizer-instances';
import { HELD_OUT_CASES } from '../../../../testkit/optimizer-heldout';
import { glpkForJest, glpkWasmForJest } from './glpk-for-jest';

let glpk: GLPK;
beforeAll(async () => {
  glpk = await glpkForJest();
});

describe('glpk C API capture', () => {
  test('the captured instance answers as GLPK 5.0', () => {
    expect(glpkWasmForJest(glpk).version()).toMatch(/^5\./);
  });

  test('nothing is captured when the load creates no known WASM binary, and the namespace is restored', async () => {
    const NodeFunction = Object.getPrototypeOf(process.hrtime).constructor as FunctionConstructor;
    const outer = new NodeFunction('return WebAssembly')() as WasmNamespace & { Module: new (b: Uint8Array) => object; Instance: new (m: object) => object };
    const { Module, Instance } = outer;
    // The smallest valid module: magic and version, no sections.
    const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    const res = await loadCapturingGlpkWasm(async () => new outer.Instance(new outer.Module(empty)), outer);
    expect(res.api).toBeUndefined();
    expect(res.value).toBeInstanceOf(Instance);
    expect(outer.Module).toBe(Module);
    expect(outer.Instance).toBe(Instance);
    expect(GLPK_WASM_SHA256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('incremental restricted LP', () => {
  test('columns added in rounds give the same LP optimum as a fresh solve each round, restarting from the basis', () => {
    const api = glpkWasmForJest(glpk);
    for (const seed of [3, 8, 13]) {
      const model = buildModel(parseInstance(generateInstance({ candidates: 120, slots: 400, sideConstraints: true, seed, slotsPerClinic: 400 })));
      const comp = [...decompose(model)].sort((a, b) => b.pairs.length - a.pairs.length)[0]!;
      const problem = prepareComponent(model, comp);
      const builder = new RestrictedLpBuilder(problem, glpk);
      const cold = new ColdRestrictedLp(problem, glpk, builder);
      const inc = new IncrementalRestrictedLp(problem, api, () => cold);
      const columns = new RestrictedColumns(problem.n);
      const rnd = prng(seed);
      const order = Array.from({ length: problem.n }, (_, j) => j).sort(() => rnd() - 0.5);
      try {
        for (const share of [0.2, 0.5, 1]) {
          for (const j of order.slice(0, Math.round(share * problem.n))) columns.add(j);
          const a = inc.solve(columns, 30)!;
          const b = cold.solve(columns, 30)!;
          const value = (x: Float64Array): number => columns.list.reduce((acc, j) => acc + problem.w[j]! * x[j]!, 0);
          expect(Math.abs(value(a.x) - value(b.x))).toBeLessThan(1e-6 * Math.max(1, Math.abs(value(b.x))));
          // Feasible for the rows, and nothing outside the model.
          for (let j = 0; j < problem.n; j++) if (!columns.has[j]) expect(a.x[j]).toBe(0);
          const perCand = new Float64Array(problem.nc);
          for (const j of columns.list) perCand[problem.jc[j]!]! += a.x[j]!;
          for (const total of perCand) expect(total).toBeLessThanOrEqual(1 + 1e-9);
          // Strong duality: the duals price the restricted LP at its optimum.
          let dualValue = 0;
          for (const u of a.u) dualValue += u;
          for (const v of a.v) dualValue += v;
          a.lam.forEach((l, k) => (dualValue += l * problem.kCap[k]!));
          expect(Math.abs(dualValue - value(a.x))).toBeLessThan(1e-6 * Math.max(1, Math.abs(value(a.x))));
        }
        expect(inc.warmSolves).toBe(2);
      } finally {
        inc.dispose();
      }
    }
  });
});

describe('answers with and without the C API', () => {
  test('the same status and objective on side-constrained and held-out instances', async () => {
    const coldOnly: GLPK = { ...glpk };
    const instances = [
      generateInstance({ candidates: 150, slots: 500, sideConstraints: true, seed: 31, slotsPerClinic: 250 }),
      generateInstance({ candidates: 200, slots: 600, sideConstraints: true, seed: 32, slotsPerClinic: 600, mustPlaceShare: 0.2 }),
      ...HELD_OUT_CASES.filter((c) => c.small).map((c) => c.make()),
    ];
    try {
      for (const instance of instances) {
        provideGlpk(glpk);
        const warm = await optimizeAssignment(instance, { timeLimitMs: 60_000 });
        provideGlpk(coldOnly);
        const cold = await optimizeAssignment(instance, { timeLimitMs: 60_000 });
        expect({ status: warm.status, objective: warm.objective, placed: warm.mustPlace.placed }).toEqual({
          status: cold.status,
          objective: cold.objective,
          placed: cold.mustPlace.placed,
        });
      }
    } finally {
      provideGlpk(glpk);
    }
  });
});
