/**
 * Protocol canary: the local durable backend speaks the Durable Functions extension's out-of-process
 * protocol to durable-functions 3.x and reads a little of the SDK's task table. If an upgrade of
 * durable-functions or @azure/functions changes any of it, this test fails and names what changed.
 * Read docs/local-host.md ("Durable protocol") before bumping the pins.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories and CommonJS fixtures */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { readFileSync } from 'node:fs';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { capturedFunctions } from '../../../local/host/core';
import { HistoryBuilder } from '../../../local/host/durable/history';
import { sdkExecutorOf, UPPER_SCHEMA_VERSION, type OrchestrationHandler } from '../../../local/host/durable/replay';

require('../../fixtures/localhost-app/orchestrations.js');
df.app.entity('fxCanaryEntity', (context) => context.df.return(1));

const T0 = '2026-03-01T09:00:00.000Z';
const versionOf = (pkg: string) => (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;

describe('durable protocol canary', () => {
  it('runs against the pinned SDK versions', () => {
    expect({ 'durable-functions': versionOf('durable-functions'), '@azure/functions': versionOf('@azure/functions') }).toEqual({
      'durable-functions': '3.5.0',
      '@azure/functions': '4.16.5',
    });
  });

  it('registers durable functions through @azure/functions-core with the extension trigger types', () => {
    expect(capturedFunctions.get('fxSequence')!.triggerType).toBe('orchestrationTrigger');
    expect(capturedFunctions.get('fxEcho')!.triggerType).toBe('activityTrigger');
    expect(capturedFunctions.get('fxCanaryEntity')!.triggerType).toBe('entityTrigger');
    expect(df.input.durableClient()).toMatchObject({ type: 'durableClient' });
  });

  it('answers the trigger input with an OrchestratorState in the V4 action schema', async () => {
    const handler = capturedFunctions.get('fxSequence')!.handler as OrchestrationHandler;
    const history = new HistoryBuilder(T0).start('fxSequence', { name: 'ann' }).events;
    const context = new InvocationContext({ functionName: 'fxSequence', invocationId: 'canary' });
    const state = await handler(
      {
        history,
        instanceId: 'canary-1',
        input: { name: 'ann' },
        isReplaying: false,
        upperSchemaVersion: UPPER_SCHEMA_VERSION,
        longRunningTimerIntervalDuration: '3.00:00:00',
        maximumShortTimerDuration: '6.00:00:00',
        defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
      },
      context,
    );
    expect(JSON.parse(JSON.stringify(state))).toEqual({
      isDone: false,
      actions: [[{ actionType: 0, functionName: 'fxEcho', input: '"ann"' }]],
      schemaVersion: 3,
    });
    // The SDK task table the replay driver reads to learn sequence ids.
    const executor = sdkExecutorOf(context);
    const open = Object.values(executor.openTasks) as unknown as { id: number; actionObj: { actionType: number; functionName: string } }[];
    expect(open.map((t) => ({ id: t.id, actionType: t.actionObj.actionType, functionName: t.actionObj.functionName }))).toEqual([
      { id: 0, actionType: 0, functionName: 'fxEcho' },
    ]);
  });

  it('reports orchestrator failures with $OutOfProcData$ and the error in the state', async () => {
    const handler = capturedFunctions.get('fxFails')!.handler as OrchestrationHandler;
    const h = new HistoryBuilder(T0).start('fxFails').taskScheduled(0, 'fxEcho').orchestratorCompleted().orchestratorStarted().taskCompleted(0, 1);
    const context = new InvocationContext({ functionName: 'fxFails', invocationId: 'canary' });
    const trigger = {
      history: h.events,
      instanceId: 'canary-2',
      isReplaying: true,
      upperSchemaVersion: UPPER_SCHEMA_VERSION,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '6.00:00:00',
    };
    const failure = await Promise.resolve(handler(trigger, context)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failure).toBeInstanceOf(Error);
    const [, data] = failure!.message.split('$OutOfProcData$:');
    expect(JSON.parse(data!)).toMatchObject({ isDone: false, error: 'orchestrator gave up: code FX.FAILED', schemaVersion: 3 });
  });

  it('numbers a retry: attempt, retry timer, next attempt', async () => {
    const handler = capturedFunctions.get('fxRetry')!.handler as OrchestrationHandler;
    const h = new HistoryBuilder(T0)
      .start('fxRetry')
      .taskScheduled(0, 'fxFlaky')
      .orchestratorCompleted()
      .orchestratorStarted()
      .taskFailed(0, 'e', 'd')
      .timerCreated(1, '2026-03-01T09:00:00.050Z')
      .orchestratorCompleted()
      .at('2026-03-01T09:00:00.050Z')
      .orchestratorStarted()
      .timerFired(1, '2026-03-01T09:00:00.050Z');
    const context = new InvocationContext({ functionName: 'fxRetry', invocationId: 'canary' });
    await handler(
      {
        history: h.events,
        instanceId: 'canary-3',
        input: { key: 'k', succeedOnAttempt: 2, maxAttempts: 3 },
        isReplaying: true,
        upperSchemaVersion: UPPER_SCHEMA_VERSION,
        longRunningTimerIntervalDuration: '3.00:00:00',
        maximumShortTimerDuration: '6.00:00:00',
      },
      context,
    );
    const ids = Object.values(sdkExecutorOf(context).openTasks).map((t) => t.id);
    expect(ids).toEqual([2]);
  });
});
