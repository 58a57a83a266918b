import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ArmResource, type ArmTemplate, checkArmPolicies, formatArmFindings, moduleNamed } from './arm';
import { describeWithCli, REPO_ROOT, runCheck } from './bicep-cli';

// The MLLP bridge's deployment (bicep/modules/mllp-bridge.bicep) as main.json compiles it: off unless asked for,
// TCP ingress behind an allow-list, a user-assigned identity, the settings mllp-bridge/main.ts reads and no secret.

let main: ArmTemplate;
let bridgeModule: ArmTemplate;
let deployment: ArmResource;
const resourceOf = (type: string) => {
  const found = bridgeModule.resources.find((r) => r.type === type);
  if (!found) throw new Error(`mllp-bridge has no ${type}`);
  return found;
};

describeWithCli('MLLP bridge module', () => {
  beforeAll(() => {
    const outDir = mkdtempSync(path.join(os.tmpdir(), 'slotflow-mllp-'));
    try {
      const run = runCheck({ outDir, steps: ['build'] });
      if (run.report.status !== 'ok') throw new Error(`bicep build failed:\n${run.stderr}`);
      main = JSON.parse(readFileSync(path.join(outDir, 'main.json'), 'utf8')) as ArmTemplate;
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
    const module = moduleNamed(main, 'mllp-bridge');
    bridgeModule = module.template;
    deployment = module.deployment!;
  }, 120_000);

  test('is deployed only when deployMllpBridge is set, which defaults to false', () => {
    expect(deployment.condition).toBe("[parameters('deployMllpBridge')]");
    expect(main.parameters?.deployMllpBridge).toMatchObject({ type: 'bool', defaultValue: false });
  });

  test('passes the policy checks with everything else', () => {
    expect(formatArmFindings(checkArmPolicies(main))).toBe('');
  });

  test('one container app with TCP ingress that admits only the allow-listed peers', () => {
    const app = resourceOf('Microsoft.App/containerApps');
    const ingress = (app.properties as { configuration: { ingress: Record<string, unknown> } }).configuration.ingress;
    expect(ingress).toMatchObject({ external: true, transport: 'tcp', exposedPort: "[parameters('mllpPort')]" });
    // Allow rules only (one Allow rule makes the ingress deny everyone else), one per entry of allowedPeers.
    expect(ingress.copy).toEqual([
      expect.objectContaining({
        name: 'ipSecurityRestrictions',
        count: "[length(parameters('allowedPeers'))]",
        input: expect.objectContaining({ action: 'Allow' }),
      }),
    ]);
    expect(bridgeModule.parameters?.allowedPeers).toMatchObject({ type: 'array', minLength: 1 });
    const scale = (app.properties as { template: { scale: unknown } }).template.scale;
    expect(scale).toEqual({ minReplicas: 1, maxReplicas: 1 });
  });

  test('runs as its own user-assigned identity, which also pulls the image; its principal is an output', () => {
    const app = resourceOf('Microsoft.App/containerApps');
    expect(app.identity).toMatchObject({ type: 'UserAssigned' });
    expect(JSON.stringify(app.identity)).toContain("Microsoft.ManagedIdentity/userAssignedIdentities', format('id-{0}'");
    expect(String((app.properties as { configuration: { registries: string } }).configuration.registries)).toContain("'identity', resourceId(");
    expect(main.outputs?.MLLP_BRIDGE_PRINCIPAL_ID).toBeDefined();
  });

  test('sets exactly the settings mllp-bridge/main.ts reads, pointing at the SIU route with the app registration audience', () => {
    const app = resourceOf('Microsoft.App/containerApps');
    const env = (app.properties as { template: { containers: { env: { name: string; value?: string; secretRef?: string }[] }[] } }).template.containers[0]!.env;
    const names = env.map((e) => e.name).sort();
    expect(names).toEqual(['AZURE_CLIENT_ID', 'MLLP_ALLOWED_PEERS', 'MLLP_MAX_BYTES', 'MLLP_PORT', 'MLLP_TARGET_AUDIENCE', 'MLLP_TARGET_URL', 'SLOTFLOW_ENV']);
    const bridgeSource = readFileSync(path.join(REPO_ROOT, 'mllp-bridge', 'main.ts'), 'utf8');
    for (const name of names) expect([name, bridgeSource.includes(`env.${name}`)]).toEqual([name, true]);
    const params = (deployment.properties as { parameters: Record<string, { value: string }> }).parameters;
    expect(params.targetUrl!.value).toMatch(/^\[format\('\{0\}\/api\/ehr\/hl7v2', reference\(.*'functionapp'\)/);
    expect(params.targetAudience!.value).toBe("[format('api://{0}', parameters('authClientId'))]");
    // The same audience Easy Auth accepts on the Function App.
    expect(readFileSync(path.join(REPO_ROOT, 'bicep', 'modules', 'functionapp.bicep'), 'utf8')).toContain("'api://${authClientId}'");
  });

  test('holds no secret: no secrets block, no secretRef, no keys; logs through a diagnostic setting, not a workspace key', () => {
    const text = JSON.stringify(bridgeModule);
    expect(text).not.toMatch(/"secrets"|secretRef|listKeys|sharedKey|password/i);
    expect(resourceOf('Microsoft.App/managedEnvironments').properties).toMatchObject({ appLogsConfiguration: { destination: 'azure-monitor' } });
    expect(resourceOf('Microsoft.Insights/diagnosticSettings').scope).toContain('Microsoft.App/managedEnvironments');
  });
});
