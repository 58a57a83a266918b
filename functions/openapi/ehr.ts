import type { JsonObject, OpenApiFragment } from '../openapi';

/**
 * EHR integration (functions/ehr-*.ts, functions/fhir-*.ts, functions/ical-*.ts): HL7 v2 SIU inbound,
 * FHIR R4 scheduling (IHE ITI Scheduling $find/$hold/$book), SMART Scheduling Links bulk publish and the
 * iCalendar feed. FHIR bodies are described loosely here (resourceType + the FHIR R4 JSON schema is the
 * contract; test/unit/fhir-*.test.ts validate every response against it).
 */

const fhirJson = (description: string, resourceType?: string): JsonObject => ({
  description,
  content: {
    'application/fhir+json': {
      schema: { type: 'object', required: ['resourceType'], properties: { resourceType: resourceType ? { const: resourceType } : { type: 'string' } } },
    },
  },
});
const outcome = (description: string): JsonObject => fhirJson(description, 'OperationOutcome');
const fhirErrors = {
  '400': outcome('Invalid search or operation parameters (OperationOutcome)'),
  '401': outcome('No principal'),
  '403': outcome('Not role ehr, or the resource belongs to another clinic'),
};
const query = (name: string, description: string, schema: JsonObject = { type: 'string' }): JsonObject => ({ name, in: 'query', required: false, description, schema });
const parametersBody: JsonObject = {
  required: true,
  content: { 'application/fhir+json': { schema: { type: 'object', required: ['resourceType'], properties: { resourceType: { const: 'Parameters' }, parameter: { type: 'array' } } } } },
};
const ndjson = (description: string): JsonObject => ({ description, content: { 'application/fhir+ndjson': { schema: { type: 'string' } } } });
const etagHeaders = [
  { name: 'If-None-Match', in: 'header', required: false, description: 'ETag of a previous answer: 304 when nothing changed.', schema: { type: 'string' } },
];

export const openApiFragment: OpenApiFragment = {
  tags: [
    { name: 'EHR', description: 'HL7 v2 SIU inbound and the iCalendar feed.' },
    { name: 'FHIR', description: 'FHIR R4 scheduling resources and operations (role ehr); errors are OperationOutcome.' },
  ],
  paths: {
    '/api/ehr/hl7v2': {
      post: {
        operationId: 'ehrHl7v2',
        summary: 'Receive one HL7 v2 SIU message (S12, S13, S14, S15, S17, S26); answers its ACK',
        description:
          'ER7 text, optionally MLLP-framed, segments separated by CR, LF or CRLF. Always HTTP 200 with the ACK once authenticated: MSA-1 AA (applied), AE (valid but not applicable; ERR-5 carries the Slotflow error code) or AR (malformed). Idempotent on sending application + facility + MSH-10: a repeat returns the stored ACK.',
        tags: ['EHR'],
        requestBody: { required: true, content: { 'application/hl7-v2': { schema: { type: 'string' } }, 'text/plain': { schema: { type: 'string' } } } },
        responses: {
          '200': { description: 'The ACK (AA, AE or AR)', content: { 'application/hl7-v2': { schema: { type: 'string', pattern: '^MSH' } } } },
          '401': { $ref: '#/components/responses/EhrProblem' },
          '403': { $ref: '#/components/responses/EhrProblem' },
          '413': { $ref: '#/components/responses/EhrProblem' },
        },
      },
    },
  },
  components: {
    responses: {
      EhrProblem: { description: 'Problem details (RFC 9457)', content: { 'application/problem+json': { schema: { type: 'object', required: ['code', 'status'], properties: { code: { type: 'string' }, status: { type: 'integer' } } } } } },
    },
  },
};

/** Helpers for the FHIR and iCalendar path items (added below as the routes exist). */
export const fragments = { fhirJson, outcome, fhirErrors, query, parametersBody, ndjson, etagHeaders };
