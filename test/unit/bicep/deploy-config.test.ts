import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { HOST_SETTINGS, LOCAL_ONLY_SETTINGS, appSettingsSchema, loadSettings } from '../../../functions/app/config';
import { type BicepFile, REPO_ROOT, parameterDeclarations, parseBicep } from '../../support/bicep-ast';

// The files around the templates: host.json, azure.yaml, main.bicepparam, the local
// settings sample and the README's deployment section.
const read = (relative: string) => readFileSync(path.join(REPO_ROOT, relative), 'utf8');
const readJson = (relative: string): unknown => JSON.parse(read(relative));

interface HostJson {
  version: string;
  extensionBundle: { id: string; version: string };
  logging: { logLevel: Record<string, string>; applicationInsights?: { samplingSettings?: { excludedTypes?: string } } };
  extensions: {
    http: { routePrefix: string };
    durableTask: { hubName: string; storageProvider?: { connectionName?: string }; tracing: { traceInputsAndOutputs: boolean; traceReplayEvents: boolean } };
    serviceBus: {
      autoCompleteMessages: boolean;
      maxConcurrentCalls: number;
      maxConcurrentSessions: number;
      maxAutoLockRenewalDuration: string;
      clientRetryOptions: { mode: string; maxRetries: number };
    };
  };
}

describe('host.json', () => {
  const host = readJson('host.json') as HostJson;

  test('uses the v4 extension bundle (Durable Functions and Service Bus 5.x)', () => {
    expect(host.version).toBe('2.0');
    expect(host.extensionBundle).toEqual({ id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' });
  });

  test('serves the public routes without a prefix (/api, /fhir and /book live side by side)', () => {
    expect(host.extensions.http.routePrefix).toBe('');
  });

  test('Durable Functions: a valid task hub name on the identity-based storage connection, no input tracing', () => {
    expect(host.extensions.durableTask.hubName).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
    expect(host.extensions.durableTask.storageProvider?.connectionName).toBe('AzureWebJobsStorage');
    expect(host.extensions.durableTask.tracing).toEqual({ traceInputsAndOutputs: false, traceReplayEvents: false });
  });

  test('Service Bus trigger: auto-complete, bounded concurrency for queues and sessions, lock renewal, client retries', () => {
    const sb = host.extensions.serviceBus;
    expect(sb.autoCompleteMessages).toBe(true);
    expect(sb.maxConcurrentCalls).toBeGreaterThan(0);
    expect(sb.maxConcurrentSessions).toBeGreaterThan(0);
    expect(sb.maxAutoLockRenewalDuration).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    expect(sb.clientRetryOptions).toMatchObject({ mode: 'Exponential', maxRetries: expect.any(Number) });
  });

  test('logging defaults to Warning and nothing logs at Debug or Trace; failures are never sampled away', () => {
    const levels = host.logging.logLevel;
    expect(levels.default).toBe('Warning');
    expect(Object.values(levels).filter((l) => !['Information', 'Warning', 'Error', 'Critical', 'None'].includes(l))).toEqual([]);
    expect(host.logging.applicationInsights?.samplingSettings?.excludedTypes).toContain('Exception');
  });
});

describe('main.bicepparam and azure.yaml', () => {
  let main: BicepFile;
  beforeAll(async () => {
    main = await parseBicep(read('bicep/main.bicep'), 'bicep/main.bicep');
  });

  // bicep build-params checks the same where the CLI is restored (compile.test.ts); this holds without it.
  test('every parameter in main.bicepparam exists in main.bicep, and every required one is given', () => {
    const file = read('bicep/main.bicepparam');
    expect(file).toMatch(/^using 'main\.bicep'$/m);
    const declared = parameterDeclarations(main);
    const given = [...file.matchAll(/^param (\w+) = /gm)].map((m) => m[1]!);
    expect(given.filter((name) => !declared.some((p) => p.name === name))).toEqual([]);
    const required = declared.filter((p) => !p.defaultValue).map((p) => p.name);
    expect(required.filter((name) => !given.includes(name))).toEqual([]);
    expect(required).toEqual(expect.arrayContaining(['environmentName', 'location', 'authClientId']));
  });

  test('azure.yaml provisions bicep/main.bicep and deploys a function service named api', () => {
    const yaml = read('azure.yaml');
    expect(yaml).toMatch(/^infra:\n {2}provider: bicep\n {2}path: bicep\n {2}module: main$/m);
    expect(yaml).toMatch(/^ {2}api:\n {4}project: \.\n {4}language: ts\n {4}host: function$/m);
    expect(read('bicep/modules/functionapp.bicep') + read('bicep/main.bicep')).toContain("'azd-service-name': 'api'");
  });

  test('the hooks azure.yaml runs exist and are executable', () => {
    const scripts = [...read('azure.yaml').matchAll(/run: (\S+)/g)].map((m) => m[1]!);
    expect(scripts).toEqual(['./bicep/hooks/entra-app.sh', './bicep/hooks/post-provision.sh']);
    for (const script of scripts) expect(() => accessSync(path.join(REPO_ROOT, script), constants.X_OK)).not.toThrow();
  });

  test('the Entra ID app registration defines exactly the roles admin, scheduler and ehr', () => {
    const roles = readJson('bicep/entra-app-roles.json') as Array<{ id: string; value: string; isEnabled: boolean }>;
    expect(roles.map((r) => r.value).sort()).toEqual(['admin', 'ehr', 'scheduler']);
    expect(new Set(roles.map((r) => r.id)).size).toBe(3);
    expect(roles.every((r) => r.isEnabled)).toBe(true);
  });
});

describe('local.settings.json.sample', () => {
  const sample = readJson('local.settings.json.sample') as { Values: Record<string, string> };

  test('holds only settings the app or the host reads (plus the Core Tools storage emulator connection)', () => {
    const known = new Set<string>([...Object.keys(appSettingsSchema.shape), ...HOST_SETTINGS, 'AzureWebJobsStorage']);
    expect(Object.keys(sample.Values).filter((k) => !known.has(k))).toEqual([]);
  });

  test('is a valid local configuration for the app', () => {
    const settings = loadSettings({ ...sample.Values });
    expect(settings.SLOTFLOW_ENV).toBe('local');
    expect(settings.SMS_MODE).toBe('outbox');
    expect(LOCAL_ONLY_SETTINGS.every((k) => k in sample.Values)).toBe(true);
  });

  test('local.settings.json itself is git-ignored', () => {
    expect(read('.gitignore').split('\n')).toContain('local.settings.json');
  });
});

describe('README: Deploy to Azure', () => {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## Deploy to Azure'), readme.indexOf('\n## ', readme.indexOf('## Deploy to Azure') + 3));

  test('says that CI compiles and lints the templates with the pinned Bicep CLI, and no longer asks the user to', () => {
    const version = /Include="Azure\.Bicep\.CommandLine\.linux-x64" Version="\[([^\]]+)\]"/.exec(read('.ci/bicep/bicep-cli.csproj'))?.[1];
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(section).toContain(`CI compiles and lints them with Bicep ${version}`);
    expect(section).toContain('npm run test:bicep');
    expect(section).not.toContain('cannot be installed');
    expect(section).not.toMatch(/az bicep (build|lint)/);
  });

  test('gives azd up and the post-deploy steps', () => {
    for (const text of [
      'azd up',
      'az keyvault secret set',
      'twilio-auth-token',
      'link-signing-key',
      '/api/sms/inbound',
      '/api/sms/status',
      'admin',
      'scheduler',
      'ehr',
      'EHR',
    ]) {
      expect(section).toContain(text);
    }
  });
});
