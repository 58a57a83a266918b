import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONTAINERS, TTL_CONTAINERS } from '../../../functions/adapters/cosmos/keys';
import { type BicepFile, REPO_ROOT, namedChildren, objectProperties, parseBicep, stringLiteral, variableDeclarations } from '../../support/bicep-ast';

// In Azure the app's data-plane role cannot create containers, so bicep must create exactly the
// ones the Cosmos adapter uses (functions/adapters/cosmos/keys.ts), with the same TTL setting.
function containersOf(file: BicepFile): Array<{ name: string; ttl: string }> {
  return namedChildren(variableDeclarations(file).get('containers')!).map((element) => {
    const props = objectProperties(element);
    return { name: stringLiteral(props.get('name'))!, ttl: props.get('defaultTtl')?.text ?? 'absent' };
  });
}

let cosmos: BicepFile;
beforeAll(async () => {
  cosmos = await parseBicep(readFileSync(path.join(REPO_ROOT, 'bicep/modules/cosmos.bicep'), 'utf8'), 'cosmos.bicep');
});

test('bicep creates exactly the containers the adapter uses', () => {
  expect(
    containersOf(cosmos)
      .map((c) => c.name)
      .sort(),
  ).toEqual(Object.values(CONTAINERS).sort());
});

test('TTL (on, no default expiry) on exactly the containers the adapter writes expiring items to', () => {
  const withTtl = containersOf(cosmos)
    .filter((c) => c.ttl === '-1')
    .map((c) => c.name)
    .sort();
  expect(withTtl).toEqual([...TTL_CONTAINERS].sort());
  expect(
    containersOf(cosmos)
      .filter((c) => c.ttl !== '-1')
      .every((c) => c.ttl === 'null'),
  ).toBe(true);
});

test('the database name is the app default', () => {
  expect(cosmos.source).toMatch(/param databaseName string = 'slotflow'/);
});

test('the comparison can fail', async () => {
  const changed = await parseBicep(cosmos.source.replace("name: 'audit'", "name: 'audits'"), 'cosmos.bicep');
  expect(containersOf(changed).map((c) => c.name)).toContain('audits');
  expect(
    containersOf(changed)
      .map((c) => c.name)
      .sort(),
  ).not.toEqual(Object.values(CONTAINERS).sort());
});
