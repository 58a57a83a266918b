/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory and the axios durable-functions loads */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { loadSimulatedApp } from '../../../simulation/app';
import { SimulationRuntime, VirtualClock } from '../../../simulation/runtime';

/**
 * The simulator answers the durable client's requests in process (simulation/runtime.ts,
 * installDurableClientTransport): through the axios instances DurableClient creates, and through axios's
 * adapter on any other path. Requests to any other origin still go out over HTTP.
 */
type Instance = Record<'get' | 'post' | 'delete', (url: string, ...rest: unknown[]) => Promise<{ status: number; data: unknown }>>;
const axiosOfDurable = (): { create: (c?: unknown) => Instance; get: Instance['get'] } => {
  const m = require(require.resolve('axios', { paths: [dirname(require.resolve('durable-functions'))] }));
  return m.default ?? m;
};
const ORIGIN = 'http://slotflow-simulator.invalid/runtime/webhooks/durabletask/';

let server: Server;
let other: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ from: 'network', method: req.method, url: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  other = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('durable client transport', () => {
  const runtime = new SimulationRuntime({ registry: loadSimulatedApp(), clock: new VirtualClock(Date.parse('2026-03-02T14:00:00Z')) });

  it('answers created instances in process: status of a missing instance, a start, then its status', async () => {
    const client = axiosOfDurable().create({ validateStatus: (s: number) => s < 600 });
    expect(await client.get(`${ORIGIN}instances/none`)).toMatchObject({ status: 404 });
    const started = await client.post(`${ORIGIN}orchestrators/remindersOrchestrator/inst-1`, JSON.stringify({ appointmentId: 'a1' }));
    expect(started).toMatchObject({ status: 202, data: { id: 'inst-1' } });
    const status = await client.get(`${ORIGIN}instances/inst-1`);
    expect(status.data).toMatchObject({ instanceId: 'inst-1', input: { appointmentId: 'a1' } });
    // A second start of a running instance is refused, as the host refuses it.
    expect(await client.post(`${ORIGIN}orchestrators/remindersOrchestrator/inst-1`, '{}')).toMatchObject({ status: 409 });
    expect(runtime.status('inst-1')?.instanceId).toBe('inst-1');
    // Straight to the runtime: axios's request pipeline (here an interceptor that fails every request) is not run.
    (client as unknown as { interceptors: { request: { use: (f: () => never) => void } } }).interceptors.request.use(() => {
      throw new Error('through axios');
    });
    expect(await client.get(`${ORIGIN}instances/inst-1`)).toMatchObject({ status: 202 });
  });

  it('answers the default axios (the adapter path) the same way', async () => {
    expect(await axiosOfDurable().get(`${ORIGIN}instances/inst-1`, { validateStatus: () => true })).toMatchObject({ data: { instanceId: 'inst-1' } });
  });

  it('leaves other origins to the network', async () => {
    const client = axiosOfDurable().create();
    expect((await client.get(`${other}/x`)).data).toEqual({ from: 'network', method: 'GET', url: '/x' });
    expect((await client.post(`${other}/y`, '{}')).data).toEqual({ from: 'network', method: 'POST', url: '/y' });
    expect((await client.delete(`${other}/z`)).data).toEqual({ from: 'network', method: 'DELETE', url: '/z' });
    expect((await axiosOfDurable().get(`${other}/w`)).data).toEqual({ from: 'network', method: 'GET', url: '/w' });
  });
});
