/**
 * Cosmos in the local host: the real @azure/cosmos SDK against the in-process server, and data
 * surviving a graceful restart through the snapshot in the data folder.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories and CommonJS fixtures */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { LocalHost } from '../../../local/host/host';

const client = () =>
  new CosmosClient({ endpoint: process.env.COSMOS_ENDPOINT!, key: process.env.COSMOS_KEY!, connectionPolicy: { enableEndpointDiscovery: false } });

it('serves the Cosmos SDK and keeps its data across a graceful restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'slotflow-cosmos-'));
  const options = {
    port: 0,
    dataDir,
    broker: false,
    servicesModule: null,
    logger: () => undefined,
    loadApp: () => require('../../fixtures/localhost-app/http.js'),
  } as const;
  try {
    const first = await LocalHost.start(options);
    expect(process.env.COSMOS_ENDPOINT).toBe(first.cosmos!.endpoint);
    const c1 = client();
    const { database } = await c1.databases.createIfNotExists({ id: 'slotflow' });
    const { container } = await database.containers.createIfNotExists({ id: 'appointments', partitionKey: { paths: ['/pk'] } });
    await container.items.create({ id: 'a1', pk: 'clinic-1|2026-03-02', status: 'booked' });
    await expect(container.items.create({ id: 'a1', pk: 'clinic-1|2026-03-02', status: 'booked' })).rejects.toMatchObject({ code: 409 });
    c1.dispose();
    await first.stop();

    const second = await LocalHost.start(options);
    try {
      const c2 = client();
      const { resource } = await c2.database('slotflow').container('appointments').item('a1', 'clinic-1|2026-03-02').read();
      expect(resource).toMatchObject({ id: 'a1', status: 'booked' });
      const def = await c2.database('slotflow').container('appointments').read();
      expect(def.resource!.partitionKey!.paths).toEqual(['/pk']);
      c2.dispose();
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
