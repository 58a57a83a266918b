/**
 * The local host in-process, with the fixture app: HTTP routing and request/response fidelity,
 * the durable client over HTTP, timers and Service Bus triggers fed by the real SDK over AMQP.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories and CommonJS fixtures */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { ServiceBusClient } from '@azure/service-bus';
import { LocalHost } from '../../../local/host/host';

interface Received {
  message?: unknown;
  triggerMetadata: Record<string, unknown>;
  hasClient?: boolean;
  isPastDue?: boolean;
  next?: string;
  functionName?: string;
}
const fixtures = () => require('../../fixtures/localhost-app/triggers.js') as { received: { timer: Received[]; queue: Received[]; topic: Received[] } };
type Json = Record<string, unknown>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

let host: LocalHost;
let base: string;

beforeAll(async () => {
  host = await LocalHost.start({
    port: 0,
    dataDir: null,
    routePrefix: 'api',
    servicesModule: null,
    logger: () => undefined,
    loadApp: () => require('../../fixtures/localhost-app/index.js'),
  });
  base = host.baseUrl;
});
afterAll(async () => {
  await host?.stop();
});

const principal = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'roles', val: 'scheduler' }] })).toString('base64');

describe('HTTP', () => {
  it('is healthy once everything started', async () => {
    const res = await fetch(`${base}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', components: { http: 'ready', durable: 'ready', cosmos: 'ready', broker: 'ready', app: 'ready' } });
  });

  it('routes by template with the api prefix, params decoded, query and principal passed', async () => {
    const res = await fetch(`${base}/api/hello/J%C3%BCrgen?q=1`, { headers: { 'x-ms-client-principal': principal } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ hello: 'Jürgen', q: '1', user: 'AppService', functionName: 'fxHello' });
    expect(body.url).toBe(`${base}/api/hello/J%C3%BCrgen?q=1`);
  });

  it('prefers a literal route over a parameter and honours constraints', async () => {
    expect(await (await fetch(`${base}/api/hello/world`)).json()).toEqual({ literal: true });
    expect(await (await fetch(`${base}/api/items/42`)).json()).toEqual({ id: 42 });
    const notInt = await fetch(`${base}/api/items/abc`);
    expect(notInt.status).toBe(404);
  });

  it('returns status, headers, body and cookies as the handler set them', async () => {
    const res = await fetch(`${base}/api/echo`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-fixture')).toBe('yes');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('set-cookie')).toBe('session=abc; Path=/; HttpOnly');
    expect(await res.text()).toBe('{"a":1}');
  });

  it('passes form bodies through untouched', async () => {
    const res = await fetch(`${base}/api/form`, {
      method: 'POST',
      body: 'Body=YES&From=%2B15550001111',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(await res.json()).toEqual({ body: 'YES', from: '+15550001111' });
  });

  it('answers problem+json 404 for unknown routes and wrong methods, 500 when a handler throws', async () => {
    const unknown = await fetch(`${base}/api/nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect(await unknown.json()).toMatchObject({ status: 404, code: 'ROUTE.NOT_FOUND' });
    expect((await fetch(`${base}/api/echo`)).status).toBe(404);
    const thrown = await fetch(`${base}/api/throws`);
    expect(thrown.status).toBe(500);
    expect(await thrown.json()).toMatchObject({ code: 'INTERNAL' });
  });
});

describe('durable client through HTTP functions', () => {
  it('starts with a fixed instance id, reports status and custom status, refuses a duplicate', async () => {
    const start = await fetch(`${base}/api/workflows/fxSequence/seq-1`, { method: 'POST', body: JSON.stringify({ name: 'ann' }) });
    expect(start.status).toBe(202);
    expect(await start.json()).toEqual({ instanceId: 'seq-1' });
    const done = await host.backend!.waitFor('seq-1');
    expect(done.runtimeStatus).toBe('Completed');
    const status = await json(await fetch(`${base}/api/workflows/seq-1`));
    expect(status).toEqual({
      runtimeStatus: 'Completed',
      output: [{ echoed: '"ann"' }, { echoed: { n: 2 } }],
      customStatus: { step: 'done' },
      input: { name: 'ann' },
    });
    expect((await fetch(`${base}/api/workflows/nope-404`)).status).toBe(404);
  });

  it('delivers a raised event and cancels the losing timer', async () => {
    await fetch(`${base}/api/workflows/fxApproval/appr-1`, { method: 'POST', body: JSON.stringify({ timeoutMs: 60_000 }) });
    await host.backend!.waitFor('appr-1', ['Running']);
    await host.backend!.whenIdle();
    expect((await json(await fetch(`${base}/api/workflows/appr-1`))).customStatus).toBe('waiting');
    const raised = await fetch(`${base}/api/workflows/appr-1/events/approve`, { method: 'POST', body: JSON.stringify({ by: 'desk' }) });
    expect(raised.status).toBe(202);
    const done = await host.backend!.waitFor('appr-1');
    expect(done.output).toEqual({ approved: { by: 'desk' } });
  });

  it('terminates a running instance', async () => {
    await fetch(`${base}/api/workflows/fxTwoEvents/term-1`, { method: 'POST', body: '{}' });
    await host.backend!.waitFor('term-1', ['Running']);
    expect((await fetch(`${base}/api/workflows/term-1/terminate`, { method: 'POST' })).status).toBe(202);
    expect((await host.backend!.waitFor('term-1')).runtimeStatus).toBe('Terminated');
    expect((await json(await fetch(`${base}/api/workflows/term-1`))).output).toBe('by test');
  });
});

describe('timer triggers', () => {
  it('fire on their NCRONTAB schedule with the timer value the host passes', async () => {
    const deadline = Date.now() + 3000;
    while (fixtures().received.timer.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const first = fixtures().received.timer[0] as Received | undefined;
    expect(first).toMatchObject({ isPastDue: false, functionName: 'fxEverySecond' });
    expect(new Date(first!.next!).getUTCMilliseconds()).toBe(0);
  });
});

describe('Service Bus triggers', () => {
  it('deliver a message sent with the real SDK, with triggerMetadata and the durable client bound', async () => {
    const client = new ServiceBusClient(process.env.ServiceBusConnection!);
    try {
      await client.createSender('ehr-inbound').sendMessages({
        body: { kind: 'siu', failTimes: 0 },
        messageId: 'msg-1',
        contentType: 'application/json',
        correlationId: 'corr-1',
        applicationProperties: { source: 'ehr' },
      });
      await waitUntil(() => fixtures().received.queue.some((r) => r.triggerMetadata.messageId === 'msg-1'));
      const got = fixtures().received.queue.find((r) => r.triggerMetadata.messageId === 'msg-1')!;
      expect(got.message).toEqual({ kind: 'siu', failTimes: 0 });
      expect(got.hasClient).toBe(true);
      expect(got.triggerMetadata).toMatchObject({
        messageId: 'msg-1',
        deliveryCount: 1,
        contentType: 'application/json',
        correlationId: 'corr-1',
        applicationProperties: { source: 'ehr' },
      });
      expect(typeof got.triggerMetadata.enqueuedTimeUtc).toBe('string');
    } finally {
      await client.close();
    }
  });

  it('redeliver after a throw with a higher delivery count', async () => {
    const client = new ServiceBusClient(process.env.ServiceBusConnection!);
    try {
      await client.createSender('ehr-inbound').sendMessages({ body: { kind: 'retry', failTimes: 2 }, messageId: 'msg-retry' });
      await waitUntil(() => fixtures().received.queue.filter((r) => r.triggerMetadata.messageId === 'msg-retry').length >= 3);
      const counts = fixtures()
        .received.queue.filter((r) => r.triggerMetadata.messageId === 'msg-retry')
        .map((r) => r.triggerMetadata.deliveryCount);
      expect(counts).toEqual([1, 2, 3]);
    } finally {
      await client.close();
    }
  });

  it('deliver topic messages of a session subscription with the session id', async () => {
    const client = new ServiceBusClient(process.env.ServiceBusConnection!);
    try {
      await client.createSender('scheduling-events').sendMessages({
        body: { id: 'evt-1' },
        messageId: 'evt-1',
        sessionId: 'appt-1',
        applicationProperties: { type: 'health.scheduling.appointment.cancelled.v1' },
      });
      await waitUntil(() => fixtures().received.topic.some((r) => r.triggerMetadata.messageId === 'evt-1'));
      const got = fixtures().received.topic.find((r) => r.triggerMetadata.messageId === 'evt-1')!;
      expect(got.triggerMetadata).toMatchObject({ sessionId: 'appt-1', deliveryCount: 1 });
    } finally {
      await client.close();
    }
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
