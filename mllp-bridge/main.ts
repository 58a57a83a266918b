/**
 * The bridge process (a container in Azure Container Apps; `npm start` runs one locally). Settings:
 *   MLLP_PORT             listening port (default 2575; 0 = any free port)
 *   MLLP_TARGET_URL       Slotflow's SIU route (default http://127.0.0.1:7071/api/ehr/hl7v2)
 *   MLLP_ALLOWED_PEERS    comma-separated addresses or CIDR ranges allowed to connect (default 127.0.0.1,::1)
 *   MLLP_MAX_BYTES        largest message (default 262144, the SIU route's own limit)
 *   MLLP_TLS_CERT_FILE, MLLP_TLS_KEY_FILE [, MLLP_TLS_CA_FILE]  TLS (with a CA: client certificates required)
 *   MLLP_TARGET_AUDIENCE  in Azure: the function app's Entra application id URI; tokens come from the
 *                         managed identity (AZURE_CLIENT_ID names a user-assigned one). Unset: the local
 *                         development principal is sent, which only the local host accepts.
 */
import { readFileSync } from 'node:fs';
import { startMllpBridge, type MllpBridge } from './bridge';
import { bearerAuth, httpForwarder, localPrincipalAuth } from './forward';

export const DEFAULT_MLLP_PORT = 2575;

export async function startFromEnvironment(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = console.log): Promise<MllpBridge> {
  const audience = env.MLLP_TARGET_AUDIENCE;
  let auth = localPrincipalAuth();
  if (audience) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- only the Azure deployment needs identity
    const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
    auth = bearerAuth(new DefaultAzureCredential(env.AZURE_CLIENT_ID ? { managedIdentityClientId: env.AZURE_CLIENT_ID } : {}), audience);
  } else if (env.SLOTFLOW_ENV === 'azure') {
    throw new Error('MLLP_TARGET_AUDIENCE must be set in Azure');
  }
  const port = Number(env.MLLP_PORT ?? DEFAULT_MLLP_PORT);
  const maxMessageBytes = Number(env.MLLP_MAX_BYTES ?? 256 * 1024);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('MLLP_PORT must be a port number');
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 64) throw new Error('MLLP_MAX_BYTES must be an integer of at least 64');
  const tls =
    env.MLLP_TLS_CERT_FILE && env.MLLP_TLS_KEY_FILE
      ? {
          cert: readFileSync(env.MLLP_TLS_CERT_FILE),
          key: readFileSync(env.MLLP_TLS_KEY_FILE),
          ...(env.MLLP_TLS_CA_FILE ? { ca: readFileSync(env.MLLP_TLS_CA_FILE), requestCert: true, rejectUnauthorized: true } : {}),
          minVersion: 'TLSv1.2' as const,
        }
      : undefined;
  return startMllpBridge({
    port,
    allowedPeers: (env.MLLP_ALLOWED_PEERS ?? '127.0.0.1,::1').split(','),
    maxMessageBytes,
    forward: httpForwarder({ url: env.MLLP_TARGET_URL ?? 'http://127.0.0.1:7071/api/ehr/hl7v2', auth }),
    ...(tls ? { tls } : {}),
    log,
  });
}

if (require.main === module) {
  startFromEnvironment().catch((error: unknown) => {
    console.error(`[mllp] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
