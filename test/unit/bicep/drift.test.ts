import { AZURE_REQUIRED_SETTINGS, HOST_SETTINGS, LOCAL_ONLY_SETTINGS, appSettingsSchema } from '../../../functions/app/config';
import { type BicepFile, loadBicepFiles, parseBicep, stringLiteral, stringPrefix } from '../../support/bicep-ast';
import { appSettingsOf, compareSettings, hasDrift, type SettingsContract } from '../../support/bicep-settings';

// Drift between the settings the app reads (functions/app/config.ts) and those the bicep
// Function App module sets. The module is parsed, not evaluated: every key of every object
// the appsettings expression can produce counts as set.
const contract: SettingsContract = {
  appSettings: Object.keys(appSettingsSchema.shape),
  hostSettings: HOST_SETTINGS,
  azureRequired: AZURE_REQUIRED_SETTINGS,
  localOnly: LOCAL_ONLY_SETTINGS,
};

let functionApp: BicepFile;
let files: BicepFile[];
beforeAll(async () => {
  files = await loadBicepFiles();
  functionApp = files.find((f) => f.name === 'bicep/modules/functionapp.bicep')!;
});

test('only the Function App module sets app settings', () => {
  const setters = files.filter((f) => appSettingsOf(f).sources.length > 0).map((f) => f.name);
  expect(setters).toEqual(['bicep/modules/functionapp.bicep']);
});

test('no drift between config.ts and the Function App module', () => {
  const set = appSettingsOf(functionApp).values.keys();
  expect(compareSettings(set, contract)).toEqual({ missingRequired: [], unread: [], localOnlySet: [] });
});

test('the secrets are Key Vault references, never values', () => {
  const values = appSettingsOf(functionApp).values;
  for (const name of ['TWILIO_AUTH_TOKEN', 'LINK_SIGNING_KEY']) {
    const [value, ...others] = values.get(name) ?? [];
    expect(others).toEqual([]);
    expect(value?.type).toBe('string');
    expect(stringPrefix(value!)).toBe('@Microsoft.KeyVault(SecretUri=');
  }
});

test('connections are identity-based: managed identity credential and client id, no keys', () => {
  const values = appSettingsOf(functionApp).values;
  const single = (name: string) => {
    const nodes = values.get(name) ?? [];
    expect(nodes).toHaveLength(1);
    return nodes[0]!;
  };
  expect(stringLiteral(single('AzureWebJobsStorage__credential'))).toBe('managedidentity');
  expect(stringLiteral(single('ServiceBusConnection__credential'))).toBe('managedidentity');
  for (const name of ['AzureWebJobsStorage__clientId', 'ServiceBusConnection__clientId', 'AZURE_CLIENT_ID']) {
    expect(single(name).text).toBe('identityClientId');
  }
  expect(single('AzureWebJobsStorage__accountName').text).toBe('storageAccountName');
  expect(single('ServiceBusConnection__fullyQualifiedNamespace').text).toBe('serviceBusFullyQualifiedNamespace');
  expect(single('COSMOS_ENDPOINT').text).toBe('cosmosEndpoint');
  expect(stringLiteral(single('SLOTFLOW_ENV'))).toBe('azure');
  expect(single('APPLICATIONINSIGHTS_AUTHENTICATION_STRING').text).toBe("'ClientId=${identityClientId};Authorization=AAD'");
  expect(values.has('AzureWebJobsStorage')).toBe(false);
});

describe('the drift check can fail', () => {
  test('a missing required setting, an unread setting and a local-only key are reported', async () => {
    const bad = await parseBicep(`
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union({
    SLOTFLOW_ENV: 'azure'
    COSMOS_KEY: key
  }, flag ? { LEGACY_SETTING: 'x' } : {})
}`);
    const drift = compareSettings(appSettingsOf(bad).values.keys(), contract);
    expect(hasDrift(drift)).toBe(true);
    expect(drift.missingRequired).toContain('COSMOS_ENDPOINT');
    expect(drift.missingRequired).not.toContain('SLOTFLOW_ENV');
    expect(drift.unread).toEqual(['LEGACY_SETTING']);
    expect(drift.localOnlySet).toEqual(['COSMOS_KEY']);
  });

  test('settings hidden behind a variable are reported instead of trusted', async () => {
    const bad = await parseBicep(`
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: allSettings
}`);
    expect(compareSettings(appSettingsOf(bad).values.keys(), contract).unread).toEqual(['<dynamic: allSettings>']);
  });

  test('siteConfig.appSettings arrays on the site are read too', async () => {
    const bad = await parseBicep(`
resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'x'
  properties: {
    siteConfig: {
      appSettings: [
        {
          name: 'ServiceBusConnection'
          value: 'Endpoint=sb://x'
        }
      ]
    }
  }
}`);
    expect(compareSettings(appSettingsOf(bad).values.keys(), contract).localOnlySet).toEqual(['ServiceBusConnection']);
  });
});
