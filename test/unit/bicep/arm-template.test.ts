import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ArmTemplate,
  appSettingsOf,
  checkArmPolicies,
  checkDiagnostics,
  checkIdentityOnly,
  checkRoleAssignments,
  checkSecureDefaults,
  formatArmFindings,
  moduleNamed,
  modulesOf,
  parseExpression,
  possibleValues,
} from './arm';
import { describeWithCli, plantedCopy, runCheck } from './bicep-cli';

// The policy checks over what Azure deploys: main.json as `bicep build` compiles it, modules inlined.

function compile(root?: string): ArmTemplate {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'slotflow-arm-'));
  try {
    const run = runCheck({ root, outDir, steps: ['build'] });
    if (run.report.status !== 'ok') throw new Error(`bicep build failed:\n${run.stderr}`);
    return JSON.parse(readFileSync(path.join(outDir, 'main.json'), 'utf8')) as ArmTemplate;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

const clone = (t: ArmTemplate): ArmTemplate => structuredClone(t);

function resourceOf(template: ArmTemplate, module: string, type: string, index = 0) {
  const found = moduleNamed(template, module).template.resources.filter((r) => r.type === type)[index];
  if (!found) throw new Error(`${module} has no ${type} #${index}`);
  return found;
}

describe('ARM expressions', () => {
  test('parse calls, strings with escaped quotes, member and index access', () => {
    expect(parseExpression("[format('{0}''s', variables('a').b[copyIndex()])]")).toEqual({
      kind: 'call',
      name: 'format',
      args: [
        { kind: 'string', value: "{0}'s" },
        {
          kind: 'index',
          object: { kind: 'member', object: { kind: 'call', name: 'variables', args: [{ kind: 'string', value: 'a' }] }, property: 'b' },
          index: { kind: 'call', name: 'copyIndex', args: [] },
        },
      ],
    });
    expect(() => parseExpression("[concat('a'")).toThrow(/expected/);
  });

  test('resolve through variables, nested expressions and copy loops, and give up on parameters', () => {
    const variables = { ids: { a: '1', b: '2' }, list: ["[variables('ids').a]", "[variables('ids').b]"] };
    expect(possibleValues(parseExpression("[variables('list')[copyIndex()]]"), variables)).toEqual(['1', '2']);
    expect(possibleValues(parseExpression("[variables('ids').b]"), variables)).toEqual(['2']);
    expect(possibleValues(parseExpression("[parameters('roleId')]"), variables)).toBeUndefined();
    expect(possibleValues(parseExpression("[variables('ids').missing]"), variables)).toBeUndefined();
  });
});

describeWithCli('the compiled template (what Azure deploys)', () => {
  let main: ArmTemplate;
  beforeAll(() => {
    main = compile();
  }, 60_000);

  test('passes every policy check', () => {
    expect(formatArmFindings(checkArmPolicies(main))).toBe('');
  });

  test('inlines every module, and the checked resource types are really there', () => {
    expect(modulesOf(main).map((m) => m.name)).toEqual(
      expect.arrayContaining(['main', 'identity', 'monitoring', 'network', 'storage', 'servicebus', 'cosmos', 'keyvault', 'functionapp']),
    );
    const types = new Set(modulesOf(main).flatMap((m) => m.template.resources.map((r) => r.type)));
    for (const type of [
      'Microsoft.Storage/storageAccounts',
      'Microsoft.ServiceBus/namespaces',
      'Microsoft.DocumentDB/databaseAccounts',
      'Microsoft.KeyVault/vaults',
      'Microsoft.Insights/components',
      'Microsoft.OperationalInsights/workspaces',
      'Microsoft.Web/sites',
      'Microsoft.Web/sites/basicPublishingCredentialsPolicies',
      'Microsoft.Authorization/roleAssignments',
      'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments',
      'Microsoft.Insights/diagnosticSettings',
      'Microsoft.Network/privateEndpoints',
    ]) {
      expect({ type, declared: types.has(type) }).toEqual({ type, declared: true });
    }
  });

  test('the app settings are identity-based: the names the Functions host reads, secrets as Key Vault references', () => {
    const settings = appSettingsOf(resourceOf(main, 'functionapp', 'Microsoft.Web/sites/config').properties);
    expect([...settings.keys()]).toEqual(
      expect.arrayContaining([
        'AzureWebJobsStorage__accountName',
        'AzureWebJobsStorage__credential',
        'AzureWebJobsStorage__clientId',
        'ServiceBusConnection__fullyQualifiedNamespace',
        'ServiceBusConnection__credential',
        'ServiceBusConnection__clientId',
        'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
        'TWILIO_AUTH_TOKEN',
        'LINK_SIGNING_KEY',
      ]),
    );
    expect(settings.get('AzureWebJobsStorage__credential')).toEqual({ kind: 'string', value: 'managedidentity' });
  });

  test('role assignments resolve to the data-plane roles the app needs, each on its own resource', () => {
    const granted = modulesOf(main).flatMap(({ name, template }) =>
      template.resources
        .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments')
        .flatMap((r) => {
          const role = /subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', (.+)\)\]$/.exec(String(r.properties?.roleDefinitionId))?.[1];
          return (possibleValues(parseExpression(`[${role}]`), template.variables ?? {}) ?? ['?']).map((id) => `${name}: ${String(id)}`);
        }),
    );
    expect(granted.sort()).toEqual(
      [
        'keyvault: 4633458b-17de-408a-b874-0445c86b69e6',
        'keyvault: b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
        'monitoring: 3913510d-42f4-4e42-8a64-420c390055eb',
        'servicebus: 4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
        'servicebus: 69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
        'storage: 0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
        'storage: 974c5e8b-45b9-4653-ba55-5f855dd0fb88',
        'storage: b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
      ].sort(),
    );
  });

  // Each check must be able to fail: the compiled template with one value changed is caught.
  describe('the checks catch a changed template', () => {
    test.each([
      ['storage', 'Microsoft.Storage/storageAccounts', 'allowSharedKeyAccess', true],
      ['servicebus', 'Microsoft.ServiceBus/namespaces', 'disableLocalAuth', "[parameters('allowKeys')]"],
      ['cosmos', 'Microsoft.DocumentDB/databaseAccounts', 'minimalTlsVersion', 'Tls11'],
      ['monitoring', 'Microsoft.Insights/components', 'DisableLocalAuth', false],
    ])('%s: %s properties.%s = %j', (module, type, property, value) => {
      const bad = clone(main);
      resourceOf(bad, module, type).properties![property] = value;
      expect(checkSecureDefaults(bad)).toEqual([expect.objectContaining({ rule: 'secure-defaults', module, message: expect.stringContaining(property) })]);
    });

    test('a storage connection string with a listKeys() key in the app settings', () => {
      const bad = clone(main);
      const config = resourceOf(bad, 'functionapp', 'Microsoft.Web/sites/config');
      config.properties = `[union(${String(config.properties).slice(1, -1)}, createObject('AzureWebJobsStorage', format('DefaultEndpointsProtocol=https;AccountName={0};AccountKey={1}', parameters('storageAccountName'), listKeys(resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName')), '2023-05-01').keys[0].value)))]` as never;
      const messages = checkIdentityOnly(bad).map((f) => f.message);
      expect(messages).toEqual(
        expect.arrayContaining([
          expect.stringContaining('listKeys() reads keys'),
          expect.stringContaining('credential text'),
          expect.stringContaining('AzureWebJobsStorage is a connection string'),
        ]),
      );
    });

    test('a secret setting that is not a Key Vault reference, and package deployment with a key', () => {
      const bad = clone(main);
      const config = resourceOf(bad, 'functionapp', 'Microsoft.Web/sites/config');
      config.properties = String(config.properties).replace(
        "'TWILIO_AUTH_TOKEN', format('@Microsoft.KeyVault(SecretUri={0})', parameters('twilioAuthTokenSecretUri'))",
        "'TWILIO_AUTH_TOKEN', parameters('twilioAuthTokenSecretUri')",
      ) as never;
      const site = resourceOf(bad, 'functionapp', 'Microsoft.Web/sites');
      (site.properties as { functionAppConfig: { deployment: { storage: { authentication: { type: string } } } } }).functionAppConfig.deployment.storage.authentication.type =
        'StorageAccountConnectionString';
      expect(checkIdentityOnly(bad).map((f) => f.message)).toEqual([
        expect.stringContaining('TWILIO_AUTH_TOKEN must be a Key Vault reference'),
        expect.stringContaining('StorageAccountConnectionString'),
      ]);
    });

    test('a role assignment on the resource group, an Owner grant, a role from a parameter', () => {
      const bad = clone(main);
      delete resourceOf(bad, 'keyvault', 'Microsoft.Authorization/roleAssignments', 0).scope;
      moduleNamed(bad, 'storage').template.variables!.roleIds = {
        ...(moduleNamed(bad, 'storage').template.variables!.roleIds as object),
        storageBlobDataOwner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
      };
      resourceOf(bad, 'monitoring', 'Microsoft.Authorization/roleAssignments').properties!.roleDefinitionId =
        "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', parameters('roleId'))]";
      const messages = checkRoleAssignments(bad).map((f) => `${f.module}: ${f.message}`);
      expect(messages).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^keyvault: .*scope undefined is not one resource/),
          expect.stringMatching(/^storage: .*grants Owner/),
          expect.stringMatching(/^monitoring: .*not a statically known built-in role/),
        ]),
      );
      expect(messages).toHaveLength(3);
    });

    test('a Cosmos DB SQL role assignment with a custom role', () => {
      const bad = clone(main);
      moduleNamed(bad, 'cosmos').template.variables!.cosmosDataContributorRoleId = '5bd9cd88-fe45-4216-938b-f97437e15450';
      expect(checkRoleAssignments(bad)).toEqual([expect.objectContaining({ module: 'cosmos', message: expect.stringContaining('Cosmos DB role 5bd9cd88') })]);
    });

    test('a PHI resource without its diagnostic setting, a storage service without one, a module given no workspace', () => {
      const bad = clone(main);
      const cosmos = moduleNamed(bad, 'cosmos').template;
      cosmos.resources = cosmos.resources.filter((r) => r.type !== 'Microsoft.Insights/diagnosticSettings');
      const storage = moduleNamed(bad, 'storage').template;
      storage.resources = storage.resources.filter((r) => !(r.type === 'Microsoft.Insights/diagnosticSettings' && String(r.scope).includes('queueServices')));
      (moduleNamed(bad, 'keyvault').deployment!.properties!.parameters as Record<string, { value: unknown }>).logAnalyticsWorkspaceId = { value: '' };
      const messages = checkDiagnostics(bad).map((f) => `${f.module}: ${f.message}`);
      expect(messages.sort()).toEqual([
        expect.stringMatching(/^cosmos: Microsoft.DocumentDB\/databaseAccounts .*no diagnostic setting/),
        expect.stringMatching(/^keyvault: main passes logAnalyticsWorkspaceId ""/),
        expect.stringMatching(/^storage: .*no diagnostic setting on Microsoft.Storage\/storageAccounts\/queueServices/),
      ]);
    });
  });

  test('a regression in the bicep source reaches the compiled template and is caught there', () => {
    const root = plantedCopy([{ file: 'bicep/modules/keyvault.bicep', from: 'enablePurgeProtection: true', to: 'enablePurgeProtection: false' }]);
    try {
      expect(checkSecureDefaults(compile(root))).toEqual([
        expect.objectContaining({ module: 'keyvault', message: expect.stringContaining('properties.enablePurgeProtection is false') }),
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);
});
