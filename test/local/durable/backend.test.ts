/**
 * The local durable backend driving the real durable-functions replay of the fixture
 * orchestrations: activities, retries, fan-out, timers, events (early and late), sub-orchestrations,
 * continueAsNew, failure, terminate, and resuming from persisted histories.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories and CommonJS fixtures */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capturedFunctions } from '../../../local/host/core';
import { DurableBackend, InstanceExistsError } from '../../../local/host/durable/backend';
import { EventType } from '../../../local/host/durable/history';
import { FileInstanceStore, MemoryInstanceStore } from '../../../local/host/durable/store';

require('../../fixtures/localhost-app/orchestrations.js');

const quiet = () => undefined;
let backend: DurableBackend;

beforeEach(() => {
  backend = new DurableBackend({ registry: capturedFunctions, store: new MemoryInstanceStore(), logger: quiet });
  backend.start();
});
afterEach(() => backend.stop());

describe('local durable backend', () => {
  it('runs activities in sequence and keeps a well-formed history', async () => {
    backend.startNew('fxSequence', { instanceId: 's1', input: { name: 'bo' } });
    const s = await backend.waitFor('s1');
    expect(s).toMatchObject({ runtimeStatus: 'Completed', output: [{ echoed: '"bo"' }, { echoed: { n: 2 } }], customStatus: { step: 'done' } });
    const types = backend.getStatus('s1', { showHistory: true })!.historyEvents!.map((e) => e.EventType);
    expect(types).toEqual([
      EventType.OrchestratorStarted,
      EventType.ExecutionStarted,
      EventType.TaskScheduled,
      EventType.OrchestratorCompleted,
      EventType.OrchestratorStarted,
      EventType.TaskCompleted,
      EventType.TaskScheduled,
      EventType.OrchestratorCompleted,
      EventType.OrchestratorStarted,
      EventType.TaskCompleted,
      EventType.OrchestratorCompleted,
      EventType.ExecutionCompleted,
    ]);
  });

  it('fans out and in with Task.all', async () => {
    backend.startNew('fxFanOut', { instanceId: 'f1', input: { n: 12 } });
    expect((await backend.waitFor('f1')).output).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('retries a failing activity with its retry options until it succeeds', async () => {
    backend.startNew('fxRetry', { instanceId: 'r1', input: { key: 'r1', succeedOnAttempt: 3, maxAttempts: 5 } });
    expect((await backend.waitFor('r1')).output).toEqual({ attempt: 3 });
  });

  it('gives up after maxNumberOfAttempts and surfaces the activity error to the orchestrator', async () => {
    backend.startNew('fxRetry', { instanceId: 'r2', input: { key: 'r2', succeedOnAttempt: 99, maxAttempts: 2 } });
    const s = await backend.waitFor('r2');
    expect(s.runtimeStatus).toBe('Completed');
    expect((s.output as { failed: string }).failed).toContain('flaky attempt 2 failed');
  });

  it('buffers an event raised before the orchestrator waits for it', async () => {
    backend.startNew('fxTwoEvents', { instanceId: 'e1' });
    await backend.waitFor('e1', ['Running']);
    backend.raiseEvent('e1', 'second', JSON.stringify('B'));
    await backend.whenIdle();
    expect(backend.getStatus('e1')!.runtimeStatus).toBe('Running');
    backend.raiseEvent('e1', 'first', JSON.stringify('A'));
    expect((await backend.waitFor('e1')).output).toEqual(['A', 'B']);
  });

  it('fires a durable timer when no event comes (Task.any)', async () => {
    backend.startNew('fxApproval', { instanceId: 't1', input: { timeoutMs: 100 } });
    expect((await backend.waitFor('t1')).output).toEqual({ approved: false, timedOut: true });
  });

  it('runs a sub-orchestration and returns its output to the parent', async () => {
    backend.startNew('fxParent', { instanceId: 'p1' });
    const s = await backend.waitFor('p1');
    expect(s.output).toEqual({ child: [{ echoed: '"child"' }, { echoed: { n: 2 } }] });
    expect(backend.getStatus('p1-child')!.runtimeStatus).toBe('Completed');
  });

  it('continues as new with a fresh history', async () => {
    backend.startNew('fxCounter', { instanceId: 'c1', input: { count: 0, until: 4 } });
    const s = await backend.waitFor('c1');
    expect(s.output).toBe(4);
    expect(backend.getStatus('c1', { showHistory: true })!.historyEvents!.length).toBeLessThan(6);
  });

  it('records an orchestrator failure with its message', async () => {
    backend.startNew('fxFails', { instanceId: 'x1' });
    const s = await backend.waitFor('x1');
    expect(s.runtimeStatus).toBe('Failed');
    expect(String(s.output)).toContain('FX.FAILED');
  });

  it('refuses to start a second running instance with the same id but restarts a finished one', async () => {
    backend.startNew('fxTwoEvents', { instanceId: 'd1' });
    expect(() => backend.startNew('fxTwoEvents', { instanceId: 'd1' })).toThrow(InstanceExistsError);
    backend.terminate('d1', 'test');
    await backend.waitFor('d1');
    backend.startNew('fxSequence', { instanceId: 'd1', input: { name: 'again' } });
    expect((await backend.waitFor('d1')).runtimeStatus).toBe('Completed');
  });
});

describe('activity concurrency', () => {
  it('runs at most maxConcurrentActivities activities at once', async () => {
    const limited = new DurableBackend({ registry: capturedFunctions, store: new MemoryInstanceStore(), logger: quiet, maxConcurrentActivities: 3 });
    limited.start();
    try {
      limited.startNew('fxFanOutSlow', { instanceId: 'conc-1', input: { n: 12 } });
      expect((await limited.waitFor('conc-1')).output).toBe(12);
      const { concurrency } = require('../../fixtures/localhost-app/orchestrations.js') as { concurrency: { max: number } };
      expect(concurrency.max).toBe(3);
    } finally {
      await limited.stop();
    }
  });
});

describe('persistence', () => {
  it('resumes a waiting instance from its persisted history after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slotflow-durable-'));
    try {
      const first = new DurableBackend({ registry: capturedFunctions, store: new FileInstanceStore(dir), logger: quiet });
      first.start();
      first.startNew('fxTwoEvents', { instanceId: 'persist-1' });
      await first.waitFor('persist-1', ['Running']);
      first.raiseEvent('persist-1', 'first', '"A"');
      await first.whenIdle();
      await first.stop();

      const second = new DurableBackend({ registry: capturedFunctions, store: new FileInstanceStore(dir), logger: quiet });
      second.start();
      expect(second.getStatus('persist-1')!.runtimeStatus).toBe('Running');
      second.raiseEvent('persist-1', 'second', '"B"');
      expect((await second.waitFor('persist-1')).output).toEqual(['A', 'B']);
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('re-arms a pending durable timer after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slotflow-durable-'));
    try {
      const first = new DurableBackend({ registry: capturedFunctions, store: new FileInstanceStore(dir), logger: quiet });
      first.start();
      first.startNew('fxApproval', { instanceId: 'timer-1', input: { timeoutMs: 300 } });
      await first.waitFor('timer-1', ['Running']);
      await first.whenIdle();
      await first.stop();
      const second = new DurableBackend({ registry: capturedFunctions, store: new FileInstanceStore(dir), logger: quiet });
      second.start();
      expect((await second.waitFor('timer-1')).output).toEqual({ approved: false, timedOut: true });
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
