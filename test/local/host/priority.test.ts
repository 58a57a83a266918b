/**
 * The local host's foreground gate end to end: while an interactive HTTP request is in flight,
 * Service Bus trigger invocations (background work) run one at a time; once it ends they run with
 * the normal concurrency. GET /_host/load reports both.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory and CommonJS fixture */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { ServiceBusClient } from '@azure/service-bus';
import { LocalHost, LOAD_PATH } from '../../../local/host/host';

const fixture = () =>
  require('../../fixtures/priority-app/index.js') as {
    state: { maxRunning: number; maxRunningWhileHeld: number; held: boolean; done: string[] };
    release(): void;
  };

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let host: LocalHost;
beforeAll(async () => {
  host = await LocalHost.start({
    port: 0,
    dataDir: null,
    routePrefix: 'api',
    servicesModule: null,
    logger: () => undefined,
    loadApp: () => require('../../fixtures/priority-app/index.js'),
  });
});
afterAll(async () => {
  await host?.stop();
});

it('runs background work one unit at a time while a request is in flight, and all of it afterwards', async () => {
  const held = fetch(`${host.baseUrl}/api/hold`);
  await waitUntil(() => fixture().state.held);
  const load = async () =>
    (await (await fetch(`${host.baseUrl}${LOAD_PATH}`)).json()) as { requestsInFlight: number; backgroundWaiting: number; idle: boolean };
  expect((await load()).requestsInFlight).toBe(1);

  const client = new ServiceBusClient(process.env.ServiceBusConnection!);
  try {
    await client.createSender('ehr-inbound').sendMessages(Array.from({ length: 6 }, (_, i) => ({ body: { n: i }, messageId: `work-${i}` })));
    // Queued behind the request, not dropped: some run (one at a time), the rest wait at the gate.
    await waitUntil(async () => (await load()).backgroundWaiting > 0);
    await waitUntil(() => fixture().state.done.length >= 2);
    expect(fixture().state.maxRunningWhileHeld).toBe(1);

    fixture().release();
    expect((await held).status).toBe(200);
    await waitUntil(() => fixture().state.done.length === 6);
    expect(new Set(fixture().state.done).size).toBe(6);
    // With the request gone the waiting units were admitted together.
    expect(fixture().state.maxRunning).toBeGreaterThan(1);
    await waitUntil(async () => (await load()).idle);
  } finally {
    await client.close();
  }
});
