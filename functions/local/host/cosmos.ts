import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The in-process Cosmos DB stand-in: `@vercel/cosmosdb-server` on a free loopback port, plain HTTP
 * with keep-alive. Memory only: its data is gone when the host stops.
 */

/** The Cosmos DB emulator's published, well-known account key (not a secret). */
export const COSMOS_EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface LocalCosmos {
  endpoint: string;
  key: string;
  stop(): Promise<void>;
}

export async function startLocalCosmos(port = 0, host = '127.0.0.1'): Promise<LocalCosmos> {
  // Loaded lazily: a devDependency, and only the local host needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHttpServer } = require('@vercel/cosmosdb-server') as { createHttpServer(opts?: object): Server };
  const server = createHttpServer({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${address.port}`,
    key: COSMOS_EMULATOR_KEY,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
