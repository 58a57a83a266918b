import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { slotflowTopology } from '../../../functions/adapters/servicebus/topology';
import { type ArmTemplate, checkAlertReferences, formatArmFindings, kqlTables, moduleNamed } from './arm';
import { describeWithCli, runCheck } from './bicep-cli';

// The alert rules and the budget in what Azure deploys (main.json as `bicep build` compiles it):
// they point only at resources the template creates, and their copy loops cover the one topology.

function compile(): ArmTemplate {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'slotflow-arm-alerts-'));
  try {
    const run = runCheck({ outDir, steps: ['build'] });
    if (run.report.status !== 'ok') throw new Error(`bicep build failed:\n${run.stderr}`);
    return JSON.parse(readFileSync(path.join(outDir, 'main.json'), 'utf8')) as ArmTemplate;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

test('KQL tables are read from the query text', () => {
  expect(kqlTables('AppTraces {0} | where x')).toEqual(['AppTraces']);
  expect(kqlTables('union (AppExceptions | where a), (AppTraces | where b) | summarize count()')).toEqual(['AppExceptions', 'AppTraces']);
  expect(kqlTables('SigninLogs | where x')).toEqual(['SigninLogs']);
  expect(kqlTables('{0} | summarize count() by principal')).toEqual([]);
});

describeWithCli('alert rules in the compiled template', () => {
  let main: ArmTemplate;
  beforeAll(() => {
    main = compile();
  }, 120_000);
  const clone = () => structuredClone(main);
  const alerts = (t: ArmTemplate) => moduleNamed(t, 'alerts');
  const rule = (t: ArmTemplate, type: string, index = 0) => alerts(t).template.resources.filter((r) => r.type === type)[index]!;

  test('reference only resources the template creates, and read only tables its Application Insights writes', () => {
    expect(formatArmFindings(checkAlertReferences(main))).toBe('');
  });

  test('the loops cover every subscription, the topic and the queue of the one topology', () => {
    const variables = alerts(main).template.variables!;
    const topology = Object.values(variables).find((v) => typeof v === 'object' && v !== null && 'subscriptions' in v) as {
      topic: string;
      subscriptions: { name: string }[];
      queues: { name: string }[];
    };
    const [topic] = slotflowTopology.topics;
    expect(topology.subscriptions.map((s) => s.name)).toEqual(topic!.subscriptions.map((s) => s.name));
    expect([topology.topic, ...topology.queues.map((q) => q.name)]).toEqual([topic!.name, ...slotflowTopology.queues.map((q) => q.name)]);
    const poison = rule(main, 'Microsoft.Insights/scheduledQueryRules', 0);
    expect(poison.copy).toEqual({ name: 'poisonAlerts', count: "[length(variables('topology').subscriptions)]" });
    const deadLetters = rule(main, 'Microsoft.Insights/metricAlerts', 0);
    expect(deadLetters.copy).toEqual({ name: 'deadLetterAlerts', count: "[length(variables('deadLetterEntities'))]" });
  });

  describe('the check catches a rule pointing elsewhere', () => {
    test('a scope that is a literal id of a namespace the template does not create', () => {
      const bad = clone();
      rule(bad, 'Microsoft.Insights/metricAlerts').properties!.scopes = ['/subscriptions/x/resourceGroups/y/providers/Microsoft.ServiceBus/namespaces/other'];
      expect(checkAlertReferences(bad)).toEqual([expect.objectContaining({ rule: 'alert-references', message: expect.stringContaining('scope: "/subscriptions/x') })]);
    });

    test('a namespace name main takes from a parameter instead of the Service Bus module', () => {
      const bad = clone();
      (alerts(bad).deployment!.properties!.parameters as Record<string, { value: unknown }>).serviceBusNamespaceName = { value: "[parameters('environmentName')]" };
      const messages = checkAlertReferences(bad).map((f) => f.message);
      expect(messages.length).toBeGreaterThan(0);
      expect(messages.every((m) => m.includes('parameter serviceBusNamespaceName') && m.includes("is not another module's output"))).toBe(true);
    });

    test('an output of a module that does not create that resource type', () => {
      const bad = clone();
      const params = alerts(bad).deployment!.properties!.parameters as Record<string, { value: string }>;
      params.logAnalyticsWorkspaceName = { value: params.functionAppName!.value };
      expect(checkAlertReferences(bad).map((f) => f.message)).toEqual(
        expect.arrayContaining([expect.stringContaining('output functionapp.name does not name a Microsoft.OperationalInsights/workspaces')]),
      );
    });

    test('an action group the module does not declare', () => {
      const bad = clone();
      rule(bad, 'Microsoft.Insights/scheduledQueryRules', 1).properties!.actions = { actionGroups: ["[resourceId('Microsoft.Insights/actionGroups', 'shared-oncall')]"] };
      expect(checkAlertReferences(bad).map((f) => f.message)).toEqual([expect.stringContaining("action group: Microsoft.Insights/actionGroups named 'shared-oncall' is not created by alerts")]);
    });

    test('a query on a table nothing in the template writes', () => {
      const bad = clone();
      const variables = alerts(bad).template.variables!;
      variables.bulkQuery = `SigninLogs | where x ${String(variables.bulkQuery)}`;
      expect(checkAlertReferences(bad).map((f) => f.message)).toEqual(expect.arrayContaining([expect.stringContaining('query reads SigninLogs')]));
    });
  });
});
