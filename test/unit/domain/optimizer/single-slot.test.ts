import fc from 'fast-check';
import { optimizeAssignment, parseInstance, type OptimizationInstance } from '../../../../domain/optimizer';
import { singleSlotPickOrder } from '../../../../domain/optimizer/single-slot';
import { glpkForJest } from './glpk-for-jest';

beforeAll(async () => {
  await glpkForJest();
});

/** What ranking did before the shortcut: solve, take the winner out, solve again. */
async function repeatedSolves(instance: OptimizationInstance, limit: number): Promise<string[]> {
  const remaining = [...instance.candidates];
  const out: string[] = [];
  while (out.length < limit && remaining.length > 0) {
    const result = await optimizeAssignment({ ...instance, candidates: remaining }, { timeLimitMs: 5000 });
    const winner = result.assignments[0]?.candidateId;
    if (!winner) break;
    out.push(winner);
    remaining.splice(
      remaining.findIndex((c) => c.id === winner),
      1,
    );
  }
  return out;
}

const slotStart = '2026-03-10T14:00:00Z';
// Few distinct values, so that ties (equal scores) are common and the tie order is exercised.
const candidate = fc.record({
  appointmentType: fc.constantFrom('FU', 'FU', 'FU', 'FU', 'NP'),
  urgency: fc.constantFrom('routine', 'soon', 'urgent', 10),
  daysWaiting: fc.constantFrom(0, 30, 200),
  providerIds: fc.constantFrom(undefined, undefined, ['p1'], ['p2'], ['p1', 'p2']),
  timeOfDay: fc.constantFrom(undefined, 'morning', 'afternoon'),
  noShowRisk: fc.constantFrom(undefined, 0.5, 1),
  currentStart: fc.constantFrom(undefined, undefined, '2026-03-09T14:00:00Z', '2026-03-20T14:00:00Z'),
  earliest: fc.constantFrom(undefined, undefined, undefined, '2026-03-11T00:00:00Z'),
  mustPlace: fc.constantFrom(undefined, undefined, undefined, true),
  preferredProviderId: fc.constantFrom(undefined, 'p1'),
});

type GeneratedCandidate = typeof candidate extends fc.Arbitrary<infer T> ? T : never;

function instanceOf(cands: GeneratedCandidate[], weights?: Record<string, number>): OptimizationInstance {
  return {
    timeZone: 'America/New_York',
    slots: [{ id: 's1', providerId: 'p1', start: slotStart, end: '2026-03-10T14:30:00Z', appointmentType: 'FU' }],
    candidates: cands.map((c, i) => {
      const out: Record<string, unknown> = { id: `c${i}`, appointmentType: c.appointmentType, urgency: c.urgency, daysWaiting: c.daysWaiting };
      for (const k of ['providerIds', 'timeOfDay', 'noShowRisk', 'currentStart', 'earliest', 'mustPlace', 'preferredProviderId'] as const)
        if (c[k] !== undefined) out[k] = c[k];
      return out as OptimizationInstance['candidates'][number];
    }),
    ...(weights ? { weights } : {}),
  };
}

describe('singleSlotPickOrder', () => {
  test('gives the same picks, in the same order, as repeated solves without the winner', async () => {
    let multiplePicks = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(candidate, { minLength: 1, maxLength: 30, size: 'large' }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        async (cands, limit, heavyRisk) => {
          // A heavy no-show weight leaves risky candidates without a positive score (no pair).
          const instance = instanceOf(cands, heavyRisk ? { noShowRisk: 200 } : undefined);
          const picks = await repeatedSolves(instance, limit);
          if (picks.length > 1) multiplePicks++;
          expect(singleSlotPickOrder(parseInstance(instance), limit)).toEqual(picks);
        },
      ),
      { numRuns: 150, seed: 16 },
    );
    // Not vacuous: most instances have several picks (and, with few distinct values, tied scores).
    expect(multiplePicks).toBeGreaterThan(75);
  });

  test('does not apply to more than one slot or to side constraints', () => {
    const one = instanceOf([{ appointmentType: 'FU', urgency: 'soon', daysWaiting: 3 } as never]);
    expect(singleSlotPickOrder(parseInstance({ ...one, slots: [...one.slots, { ...one.slots[0]!, id: 's2' }] }), 10)).toBeUndefined();
    const capped = parseInstance({
      ...one,
      candidates: [{ ...one.candidates[0]!, urgency: 'urgent' }],
      constraints: { providerDayCaps: [{ kind: 'urgent', max: 0 }] },
    });
    expect(singleSlotPickOrder(capped, 10)).toBeUndefined();
  });
});
