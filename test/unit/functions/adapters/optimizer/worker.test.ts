import { WorkerThreadSlotOptimizer } from '../../../../../functions/adapters/optimizer/worker';
import { OptimizerInputError } from '../../../../../domain/optimizer';
import { generateInstance } from '../../../../../testkit/optimizer-instances';

// Runs the compiled worker entry from dist/ (brought up to date by the jest global setup).
describe('WorkerThreadSlotOptimizer', () => {
  const optimizer = new WorkerThreadSlotOptimizer();
  afterAll(() => optimizer.close());

  test('solves in a worker thread without blocking the event loop', async () => {
    const instance = generateInstance({ candidates: 100, slots: 400, sideConstraints: true, seed: 21, slotsPerClinic: 400 });
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    const started = performance.now();
    const result = await optimizer.assign(instance, { timeLimitMs: 20000 });
    const elapsed = performance.now() - started;
    clearInterval(interval);
    expect(result.status).toBe('optimal');
    expect(result.assignments.length).toBeGreaterThan(50);
    // The main thread kept running timers while the worker solved.
    if (elapsed > 100) expect(ticks).toBeGreaterThan(2);
  });

  test('recycles the worker after a big job and keeps answering', async () => {
    const big = generateInstance({ candidates: 100, slots: 400, sideConstraints: false, seed: 22, slotsPerClinic: 400 });
    const recycling = new WorkerThreadSlotOptimizer({ recycleAfterPairs: 3000 });
    const first = await recycling.assign(big);
    expect(first.stats.eligiblePairs).toBeGreaterThan(3000);
    const second = await recycling.assign(big);
    await recycling.close();
    expect(second.objective).toBe(first.objective);
    expect(second.status).toBe('optimal');
    expect(recycling.workersStarted).toBe(2);
  });

  test('invalid instances are rejected with the field named', async () => {
    await expect(optimizer.assign({ slots: [], candidates: [{ id: 'c1' }] } as never)).rejects.toThrow(OptimizerInputError);
    await expect(optimizer.assign({ slots: [], candidates: [{ id: 'c1' }] } as never)).rejects.toThrow(/candidates\[0\]\.appointmentType/);
  });

  test('a worker that overruns its time limit is replaced and the greedy result returned as such', async () => {
    // A worker that never answers stands in for a solve stuck in synchronous WASM.
    const stuck = new WorkerThreadSlotOptimizer({
      workerScript: new URL('data:text/javascript,require("node:worker_threads").parentPort.on("message",()=>{})'),
      graceMs: 20,
    });
    const instance = generateInstance({ candidates: 20, slots: 80, sideConstraints: true, seed: 23, slotsPerClinic: 80 });
    const result = await stuck.assign(instance, { timeLimitMs: 30 });
    await stuck.close();
    expect(result.status).toBe('greedy-fallback');
    expect(result.method).toBe('greedy');
    expect(result.assignments.length).toBeGreaterThan(0);
  });
});
