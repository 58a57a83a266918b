import type { OpenApiFragment } from '../openapi';

/** GDPR erasure (functions/api-erasure.ts). */
const problem = (name: string) => ({ $ref: `#/components/responses/${name}` });

export const openApiFragment: OpenApiFragment = {
  paths: {
    '/api/patients/{patientId}': {
      delete: {
        operationId: 'erasePatient',
        summary: 'Erase a patient (GDPR Art. 17): PHI removed everywhere, appointments kept as de-identified stubs',
        description: 'Roles: admin. Writes the patient.erased tombstone event and an audit entry.',
        tags: ['Configuration'],
        parameters: [{ name: 'patientId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9-]{0,39}$' } }],
        responses: {
          '200': {
            description: 'Erased: what was removed or de-identified',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['patientId', 'erasedAt', 'eventId'],
                  properties: {
                    patientId: { type: 'string' },
                    erasedAt: { type: 'string', format: 'date-time' },
                    appointmentsDeidentified: { type: 'integer' },
                    waitlistEntriesDeleted: { type: 'integer' },
                    patientDocumentsDeleted: { type: 'integer' },
                    idempotencyRecordsDeleted: { type: 'integer' },
                    eventId: { type: 'string' },
                  },
                },
              },
            },
          },
          '400': problem('BadRequest'),
          '401': problem('Unauthorized'),
          '403': problem('Forbidden'),
          '404': problem('NotFound'),
          '410': { description: 'Already erased', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
          '503': problem('ServiceUnavailable'),
        },
      },
    },
  },
};
