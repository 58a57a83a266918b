import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpRequest, HttpResponse, type Cookie } from '@azure/functions';
import { createInvocationContext, hookedHandler, type ExtraInputResolver, type HostLogger, consoleLogger } from './invocation';
import type { CapturedFunction, FunctionRegistry } from './registry';
import { Router, fullRoute } from './router';

/** Serves the captured `app.http` functions by route template and method, as the Functions host does. */

export interface HttpDispatcherOptions {
  registry: FunctionRegistry;
  /** host.json extensions.http.routePrefix ("api" by default; "" registers routes as-is). */
  routePrefix: string;
  resolveExtraInput?: ExtraInputResolver;
  logger?: HostLogger;
}

export interface HttpRouteInfo {
  functionName: string;
  route: string;
  methods: string[];
}

export function problem(res: ServerResponse, status: number, code: string, title: string, detail?: string): void {
  const body = JSON.stringify({ type: 'about:blank', title, status, code, ...(detail ? { detail } : {}) });
  res.writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export class HttpDispatcher {
  private readonly router = new Router<CapturedFunction>();
  private readonly logger: HostLogger;
  readonly routes: HttpRouteInfo[] = [];

  constructor(private readonly options: HttpDispatcherOptions) {
    this.logger = options.logger ?? consoleLogger;
    for (const fn of options.registry.ofType('httpTrigger')) {
      const route = fullRoute(options.routePrefix, typeof fn.trigger.route === 'string' ? fn.trigger.route : fn.name);
      const methods = (Array.isArray(fn.trigger.methods) ? (fn.trigger.methods as string[]) : ['GET', 'POST']).map((m) => m.toUpperCase());
      this.router.add(route, methods, fn);
      this.routes.push({ functionName: fn.name, route: `/${route}`, methods });
    }
  }

  /** Handles the request if a captured route matches; returns false when none does. */
  async handle(req: IncomingMessage, res: ServerResponse, publicBaseUrl: string): Promise<boolean> {
    const method = (req.method ?? 'GET').toUpperCase();
    const host = req.headers.host ?? new URL(publicBaseUrl).host;
    const url = new URL(req.url ?? '/', `http://${host}`);
    const { route, params } = this.router.match(method, url.pathname);
    if (!route) return false;
    const fn = route.target;
    const body = await readBody(req);
    const request = new HttpRequest({
      method,
      url: url.href,
      headers: flattenHeaders(req),
      params,
      body: body.length > 0 ? { bytes: body } : undefined,
    });
    const context = createInvocationContext(fn, { resolveExtraInput: this.options.resolveExtraInput, logger: this.logger });
    let result: unknown;
    try {
      result = await hookedHandler(this.options.registry, fn)(request, context);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.logger('error', `[${fn.name}] invocation ${context.invocationId} failed: ${e.name}: ${e.message}`);
      problem(res, 500, 'INTERNAL', 'Internal Server Error', `invocation ${context.invocationId}`);
      return true;
    }
    await writeResponse(res, result, method);
    return true;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  // No body announced (a plain GET): nothing to read (Node discards the empty stream after the response).
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  addPrincipalCompanions(out);
  return out;
}

interface PrincipalClaim {
  typ?: string;
  val?: string;
}

/**
 * App Service Authentication sends `x-ms-client-principal-id`, `-name` and `-idp` with every
 * `x-ms-client-principal`; `request.user` needs them. Local callers usually send only the principal,
 * so derive the companions from its claims when they are absent.
 */
export function addPrincipalCompanions(headers: Record<string, string>): void {
  const encoded = headers['x-ms-client-principal'];
  if (!encoded) return;
  let principal: { auth_typ?: string; claims?: PrincipalClaim[] };
  try {
    principal = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as typeof principal;
  } catch {
    return;
  }
  if (!principal || typeof principal !== 'object') return;
  const claim = (...types: string[]) => principal.claims?.find((c) => c.typ && types.includes(c.typ))?.val;
  headers['x-ms-client-principal-id'] ??=
    claim(
      'http://schemas.microsoft.com/identity/claims/objectidentifier',
      'oid',
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
      'sub',
    ) ?? 'local-user';
  headers['x-ms-client-principal-name'] ??= claim('name', 'preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn') ?? 'local-user';
  headers['x-ms-client-principal-idp'] ??= principal.auth_typ ?? 'aad';
}

/** Writes what the handler returned (HttpResponse, HttpResponseInit or nothing) to the socket. */
export async function writeResponse(res: ServerResponse, result: unknown, method = 'GET'): Promise<void> {
  const response = result instanceof HttpResponse ? result : new HttpResponse((result ?? {}) as ConstructorParameters<typeof HttpResponse>[0]);
  const status = response.status ?? 200;
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key.toLowerCase() === 'set-cookie') return;
    headers[key] = value;
  });
  const setCookies = [...getSetCookies(response.headers), ...response.cookies.map(serializeCookie)];
  if (setCookies.length) headers['set-cookie'] = setCookies;
  const body = method === 'HEAD' || status === 204 || status === 304 ? Buffer.alloc(0) : await readAll(response.body);
  if (!('content-length' in headers) && status !== 204 && status !== 304) headers['content-length'] = String(body.length);
  res.writeHead(status, headers);
  res.end(body);
}

/** The body's bytes (a plain reader loop: about half the cost of Response.arrayBuffer() here). */
async function readAll(body: ReadableStream<Uint8Array> | null): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return parts.length === 1 ? Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength) : Buffer.concat(parts);
}

function getSetCookies(headers: Headers): string[] {
  const h = headers as Headers & { getSetCookie?: () => string[] };
  return typeof h.getSetCookie === 'function' ? h.getSetCookie() : [];
}

export function serializeCookie(c: Cookie): string {
  const parts = [`${c.name}=${c.value}`];
  if (c.domain) parts.push(`Domain=${c.domain}`);
  if (c.path) parts.push(`Path=${c.path}`);
  if (c.expires !== undefined) parts.push(`Expires=${new Date(c.expires).toUTCString()}`);
  if (c.maxAge !== undefined) parts.push(`Max-Age=${c.maxAge}`);
  if (c.secure) parts.push('Secure');
  if (c.httpOnly) parts.push('HttpOnly');
  if (c.sameSite) parts.push(`SameSite=${c.sameSite}`);
  return parts.join('; ');
}
