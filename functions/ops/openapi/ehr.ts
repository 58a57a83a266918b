import { z } from 'zod';
import { fhirIdSchema } from '../../../domain';
import { queryInstantSchema } from '../../api/schemas';
import { problemSchema } from '../../http/problem';
import type { JsonObject, OpenApiFragment } from '../openapi';
import { openApiSchemas } from './_schema';

/**
 * EHR integration (functions/ehr, functions/fhir): HL7 v2 SIU inbound, FHIR R4 scheduling (IHE ITI
 * Scheduling $find/$hold/$book), SMART Scheduling Links bulk publish and the iCalendar feed. FHIR bodies
 * are described loosely here (resourceType + the FHIR R4 JSON schema is the contract;
 * test/unit/functions/fhir/*.test.ts validate every response against it). Those areas read FHIR search
 * parameters and HL7 text by hand rather than with zod, so the zod shapes of this description live here.
 */
const s = openApiSchemas();

const resource = (resourceType?: string) => z.object({ resourceType: resourceType ? z.literal(resourceType) : z.string() });
const fhirJson = (description: string, resourceType?: string): JsonObject => ({
  description,
  content: { 'application/fhir+json': { schema: s.output(resource(resourceType)) } },
});
const outcome = (description: string): JsonObject => fhirJson(description, 'OperationOutcome');
const fhirErrors = {
  '400': outcome('Invalid search or operation parameters (OperationOutcome)'),
  '401': outcome('No principal'),
  '403': outcome('Not role ehr, or the resource belongs to another clinic'),
};
const query = (name: string, description: string, schema: z.ZodType = z.string()): JsonObject => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: s.input(schema),
});
const path = (name: string, schema: z.ZodType): JsonObject => ({ name, in: 'path', required: true, schema: s.input(schema) });
/** A repeatable parameter (`start=ge..&start=lt..`): form style, exploded, so each value is its own key=value. */
const repeated = (name: string, description: string, item: z.ZodType = z.string()): JsonObject => ({
  ...query(name, description, z.array(item).min(1)),
  style: 'form',
  explode: true,
});
/** A FHIR date search value: a date or a dateTime with an offset, optionally prefixed (functions/fhir/http.ts dateRange). */
const fhirDateValue = z.string().regex(/^(eq|ge|gt|le|lt)?\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/);
/** The media types readFhirBody accepts (a missing content type is read as FHIR JSON too). */
const fhirBody = (schema: z.ZodType): JsonObject => ({
  required: true,
  content: { 'application/fhir+json': { schema: s.input(schema) }, 'application/json': { schema: s.input(schema) } },
});
/** $hold and $book take Parameters with an `appointment` resource, or the Appointment itself. */
const appointmentOperationBody = fhirBody(
  z.union([
    z.object({ resourceType: z.literal('Parameters'), parameter: z.array(z.object({ name: z.string(), resource: z.unknown().optional() })) }),
    z.object({ resourceType: z.literal('Appointment') }),
  ]),
);
const offsetParam = query('_offset', 'Index of the first match of the page (from the next/previous links).', z.number().int().min(0));
const parametersBody = fhirBody(z.object({ resourceType: z.literal('Parameters'), parameter: z.array(z.unknown()).optional() }));
const ndjson = (description: string): JsonObject => ({ description, content: { 'application/fhir+ndjson': { schema: s.output(z.string()) } } });
const etagHeaders = [
  { name: 'If-None-Match', in: 'header', required: false, description: 'ETag of a previous answer: 304 when nothing changed.', schema: s.input(z.string()) },
];
const text = (mediaType: string, schema: z.ZodType = z.string()) => ({ [mediaType]: { schema: s.output(schema) } });
const manifest = z.object({
  transactionTime: z.string(),
  request: z.string(),
  output: z.array(z.object({ type: z.string(), url: z.string() })),
  error: z.array(z.unknown()).optional(),
});

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
        // The route reads the body as ER7 whatever the media type says; these are the ones engines send.
        requestBody: {
          required: true,
          content: { ...text('application/hl7-v2'), ...text('x-application/hl7-v2+er7'), ...text('text/plain'), ...text('*/*') },
        },
        responses: {
          '200': { description: 'The ACK (AA, AE or AR)', content: text('application/hl7-v2', z.string().regex(/^MSH/)) },
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
          repeated('start', 'Repeatable (start=ge..&start=lt..), with prefixes ge, gt, le, lt, eq. Default: the next 7 days; at most 31.', fhirDateValue),
          query('status', 'free (bookable now), busy (booked) or busy-unavailable (not bookable now)', z.enum(['free', 'busy', 'busy-unavailable'])),
          query('service-type', 'Appointment type code (optionally system|code).'),
          query('_count', 'Page size (default 500, max 2000).', z.number().int().min(1)),
          offsetParam,
        ],
        responses: { '200': fhirJson('Bundle (searchset) of Slot', 'Bundle'), ...fhirErrors },
      },
    },
    '/fhir/Schedule': {
      get: {
        operationId: 'fhirScheduleSearch',
        summary: 'Search Schedules (one per provider, id = providerId)',
        tags: ['FHIR'],
        parameters: [
          query('actor', 'Practitioner/{providerId} or Location/{clinicId}'),
          query('_id', 'Schedule id(s)'),
          query('_count', 'Page size (default 500, max 2000).', z.number().int().min(1)),
          offsetParam,
        ],
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
          repeated(
            'date',
            'Repeatable (date=ge..&date=le..), with prefixes ge, gt, le, lt, eq. Default: 30 days back to 180 days ahead; at most 366 days.',
            fhirDateValue,
          ),
          query('status', 'Comma-separated Appointment statuses'),
          query('identifier', 'system|value of an external id (e.g. urn:slotflow:hl7:filler|FL-9001)'),
          query('_count', 'Page size (default 100, max 500).', z.number().int().min(1)),
          offsetParam,
        ],
        responses: { '200': fhirJson('Bundle (searchset) of Appointment', 'Bundle'), ...fhirErrors },
      },
    },
    '/fhir/Appointment/{appointmentId}': {
      get: {
        operationId: 'fhirAppointmentRead',
        summary: 'Read an Appointment (id = Slotflow appointmentId)',
        tags: ['FHIR'],
        parameters: [path('appointmentId', fhirIdSchema)],
        responses: { '200': fhirJson('Appointment', 'Appointment'), ...fhirErrors, '404': outcome('Unknown appointment') },
      },
    },
    '/fhir/Appointment/$find': {
      get: {
        operationId: 'fhirAppointmentFindGet',
        summary: '$find with its parameters in the query (the form the paging links use)',
        tags: ['FHIR'],
        parameters: [
          query('start', 'dateTime with an offset, or a date'),
          query('end', 'dateTime with an offset, or a date'),
          repeated('practitioner', 'Practitioner/{providerId}; repeatable'),
          query('location', 'Location/{clinicId}'),
          query('visit-type', 'Appointment type code (optionally system|code)'),
          query('patient', 'Patient/{patientId}'),
          query('_count', 'Page size (default 100, max 500).', z.number().int().min(1)),
          offsetParam,
        ],
        responses: {
          '200': fhirJson('Bundle of proposed Appointments', 'Bundle'),
          ...fhirErrors,
          '404': outcome('Unknown clinic, provider or patient'),
          '422': outcome('Unknown appointment type'),
        },
      },
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
        requestBody: appointmentOperationBody,
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
        requestBody: appointmentOperationBody,
        responses: {
          '200': fhirJson('Bundle with the booked Appointment', 'Bundle'),
          ...fhirErrors,
          '404': outcome('Unknown hold, slot or patient'),
          '409': outcome('Slot taken, or the hold lapsed'),
          '422': outcome('Booking rule broken'),
        },
      },
    },
    '/fhir/{path}': Object.fromEntries(
      (['get', 'post', 'put', 'patch', 'delete'] as const).map((method) => [
        method,
        {
          operationId: `fhirNotServed${method[0]!.toUpperCase()}${method.slice(1)}`,
          summary: 'Any other path under /fhir (e.g. an unknown resource type): an OperationOutcome, never a bare 404',
          tags: ['FHIR'],
          parameters: [path('path', z.string())],
          responses: {
            '401': outcome('No principal'),
            '403': outcome('Not role ehr'),
            '404': outcome('Resource type or endpoint not served'),
            '405': outcome('A served FHIR path called with another method (Allow lists the methods)'),
          },
        },
      ]),
    ),
    '/fhir/$bulk-publish': {
      get: {
        operationId: 'fhirBulkPublish',
        summary: 'SMART Scheduling Links manifest (Location, Schedule, Slot NDJSON files)',
        tags: ['FHIR'],
        parameters: [query('_since', 'Instant: the Slot file holds only slots whose state changed since then'), ...etagHeaders],
        responses: {
          '200': {
            description: 'Manifest',
            content: { 'application/json': { schema: s.output(manifest) } },
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
        parameters: [path('file', z.enum(['Location.ndjson', 'Schedule.ndjson', 'Slot.ndjson'])), query('_since', 'As in the manifest'), ...etagHeaders],
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
        'x-slotflow-range': { from: 'from', to: 'to', in: 'query', maxDays: 366 },
        tags: ['EHR'],
        parameters: [
          path('providerId', z.string()),
          query('from', 'ISO 8601 instant with offset (default: 30 days ago)', queryInstantSchema),
          query('to', 'ISO 8601 instant with offset, after from (default: 180 days ahead; at most 366 days after from)', queryInstantSchema),
          ...etagHeaders,
        ],
        responses: {
          '200': { description: 'The calendar', content: text('text/calendar', z.string().regex(/^BEGIN:VCALENDAR/)) },
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
        content: { 'application/problem+json': { schema: s.output(problemSchema.pick({ code: true, status: true })) } },
      },
    },
  },
};
