import fc from 'fast-check';
import { IncrementalAssignment, maxWeightMatching } from '../../../../domain/optimizer/assignment';
import { prng } from '../../../../testkit/optimizer-instances';

/** A random sparse bipartite graph in CSR form (rows = candidates, cols = slots). */
function randomGraph(seed: number, maxRows = 12, maxCols = 12, density = 0.4) {
  const rnd = prng(seed);
  const rows = 1 + Math.floor(rnd() * maxRows);
  const cols = 1 + Math.floor(rnd() * maxCols);
  const edgeColList: number[] = [];
  const weights: number[] = [];
  const rowStart = new Int32Array(rows + 1);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (rnd() < density) {
        edgeColList.push(j);
        weights.push(Math.round((rnd() * 100 - 20) * 10) / 10);
      }
    }
    // An occasional parallel edge (slot groups produce them).
    if (rnd() < 0.2 && cols > 0) {
      edgeColList.push(Math.floor(rnd() * cols));
      weights.push(Math.round(rnd() * 800) / 10);
    }
    rowStart[i + 1] = edgeColList.length;
  }
  return { rows, cols, rowStart, edgeCol: Int32Array.from(edgeColList), weights: Float64Array.from(weights), rnd };
}

/** Checks the matching is valid and certified optimal by the solver's duals; returns its value. */
function checkCertified(g: ReturnType<typeof randomGraph>, solver: IncrementalAssignment, weights: Float64Array): number {
  const usedCols = new Set<number>();
  let value = 0;
  let dualSum = 0;
  for (let i = 0; i < g.rows; i++) {
    const e = solver.edgeOfRow[i]!;
    dualSum += solver.rowDual(i);
    if (e < 0) {
      expect(solver.rowDual(i)).toBeCloseTo(0, 7); // unmatched row: dual 0
      continue;
    }
    expect(e).toBeGreaterThanOrEqual(g.rowStart[i]!);
    expect(e).toBeLessThan(g.rowStart[i + 1]!);
    expect(usedCols.has(g.edgeCol[e]!)).toBe(false);
    usedCols.add(g.edgeCol[e]!);
    value += weights[e]!;
  }
  for (let j = 0; j < g.cols; j++) {
    dualSum += solver.colDual(j);
    if (!usedCols.has(j)) expect(solver.colDual(j)).toBeCloseTo(0, 7);
  }
  // Dual feasibility: u_i + v_j >= w_e for every edge; with equal objective values this proves optimality.
  for (let i = 0; i < g.rows; i++) {
    for (let e = g.rowStart[i]!; e < g.rowStart[i + 1]!; e++) {
      expect(solver.rowDual(i) + solver.colDual(g.edgeCol[e]!) - weights[e]!).toBeGreaterThanOrEqual(-1e-7);
    }
  }
  expect(dualSum).toBeCloseTo(value, 6);
  return value;
}

describe('IncrementalAssignment (Hungarian method with re-solves)', () => {
  test('re-solving after weight changes is optimal and certified, like a solve from scratch', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const g = randomGraph(seed);
        const solver = new IncrementalAssignment(g.rows, g.cols, g.rowStart, g.edgeCol);
        solver.weight.set(g.weights);
        solver.solve();
        checkCertified(g, solver, g.weights);
        // Several rounds of changes: lower some weights (as side-constraint multipliers do), raise others.
        const weights = Float64Array.from(g.weights);
        for (let round = 0; round < 4; round++) {
          for (let e = 0; e < weights.length; e++) {
            const r = g.rnd();
            if (r < 0.3) weights[e] = weights[e]! - Math.round(g.rnd() * 300) / 10;
            else if (r < 0.4) weights[e] = weights[e]! + Math.round(g.rnd() * 200) / 10;
          }
          solver.weight.set(weights);
          solver.resolve();
          const value = checkCertified(g, solver, weights);
          const fresh = maxWeightMatching({ rows: g.rows, cols: g.cols, rowStart: g.rowStart, edgeCol: g.edgeCol, edgeWeight: weights });
          let freshValue = 0;
          fresh.edgeOfRow.forEach((e) => e >= 0 && (freshValue += weights[e]!));
          expect(value).toBeCloseTo(freshValue, 6);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('value() and the duals agree on a larger graph after many re-solves', () => {
    const g = randomGraph(42, 60, 150, 0.15);
    const solver = new IncrementalAssignment(g.rows, g.cols, g.rowStart, g.edgeCol);
    solver.weight.set(g.weights);
    solver.solve();
    const weights = Float64Array.from(g.weights);
    for (let round = 0; round < 20; round++) {
      for (let e = 0; e < weights.length; e++) if (g.rnd() < 0.1) weights[e] = g.weights[e]! - g.rnd() * 30;
      solver.weight.set(weights);
      solver.resolve();
      expect(solver.value()).toBeCloseTo(checkCertified(g, solver, weights), 6);
    }
  });
});
