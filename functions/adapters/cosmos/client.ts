import type { CosmosClient, Database, RetryOptions } from '@azure/cosmos';
import { type AppSettings, ConfigError } from '../../app/config';
import { CONTAINERS, TTL_CONTAINERS } from './keys';

/**
 * Throttling: the SDK retries 429 itself, waiting what the server asks (x-ms-retry-after-ms), up
 * to maxRetryAttemptCount times and maxWaitTimeInSeconds in total. 503s and timeouts on writes are
 * not retried by the SDK in a single-region account: Store.withRetry covers those.
 */
export const COSMOS_RETRY_OPTIONS: RetryOptions = { maxRetryAttemptCount: 9, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 30 };

/**
 * Azure: Entra ID through DefaultAzureCredential with the app's user-assigned managed identity
 * (AZURE_CLIENT_ID); the account has local (key) auth disabled. Locally: the emulator's well-known
 * key against a plain-HTTP endpoint, with endpoint discovery off (the local server has one region
 * and no TLS).
 */
export function createCosmosClient(settings: AppSettings, retryOptions: RetryOptions = COSMOS_RETRY_OPTIONS): CosmosClient {
  const endpoint = settings.COSMOS_ENDPOINT;
  if (!endpoint) throw new ConfigError(['COSMOS_ENDPOINT']);
  const plainHttp = endpoint.startsWith('http://');
  const connectionPolicy = { retryOptions, ...(plainHttp ? { enableEndpointDiscovery: false } : {}) };
  // The SDKs are required by the first client (once per instance), not at import: registering the functions needs neither.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CosmosClient } = require('@azure/cosmos') as typeof import('@azure/cosmos');
  if (settings.SLOTFLOW_ENV === 'azure' || !settings.COSMOS_KEY) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
    const aadCredentials = new DefaultAzureCredential(settings.AZURE_CLIENT_ID ? { managedIdentityClientId: settings.AZURE_CLIENT_ID } : {});
    return new CosmosClient({ endpoint, aadCredentials, connectionPolicy });
  }
  return new CosmosClient({ endpoint, key: settings.COSMOS_KEY, connectionPolicy });
}

/**
 * The database with its containers, all partitioned on /pk. Locally they are created if missing;
 * in Azure bicep owns them (and the data-plane role cannot create them), so nothing is created.
 * Locally that costs two requests when everything exists (read the database, list its containers),
 * not one read per container; missing containers are created together (createIfNotExists, so two
 * instances starting at once do not fail on each other's create).
 */
export async function ensureSchema(client: CosmosClient, settings: Pick<AppSettings, 'SLOTFLOW_ENV' | 'COSMOS_DATABASE'>): Promise<Database> {
  if (settings.SLOTFLOW_ENV === 'azure') return client.database(settings.COSMOS_DATABASE);
  const { database } = await client.databases.createIfNotExists({ id: settings.COSMOS_DATABASE });
  const { resources } = await database.containers.readAll().fetchAll();
  const existing = new Set(resources.map((c) => c.id));
  await Promise.all(
    Object.values(CONTAINERS)
      .filter((id) => !existing.has(id))
      .map((id) =>
        database.containers.createIfNotExists({
          id,
          partitionKey: { paths: ['/pk'] },
          // -1: TTL on, no default expiry; items set their own `ttl`.
          ...(TTL_CONTAINERS.has(id) ? { defaultTtl: -1 } : {}),
        }),
      ),
  );
  return database;
}
