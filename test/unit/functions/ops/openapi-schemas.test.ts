/** functions/ops/openapi/_schema.ts: JSON Schema for the OpenAPI fragments, generated from zod. */
import { z } from 'zod';
import { openApiSchemas } from '../../../../functions/ops/openapi/_schema';

const item = z.object({ id: z.string(), count: z.number().int(), at: z.string().meta({ format: 'date-time' }) });
const page = z.object({ items: z.array(item), next: z.string().optional() });

test('a named component is referenced from responses, and generated once under its name', () => {
  const s = openApiSchemas({ Item: item });
  expect(s.output(page)).toEqual({
    type: 'object',
    properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Item' } }, next: { type: 'string' } },
    required: ['items'],
  });
  expect(s.components.Item).toEqual({
    type: 'object',
    properties: { id: { type: 'string' }, count: { type: 'integer' }, at: { type: 'string', format: 'date-time' } },
    required: ['id', 'count', 'at'],
  });
  expect(s.ref('Item')).toEqual({ $ref: '#/components/schemas/Item' });
  expect(() => s.ref('Missing')).toThrow(/no component Missing/);
});

test('requests are inlined; strict objects stay closed, plain response objects stay open', () => {
  const s = openApiSchemas({ Item: item });
  const body = z.object({ item, note: z.string().default('x') }).strict();
  const json = s.input(body) as { properties: { item: unknown }; required?: string[]; additionalProperties?: unknown };
  expect(json.properties.item).toEqual(s.components.Item);
  expect(json.required).toEqual(['item']);
  expect(json.additionalProperties).toBe(false);
  expect(s.output(body)).toMatchObject({ additionalProperties: false, required: ['item', 'note'] });
  expect(s.output(item)).not.toHaveProperty('additionalProperties');
});

test('query and path parameters from object schemas', () => {
  const s = openApiSchemas();
  expect(s.queryParameters(z.object({ clinicId: z.string().regex(/^c\d$/), limit: z.coerce.number().int().min(1).max(5).optional() }).strict())).toEqual([
    { name: 'clinicId', in: 'query', required: true, schema: { type: 'string', pattern: '^c\\d$' } },
    { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 5 } },
  ]);
  expect(s.pathParameters(z.object({ id: z.string() }))).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
});
