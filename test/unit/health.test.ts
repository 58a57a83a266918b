/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../functions/local/host/core').functionsCore, { virtual: true });

import { HttpRequest, InvocationContext } from '@azure/functions';
import { health } from '../../functions/health';
import { loadSettings } from '../../functions/lib/config';
import { createInMemoryServices, setServices, type Services } from '../../functions/lib/services';

const call = () => health(new HttpRequest({ method: 'GET', url: 'http://localhost/api/health' }), new InvocationContext({ functionName: 'health', logHandler: () => undefined }));

it('is 200 when the services are up and Cosmos answers, 503 when it does not', async () => {
  const services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' }));
  setServices(services);
  expect(await call()).toMatchObject({ status: 200, jsonBody: { status: 'ok' } });
  const down = { ...services, cosmos: { database: { read: () => Promise.reject(new Error('ECONNREFUSED')) } } } as unknown as Services;
  setServices(down);
  expect(await call()).toMatchObject({ status: 503, jsonBody: { status: 'unavailable' } });
});
