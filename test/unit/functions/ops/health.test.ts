/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../../../local/host/core').functionsCore, { virtual: true });

import { HttpRequest, InvocationContext } from '@azure/functions';
import { health } from '../../../../functions/ops/health';
import { loadSettings, resetSettingsCache } from '../../../../functions/app/config';
import { createInMemoryServices, getServices, setServices, type Services } from '../../../../functions/app/services';

const call = () =>
  health(
    new HttpRequest({ method: 'GET', url: 'http://localhost/api/health' }),
    new InvocationContext({ functionName: 'health', logHandler: () => undefined }),
  );

it('is 200 when the services are up and Cosmos answers, 503 when it does not', async () => {
  const services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' }));
  setServices(services);
  expect(await call()).toMatchObject({ status: 200, jsonBody: { status: 'ok' } });
  const down = { ...services, cosmos: { database: { read: () => Promise.reject(new Error('ECONNREFUSED')) } } } as unknown as Services;
  setServices(down);
  expect(await call()).toMatchObject({ status: 503, jsonBody: { status: 'unavailable' } });
});

it('retries building the services after a failed start instead of failing forever', async () => {
  const set = setServices;
  set(undefined);
  const saved = process.env.ELIGIBILITY_MODE;
  process.env.ELIGIBILITY_MODE = 'fhir'; // without ELIGIBILITY_FHIR_ENDPOINT: the build fails
  resetSettingsCache();
  await expect(getServices()).rejects.toThrow(/ELIGIBILITY_FHIR_ENDPOINT/);
  process.env.ELIGIBILITY_MODE = 'simulated';
  resetSettingsCache();
  await expect(getServices()).resolves.toMatchObject({ settings: { ELIGIBILITY_MODE: 'simulated' } });
  if (saved === undefined) delete process.env.ELIGIBILITY_MODE;
  else process.env.ELIGIBILITY_MODE = saved;
  resetSettingsCache();
  set(undefined);
});
