/* eslint-disable @typescript-eslint/no-require-imports -- checks the server package's own modules */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { startLocalCosmos } from '../../../local/host/cosmos';
import { assertLinearFromInternals } from '../../../local/host/cosmos-linear-from';
import { assertServerInternals, PartitionedMap, partitionScopingStats, PINNED_SERVER_VERSION } from '../../../local/host/cosmos-partitions';

/**
 * Canary for the patches of local/host/cosmos-partitions.ts, which rely on internals of
 * @vercel/cosmosdb-server. If this fails after an upgrade, read the message: it names what changed.
 * Re-check the patches (and the partition tests) before moving the pin.
 */

it('the pinned @vercel/cosmosdb-server still has the internals the patches rely on', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  expect(pkg.devDependencies['@vercel/cosmosdb-server']).toBe(PINNED_SERVER_VERSION);
  expect((require('@vercel/cosmosdb-server/package.json') as { version: string }).version).toBe(PINNED_SERVER_VERSION);
  expect(() => assertServerInternals()).not.toThrow();
  expect(() => assertLinearFromInternals()).not.toThrow();
});

it('the patches take effect: account captured, queries scoped, plans not scanned, index kept in the map', async () => {
  const cosmos = await startLocalCosmos();
  const client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, connectionPolicy: { enableEndpointDiscovery: false } });
  try {
    const { database } = await client.databases.createIfNotExists({ id: 'canary' });
    const { container } = await database.containers.createIfNotExists({ id: 'c', partitionKey: { paths: ['/pk'] } });
    await container.items.create({ id: 'x', pk: 'a' });
    await container.items.create({ id: 'y', pk: 'b' });
    const documents = cosmos.account!.database('canary').collection('c').documents;
    expect(documents._data).toBeInstanceOf(Map);
    expect(documents._data.size).toBe(2);

    const before = partitionScopingStats();
    const { resources } = await container.items.query('SELECT VALUE c.id FROM c', { partitionKey: 'a' }).fetchAll();
    const after = partitionScopingStats();
    expect(resources).toEqual(['x']);
    expect(after.scopedQueries - before.scopedQueries).toBe(1);
    expect(after.planRequests - before.planRequests).toBe(1);
    expect(documents._data).toBeInstanceOf(PartitionedMap);
    expect([...(documents._data as PartitionedMap).partitions.keys()].sort()).toEqual(['sa', 'sb']);
    // The query engine the server uses compiles FROM without the quadratic array spread.
    const compile = require(require.resolve('@zeit/cosmosdb-query', { paths: [require.resolve('@vercel/cosmosdb-server')] })) as {
      default: (sql: string) => { code: string };
    };
    expect(compile.default('SELECT * FROM c').code).toContain('$.push(');
  } finally {
    client.dispose();
    await cosmos.stop();
  }
});

it('refuses, with a clear error, to patch after the server routes were loaded', () => {
  jest.isolateModules(() => {
    require('@vercel/cosmosdb-server');
    const { installServerPatches } = require('../../../local/host/cosmos-partitions') as typeof import('../../../local/host/cosmos-partitions');
    expect(() => installServerPatches()).toThrow(/routes\.js was loaded before the local Cosmos patches/);
  });
});
