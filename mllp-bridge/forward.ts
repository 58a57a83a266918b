/**
 * Forwards one HL7 v2 message to Slotflow's SIU route (POST /api/ehr/hl7v2) and returns the ACK. In Azure the
 * bridge authenticates with its managed identity (a bearer token for the function app's App Service
 * Authentication audience; the identity holds the app role `ehr`); locally it sends the development
 * principal header the local host accepts.
 */
import { ForwardRejected, type ForwardMessage } from './bridge';

/** Supplies the authentication headers of each request (a fresh token when the old one nears expiry). */
export type AuthHeaders = () => Promise<Record<string, string>>;

export interface HttpForwarderOptions {
  /** Full URL of the SIU route, e.g. https://<app>.azurewebsites.net/api/ehr/hl7v2. */
  url: string;
  auth: AuthHeaders;
  /** Per request (default 30 s): an MLLP sender waits for the ACK meanwhile. */
  timeoutMs?: number;
}

/** 4xx answers that retrying cannot fix: the message is answered AR with the route's problem code. */
const REFUSED = new Set([400, 401, 403, 404, 413, 415]);

export function httpForwarder(options: HttpForwarderOptions): ForwardMessage {
  return async (message) => {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/hl7-v2; charset=utf-8', ...(await options.auth()) },
      body: message,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    if (response.status === 200 && text.startsWith('MSH')) return text;
    if (REFUSED.has(response.status)) throw new ForwardRejected(problemCode(text) ?? `HTTP.${response.status}`);
    throw new Error(`SIU route answered ${response.status}`);
  };
}

function problemCode(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === 'string' && /^[A-Z0-9_.]{1,64}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** The local host's development principal with role `ehr` (never accepted in Azure, where Easy Auth strips it). */
export function localPrincipalAuth(principalId = 'mllp-bridge'): AuthHeaders {
  const claims = [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: principalId },
    { typ: 'roles', val: 'ehr' },
  ];
  const header = Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims }), 'utf8').toString('base64');
  return async () => ({ 'x-ms-client-principal': header });
}

/** Bearer tokens from a credential (managed identity in Azure) for `audience` (the app's Entra application id URI). */
export function bearerAuth(credential: { getToken(scope: string): Promise<{ token: string } | null> }, audience: string): AuthHeaders {
  const scope = `${audience.replace(/\/+$/, '')}/.default`;
  return async () => {
    const token = await credential.getToken(scope);
    if (!token) throw new Error('no token for the SIU route');
    return { authorization: `Bearer ${token.token}` };
  };
}
