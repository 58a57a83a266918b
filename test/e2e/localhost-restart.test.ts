/**
 * The built local host as a process: health, Ctrl-C, and a hard kill in the middle of an
 * orchestration. After the restart every instance resumes from its persisted history; the only
 * repeated side effect allowed is the activity that was in flight (at-least-once, as in Azure).
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { routePrefixFrom } from '../../local/host/settings';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

jest.setTimeout(90_000);

const APP = resolve(__dirname, '..', 'fixtures', 'localhost-app', 'durable-only.js');
const prefix = routePrefixFrom(resolve(__dirname, '..', '..', 'host.json'));
const route = (path: string) => (prefix ? `/${prefix}/${path}` : `/${path}`);

async function instanceStatus(host: LocalHostProcess, id: string): Promise<{ runtimeStatus: string; output: unknown }> {
  const res = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${id}`);
  return (await res.json()) as { runtimeStatus: string; output: unknown };
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('local host process', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'slotflow-e2e-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('turns healthy, serves the app and stops on SIGTERM', async () => {
    const host = await startLocalHost({ app: APP, services: null });
    try {
      const health = await fetch(`${host.baseUrl}/api/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      const res = await fetch(`${host.baseUrl}${route('hello/e2e')}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ hello: 'e2e' });
    } finally {
      await host.stop();
    }
    expect(host.child.exitCode).toBe(0);
    expect(host.output()).toContain('[host] stopped');
  });

  it('resumes a running orchestration after a hard kill without repeating completed activities', async () => {
    const dataDir = join(work, 'data');
    const effects = join(work, 'side-effects.log');
    const env = { FIXTURE_SIDE_EFFECTS_FILE: effects };
    const lines = () => (existsSync(effects) ? readFileSync(effects, 'utf8').split('\n').filter(Boolean) : []);
    const steps = 5;

    const first = await startLocalHost({ app: APP, services: null, dataDir, env });
    const start = await fetch(`${first.baseUrl}${route('workflows/fxDurableSteps/crash-1')}`, {
      method: 'POST',
      body: JSON.stringify({ key: 'crash-1', waitMs: 250, steps }),
    });
    expect(start.status).toBe(202);
    await until(() => (lines().length >= 2 ? true : undefined));
    await first.kill();
    const beforeRestart = lines().length;
    expect(beforeRestart).toBeLessThan(steps);

    const second = await startLocalHost({ app: APP, services: null, dataDir, env });
    try {
      const done = await until(async () => {
        const s = await instanceStatus(second, 'crash-1');
        return s.runtimeStatus === 'Completed' ? s : undefined;
      });
      const keys = lines();
      const distinct = [...new Set(keys)];
      expect(distinct).toEqual(Array.from({ length: steps }, (_, i) => `crash-1:${i}`));
      // At most the one activity in flight at the kill ran twice.
      expect(keys.length - distinct.length).toBeLessThanOrEqual(1);
      expect((done.output as number[]).length).toBe(steps);
    } finally {
      await second.stop();
    }
  });
});
