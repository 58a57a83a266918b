/** GET /api/health answers 503 naming the parts not ready until the app's services are up. */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories and CommonJS fixtures */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { join } from 'node:path';
import { LocalHost } from '../../../local/host/host';

const SERVICES = join(__dirname, '..', '..', 'fixtures', 'localhost-app', 'slow-services.js');

it('is 503 with the pending component while services start, then 200', async () => {
  let base: string | undefined;
  const starting = LocalHost.start({
    port: 0,
    dataDir: null,
    broker: false,
    servicesModule: SERVICES,
    logger: () => undefined,
    loadApp: () => require('../../fixtures/localhost-app/http.js'),
    onListening: (url) => (base = url),
  });
  let host: LocalHost | undefined;
  try {
    while (!base) await new Promise((r) => setTimeout(r, 5));
    let body: { status: string; components: Record<string, string> } | undefined;
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${base}/api/health`);
      expect(res.status).toBe(503);
      body = (await res.json()) as typeof body;
      if (body!.components.app === 'ready') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(body).toMatchObject({ status: 'starting', components: { http: 'ready', app: 'ready', services: 'starting' } });
    const early = await fetch(`${base}/runtime/webhooks/durabletask/instances`);
    expect(early.status).toBeLessThan(500);

    require(SERVICES).release();
    host = await starting;
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  } finally {
    await (host ?? (await starting.catch(() => undefined)))?.stop();
  }
});

it('firstRequestAnswered resolves after the first app request has been answered, not after health', async () => {
  const host = await LocalHost.start({
    port: 0,
    dataDir: null,
    broker: false,
    routePrefix: 'api',
    servicesModule: null,
    logger: () => undefined,
    loadApp: () => require('../../fixtures/localhost-app/http.js'),
  });
  try {
    let answered = false;
    void host.firstRequestAnswered.then(() => (answered = true));
    expect((await fetch(`${host.baseUrl}/api/health`)).status).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    const res = await fetch(`${host.baseUrl}/api/hello/ada`);
    expect([res.status, await res.text()]).toEqual([200, expect.stringContaining('ada')]);
    await host.firstRequestAnswered;
    expect(answered).toBe(true);
  } finally {
    await host.stop();
  }
});
