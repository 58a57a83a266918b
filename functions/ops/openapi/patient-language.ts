import { patientLanguageBodySchema, patientLanguageSchema, patientLookupQuerySchema, patientParamsSchema } from '../../api/schemas';
import { problemSchema } from '../../http/problem';
import type { OpenApiFragment } from '../openapi';
import { openApiSchemas } from './_schema';

/** The console's preferred-language edit (functions/api/patient-language.ts). */
const s = openApiSchemas({ Problem: problemSchema, PatientLanguage: patientLanguageSchema });
const problem = (name: string) => ({ $ref: `#/components/responses/${name}` });

export const openApiFragment: OpenApiFragment = {
  components: { schemas: s.components },
  paths: {
    '/api/patients/{patientId}/preferred-language': {
      put: {
        operationId: 'putPatientLanguage',
        summary: "Set or clear a patient's preferred language (audited update); the rest of the record is kept",
        description: 'Roles: scheduler, admin. With clinicId, answers the language texts go out in at that clinic.',
        tags: ['Console'],
        parameters: [...s.pathParameters(patientParamsSchema), ...s.queryParameters(patientLookupQuerySchema)],
        requestBody: { required: true, content: { 'application/json': { schema: s.input(patientLanguageBodySchema) } } },
        responses: {
          '200': { description: 'The language now on file', content: { 'application/json': { schema: s.ref('PatientLanguage') } } },
          '400': problem('BadRequest'),
          '401': problem('Unauthorized'),
          '403': problem('Forbidden'),
          '404': problem('NotFound'),
          '413': problem('PayloadTooLarge'),
          '415': problem('UnsupportedMediaType'),
        },
      },
    },
  },
};
