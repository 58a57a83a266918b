import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { app, HttpResponse, type HttpRequest } from '@azure/functions';
import { getServices } from '../app/services';

/**
 * The front-desk console: static HTML/CSS and ES modules from functions/ops/console/, served at /console. Only the files
 * listed in ASSETS are served (no path from the request reaches the file system). In Azure, App Service
 * Authentication protects /console and adds x-ms-client-principal to the API calls the page makes; locally
 * /console/config.json tells the page to send a development principal (role scheduler) itself.
 */

const ASSETS: Record<string, string> = {
  '': 'index.html',
  'index.html': 'index.html',
  'app.css': 'app.css',
  ...Object.fromEntries(
    ['app', 'api', 'dom', 'state', 'calendar', 'timeline', 'absence', 'workflows', 'patients', 'setup', 'journey'].map((m) => [`${m}.js`, `${m}.js`]),
  ),
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** The console's files next to this module: the source folder (ts-jest) or its copy in dist/ (the build copies it). */
function assetDir(): string {
  return join(__dirname, 'console');
}

const cache = new Map<string, Buffer>();
function asset(file: string): Buffer | undefined {
  if (!cache.has(file)) {
    try {
      cache.set(file, readFileSync(join(assetDir(), file)));
    } catch {
      return undefined;
    }
  }
  return cache.get(file);
}

export async function serveConsole(request: HttpRequest): Promise<HttpResponse> {
  const path = (request.params.path ?? '').replace(/^\/+/, '');
  if (path === 'config.json') {
    const { settings, clock } = await getServices();
    // `now`: the server's clock, so countdowns and "upcoming" are right on a workstation whose clock is off.
    const body = JSON.stringify({
      devPrincipal: settings.SLOTFLOW_ENV === 'local',
      clinicClaimType: settings.CLINIC_CLAIM_TYPE,
      now: clock.now().toUTC().toISO(),
    });
    return new HttpResponse({ status: 200, body, headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' } });
  }
  const file = ASSETS[path];
  const content = file ? asset(file) : undefined;
  if (!file || !content) {
    return new HttpResponse({ status: 404, body: 'Not found', headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' } });
  }
  return new HttpResponse({ status: 200, body: content, headers: { ...SECURITY_HEADERS, 'content-type': TYPES[file.split('.').pop()!]! } });
}

app.http('consoleRoot', { route: 'console', methods: ['GET'], authLevel: 'anonymous', handler: serveConsole });
app.http('consoleAssets', { route: 'console/{*path}', methods: ['GET'], authLevel: 'anonymous', handler: serveConsole });
