import { app, HttpResponse } from '@azure/functions';

/**
 * The OpenAPI 3.1 document of the whole HTTP API, served at GET /api/openapi.json.
 *
 * Contribution mechanism: every module in functions/ops/openapi/ (one per route area: scheduling, sms,
 * ehr, ...) exports `openApiFragment: OpenApiFragment` with the path items of the routes its area
 * registers, keyed by the full route as registered (`/api/...`, `/fhir/...`, OpenAPI `{param}` syntax),
 * and schemas generated from zod (openapi/_schema.ts). The fragments are merged here; two fragments
 * describing the same operation, or the same component name differently, is an error.
 * test/unit/functions/ops/openapi.test.ts checks that every route registered under /api and /fhir appears
 * in the merged document and that every documented operation is registered.
 */

export type JsonObject = Record<string, unknown>;

export interface OpenApiFragment {
  paths: Record<string, JsonObject>;
  components?: { schemas?: Record<string, JsonObject>; parameters?: Record<string, JsonObject>; responses?: Record<string, JsonObject> };
  tags?: { name: string; description?: string }[];
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use: a cold instance does not build the document */
/**
 * The fragment modules of functions/ops/openapi/, by file name. Listed, not read from the folder, so the
 * production bundle contains them; test/unit/deploy/entry.test.ts fails when a file there is missing here.
 */
export const FRAGMENT_MODULES: Record<string, () => { openApiFragment?: OpenApiFragment }> = {
  'console.ts': () => require('./openapi/console'),
  'ehr.ts': () => require('./openapi/ehr'),
  'erasure.ts': () => require('./openapi/erasure'),
  'health.ts': () => require('./openapi/health'),
  'patient-language.ts': () => require('./openapi/patient-language'),
  'scheduling.ts': () => require('./openapi/scheduling'),
  'sms.ts': () => require('./openapi/sms'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Loads every fragment module (sorted by file name, so the merge order is stable). */
export function loadFragments(): { file: string; fragment: OpenApiFragment }[] {
  return Object.keys(FRAGMENT_MODULES)
    .sort()
    .map((file) => {
      const mod = FRAGMENT_MODULES[file]!();
      if (!mod.openApiFragment) throw new Error(`functions/ops/openapi/${file} must export openApiFragment`);
      return { file, fragment: mod.openApiFragment };
    });
}

const base = () => ({
  openapi: '3.1.0',
  info: {
    title: 'Slotflow API',
    version: '1.0.0',
    summary: 'Event-driven appointment scheduling for clinics.',
    description:
      'Errors are application/problem+json (RFC 9457) with a stable `code`. Authentication: App Service Authentication sets ' +
      '`x-ms-client-principal` (base64 JSON with role claims admin, scheduler or ehr, and optional clinic claims that limit the principal to those clinics).',
  },
  servers: [{ url: '/', description: 'This app (route prefix is empty: paths are as registered).' }],
  security: [{ appServiceAuthentication: [] }],
  tags: [] as { name: string; description?: string }[],
  paths: {} as Record<string, JsonObject>,
  components: {
    securitySchemes: {
      appServiceAuthentication: {
        type: 'apiKey',
        in: 'header',
        name: 'x-ms-client-principal',
        description: 'Set by App Service Authentication (Entra ID) in Azure; sent by the caller only against the local host.',
      },
    },
    schemas: {} as Record<string, JsonObject>,
    parameters: {} as Record<string, JsonObject>,
    responses: {} as Record<string, JsonObject>,
  },
});

export type OpenApiDocument = ReturnType<typeof base>;

/** Merges fragments into one document; conflicting operations or components throw. */
export function mergeFragments(fragments: { file: string; fragment: OpenApiFragment }[]): OpenApiDocument {
  const doc = base();
  for (const { file, fragment } of fragments) {
    for (const [path, item] of Object.entries(fragment.paths)) {
      const target = (doc.paths[path] ??= {});
      for (const [key, value] of Object.entries(item)) {
        if (key in target && (HTTP_METHODS as readonly string[]).includes(key)) throw new Error(`${file}: ${key.toUpperCase()} ${path} is described twice`);
        if (key === 'parameters' && target.parameters) continue;
        target[key] = value;
      }
    }
    for (const kind of ['schemas', 'parameters', 'responses'] as const) {
      for (const [name, value] of Object.entries(fragment.components?.[kind] ?? {})) {
        const existing = doc.components[kind][name];
        if (existing && JSON.stringify(existing) !== JSON.stringify(value))
          throw new Error(`${file}: component ${kind}/${name} conflicts with another fragment`);
        doc.components[kind][name] = value;
      }
    }
    for (const tag of fragment.tags ?? []) if (!doc.tags.some((t) => t.name === tag.name)) doc.tags.push(tag);
  }
  return doc;
}

let cached: string | undefined;
/** The merged document (built once per process). */
export function openApiDocument(): OpenApiDocument {
  cached ??= JSON.stringify(mergeFragments(loadFragments()));
  return JSON.parse(cached) as OpenApiDocument;
}

export async function serveOpenApi(): Promise<HttpResponse> {
  try {
    cached ??= JSON.stringify(mergeFragments(loadFragments()));
    return new HttpResponse({
      status: 200,
      body: cached,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' },
    });
  } catch {
    return new HttpResponse({
      status: 500,
      jsonBody: {
        type: 'urn:slotflow:problem:internal',
        title: 'Internal Server Error',
        status: 500,
        detail: 'The API description could not be assembled.',
        code: 'INTERNAL',
      },
      headers: { 'content-type': 'application/problem+json' },
    });
  }
}

// Public: the description of the API is not protected data.
app.http('openApiDocument', { route: 'api/openapi.json', methods: ['GET'], authLevel: 'anonymous', handler: serveOpenApi });
