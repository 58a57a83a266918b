import path from 'node:path';
import { bicepFilePaths, loadBicepFiles, parseBicep, REPO_ROOT, syntaxProblems, type BicepFile } from '../../support/bicep-ast';

// Syntax only, through tree-sitter: it holds where the Bicep CLI could not be restored.
// compile.test.ts compiles and lints with the CLI itself.
let files: BicepFile[];
beforeAll(async () => {
  files = await loadBicepFiles();
});

test('bicep/ holds main.bicep and the modules it deploys', () => {
  const names = bicepFilePaths().map((p) => path.relative(REPO_ROOT, p));
  expect(names).toEqual(
    expect.arrayContaining([
      'bicep/main.bicep',
      'bicep/modules/cosmos.bicep',
      'bicep/modules/functionapp.bicep',
      'bicep/modules/identity.bicep',
      'bicep/modules/keyvault.bicep',
      'bicep/modules/monitoring.bicep',
      'bicep/modules/network.bicep',
      'bicep/modules/private-endpoint.bicep',
      'bicep/modules/servicebus.bicep',
      'bicep/modules/storage.bicep',
    ]),
  );
});

test('every .bicep file parses without ERROR or MISSING nodes', () => {
  const problems = files.flatMap((file) => syntaxProblems(file).map((p) => `${file.name}:${p.line}:${p.column} ${p.kind} ${p.text}`));
  expect(problems).toEqual([]);
});

test('every module path referenced by main.bicep exists', () => {
  const main = files.find((f) => f.name === 'bicep/main.bicep');
  const referenced = [...(main?.source.matchAll(/^module \w+ '([^']+)'/gm) ?? [])].map((m) => `bicep/${m[1]}`);
  expect(referenced.length).toBeGreaterThanOrEqual(8);
  expect(referenced.filter((r) => !files.some((f) => f.name === r))).toEqual([]);
});

describe('the syntax check can fail', () => {
  test.each([
    ['unclosed object', "resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n"],
    ['missing value', 'param location string =\nvar x = 1'],
    ['stray token', "var tags = { env: 'prod' } }"],
    ['unterminated string', "var name = 'abc\nvar other = 1"],
  ])('%s is reported', async (_label, source) => {
    const file = await parseBicep(source);
    expect(syntaxProblems(file).length).toBeGreaterThan(0);
  });
});

test('a missing closing token is reported as MISSING with its position', async () => {
  const file = await parseBicep('var x = (1\nvar y = 2');
  expect(syntaxProblems(file)).toEqual([{ line: 1, column: 11, kind: 'MISSING', text: ')' }]);
});
