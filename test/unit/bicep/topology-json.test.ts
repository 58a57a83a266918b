import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { slotflowTopology } from '../../../functions/adapters/servicebus/topology';
import { REPO_ROOT, loadBicepFiles } from '../../support/bicep-ast';
import { TOPOLOGY_JSON, loadedJsonPath, renderBicepTopology } from '../../support/bicep-servicebus';

// bicep/servicebus-topology.json is the one topology (functions/adapters/servicebus/topology.ts)
// rendered for bicep: servicebus.bicep creates the subscriptions from it and alerts.bicep gives each
// one its alerts, so neither can drift from the other or from the local broker.
// `npm run bicep:topology` rewrites it.
const FILE = path.join(REPO_ROOT, TOPOLOGY_JSON);
const rendered = `${JSON.stringify(renderBicepTopology(slotflowTopology), null, 2)}\n`;

test('bicep/servicebus-topology.json is the topology as topology.ts defines it (npm run bicep:topology rewrites it)', () => {
  if (process.env.WRITE_BICEP_TOPOLOGY === '1') writeFileSync(FILE, rendered);
  expect(readFileSync(FILE, 'utf8')).toBe(rendered);
});

test('the Service Bus module and the alerts module load that one file', async () => {
  const files = await loadBicepFiles();
  const loaders = files.filter((f) => loadedJsonPath(f, 'topology') !== undefined);
  expect(loaders.map((f) => [f.name, loadedJsonPath(f, 'topology')])).toEqual([
    ['bicep/modules/alerts.bicep', TOPOLOGY_JSON],
    ['bicep/modules/servicebus.bicep', TOPOLOGY_JSON],
  ]);
});

test('a changed subscription in topology.ts makes the file stale', () => {
  const [topic] = slotflowTopology.topics;
  const changed = { ...slotflowTopology, topics: [{ ...topic!, subscriptions: topic!.subscriptions.slice(1) }] };
  expect(`${JSON.stringify(renderBicepTopology(changed), null, 2)}\n`).not.toBe(readFileSync(FILE, 'utf8'));
});
