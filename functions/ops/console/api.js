// @ts-check
// The scheduling API, same origin. Locally the page sends a development principal with the role chosen in
// the header; in Azure, App Service Authentication signs staff in and adds x-ms-client-principal itself.

/** A problem+json answer (RFC 9457) as an Error: stable code, status and field errors. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {string | undefined} code
   * @param {{ field: string, message: string }[]} errors
   */
  constructor(message, status, code, errors) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

/** @type {{ principal: string | null }} */
const session = { principal: null };

/**
 * The development principal (local host only): role claims for `roles`, a fixed object id.
 * @param {string[]} roles
 */
export function useDevPrincipal(roles) {
  const claims = [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'console-dev-user' },
    ...roles.map((val) => ({ typ: 'roles', val })),
  ];
  session.principal = btoa(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims }));
}

/**
 * Calls the API; resolves with the JSON body, rejects with ApiError.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{ idempotencyKey?: string }} [options]
 * @returns {Promise<any>}
 */
export async function api(method, path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', 'x-slotflow-client': 'console' };
  if (session.principal) headers['x-ms-client-principal'] = session.principal;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  /** @type {Response} */
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError('The server could not be reached.', 0, 'NETWORK', []);
  }
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    throw new ApiError((data && data.detail) || res.statusText || `HTTP ${res.status}`, res.status, data && data.code, (data && data.errors) || []);
  }
  return data;
}

/** A query string from defined values. @param {Record<string, string | number | undefined>} params */
export function query(params) {
  /** @type {Record<string, string>} */
  const defined = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') defined[k] = String(v);
  return new URLSearchParams(defined).toString();
}

/** A fresh Idempotency-Key. */
export const newKey = () => crypto.randomUUID();

/**
 * What the user can do: the dev principal's roles locally; in Azure, the roles App Service Authentication
 * reports at /.auth/me (undefined when it does not answer: the API still enforces them).
 * @param {boolean} dev
 * @param {string[]} devRoles
 * @returns {Promise<string[] | undefined>}
 */
export async function currentRoles(dev, devRoles) {
  if (dev) return devRoles;
  try {
    const res = await fetch('/.auth/me', { headers: { accept: 'application/json' } });
    if (!res.ok) return undefined;
    const me = await res.json();
    const claims = (Array.isArray(me) && me[0] && me[0].user_claims) || [];
    return claims
      .filter((/** @type {{typ: string}} */ c) => c.typ === 'roles' || c.typ === 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role')
      .map((/** @type {{val: string}} */ c) => c.val);
  } catch {
    return undefined;
  }
}
