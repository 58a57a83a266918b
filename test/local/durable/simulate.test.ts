/** The virtual-time orchestration simulator other tests use for orchestrator unit tests. */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories and CommonJS fixtures */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { capturedFunctions } from '../../../local/host/core';
import { capturedOrchestrator, simulateOrchestration } from '../../../local/host/durable/simulate';

require('../../fixtures/localhost-app/orchestrations.js');

const T0 = '2026-03-01T09:00:00.000Z';
const orch = (name: string) => capturedOrchestrator(name, capturedFunctions);

describe('simulateOrchestration', () => {
  it('lets a scripted event win against an hour-long timer, in virtual time', async () => {
    const r = await simulateOrchestration(
      orch('fxApproval'),
      { timeoutMs: 3_600_000 },
      {
        start: T0,
        events: [{ name: 'approve', data: { by: 'desk' }, at: 5 * 60_000 }],
      },
    );
    expect(r).toMatchObject({ status: 'completed', output: { approved: { by: 'desk' } }, now: '2026-03-01T09:05:00.000Z' });
  });

  it('fires the timer when no event comes', async () => {
    const r = await simulateOrchestration(orch('fxApproval'), { timeoutMs: 3_600_000 }, { start: T0 });
    expect(r).toMatchObject({ status: 'completed', output: { approved: false, timedOut: true }, now: '2026-03-01T10:00:00.000Z' });
  });

  it('stubs activities, applies retries and records the calls', async () => {
    let calls = 0;
    const r = await simulateOrchestration(
      orch('fxRetry'),
      { key: 'k', succeedOnAttempt: 2, maxAttempts: 3 },
      {
        start: T0,
        activities: {
          fxFlaky: () => {
            calls++;
            if (calls < 2) throw new Error('down');
            return { attempt: calls };
          },
        },
      },
    );
    expect(r.output).toEqual({ attempt: 2 });
    expect(r.activityCalls.map((c) => [c.name, c.at, c.attempt])).toEqual([
      ['fxFlaky', T0, 1],
      ['fxFlaky', '2026-03-01T09:00:00.050Z', 2],
    ]);
  });

  it('reports an orchestrator left waiting for an event', async () => {
    const r = await simulateOrchestration(orch('fxTwoEvents'), undefined, { start: T0, events: [{ name: 'first', data: 1, at: 0 }] });
    expect(r).toMatchObject({ status: 'waiting', waitingForEvents: ['second'] });
  });

  it('runs sub-orchestrations given by name', async () => {
    const r = await simulateOrchestration(orch('fxParent'), undefined, {
      start: T0,
      orchestrators: { fxSequence: orch('fxSequence') },
      activities: { fxEcho: (input) => ({ echoed: input }) },
    });
    expect(r.output).toEqual({ child: [{ echoed: '"child"' }, { echoed: { n: 2 } }] });
  });
});
