// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * The OpenAPI document: (1) valid OpenAPI 3.1, checked structurally (no copy of the official schema is
 * vendored): a JSON Schema for the parts of the OpenAPI object model we use, every Schema Object compiled
 * by Ajv as JSON Schema 2020-12 (the 3.1 dialect), every $ref resolving, path templates matching path
 * parameters, unique operationIds; (2) true to the app: every HTTP route registered under /api and /fhir is
 * documented with its methods, and every documented operation is registered.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { captured, httpRoutes, invoke } from '../../../support/api-harness';
import { HTTP_METHODS, mergeFragments, openApiDocument, type OpenApiDocument } from '../../../../functions/ops/openapi';

// The whole app, as the host loads it: every trigger file registers its routes.
import '../../../../functions/index';

const doc: OpenApiDocument = openApiDocument();

/** The parts of the OpenAPI 3.1 object model this API uses, with the spec's required fields and value rules. */
const openApiStructure = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: {
      type: 'object',
      required: ['title', 'version'],
      properties: { title: { type: 'string' }, version: { type: 'string' }, summary: { type: 'string' }, description: { type: 'string' } },
    },
    servers: { type: 'array', items: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } } },
    security: { type: 'array', items: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } },
    tags: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, description: { type: 'string' } } } },
    paths: { type: 'object', propertyNames: { pattern: '^/' }, additionalProperties: { $ref: '#/$defs/pathItem' } },
    components: {
      type: 'object',
      properties: {
        schemas: { type: 'object', additionalProperties: { type: ['object', 'boolean'] } },
        responses: { type: 'object', additionalProperties: { $ref: '#/$defs/response' } },
        parameters: { type: 'object', additionalProperties: { $ref: '#/$defs/parameter' } },
        securitySchemes: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['type'],
            properties: { type: { enum: ['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'] } },
            if: { properties: { type: { const: 'apiKey' } } },
            then: { required: ['name', 'in'], properties: { in: { enum: ['query', 'header', 'cookie'] } } },
          },
        },
      },
    },
  },
  patternProperties: { '^x-': true },
  additionalProperties: false,
  $defs: {
    ref: { type: 'object', required: ['$ref'], properties: { $ref: { type: 'string', pattern: '^#/' } } },
    pathItem: {
      type: 'object',
      propertyNames: { pattern: '^(get|put|post|delete|options|head|patch|trace|parameters|summary|description|servers|x-.*)$' },
      properties: Object.fromEntries([
        ...HTTP_METHODS.map((m) => [m, { $ref: '#/$defs/operation' }]),
        ['parameters', { type: 'array', items: { $ref: '#/$defs/parameterOrRef' } }],
      ]),
    },
    operation: {
      type: 'object',
      required: ['responses'],
      properties: {
        operationId: { type: 'string' },
        summary: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' } },
        parameters: { type: 'array', items: { $ref: '#/$defs/parameterOrRef' } },
        requestBody: {
          anyOf: [
            { $ref: '#/$defs/ref' },
            { type: 'object', required: ['content'], properties: { content: { $ref: '#/$defs/content' }, required: { type: 'boolean' } } },
          ],
        },
        responses: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^([1-5](\\d\\d|XX)|default)$' },
          additionalProperties: { anyOf: [{ $ref: '#/$defs/ref' }, { $ref: '#/$defs/response' }] },
        },
        security: { type: 'array' },
      },
    },
    response: { type: 'object', required: ['description'], properties: { description: { type: 'string' }, content: { $ref: '#/$defs/content' } } },
    content: {
      type: 'object',
      propertyNames: { pattern: '^[a-z*][a-z0-9.+*-]*/[a-z0-9.+*-]+$' },
      additionalProperties: { type: 'object', properties: { schema: { type: ['object', 'boolean'] } } },
    },
    parameterOrRef: { anyOf: [{ $ref: '#/$defs/ref' }, { $ref: '#/$defs/parameter' }] },
    parameter: {
      type: 'object',
      required: ['name', 'in'],
      properties: { name: { type: 'string' }, in: { enum: ['query', 'header', 'path', 'cookie'] }, required: { type: 'boolean' } },
      oneOf: [{ required: ['schema'] }, { required: ['content'] }],
      if: { properties: { in: { const: 'path' } } },
      then: { required: ['required'], properties: { required: { const: true } } },
    },
  },
};

function resolvePointer(root: unknown, ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);
}

function walk(node: unknown, visit: (value: Record<string, unknown>, path: string) => void, path = '#'): void {
  if (Array.isArray(node)) node.forEach((v, i) => walk(v, visit, `${path}/${i}`));
  else if (node && typeof node === 'object') {
    visit(node as Record<string, unknown>, path);
    for (const [k, v] of Object.entries(node)) walk(v, visit, `${path}/${k}`);
  }
}

type Operation = {
  operationId?: string;
  parameters?: { name: string; in: string; $ref?: string; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};
const operations = (): { path: string; method: string; op: Operation; pathParams: { name: string; in: string }[] }[] =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => m in item).map((method) => ({
      path,
      method,
      op: item[method] as Operation,
      pathParams: (item.parameters as { name: string; in: string }[] | undefined) ?? [],
    })),
  );

describe('the document is valid OpenAPI 3.1', () => {
  test('object model (structural schema)', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(openApiStructure);
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
  });

  test('every Schema Object is valid JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const schemas: [string, unknown][] = [
      ...Object.entries(doc.components.schemas).map(([n, s]) => [`components/schemas/${n}`, s] as [string, unknown]),
      ...operations().flatMap(({ path, method, op }) => [
        ...(op.parameters ?? []).filter((p) => p.schema).map((p) => [`${method} ${path} parameter ${p.name}`, p.schema] as [string, unknown]),
        ...Object.entries(op.requestBody?.content ?? {}).map(([t, m]) => [`${method} ${path} body ${t}`, m.schema] as [string, unknown]),
        ...Object.entries(op.responses).flatMap(([status, r]) =>
          Object.entries(r.content ?? {}).map(([t, m]) => [`${method} ${path} ${status} ${t}`, m.schema] as [string, unknown]),
        ),
      ]),
    ];
    expect(schemas.length).toBeGreaterThan(40);
    const invalid: string[] = [];
    for (const [where, schema] of schemas) {
      if (schema === undefined) continue;
      if (!ajv.validateSchema(schema as object)) invalid.push(`${where}: ${ajv.errorsText()}`);
    }
    expect(invalid).toEqual([]);
  });

  test('every $ref resolves', () => {
    const dangling: string[] = [];
    walk(doc, (node, path) => {
      if (typeof node.$ref === 'string' && (!node.$ref.startsWith('#/') || resolvePointer(doc, node.$ref) === undefined))
        dangling.push(`${path}: ${node.$ref}`);
    });
    expect(dangling).toEqual([]);
  });

  test('path templates and path parameters match; operationIds are unique', () => {
    const problems: string[] = [];
    const ids = new Set<string>();
    for (const { path, method, op, pathParams } of operations()) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).sort();
      const declared = [...pathParams, ...(op.parameters ?? [])]
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      if (JSON.stringify(templated) !== JSON.stringify(declared)) problems.push(`${method} ${path}: template ${templated} vs parameters ${declared}`);
      if (!op.operationId) problems.push(`${method} ${path}: no operationId`);
      else if (ids.has(op.operationId)) problems.push(`${method} ${path}: duplicate operationId ${op.operationId}`);
      else ids.add(op.operationId);
    }
    expect(problems).toEqual([]);
  });

  test('merging rejects two fragments describing one operation', () => {
    const fragment = { paths: { '/api/x': { get: { responses: { '200': { description: 'x' } } } } } };
    expect(() =>
      mergeFragments([
        { file: 'a.ts', fragment },
        { file: 'b.ts', fragment },
      ]),
    ).toThrow(/GET \/api\/x is described twice/);
  });
});

/** Azure route template -> OpenAPI path: `{id:int}`, `{id?}` and `{*rest}` all become `{id}` / `{rest}`. */
function toOpenApiPath(route: string): string {
  return `/${route.replace(/^\/+/, '')}`.replace(/\{\*?([A-Za-z0-9_]+)(:[^}?]*)?\??\}/g, '{$1}');
}

describe('the document matches the registered routes', () => {
  const inScope = (path: string) => path.startsWith('/api/') || path.startsWith('/fhir/') || path === '/fhir';
  const registered = () =>
    new Set(
      httpRoutes()
        .flatMap((r) => r.methods.map((m) => `${m.toUpperCase()} ${toOpenApiPath(r.route)}`))
        .filter((k) => inScope(k.split(' ')[1]!)),
    );
  const documented = () => new Set(operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`));

  test('the app registered its HTTP routes through the captured host module', () => {
    expect(captured.length).toBeGreaterThan(10);
    expect(registered()).toContain('POST /api/appointments');
  });

  test('every route registered under /api and /fhir is documented', () => {
    const docs = documented();
    const missing = [...registered()].filter((k) => !docs.has(k)).sort();
    if (missing.length > 0) {
      throw new Error(
        `Registered but not in the OpenAPI document:\n  ${missing.join('\n  ')}\n` +
          'Describe them in a fragment: functions/ops/openapi/<area>.ts exporting `openApiFragment` (see functions/ops/openapi/README.md).',
      );
    }
  });

  test('every documented operation is registered', () => {
    const reg = registered();
    expect([...documented()].filter((k) => !reg.has(k)).sort()).toEqual([]);
  });

  test('GET /api/openapi.json serves the document without a principal', async () => {
    const r = await invoke('GET', '/api/openapi.json', { principal: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual(doc);
    if (process.env.WRITE_OPENAPI === '1') writeFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'openapi.json'), `${JSON.stringify(doc, null, 2)}\n`);
  });

  test('docs/openapi.json is the generated document (npm run openapi rewrites it)', () => {
    const file = join(__dirname, '..', '..', '..', '..', 'docs', 'openapi.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(doc);
  });
});
