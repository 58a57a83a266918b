import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { optimizeAssignment } from '../../../../domain/optimizer';
import { HELD_OUT_CASES } from '../../../../testkit/optimizer-heldout';
import { glpkForJest } from './glpk-for-jest';

/** Reference optima of the held-out family (HiGHS, two-phase lexicographic MIP, gap 0), written by npm run bench:optimizer-heldout -- --write-fixtures. */
const fixtures = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'bench', 'fixtures', 'optimizer-heldout.json'), 'utf8')) as {
    cases: { label: string; pairs: number; mustPlaced: number; score: number }[];
  }
).cases;

beforeAll(async () => {
  await glpkForJest();
});

describe('held-out instances against a reference MIP solver', () => {
  // The small cases (the large ones run in the bench): absence day, must-place with negative scores, infeasible must-place.
  const small = ['absence day', 'negative scores', 'infeasible must-place'].map((text) => HELD_OUT_CASES.find((c) => c.label.includes(text))!);

  test.each(small.map((c) => [c.label, c] as const))('%s: the lexicographic optimum, proven', async (label, c) => {
    const fixture = fixtures.find((f) => f.label === label)!;
    // A clock that never advances: no time limit on a loaded machine, the answer depends on the instance only.
    const result = await optimizeAssignment(c.make(), { now: () => 0 });
    expect(result.stats.eligiblePairs).toBe(fixture.pairs);
    expect(result.mustPlace.placed).toBe(fixture.mustPlaced);
    expect(result.objective).toBeCloseTo(fixture.score, 2);
    const allPlaced = result.mustPlace.placed === result.mustPlace.total;
    expect(result.status).toBe(allPlaced ? 'optimal' : 'infeasible');
    expect(result.mustPlaceInfeasible).toBe(!allPlaced);
    expect(result.gap).toBe(0);
  });

  test('a mipGap answer is within the gap of the reference optimum, with a bound that holds', async () => {
    const c = HELD_OUT_CASES.find((x) => x.label.includes('negative scores'))!;
    const fixture = fixtures.find((f) => f.label === c.label)!;
    const result = await optimizeAssignment(c.make(), { now: () => 0, mipGap: 1e-3 });
    expect(result.mustPlace.placed).toBe(fixture.mustPlaced);
    expect(result.objective).toBeGreaterThanOrEqual(fixture.score - 1e-3 * Math.abs(fixture.score) - 1e-6);
    expect(result.bound!).toBeGreaterThanOrEqual(fixture.score - 1e-6);
  });
});
