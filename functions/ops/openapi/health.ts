import type { OpenApiFragment } from '../openapi';

/** Health probe (functions/health.ts; the local host answers it itself). */
export const openApiFragment: OpenApiFragment = {
  paths: {
    '/api/health': {
      get: {
        operationId: 'health',
        summary: 'Readiness: services built and Cosmos DB reachable with the app identity',
        security: [],
        responses: {
          '200': {
            description: 'Ready',
            content: { 'application/json': { schema: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } } } },
          },
          '503': { description: 'Not ready', content: { 'application/json': { schema: { type: 'object', properties: { status: { type: 'string' } } } } } },
        },
      },
    },
  },
};
