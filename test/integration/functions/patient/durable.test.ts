/**
 * The OfferReplyRaiser adapter (functions/patient/durable.ts) through the real durable-functions
 * client against the local durable backend's HTTP API (loopback): a reply to a completed or missing
 * instance is `gone`, although the client itself reports a raise to a completed instance (HTTP 410)
 * as delivered.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory and a CommonJS fixture */
jest.mock('@azure/functions-core', () => require('../../../../local/host/core').functionsCore, { virtual: true });

import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { durableClientInput, offerRepliesOf } from '../../../../functions/patient/durable';
import { capturedFunctions } from '../../../../local/host/core';
import { DurableBackend } from '../../../../local/host/durable/backend';
import { durableClientBindingData, DURABLE_API_PATH, handleDurableApi } from '../../../../local/host/durable/client-api';
import { MemoryInstanceStore } from '../../../../local/host/durable/store';

require('../../../fixtures/localhost-app/orchestrations.js');

let backend: DurableBackend;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  backend = new DurableBackend({ registry: capturedFunctions, store: new MemoryInstanceStore(), logger: () => undefined });
  backend.start();
  server = createServer((req, res) => {
    if (req.url?.startsWith(DURABLE_API_PATH)) void handleDurableApi(backend, baseUrl, req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  backend.stop();
  await new Promise((resolve) => server.close(resolve));
});

function context(): InvocationContext {
  const ctx = new InvocationContext({
    functionName: 'smsInbound',
    invocationId: 'test',
    options: { trigger: { type: 'httpTrigger', name: 'request' }, extraInputs: [durableClientInput], extraOutputs: [] },
    logHandler: () => undefined,
  });
  ctx.extraInputs.set(durableClientInput, durableClientBindingData(baseUrl));
  return ctx;
}

const reply = { offerId: 'ofr-1', patientId: 'pat-1', reply: 'yes' as const, messageSid: `SM${'0'.repeat(32)}`, channel: 'sms' as const };

describe('offerRepliesOf through the real durable client', () => {
  it('raises the reply on a running instance', async () => {
    backend.startNew('fxTwoEvents', { instanceId: 'running-1' });
    await backend.waitFor('running-1', ['Running']);
    expect(await offerRepliesOf(context()).raiseOfferReply('running-1', reply)).toBe('raised');
    expect(backend.getStatus('running-1')!.runtimeStatus).toBe('Running');
  });

  it('a completed instance is gone, though the client alone counts its 410 as delivered', async () => {
    backend.startNew('fxSequence', { instanceId: 'done-1', input: { name: 'x' } });
    expect((await backend.waitFor('done-1')).runtimeStatus).toBe('Completed');
    // The reason for the status check: the library resolves a raise the backend refused with 410.
    await expect(df.getClient(context()).raiseEvent('done-1', 'OfferReply', reply)).resolves.toBeUndefined();
    expect(await offerRepliesOf(context()).raiseOfferReply('done-1', reply)).toBe('gone');
  });

  it('a missing instance is gone', async () => {
    expect(await offerRepliesOf(context()).raiseOfferReply('never-started', reply)).toBe('gone');
  });
});
