import { z } from 'zod';
import type { OpenApiFragment } from '../openapi';
import { openApiSchemas } from './_schema';

/** Health probe (functions/ops/health.ts; the local host answers it itself). */
const s = openApiSchemas();

export const openApiFragment: OpenApiFragment = {
  paths: {
    '/api/health': {
      get: {
        operationId: 'health',
        summary: 'Readiness: services built and Cosmos DB reachable with the app identity',
        security: [],
        responses: {
          '200': { description: 'Ready', content: { 'application/json': { schema: s.output(z.object({ status: z.literal('ok') })) } } },
          '503': { description: 'Not ready', content: { 'application/json': { schema: s.output(z.object({ status: z.string().optional() })) } } },
        },
      },
    },
  },
};
