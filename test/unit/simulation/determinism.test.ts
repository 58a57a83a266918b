/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { OCCUPYING_STATUSES, type Appointment } from '../../../domain';
import { loadSimulatedApp } from '../../../simulation/app';
import { policySetups, simulateScenario, WorkerHeapError } from '../../../simulation/simulate';
import { SimulatedWorld } from '../../../simulation/world';
import { loadGlpkForJest, smallScenario } from './support';

/** A small random world (two providers, one week, every policy): the same seed gives the same numbers; nobody is double-booked. */

jest.setTimeout(120_000);
beforeAll(() => loadGlpkForJest(__filename));

describe('simulator determinism', () => {
  it('the same seed gives the same outcomes; another seed gives others', async () => {
    const first = await simulateScenario(smallScenario(3));
    const again = await simulateScenario(smallScenario(3));
    expect(first.policies.length).toBe(3);
    expect(again.policies).toEqual(first.policies);
    expect(again.comparison).toEqual(first.comparison);
    // The run did something worth comparing.
    expect(first.policies.every((p) => p.freedSlots > 0)).toBe(true);
    expect(first.policies.some((p) => p.refilledBeforeStart > 0)).toBe(true);
    const other = await simulateScenario(smallScenario(4));
    expect(other.policies).not.toEqual(first.policies);
  });
});

describe('policies in worker threads', () => {
  it('parallel: 2 gives the same outcomes as one policy after the other (each run depends only on scenario, seed and policy)', async () => {
    const sequential = await simulateScenario(smallScenario(3));
    const parallel = await simulateScenario(smallScenario(3), { parallel: 2 });
    expect(parallel.policies.map((p) => p.policy)).toEqual(['baseline', 'manualCallback', 'slotflow']);
    expect(parallel.policies).toEqual(sequential.policies);
    expect(parallel.comparison).toEqual(sequential.comparison);
    expect(Object.keys(parallel.runtime)).toEqual(Object.keys(sequential.runtime));
  });

  it('a policy whose heap does not fit its worker limit fails with a WorkerHeapError naming the policy and the limit, and the other workers stop', async () => {
    const failed = simulateScenario(smallScenario(3), { parallel: 2, workerHeapMb: 8 });
    await expect(failed).rejects.toBeInstanceOf(WorkerHeapError);
    await expect(failed).rejects.toThrow(/the (baseline|manualCallback|slotflow) policy ran out of its worker heap of 8 MB/);
  });
});

describe('simulated patients', () => {
  const overlaps = (a: Appointment, b: Appointment) => Date.parse(a.start) < Date.parse(b.end) && Date.parse(b.start) < Date.parse(a.end);

  it.each([1, 2, 5])(
    'seed %i: no patient ever holds two overlapping appointments, no slot holds two, and demand is the same under every policy',
    async (seed) => {
      const scenario = smallScenario(seed);
      const registry = loadSimulatedApp();
      let requests: string | undefined;
      for (const setup of policySetups(scenario)) {
        const world = new SimulatedWorld(scenario, setup, { registry, seed, weeks: 1 });
        const result = await world.run();
        const holding = result.appointments.filter((a) => OCCUPYING_STATUSES.has(a.status));
        const byPatient = new Map<string, Appointment[]>();
        for (const a of holding) byPatient.set(a.patientId, [...(byPatient.get(a.patientId) ?? []), a]);
        for (const list of byPatient.values()) {
          for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) expect(overlaps(list[i]!, list[j]!)).toBe(false);
        }
        const slots = holding.map((a) => a.slotId);
        expect(new Set(slots).size).toBe(slots.length);
        // Common random numbers: the same patients ask at the same moments whatever the policy.
        const asked = JSON.stringify(result.log.requests);
        requests ??= asked;
        expect(asked).toBe(requests);
        expect(result.runtime.failedInstances).toBe(0);
        expect(result.runtime.deadLettered).toBe(0);
      }
    },
  );
});
