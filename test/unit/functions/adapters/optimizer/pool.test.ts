import { ParallelSlotOptimizer } from '../../../../../functions/adapters/optimizer/pool';
import { optimizeAssignment, OptimizerInputError } from '../../../../../domain/optimizer';
import { generateInstance } from '../../../../../testkit/optimizer-instances';
import { glpkForJest } from '../../../domain/optimizer/glpk-for-jest';

// Runs the compiled helper worker from dist/ (brought up to date by the jest global setup); on this thread
// glpk.js comes from Node's own require (jest's module registry cannot load the ESM-only package), with its
// C API captured as loadGlpk() does in the worker, so both sides solve the same way (glpkForJest).
beforeAll(async () => {
  await glpkForJest();
});

describe('ParallelSlotOptimizer (components on two threads)', () => {
  const optimizer = new ParallelSlotOptimizer();
  afterAll(() => optimizer.close());

  test('gives the same answer as the single-threaded solver on a multi-component instance', async () => {
    // Four clinics with side constraints: several components, some through the LP.
    const instance = generateInstance({ candidates: 160, slots: 640, sideConstraints: true, seed: 41, slotsPerClinic: 160, mustPlaceShare: 0.1 });
    const parallel = await optimizer.assign(instance, { timeLimitMs: 20000 });
    const single = await optimizeAssignment(instance, { timeLimitMs: 20000 });
    expect(parallel.stats.components).toBeGreaterThan(2);
    expect(parallel.status).toBe(single.status);
    expect(parallel.objective).toBeCloseTo(single.objective, 6);
    expect(parallel.mustPlace).toEqual(single.mustPlace);
    expect(parallel.assignments.map((a) => `${a.candidateId}:${a.slotId}`).sort()).toEqual(
      single.assignments.map((a) => `${a.candidateId}:${a.slotId}`).sort(),
    );
  });

  test('invalid instances are rejected with the field named', async () => {
    await expect(optimizer.assign({ slots: [], candidates: [{ id: 'c1' }] } as never)).rejects.toThrow(OptimizerInputError);
  });

  test('a helper worker that cannot start leaves the whole solve to the calling thread', async () => {
    const broken = new ParallelSlotOptimizer({ workerScript: new URL('data:text/javascript,throw new Error("no helper")') });
    const instance = generateInstance({ candidates: 80, slots: 320, sideConstraints: true, seed: 42, slotsPerClinic: 160 });
    const result = await broken.assign(instance, { timeLimitMs: 20000 });
    await broken.close();
    const single = await optimizeAssignment(instance, { timeLimitMs: 20000 });
    expect(result.status).toBe('optimal');
    expect(result.objective).toBeCloseTo(single.objective, 6);
  });
});
