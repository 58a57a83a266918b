/**
 * Checks real responses against the OpenAPI document: a 2xx body must match the operation's documented
 * response schema, an error body the Problem schema. Keeps the response schemas (functions/api/schemas.ts) honest.
 */
import Ajv2020 from 'ajv/dist/2020';
import { openApiDocument } from '../../functions/ops/openapi';
import { invoke, SEEDED_PHI, type InvokeOptions, type InvokeResult } from './api-harness';

const DOC_ID = 'urn:slotflow:openapi';

export function createSpecChecker() {
  const doc = openApiDocument();
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: DOC_ID, ...(doc as object) } as object);
  const cache = new Map<string, ReturnType<typeof ajv.compile>>();

  /** Returns a list of problems (empty when the response matches the document). */
  return function check(method: string, result: InvokeResult): string[] {
    const path = `/${result.route.replace(/^\/+/, '')}`.replace(/\{\*?([A-Za-z0-9_]+)(:[^}?]*)?\??\}/g, '{$1}');
    const operation = (doc.paths[path] as Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }> | undefined)?.[
      method.toLowerCase()
    ];
    if (!operation) return [`${method} ${path} is not documented`];
    let documented = operation.responses?.[String(result.status)] as { $ref?: string; content?: Record<string, { schema?: unknown }> } | undefined;
    if (!documented) return [`${method} ${path} status ${result.status} is not documented`];
    if (documented.$ref) {
      documented = doc.components.responses[documented.$ref.split('/').pop()!] as typeof documented;
      if (!documented) return [`${method} ${path} status ${result.status}: dangling response reference`];
    }
    const mediaTypes = Object.keys(documented.content ?? {});
    if (mediaTypes.length === 0) return [];
    const contentType = result.headers.get('content-type') ?? '';
    if (!contentType.startsWith(mediaTypes[0]!)) return [`${method} ${path} ${result.status}: content-type ${contentType}, documented ${mediaTypes[0]}`];
    const schema = (documented.content as Record<string, { schema?: unknown }>)[mediaTypes[0]!]!.schema;
    const key = `${method} ${path} ${result.status}`;
    let validate = cache.get(key);
    if (!validate) {
      // Responses that are component references resolve through the document id.
      validate = ajv.compile(rebase(schema) as object);
      cache.set(key, validate);
    }
    if (validate(result.body)) return [];
    return (validate.errors ?? []).map((e) => `${key}: ${e.instancePath} ${e.message}`);
  };
}

/** Points the schema's local references at the registered document. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema && typeof schema === 'object') {
    return Object.fromEntries(
      Object.entries(schema).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/components/') ? `${DOC_ID}${v}` : rebase(v)]),
    );
  }
  return schema;
}

/**
 * `invoke` for route tests: every response is checked against the OpenAPI document, and every error
 * must be problem+json without any of the seeded PHI.
 */
export function createCheckedCall(): (method: string, path: string, options?: InvokeOptions) => Promise<InvokeResult> {
  const checkSpec = createSpecChecker();
  return async function call(method, path, options = {}) {
    const result = await invoke(method, path, options);
    expect(checkSpec(method, result)).toEqual([]);
    if (result.status >= 400) {
      expect(result.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      for (const phi of SEEDED_PHI) expect(result.text).not.toContain(phi);
    }
    return result;
  };
}
