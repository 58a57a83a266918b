import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type BicepFile, REPO_ROOT, namedChildren, parseBicep, stringLiteral, variableDeclarations } from '../../support/bicep-ast';

// App Service Authentication guards every route except `anonymousPaths` in functionapp.bicep.
// A renamed webhook route that is no longer excluded would make Twilio's calls fail with 401 in
// Azure only (the local host has no Easy Auth), so the exclusions are checked against the routes
// the functions register (host.json routePrefix is "", so a route is the URL path).
const functionsDir = path.join(REPO_ROOT, 'functions');

/** Route templates registered by the trigger files in functions/ (the local host's own files are not deployed). */
function registeredRoutes(): string[] {
  return readdirSync(functionsDir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) => [...readFileSync(path.join(functionsDir, name), 'utf8').matchAll(/\broute:\s*'([^']+)'/g)].map((m) => `/${m[1]}`));
}

/** Does an excludedPaths entry (exact, or a prefix ending in /*) cover a route template? */
function excludes(pattern: string, route: string): boolean {
  const concrete = route.replace(/\{[^}]+\}/g, 'x');
  return pattern.endsWith('/*') ? concrete.startsWith(pattern.slice(0, -1)) : concrete === pattern;
}

let app: BicepFile;
let anonymous: string[];
beforeAll(async () => {
  app = await parseBicep(readFileSync(path.join(REPO_ROOT, 'bicep/modules/functionapp.bicep'), 'utf8'), 'functionapp.bicep');
  anonymous = namedChildren(variableDeclarations(app).get('anonymousPaths')!).map((n) => stringLiteral(n)!);
});

test('the Twilio webhooks and the booking link page are registered routes excluded from Entra ID auth', () => {
  const routes = registeredRoutes();
  for (const route of ['/api/sms/inbound', '/api/sms/status', '/book/{token}']) {
    expect(routes).toContain(route);
    expect(anonymous.some((pattern) => excludes(pattern, route))).toBe(true);
  }
});

test('every route under /api/sms/ or /book/ is excluded, and no other registered route is', () => {
  const routes = registeredRoutes();
  expect(routes.length).toBeGreaterThan(10);
  const selfAuthenticated = (route: string) => route.startsWith('/api/sms/') || route.startsWith('/book/');
  const excluded = (route: string) => anonymous.some((pattern) => excludes(pattern, route));
  expect(routes.filter((r) => selfAuthenticated(r) && !excluded(r))).toEqual([]);
  expect(routes.filter((r) => !selfAuthenticated(r) && r !== '/api/health' && excluded(r))).toEqual([]);
});

test('route matching can fail', () => {
  expect(excludes('/book/*', '/book/{token}')).toBe(true);
  expect(excludes('/book/*', '/booking/{token}')).toBe(false);
  expect(excludes('/api/sms/inbound', '/api/sms/inbound-v2')).toBe(false);
  expect(excludes('/api/sms/inbound', '/api/sms/inbound')).toBe(true);
});
