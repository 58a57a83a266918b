import {
  type BicepFile,
  loadBicepFiles,
  objectProperties,
  parseBicep,
  resourceDeclarations,
  stringLiteral,
  valueAt,
  literalValue,
  namedChildren,
  variableDeclarations,
} from '../../support/bicep-ast';
import {
  checkAlertActions,
  checkBudgets,
  checkDeadLetterAlerts,
  checkDiagnostics,
  checkLocalModules,
  checkNoSecretLiterals,
  checkParameterDescriptions,
  checkPolicies,
  checkRoleAssignments,
  checkSecureDefaults,
  formatFindings,
} from '../../support/bicep-policy';
import { TOPOLOGY_JSON, loadedJsonPath, subscriptionsOf } from '../../support/bicep-servicebus';

let files: BicepFile[];
beforeAll(async () => {
  files = await loadBicepFiles();
});

function file(name: string): BicepFile {
  const found = files.find((f) => f.name === `bicep/${name}`);
  if (!found) throw new Error(`bicep/${name} not found`);
  return found;
}

function resourcesOfType(type: string) {
  return files.flatMap(resourceDeclarations).filter((r) => r.type === type && !r.existing);
}

describe('the templates pass every policy check', () => {
  test('no findings', () => {
    expect(formatFindings(checkPolicies(files))).toBe('');
  });

  // Guards against vacuous passes: the checked resource types must actually be declared.
  test.each([
    'Microsoft.Storage/storageAccounts',
    'Microsoft.ServiceBus/namespaces',
    'Microsoft.DocumentDB/databaseAccounts',
    'Microsoft.KeyVault/vaults',
    'Microsoft.Insights/components',
    'Microsoft.Web/sites',
    'Microsoft.Web/serverfarms',
    'Microsoft.Authorization/roleAssignments',
    'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments',
    'Microsoft.ManagedIdentity/userAssignedIdentities',
    'Microsoft.Network/privateEndpoints',
    'Microsoft.Insights/actionGroups',
    'Microsoft.Insights/metricAlerts',
    'Microsoft.Insights/scheduledQueryRules',
    'Microsoft.Consumption/budgets',
  ])('%s is declared', (type) => {
    expect(resourcesOfType(type).length).toBeGreaterThan(0);
  });
});

test('every module outputs its name and resourceId (Azure Verified Modules convention)', () => {
  const modules = files.filter((f) => f.name.startsWith('bicep/modules/'));
  expect(modules.length).toBeGreaterThanOrEqual(9);
  for (const module of modules) {
    const outputs = namedChildren(module.root)
      .filter((n) => n.type === 'output_declaration')
      .map((n) => namedChildren(n)[0]?.text);
    expect({ module: module.name, outputs }).toEqual({ module: module.name, outputs: expect.arrayContaining(['name', 'resourceId']) });
  }
  const identity = namedChildren(file('modules/identity.bicep').root).filter((n) => n.type === 'output_declaration');
  expect(identity.map((n) => namedChildren(n)[0]?.text)).toEqual(expect.arrayContaining(['principalId', 'clientId']));
});

describe('Service Bus topology', () => {
  const expected: Record<string, string[]> = {
    backfill: ['appointment.cancelled', 'appointment.noshow', 'slot.released', 'waitlist.offer.expired'],
    eligibility: ['appointment.booked', 'appointment.rescheduled', 'appointment.cancelled'],
    reminders: ['appointment.booked', 'appointment.rescheduled', 'appointment.cancelled'],
    'provider-absence': ['provider.absence'],
    'no-show-follow-up': ['appointment.noshow'],
  };

  function subscriptionsVar(): Map<string, string> {
    const sb = file('modules/servicebus.bicep');
    expect(loadedJsonPath(sb, 'topology')).toBe(TOPOLOGY_JSON);
    return new Map(subscriptionsOf(sb).map((s) => [s.name, s.sqlFilter]));
  }

  test('one subscription per consumer, each filtering on the application property type', () => {
    const subs = subscriptionsVar();
    expect([...subs.keys()].sort()).toEqual(['backfill', 'ehr-outbound', 'eligibility', 'no-show-follow-up', 'provider-absence', 'reminders']);
    for (const [name, types] of Object.entries(expected)) {
      const filter = subs.get(name)!;
      const listed = [...filter.matchAll(/'health\.scheduling\.([a-z.]+)\.v1'/g)].map((m) => m[1]);
      expect(listed.sort()).toEqual([...types].sort());
      expect(filter).toMatch(/^user\.type (IN \(|= )/);
    }
    expect(subs.get('ehr-outbound')).toBe("user.type LIKE 'health.scheduling.appointment.%'");
  });

  test('subscriptions are session-enabled, dead-letter on expiry and stop after 10 deliveries', () => {
    const sb = file('modules/servicebus.bicep');
    const [subscription] = resourceDeclarations(sb).filter((r) => r.type === 'Microsoft.ServiceBus/namespaces/topics/subscriptions');
    expect(literalValue(valueAt(subscription!.body, 'properties.requiresSession'))).toEqual({ known: true, value: true });
    expect(literalValue(valueAt(subscription!.body, 'properties.deadLetteringOnMessageExpiration'))).toEqual({ known: true, value: true });
    expect(valueAt(subscription!.body, 'properties.maxDeliveryCount')?.text).toBe('maxDeliveryCount');
    expect(sb.source).toMatch(/param maxDeliveryCount int = 10\b/);
    const [rule] = resourceDeclarations(sb).filter((r) => r.type === 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules');
    expect(stringLiteral(valueAt(rule!.body, 'properties.filterType'))).toBe('SqlFilter');
    expect(stringLiteral(valueAt(rule!.body, 'name'))).toBe('$Default');
  });

  test('the topic and the ehr-inbound queue detect duplicates; the queue has no sessions', () => {
    const sb = file('modules/servicebus.bicep');
    const byType = (t: string) => resourceDeclarations(sb).filter((r) => r.type === t);
    const [topic] = byType('Microsoft.ServiceBus/namespaces/topics');
    const [queue] = byType('Microsoft.ServiceBus/namespaces/queues');
    expect(
      stringLiteral(valueAt(topic!.body, 'properties.duplicateDetectionHistoryTimeWindow')) ??
        valueAt(topic!.body, 'properties.duplicateDetectionHistoryTimeWindow')?.text,
    ).toBe('duplicateDetectionWindow');
    expect(literalValue(valueAt(topic!.body, 'properties.requiresDuplicateDetection'))).toEqual({ known: true, value: true });
    expect(sb.source).toMatch(/param topicName string = 'scheduling-events'/);
    expect(sb.source).toMatch(/param duplicateDetectionWindow string = 'PT10M'/);
    expect(stringLiteral(valueAt(queue!.body, 'name'))).toBe('ehr-inbound');
    expect(literalValue(valueAt(queue!.body, 'properties.requiresSession'))).toEqual({ known: true, value: false });
    expect(literalValue(valueAt(queue!.body, 'properties.requiresDuplicateDetection'))).toEqual({ known: true, value: true });
  });
});

describe('Cosmos DB', () => {
  test('database slotflow with the six containers on /pk; schedule and idempotency have TTL without default expiry', () => {
    const cosmos = file('modules/cosmos.bicep');
    expect(cosmos.source).toMatch(/param databaseName string = 'slotflow'/);
    const containers = namedChildren(variableDeclarations(cosmos).get('containers')!).map((c) => {
      const props = objectProperties(c);
      return [stringLiteral(props.get('name')), props.get('defaultTtl')?.text] as const;
    });
    expect(Object.fromEntries(containers)).toEqual({
      config: 'null',
      schedule: '-1',
      patients: 'null',
      waitlist: 'null',
      idempotency: '-1',
      audit: 'null',
    });
    expect(cosmos.source).toContain("paths: [\n              '/pk'\n            ]");
  });

  test('the app gets the Built-in Data Contributor role through sqlRoleAssignments', () => {
    const cosmos = file('modules/cosmos.bicep');
    const [assignment] = resourceDeclarations(cosmos).filter((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
    expect(valueAt(assignment!.body, 'properties.roleDefinitionId')?.text).toContain('sqlRoleDefinitions/${cosmosDataContributorRoleId}');
    expect(stringLiteral(variableDeclarations(cosmos).get('cosmosDataContributorRoleId'))).toBe('00000000-0000-0000-0000-000000000002');
  });
});

describe('App Service Authentication', () => {
  test('Entra ID is required except on the paths that authenticate callers themselves', () => {
    const app = file('modules/functionapp.bicep');
    const [auth] = resourceDeclarations(app).filter(
      (r) => r.type === 'Microsoft.Web/sites/config' && stringLiteral(valueAt(r.body, 'name')) === 'authsettingsV2',
    );
    expect(literalValue(valueAt(auth!.body, 'properties.globalValidation.requireAuthentication'))).toEqual({ known: true, value: true });
    expect(stringLiteral(valueAt(auth!.body, 'properties.globalValidation.unauthenticatedClientAction'))).toBe('Return401');
    expect(literalValue(valueAt(auth!.body, 'properties.identityProviders.azureActiveDirectory.enabled'))).toEqual({ known: true, value: true });
    const excluded = namedChildren(variableDeclarations(app).get('anonymousPaths')!).map((n) => stringLiteral(n));
    expect(excluded.sort()).toEqual(['/api/health', '/api/sms/inbound', '/api/sms/status', '/book/*']);
  });
});

describe('private-network variant', () => {
  test('is one parameter that disables public access and adds VNet integration and private endpoints', () => {
    const main = file('bicep/main.bicep'.replace('bicep/', ''));
    expect(main.source).toMatch(/param privateNetworking bool = false/);
    expect(main.source).toMatch(/module network 'modules\/network.bicep' = if \(privateNetworking\)/);
    expect(main.source).toMatch(/appSubnetId: privateNetworking \?/);
    for (const name of ['storage', 'servicebus', 'cosmos', 'keyvault']) {
      expect(file(`modules/${name}.bicep`).source).toMatch(/publicNetworkAccess: privateNetworking \? 'Disabled' : 'Enabled'/);
    }
    const groups = [...main.source.matchAll(/groupId: '(\w+)'/g)].map((m) => m[1]).sort();
    expect(groups).toEqual(['Sql', 'blob', 'namespace', 'queue', 'table', 'vault']);
  });
});

// Each check must be able to fail: a deliberately bad snippet is caught.
describe('the policy checks catch bad templates', () => {
  const snippet = (source: string) => parseBicep(source, 'bad.bicep');

  test('a storage account with shared keys enabled', async () => {
    const bad = await snippet(`
resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'bad'
  properties: {
    allowSharedKeyAccess: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}`);
    const findings = checkSecureDefaults(bad);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('allowSharedKeyAccess');
  });

  test('Service Bus and Cosmos DB without disableLocalAuth, TLS 1.0, computed values', async () => {
    const bad = await snippet(`
resource sb 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: 'bad'
  properties: {
    minimumTlsVersion: '1.0'
  }
}
resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: 'bad'
  properties: {
    disableLocalAuth: someFlag
    minimalTlsVersion: 'Tls12'
  }
}`);
    const messages = checkSecureDefaults(bad).map((f) => f.message);
    expect(messages).toEqual([
      expect.stringContaining('sb (Microsoft.ServiceBus/namespaces) must set properties.disableLocalAuth'),
      expect.stringContaining('sb (Microsoft.ServiceBus/namespaces) must set properties.minimumTlsVersion'),
      expect.stringContaining('cosmos (Microsoft.DocumentDB/databaseAccounts) must set properties.disableLocalAuth'),
    ]);
  });

  test('an existing resource is not judged (it is not deployed here)', async () => {
    const ok = await snippet(`resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {\n  name: 'shared'\n}`);
    expect(checkSecureDefaults(ok)).toEqual([]);
  });

  test('an Owner role assignment, directly or through a variable', async () => {
    const bad = await snippet(`
var roleIds = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'
}
resource direct 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid('a')
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')
    principalId: principalId
  }
}
resource indirect 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for r in [roleIds.owner]: {
  name: guid(r)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', r)
    principalId: principalId
  }
}]`);
    const messages = checkRoleAssignments(bad).map((f) => f.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining('direct grants Contributor'),
        expect.stringContaining('indirect grants Owner'),
        expect.stringContaining('literal Owner role id'),
      ]),
    );
  });

  test('a role assignment without a resource scope (it would cover the whole resource group)', async () => {
    const bad = await snippet(`
resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid('x')
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
    principalId: principalId
  }
}`);
    expect(checkRoleAssignments(bad).map((f) => f.message)).toEqual([expect.stringContaining('must be scoped to a single resource')]);
  });

  test('a role id passed in as a parameter cannot be verified and is rejected', async () => {
    const bad = await snippet(`
param roleId string
resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(roleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: principalId
  }
}`);
    expect(checkRoleAssignments(bad).map((f) => f.message)).toEqual([expect.stringContaining('not a statically known built-in role')]);
  });

  test('a Cosmos DB SQL role assignment with a custom or management role', async () => {
    const bad = await snippet(`
resource ra 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  name: guid('x')
  properties: {
    roleDefinitionId: '\${account.id}/sqlRoleDefinitions/5bd9cd88-fe45-4216-938b-f97437e15450'
    principalId: principalId
    scope: account.id
  }
}`);
    expect(checkRoleAssignments(bad).map((f) => f.message)).toEqual(
      expect.arrayContaining([expect.stringContaining('ra grants DocumentDB Account Contributor')]),
    );
  });

  test('secret literals, list*() keys and secret settings that are not Key Vault references', async () => {
    const bad = await snippet(`
@secure()
param adminPassword string = 'hunter2'
param twilioAuthToken string
var settings = {
  AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=\${key}'
  TWILIO_AUTH_TOKEN: 'abc'
  LINK_SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=\${uri})'
  other: 'Q2hhbmdlTWUxMjM0NTY3ODkwQWJjZGVmR2hpamtsbW5vcHFyc3R1dnd4eXo0NTY3OA=='
  sid: '0123456789abcdef0123456789abcdef'
}
var key = storage.listKeys().keys[0].value
var conn = listConnectionStrings(cosmos.id, '2024-11-15')`);
    const messages = checkNoSecretLiterals(bad).map((f) => f.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining('AccountKey='),
        expect.stringContaining('TWILIO_AUTH_TOKEN must be a Key Vault reference'),
        expect.stringContaining('encoded key'),
        expect.stringContaining('[0-9a-f]{32}'),
        expect.stringContaining('listKeys()'),
        expect.stringContaining('listConnectionStrings()'),
        expect.stringContaining('@secure() parameter adminPassword must not have a default'),
        expect.stringContaining('parameter twilioAuthToken looks secret'),
      ]),
    );
    expect(messages.some((m) => m.includes('LINK_SIGNING_KEY'))).toBe(false);
  });

  test('parameters without a Required./Optional. description, or with one that contradicts the default', async () => {
    const bad = await snippet(`
param a string
@description('Region.')
param b string
@description('Required. Has a default anyway.')
param c string = 'x'
@description('Optional. But no default.')
param d string
@description('Optional. Fine.')
param e string = ''`);
    expect(checkParameterDescriptions(bad).map((f) => f.message)).toEqual([
      'parameter a has no literal @description',
      'parameter b: description must start with "Required." or "Optional."',
      'parameter c is described Required. but has a default',
      'parameter d is described Optional. but has no default',
    ]);
  });

  test('registry modules hide resources from the checks and are rejected', async () => {
    const bad = await snippet(`module site 'br/public:avm/res/web/site:0.11.0' = {\n  name: 'site'\n}`);
    expect(checkLocalModules(bad)).toHaveLength(1);
  });

  test('a PHI store without a diagnostic setting', async () => {
    const bad = await snippet(`
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv'
}
resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: 'c'
}
resource diag 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'd'
  scope: vault
}`);
    expect(checkDiagnostics(bad).map((f) => f.message)).toEqual([expect.stringContaining('cosmos (Microsoft.DocumentDB/databaseAccounts)')]);
  });
});

// The alert and budget rules, each shown to fail on a bad snippet.
describe('the alert and cost checks catch bad templates', () => {
  const snippet = (source: string, name = 'bad.bicep') => parseBicep(source, name);
  const group = `
resource ag 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag'
  location: 'global'
  properties: {
    groupShortName: 'x'
    enabled: true
  }
}`;

  test('an alert rule without actions, one routed to an id that is not a declared action group, one disabled', async () => {
    const bad = await snippet(`${group}
param otherGroupId string
resource silent 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'silent'
  location: 'global'
  properties: {
    enabled: true
    scopes: []
  }
}
resource elsewhere 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'elsewhere'
  location: 'x'
  properties: {
    enabled: true
    actions: {
      actionGroups: [
        otherGroupId
      ]
    }
  }
}
resource off 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'off'
  location: 'global'
  properties: {
    enabled: false
    actions: [
      {
        actionGroupId: ag.id
      }
    ]
  }
}`);
    expect(checkAlertActions(bad).map((f) => f.message)).toEqual([
      expect.stringContaining('silent (Microsoft.Insights/metricAlerts) notifies no action group'),
      expect.stringContaining('elsewhere notifies otherGroupId, which is not the id of an action group declared'),
      expect.stringContaining('off (Microsoft.Insights/metricAlerts) must set properties.enabled: true'),
    ]);
  });

  test('a budget without the 80 % notification, and one whose notifications reach no action group', async () => {
    const bad = await snippet(`${group}
resource partial 'Microsoft.Consumption/budgets@2023-11-01' = {
  name: 'partial'
  properties: {
    amount: 100
    notifications: {
      a: {
        threshold: 50
        thresholdType: 'Actual'
        contactGroups: [
          ag.id
        ]
      }
      b: {
        threshold: 100
        thresholdType: 'Actual'
        contactGroups: [
          ag.id
        ]
      }
      c: {
        threshold: 80
        thresholdType: 'Forecasted'
        contactGroups: [
          ag.id
        ]
      }
    }
  }
}
var levels = [
  {
    threshold: 50
    thresholdType: 'Actual'
  }
  {
    threshold: 80
    thresholdType: 'Actual'
  }
  {
    threshold: 100
    thresholdType: 'Actual'
  }
]
resource unrouted 'Microsoft.Consumption/budgets@2023-11-01' = {
  name: 'unrouted'
  properties: {
    amount: 100
    notifications: toObject(levels, n => string(n.threshold), n => {
      threshold: n.threshold
      contactEmails: [
        'ops@example.org'
      ]
    })
  }
}`);
    expect(checkBudgets(bad).map((f) => f.message)).toEqual([
      expect.stringContaining('partial has no notification at 80 % of actual cost'),
      expect.stringContaining('unrouted: every notification must notify an action group'),
    ]);
  });

  test('a budget whose notifications cannot be read statically', async () => {
    const bad = await snippet(`${group}
param notifications object
resource b 'Microsoft.Consumption/budgets@2023-11-01' = {
  name: 'b'
  properties: {
    amount: 1
    notifications: notifications
  }
}`);
    expect(checkBudgets(bad).map((f) => f.message)).toEqual([expect.stringContaining('not statically known')]);
  });

  describe('every subscription, the topic and every queue have alerts', () => {
    const sb = () => file('modules/servicebus.bicep');
    const alerts = () => file('modules/alerts.bicep');
    const swap = async (from: string, to: string) => {
      expect(alerts().source).toContain(from);
      return parseBicep(alerts().source.replace(from, to), alerts().name);
    };

    test('the real modules pass', () => {
      expect(checkDeadLetterAlerts([sb(), alerts()])).toEqual([]);
    });

    test('subscriptions created from a hand-written list cannot be checked', async () => {
      const inline = await parseBicep(
        sb().source.replace('var subscriptions = topology.subscriptions', "var subscriptions = [\n  {\n    name: 'backfill'\n    sqlFilter: '1=1'\n  }\n]"),
        sb().name,
      );
      expect(checkDeadLetterAlerts([inline, alerts()]).map((f) => f.message)).toEqual([
        expect.stringContaining('subscriptions must be created from a topology JSON file'),
      ]);
    });

    test('no alerts module at all', () => {
      expect(checkDeadLetterAlerts([sb()]).map((f) => f.message)).toEqual([
        expect.stringContaining('have no per-subscription log alert rule'),
        expect.stringContaining('have no DeadletteredMessages metric alert'),
      ]);
    });

    test('the per-subscription rules loop over a list of their own', async () => {
      const bad = await swap('for subscription in topology.subscriptions:', "for subscription in [\n    {\n      name: 'backfill'\n    }\n  ]:");
      expect(checkDeadLetterAlerts([sb(), bad]).map((f) => f.message)).toEqual([expect.stringContaining('have no per-subscription log alert rule')]);
    });

    test('the per-subscription query does not name the subscription', async () => {
      const bad = await swap('format(poisonQuery, appFilter, subscription.name)', "format(poisonQuery, appFilter, 'backfill')");
      expect(checkDeadLetterAlerts([sb(), bad]).map((f) => f.message)).toEqual([expect.stringContaining('have no per-subscription log alert rule')]);
    });

    test('the metric alerts leave out the queues, or watch another metric', async () => {
      const noQueues = await swap('var deadLetterEntities = concat([topology.topic], map(topology.queues, queue => queue.name))', 'var deadLetterEntities = [topology.topic]');
      expect(checkDeadLetterAlerts([sb(), noQueues]).map((f) => f.message)).toEqual([expect.stringContaining('have no DeadletteredMessages metric alert')]);
      const otherMetric = await swap("metricName: 'DeadletteredMessages'", "metricName: 'ActiveMessages'");
      expect(checkDeadLetterAlerts([sb(), otherMetric]).map((f) => f.message)).toEqual([expect.stringContaining('have no DeadletteredMessages metric alert')]);
    });

    test('alerts that load another topology file do not count', async () => {
      const bad = await swap("loadJsonContent('../servicebus-topology.json')", "loadJsonContent('../other-topology.json')");
      expect(checkDeadLetterAlerts([sb(), bad]).map((f) => f.rule)).toEqual(['dead-letter-alerts', 'dead-letter-alerts']);
    });
  });
});

// The same checks on the real templates with one line changed: the rules bite on real files.
describe('a one-line regression in the real templates is caught', () => {
  test.each([
    ['modules/storage.bicep', 'allowSharedKeyAccess: false', 'allowSharedKeyAccess: true', 'secure-defaults'],
    ['modules/servicebus.bicep', 'disableLocalAuth: true', 'disableLocalAuth: false', 'secure-defaults'],
    ['modules/cosmos.bicep', "minimalTlsVersion: 'Tls12'", "minimalTlsVersion: 'Tls'", 'secure-defaults'],
    ['modules/functionapp.bicep', "ftpsState: 'Disabled'", "ftpsState: 'AllAllowed'", 'secure-defaults'],
    [
      'modules/keyvault.bicep',
      "keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'",
      "keyVaultSecretsUser: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'",
      'role-assignments',
    ],
    [
      'modules/functionapp.bicep',
      "TWILIO_AUTH_TOKEN: '@Microsoft.KeyVault(SecretUri=${twilioAuthTokenSecretUri})'",
      "TWILIO_AUTH_TOKEN: 'not-a-reference'",
      'no-secret-literal',
    ],
    ['modules/alerts.bicep', 'threshold: 80', 'threshold: 90', 'budget'],
    ['modules/alerts.bicep', "thresholdType: 'Actual'\n  }\n  {\n    name: 'actual-100'", "thresholdType: 'Forecasted'\n  }\n  {\n    name: 'actual-100'", 'budget'],
    ['modules/alerts.bicep', 'actionGroupId: actionGroup.id', 'actionGroupId: namespace.id', 'alert-actions'],
    ['modules/alerts.bicep', 'enabled: true\n      scopes', 'enabled: false\n      scopes', 'alert-actions'],
  ])('%s: %s -> %s', async (name, from, to, rule) => {
    const original = file(name);
    expect(original.source).toContain(from);
    const mutated = await parseBicep(original.source.replace(from, to), original.name);
    expect(checkPolicies([mutated]).map((f) => f.rule)).toContain(rule);
  });
});
