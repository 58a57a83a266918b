import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CheckRun, type Edit, type Step, REPO_ROOT, SCRIPT, describeWithCli, pinnedVersion, plantedCopy, runCheck } from './bicep-cli';

// The real Bicep CLI (pinned in .ci/bicep/bicep-cli.csproj) over bicep/, through the same script
// .ci/run runs. Each CLI call takes 2-4 s, so every planted-fault test runs only the step it needs.

const read = (relative: string) => readFileSync(path.join(REPO_ROOT, relative), 'utf8');
const codes = (run: CheckRun) => run.report.diagnostics.map((d) => d.code);

describeWithCli('the Bicep CLI compiles and lints bicep/', () => {
  let run: CheckRun;
  let outDir: string;
  beforeAll(() => {
    outDir = mkdtempSync(path.join(os.tmpdir(), 'slotflow-bicep-out-'));
    run = runCheck({ outDir });
  }, 60_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  test('build, build-params and lint pass with no diagnostic at all (a warning would fail)', () => {
    expect(run.report.diagnostics).toEqual([]);
    expect(run.report.steps.map((s) => [s.step, s.exitCode, s.other])).toEqual([
      ['build', 0, []],
      ['params', 0, []],
      ['lint', 0, []],
    ]);
    expect(run.report.status).toBe('ok');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Bicep CLI ${pinnedVersion()}`);
  });

  test('every .bicep file is compiled, and the parameters file too', () => {
    const bicep = run.report.files!.bicep;
    expect(bicep).toEqual(expect.arrayContaining(['bicep/main.bicep', 'bicep/modules/cosmos.bicep', 'bicep/modules/functionapp.bicep']));
    expect(bicep.length).toBeGreaterThanOrEqual(10);
    for (const file of bicep) {
      expect(existsSync(path.join(outDir, path.relative('bicep', file).replace(/\.bicep$/, '.json')))).toBe(true);
    }
    expect(run.report.files!.params).toEqual(['bicep/main.bicepparam']);
    const params = JSON.parse(readFileSync(path.join(outDir, 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: unknown }> };
    expect(params.parameters.environmentName?.value).toBe('slotflow-ci');
    expect(params.parameters.privateNetworking?.value).toBe(false);
    expect(params.parameters.smsMode?.value).toBe('twilio');
  });
});

describeWithCli('a planted fault fails the check', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
  const checkPlanted = (edits: readonly Edit[], steps: readonly Step[]) => {
    const root = plantedCopy(edits);
    roots.push(root);
    return runCheck({ root, steps });
  };

  test('a misspelled property: a compiler warning, and warnings fail', () => {
    const run = checkPlanted([{ file: 'bicep/modules/cosmos.bicep', from: "minimalTlsVersion: 'Tls12'", to: "minimalTlsVerison: 'Tls12'" }], ['build']);
    expect(run.exitCode).toBe(1);
    expect(run.report.status).toBe('failed');
    expect(run.report.diagnostics).toEqual([
      expect.objectContaining({ file: 'bicep/modules/cosmos.bicep', level: 'Warning', code: 'BCP089', message: expect.stringContaining('minimalTlsVersion') }),
    ]);
    expect(run.stderr).toContain('bicep: FAILED');
  }, 30_000);

  test('a required module parameter left out of main.bicep', () => {
    const run = checkPlanted([{ file: 'bicep/main.bicep', from: '    twilioAccountSid: twilioAccountSid\n', to: '' }], ['build']);
    expect(run.exitCode).toBe(1);
    expect(run.report.diagnostics).toEqual(
      expect.arrayContaining([expect.objectContaining({ file: 'bicep/main.bicep', level: 'Error', code: 'BCP035', message: expect.stringContaining('twilioAccountSid') })]),
    );
  }, 30_000);

  test('a required parameter missing from main.bicepparam, and one main.bicep does not declare', () => {
    const run = checkPlanted(
      [
        { file: 'bicep/main.bicepparam', from: "param authClientId = readEnvironmentVariable('AUTH_CLIENT_ID')\n", to: '' },
        { file: 'bicep/main.bicepparam', to: "param clinicName = 'x'\n" },
      ],
      ['params'],
    );
    expect(run.exitCode).toBe(1);
    const byCode = Object.fromEntries(run.report.diagnostics.map((d) => [d.code, d]));
    expect(byCode.BCP258).toMatchObject({ file: 'bicep/main.bicepparam', level: 'Error', message: expect.stringContaining('authClientId') });
    expect(byCode.BCP259).toMatchObject({ file: 'bicep/main.bicepparam', level: 'Error', message: expect.stringContaining('clinicName') });
  }, 30_000);

  test('linter violations are errors under bicep/bicepconfig.json; an unknown API version is a warning and fails too', () => {
    const planted = `// Planted linter violations.
@description('Required. Azure region.')
param location string

@description('Optional. Never used.')
param unusedSetting string = ''

@description('Required. A password that is not @secure().')
param adminPassword string

@description('Optional. A secure parameter with a default.')
@secure()
param apiKey string = 'not-empty'

var unusedValue = 1
var managementUrl = 'https://management.azure.com/'

resource future 'Microsoft.Storage/storageAccounts@2099-01-01' = {
  name: 'stplanted\${uniqueString(resourceGroup().id)}'
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  tags: {
    endpoint: managementUrl
    key: apiKey
  }
}

resource existingAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'shared'
}

@description('Leaks a key.')
output accountKey string = existingAccount.listKeys().keys[0].value

@description('Leaks a password.')
output password string = adminPassword
`;
    const run = checkPlanted([{ file: 'bicep/modules/planted.bicep', to: planted }], ['lint']);
    expect(run.exitCode).toBe(1);
    const found = run.report.diagnostics.map((d) => [d.code, d.level, d.file, d.line]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['no-unused-params', 'Error', 'bicep/modules/planted.bicep', 6],
        ['secure-secrets-in-params', 'Error', 'bicep/modules/planted.bicep', 9],
        ['secure-parameter-default', 'Error', 'bicep/modules/planted.bicep', 13],
        ['no-unused-vars', 'Error', 'bicep/modules/planted.bicep', 15],
        ['no-hardcoded-env-urls', 'Error', 'bicep/modules/planted.bicep', 16],
        ['BCP081', 'Warning', 'bicep/modules/planted.bicep', 18],
        ['outputs-should-not-contain-secrets', 'Error', 'bicep/modules/planted.bicep', 36],
        ['outputs-should-not-contain-secrets', 'Error', 'bicep/modules/planted.bicep', 38],
      ]),
    );
  }, 30_000);

  test('a one-line regression in a real template: a hard-coded cloud host', () => {
    const run = checkPlanted(
      [{ file: 'bicep/modules/network.bicep', from: "blob: 'privatelink.blob.${storageSuffix}'", to: "blob: 'privatelink.blob.core.windows.net'" }],
      ['lint'],
    );
    expect(run.exitCode).toBe(1);
    expect(codes(run)).toContain('no-hardcoded-env-urls');
    expect(run.report.diagnostics.find((d) => d.code === 'no-hardcoded-env-urls')).toMatchObject({ file: 'bicep/modules/network.bicep', level: 'Error' });
  }, 30_000);
});

describe('bicep/bicepconfig.json', () => {
  // JSON with comments, as the CLI reads it.
  const config = JSON.parse(read('bicep/bicepconfig.json').replace(/^\s*\/\/.*$/gm, '')) as {
    analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
  };

  test('raises the rules the issue names to error and says why each rule left off is off', () => {
    const { enabled, rules } = config.analyzers.core;
    expect(enabled).toBe(true);
    for (const rule of [
      'secure-secrets-in-params',
      'secure-parameter-default',
      'secure-params-in-nested-deploy',
      'use-secure-value-for-secure-inputs',
      'no-hardcoded-env-urls',
      'outputs-should-not-contain-secrets',
      'no-unused-params',
      'no-unused-vars',
      'no-unused-existing-resources',
      'no-unnecessary-dependson',
      'use-resource-symbol-reference',
      'use-stable-resource-identifiers',
    ]) {
      expect({ rule, level: rules[rule]?.level }).toEqual({ rule, level: 'error' });
    }
    const levels = new Set(Object.values(rules).map((r) => r.level));
    expect([...levels].sort()).toEqual(['error', 'off']);
    const text = read('bicep/bicepconfig.json');
    for (const [rule, { level }] of Object.entries(rules)) if (level === 'off') expect(text).toContain(`// - ${rule}:`);
  });
});

// The restore itself, against package sources on this machine only: one that refuses connections
// and an empty local folder. A copy of .ci/bicep runs in a temporary directory with its own nuget.config.
describe('restore', () => {
  const hasDotnet = spawnSync('dotnet', ['--version']).status === 0;
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  function copyWithSource(source: string) {
    const root = mkdtempSync(path.join(os.tmpdir(), 'slotflow-bicep-restore-'));
    roots.push(root);
    const dir = path.join(root, '.ci', 'bicep');
    mkdirSync(dir, { recursive: true });
    for (const file of ['bicep.cjs', 'bicep-cli.csproj']) cpSync(path.join(path.dirname(SCRIPT), file), path.join(dir, file));
    mkdirSync(path.join(root, 'empty-feed'));
    writeFileSync(
      path.join(dir, 'nuget.config'),
      `<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <packageSources>\n    <clear />\n    <add key="test" value="${source.replace('<root>', root)}" />\n  </packageSources>\n</configuration>\n`,
    );
    const script = path.join(dir, 'bicep.cjs');
    const node = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', cwd: root });
    return { root, dir, node };
  }

  test('an unreachable package source skips the compile loudly and does not fail', () => {
    const { dir, node } = copyWithSource('https://127.0.0.1:9/v3/index.json');
    const restore = node('restore');
    expect(restore.status).toBe(0);
    expect(restore.stderr).toContain('BICEP COMPILE AND LINT SKIPPED');
    const unavailable = JSON.parse(readFileSync(path.join(dir, 'packages', 'unavailable.json'), 'utf8')) as { version: string; reason: string };
    expect(unavailable.version).toBe(pinnedVersion());
    expect(unavailable.reason).toMatch(hasDotnet ? /package source is unreachable/ : /dotnet/);
    const check = node('check', '--no-restore');
    expect(check.status).toBe(0);
    expect(check.stderr).toContain('BICEP COMPILE AND LINT SKIPPED');
  }, 60_000);

  (hasDotnet ? test : test.skip)('a source that lacks the pinned package fails (not a reason to skip)', () => {
    const { dir, node } = copyWithSource('<root>/empty-feed');
    const restore = node('restore');
    expect(restore.status).toBe(1);
    expect(restore.stderr).toContain('NU1101');
    expect(existsSync(path.join(dir, 'packages', 'unavailable.json'))).toBe(false);
  }, 60_000);
});
