import { erasureReportSchema, patientParamsSchema } from '../../api/schemas';
import { problemSchema } from '../../http/problem';
import type { OpenApiFragment } from '../openapi';
import { openApiSchemas } from './_schema';

/** GDPR erasure (functions/api/erasure.ts); schemas from functions/api/schemas.ts. */
const s = openApiSchemas({ Problem: problemSchema });
const problem = (name: string) => ({ $ref: `#/components/responses/${name}` });

export const openApiFragment: OpenApiFragment = {
  components: { schemas: s.components },
  paths: {
    '/api/patients/{patientId}': {
      delete: {
        operationId: 'erasePatient',
        summary: 'Erase a patient (GDPR Art. 17): PHI removed everywhere, appointments kept as de-identified stubs',
        description: 'Roles: admin. Writes the patient.erased tombstone event and an audit entry.',
        tags: ['Configuration'],
        parameters: s.pathParameters(patientParamsSchema),
        responses: {
          '200': { description: 'Erased: what was removed or de-identified', content: { 'application/json': { schema: s.output(erasureReportSchema) } } },
          '400': problem('BadRequest'),
          '401': problem('Unauthorized'),
          '403': problem('Forbidden'),
          '404': problem('NotFound'),
          '410': { description: 'Already erased', content: { 'application/problem+json': { schema: s.ref('Problem') } } },
          '503': problem('ServiceUnavailable'),
        },
      },
    },
  },
};
