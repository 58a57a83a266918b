/**
 * The Azure Monitor distro starts only when the app setting asks for it, once, on the first
 * invocation, with the connection string and the managed identity (no key), and never at import.
 */
const useAzureMonitor = jest.fn();
jest.mock('@azure/monitor-opentelemetry', () => ({ useAzureMonitor }), { virtual: false });

type Hooks = typeof import('../../../../functions/app/telemetry-hooks');
const load = (): Hooks => {
  let mod: Hooks | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('../../../../functions/app/telemetry-hooks') as Hooks;
  });
  return mod!;
};
const CONNECTION = 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/';

beforeEach(() => useAzureMonitor.mockReset());

it('does not start at import', () => {
  load();
  expect(useAzureMonitor).not.toHaveBeenCalled();
});

it('stays off without SLOTFLOW_TELEMETRY=azure-monitor or without a connection string', () => {
  expect(load().startAzureMonitorOnce({ APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION })).toBe('off');
  expect(load().startAzureMonitorOnce({ SLOTFLOW_TELEMETRY: 'azure-monitor' })).toBe('off');
  expect(useAzureMonitor).not.toHaveBeenCalled();
});

it('starts once, with the connection string, a managed identity credential and the Azure SDK instrumentation off', () => {
  const hooks = load();
  const env = {
    SLOTFLOW_TELEMETRY: 'azure-monitor',
    APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION,
    AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  };
  expect(hooks.startAzureMonitorOnce(env)).toBe('started');
  expect(hooks.startAzureMonitorOnce(env)).toBe('off');
  expect(useAzureMonitor).toHaveBeenCalledTimes(1);
  const options = useAzureMonitor.mock.calls[0]![0] as {
    azureMonitorExporterOptions: { connectionString: string; credential: { constructor: { name: string } } };
    instrumentationOptions: { azureSdk: { enabled: boolean } };
  };
  expect(options.azureMonitorExporterOptions.connectionString).toBe(CONNECTION);
  expect(options.azureMonitorExporterOptions.credential.constructor.name).toBe('ManagedIdentityCredential');
  expect(options.instrumentationOptions.azureSdk.enabled).toBe(false);
});

it('a distro that fails to start leaves the app running (reported by error name)', () => {
  useAzureMonitor.mockImplementation(() => {
    throw new TypeError('boom');
  });
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  expect(load().startAzureMonitorOnce({ SLOTFLOW_TELEMETRY: 'azure-monitor', APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION })).toBe('failed');
  expect(warn).toHaveBeenCalledWith('telemetry: Azure Monitor exporter not started (TypeError)');
  warn.mockRestore();
});
