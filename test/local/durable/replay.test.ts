/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories and CommonJS fixtures */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { capturedFunctions } from '../../../local/host/core';
import { HistoryBuilder } from '../../../local/host/durable/history';
import { runEpisode, type OrchestrationHandler } from '../../../local/host/durable/replay';

require('../../fixtures/localhost-app/orchestrations');

const T0 = '2026-03-01T09:00:00.000Z';
const handler = (name: string): OrchestrationHandler => capturedFunctions.get(name)!.handler as OrchestrationHandler;

describe('replay driver', () => {
  it('captures df.app registrations through the functions-core stand-in', () => {
    const seq = capturedFunctions.get('fxSequence')!;
    expect(seq.triggerType).toBe('orchestrationTrigger');
    expect(capturedFunctions.get('fxEcho')!.triggerType).toBe('activityTrigger');
  });

  it('schedules the first activity, then the second after the first completes', async () => {
    const h = new HistoryBuilder(T0).start('fxSequence', { name: 'ann' });
    const first = await runEpisode(handler('fxSequence'), { instanceId: 'i1', history: h.events, input: { name: 'ann' } });
    expect(first.status).toBe('running');
    expect(first.newWork).toEqual([{ kind: 'activity', id: 0, name: 'fxEcho', input: '"ann"', attempt: 1 }]);

    h.taskScheduled(0, 'fxEcho').orchestratorCompleted().orchestratorStarted().taskCompleted(0, { echoed: 'ann' });
    const second = await runEpisode(handler('fxSequence'), { instanceId: 'i1', history: h.events, input: { name: 'ann' } });
    expect(second.newWork).toEqual([{ kind: 'activity', id: 1, name: 'fxEcho', input: { n: 2 }, attempt: 1 }]);

    h.taskScheduled(1, 'fxEcho')
      .orchestratorCompleted()
      .orchestratorStarted()
      .taskCompleted(1, { echoed: { n: 2 } });
    const done = await runEpisode(handler('fxSequence'), { instanceId: 'i1', history: h.events, input: { name: 'ann' } });
    expect(done.status).toBe('completed');
    expect(done.output).toEqual([{ echoed: 'ann' }, { echoed: { n: 2 } }]);
    expect(done.customStatus).toEqual({ step: 'done' });
  });

  it('numbers retry timers and attempts as the extension does', async () => {
    const h = new HistoryBuilder(T0).start('fxRetry');
    const input = { key: 'k', succeedOnAttempt: 3, maxAttempts: 3 };
    const e1 = await runEpisode(handler('fxRetry'), { instanceId: 'r', history: h.events, input });
    expect(e1.newWork).toMatchObject([{ kind: 'activity', id: 0, name: 'fxFlaky', retry: { maxNumberOfAttempts: 3 } }]);
    h.taskScheduled(0, 'fxFlaky').orchestratorCompleted().orchestratorStarted().taskFailed(0, 'boom', 'stack');
    const e2 = await runEpisode(handler('fxRetry'), { instanceId: 'r', history: h.events, input });
    expect(e2.newWork).toEqual([{ kind: 'timer', id: 1, fireAt: '2026-03-01T09:00:00.050Z' }]);
  });

  it('answers the same over events it has replayed before as over fresh copies, and leaves the history as it was', async () => {
    const h = new HistoryBuilder(T0).start('fxSequence', { name: 'ann' });
    const episode = (events: typeof h.events) => runEpisode(handler('fxSequence'), { instanceId: 'i2', history: events, input: { name: 'ann' } });
    const fresh = () => h.events.map((e) => ({ ...e }));
    const results: unknown[][] = [];
    results.push([await episode(h.events), await episode(fresh())]);
    h.taskScheduled(0, 'fxEcho').orchestratorCompleted().orchestratorStarted().taskCompleted(0, { echoed: 'ann' });
    results.push([await episode(h.events), await episode(h.events), await episode(fresh())]);
    h.taskScheduled(1, 'fxEcho')
      .orchestratorCompleted()
      .orchestratorStarted()
      .taskCompleted(1, { echoed: { n: 2 } });
    results.push([await episode(h.events), await episode(h.events), await episode(fresh())]);
    for (const same of results) for (const r of same) expect(r).toEqual(same[0]);
    expect(results[2]![0]).toMatchObject({ status: 'completed' });
    expect(h.events.every((e) => typeof e.Timestamp === 'string' && e.IsPlayed === false)).toBe(true);
  });
});
