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
const query = (name: string, description: string, schema: JsonObject = { type: 'string' }): JsonObject => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const parametersBody: JsonObject = {
  required: true,
  content: {
    'application/fhir+json': {
      schema: { type: 'object', required: ['resourceType'], properties: { resourceType: { const: 'Parameters' }, parameter: { type: 'array' } } },
    },
  },
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
    '/fhir/metadata': {
      get: {
        operationId: 'fhirMetadata',
        summary: 'CapabilityStatement (IHE ITI Scheduling server, SMART Scheduling Links)',
        tags: ['FHIR'],
        responses: { '200': fhirJson('CapabilityStatement', 'CapabilityStatement'), '401': outcome('No principal'), '403': outcome('Not role ehr') },
      },
    },
    '/fhir/Slot': {
      get: {
        operationId: 'fhirSlotSearch',
        summary: 'Search Slots of one or more provider schedules (free/busy)',
        tags: ['FHIR'],
        parameters: [
          query('schedule', 'Required. Schedule/{providerId}, comma-separated for several.'),
          query('start', 'Repeatable, with prefixes ge, gt, le, lt, eq. Default: the next 7 days; at most 31.'),
          query('status', 'free or busy', { enum: ['free', 'busy'] }),
          query('service-type', 'Appointment type code (optionally system|code).'),
          query('_count', 'Page size (max 2000).', { type: 'integer', minimum: 1 }),
        ],
        responses: { '200': fhirJson('Bundle (searchset) of Slot', 'Bundle'), ...fhirErrors },
      },
    },
    '/fhir/Schedule': {
      get: {
        operationId: 'fhirScheduleSearch',
        summary: 'Search Schedules (one per provider, id = providerId)',
        tags: ['FHIR'],
        parameters: [query('actor', 'Practitioner/{providerId} or Location/{clinicId}'), query('_id', 'Schedule id(s)')],
        responses: { '200': fhirJson('Bundle (searchset) of Schedule', 'Bundle'), ...fhirErrors },
      },
    },
    '/fhir/Appointment': {
      get: {
        operationId: 'fhirAppointmentSearch',
        summary: 'Search Appointments by patient, practitioner, actor, location, date, status or identifier',
        tags: ['FHIR'],
        parameters: [
          query('patient', 'Patient/{patientId}'),
          query('practitioner', 'Practitioner/{providerId}'),
          query('actor', 'Patient, Practitioner or Location reference'),
          query('location', 'Location/{clinicId}'),
          query('date', 'Repeatable, with prefixes ge, gt, le, lt, eq. Default: 30 days back to 180 days ahead; at most 366 days.'),
          query('status', 'Comma-separated Appointment statuses'),
          query('identifier', 'system|value of an external id (e.g. urn:slotflow:hl7:filler|FL-9001)'),
          query('_count', 'Page size (max 500).', { type: 'integer', minimum: 1 }),
        ],
        responses: { '200': fhirJson('Bundle (searchset) of Appointment', 'Bundle'), ...fhirErrors },
      },
    },
    '/fhir/Appointment/{appointmentId}': {
      get: {
        operationId: 'fhirAppointmentRead',
        summary: 'Read an Appointment (id = Slotflow appointmentId)',
        tags: ['FHIR'],
        parameters: [{ name: 'appointmentId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' } }],
        responses: { '200': fhirJson('Appointment', 'Appointment'), ...fhirErrors, '404': outcome('Unknown appointment') },
      },
    },
    '/fhir/Appointment/$find': {
      post: {
        operationId: 'fhirAppointmentFind',
        summary:
          'IHE ITI-115 Find Potential Appointments: Parameters (start, end, practitioner, location, visit-type, patient) -> Bundle of proposed Appointments',
        tags: ['FHIR'],
        requestBody: parametersBody,
        responses: {
          '200': fhirJson('Bundle of proposed Appointments', 'Bundle'),
          ...fhirErrors,
          '404': outcome('Unknown clinic, provider or patient'),
          '422': outcome('Unknown appointment type'),
        },
      },
    },
    '/fhir/Appointment/$hold': {
      post: {
        operationId: 'fhirAppointmentHold',
        summary: 'IHE ITI-116 Hold Appointment: holds the slot for the patient for 10 minutes (status proposed)',
        tags: ['FHIR'],
        requestBody: parametersBody,
        responses: {
          '200': fhirJson('Bundle with the held Appointment', 'Bundle'),
          ...fhirErrors,
          '404': outcome('Unknown slot or patient'),
          '409': outcome('Slot taken or patient busy'),
          '422': outcome('Booking rule broken'),
        },
      },
    },
    '/fhir/Appointment/$book': {
      post: {
        operationId: 'fhirAppointmentBook',
        summary: 'IHE ITI-117 Book Appointment: books a held appointment (by id) or a slot',
        tags: ['FHIR'],
        requestBody: parametersBody,
        responses: {
          '200': fhirJson('Bundle with the booked Appointment', 'Bundle'),
          ...fhirErrors,
          '404': outcome('Unknown hold, slot or patient'),
          '409': outcome('Slot taken, or the hold lapsed'),
          '422': outcome('Booking rule broken'),
        },
      },
    },
    '/fhir/$bulk-publish': {
      get: {
        operationId: 'fhirBulkPublish',
        summary: 'SMART Scheduling Links manifest (Location, Schedule, Slot NDJSON files)',
        tags: ['FHIR'],
        parameters: [query('_since', 'Instant: the Slot file holds only slots whose state changed since then'), ...etagHeaders],
        responses: {
          '200': {
            description: 'Manifest',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['transactionTime', 'request', 'output'],
                  properties: {
                    transactionTime: { type: 'string' },
                    request: { type: 'string' },
                    output: {
                      type: 'array',
                      items: { type: 'object', required: ['type', 'url'], properties: { type: { type: 'string' }, url: { type: 'string' } } },
                    },
                    error: { type: 'array' },
                  },
                },
              },
            },
          },
          '304': { description: 'Not modified (If-None-Match)' },
          ...fhirErrors,
        },
      },
    },
    '/fhir/$bulk-publish/{file}': {
      get: {
        operationId: 'fhirBulkPublishFile',
        summary: 'One SMART Scheduling Links NDJSON file',
        tags: ['FHIR'],
        parameters: [
          { name: 'file', in: 'path', required: true, schema: { enum: ['Location.ndjson', 'Schedule.ndjson', 'Slot.ndjson'] } },
          query('_since', 'As in the manifest'),
          ...etagHeaders,
        ],
        responses: {
          '200': ndjson('NDJSON, one resource per line'),
          '304': { description: 'Not modified (If-None-Match)' },
          ...fhirErrors,
          '404': outcome('No such file'),
        },
      },
    },
    '/api/providers/{providerId}/calendar.ics': {
      get: {
        operationId: 'providerCalendarIcs',
        summary:
          "A provider's appointments as iCalendar (RFC 5545): one VEVENT per appointment, stable UID, SEQUENCE from the version, STATUS:CANCELLED for cancellations; no patient names",
        tags: ['EHR'],
        parameters: [
          { name: 'providerId', in: 'path', required: true, schema: { type: 'string' } },
          query('from', 'ISO 8601 instant with offset (default: 30 days ago)'),
          query('to', 'ISO 8601 instant with offset (default: 180 days ahead; at most 366 days after from)'),
          ...etagHeaders,
        ],
        responses: {
          '200': { description: 'The calendar', content: { 'text/calendar': { schema: { type: 'string', pattern: '^BEGIN:VCALENDAR' } } } },
          '304': { description: 'Not modified (If-None-Match)' },
          '400': { $ref: '#/components/responses/EhrProblem' },
          '401': { $ref: '#/components/responses/EhrProblem' },
          '403': { $ref: '#/components/responses/EhrProblem' },
          '404': { $ref: '#/components/responses/EhrProblem' },
        },
      },
    },
  },
  components: {
    responses: {
      EhrProblem: {
        description: 'Problem details (RFC 9457)',
        content: {
          'application/problem+json': {
            schema: { type: 'object', required: ['code', 'status'], properties: { code: { type: 'string' }, status: { type: 'integer' } } },
          },
        },
      },
    },
  },
};
