import { z } from 'zod';
import type { JsonObject } from '../openapi';

/**
 * JSON Schema for the OpenAPI fragments, generated from zod with `z.toJSONSchema` (as the AsyncAPI
 * document is): request schemas are the ones the handlers validate with, response schemas the ones
 * their views are typed by. Nothing in a fragment is a hand-written JSON Schema.
 *
 * - `input(schema)`: what a client sends (fields with defaults optional, strict objects closed).
 * - `output(schema)`: what the API writes; a schema named in `components` is referenced
 *   (`#/components/schemas/<name>`) instead of inlined. Plain (non-strict) objects stay open: a
 *   client must accept fields added later, so a new response field is not a breaking change.
 * - Integers without explicit bounds get none (zod would write the safe-integer range); a record's
 *   `propertyNames: {type: string}`, `items: {}` and an empty response `properties` are left out (they say nothing).
 * (This file starts with `_`, so the fragment loader skips it.)
 */

type Io = 'input' | 'output';

const SAFE_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
const COMPONENT_REF = /^#\/\$defs\/(.+)$/;

/** The global metadata (descriptions, formats), plus component ids for the schemas being referenced. */
class ComponentNames extends z.core.$ZodRegistry<Record<string, unknown>> {
  constructor(
    private readonly names: ReadonlyMap<z.core.$ZodType, string>,
    private readonly self: z.core.$ZodType | undefined,
  ) {
    super();
  }

  override get(schema: z.core.$ZodType): Record<string, unknown> | undefined {
    const meta = z.globalRegistry.get(schema) as Record<string, unknown> | undefined;
    const id = schema === this.self ? undefined : this.names.get(schema);
    return id ? { ...meta, id } : meta;
  }
}

function cleanup(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: Record<string, unknown> }, io: Io): void {
  const json = ctx.jsonSchema;
  const def = ctx.zodSchema._zod.def;
  if (json.type === 'integer') {
    if (SAFE_BOUNDS.has(json.minimum as number)) delete json.minimum;
    if (SAFE_BOUNDS.has(json.maximum as number)) delete json.maximum;
  }
  if (io === 'output' && def.type === 'object' && def.catchall === undefined) delete json.additionalProperties;
  // Spelled the way a reader expects: every JSON key is a string, and `{}` allows anything.
  if (isEmptySchema(json.additionalProperties)) json.additionalProperties = true;
  if (JSON.stringify(json.propertyNames) === '{"type":"string"}') delete json.propertyNames;
  if (io === 'output' && isEmptySchema(json.properties)) delete json.properties;
  if (isEmptySchema(json.items)) delete json.items;
}

const isEmptySchema = (v: unknown): boolean => !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;

function rewriteRefs(node: unknown, known: ReadonlySet<string>): unknown {
  if (Array.isArray(node)) return node.map((v) => rewriteRefs(v, known));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const m = key === '$ref' && typeof value === 'string' ? COMPONENT_REF.exec(value) : null;
    if (m) {
      if (!known.has(m[1]!)) throw new Error(`OpenAPI: ${value} is not a named component`);
      out[key] = `#/components/schemas/${m[1]}`;
    } else out[key] = rewriteRefs(value, known);
  }
  return out;
}

export interface OpenApiSchemas {
  /** Request schema (body or parameter). */
  input(schema: z.ZodType): JsonObject;
  /** Response schema, referencing the named components. */
  output(schema: z.ZodType): JsonObject;
  /** `{ $ref }` to one of the named components. */
  ref(name: string): JsonObject;
  /** The named components, for the fragment's `components.schemas`. */
  components: Record<string, JsonObject>;
  /** One query parameter per property of a (strict object) query schema. */
  queryParameters(schema: z.ZodType): JsonObject[];
  /** One path parameter per property of a path parameter schema. */
  pathParameters(schema: z.ZodType): JsonObject[];
}

/** The schema generator of one fragment; `components` names the response schemas it references. */
export function openApiSchemas(components: Record<string, z.ZodType> = {}): OpenApiSchemas {
  const names = new Map<z.core.$ZodType, string>(Object.entries(components).map(([name, schema]) => [schema, name]));
  const known = new Set(names.values());
  const generate = (schema: z.ZodType, io: Io, self?: z.ZodType): JsonObject => {
    const generated = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      // Requests are inlined whole: a component describes the output form of a schema.
      metadata: new ComponentNames(io === 'output' ? names : new Map(), self),
      override: (ctx) => cleanup(ctx as { zodSchema: z.core.$ZodTypes; jsonSchema: Record<string, unknown> }, io),
    }) as JsonObject;
    const { $schema: _dialect, $defs: _inlined, ...rest } = generated;
    return rewriteRefs(rest, known) as JsonObject;
  };
  const parameters = (schema: z.ZodType, where: 'query' | 'path'): JsonObject[] => {
    const s = generate(schema, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
    return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
      name,
      in: where,
      required: where === 'path' || (s.required ?? []).includes(name),
      schema: prop,
    }));
  };
  return {
    input: (schema) => generate(schema, 'input'),
    output: (schema) => generate(schema, 'output'),
    ref: (name) => {
      if (!known.has(name)) throw new Error(`OpenAPI: no component ${name}`);
      return { $ref: `#/components/schemas/${name}` };
    },
    components: Object.fromEntries(Object.entries(components).map(([name, schema]) => [name, generate(schema, 'output', schema)])),
    queryParameters: (schema) => parameters(schema, 'query'),
    pathParameters: (schema) => parameters(schema, 'path'),
  };
}
