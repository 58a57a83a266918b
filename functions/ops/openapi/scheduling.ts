import { z } from 'zod';
import { appointmentStatuses, appointmentTypeSchema, clinicSchema, offerStatuses, patientSchema, providerSchema, timesOfDay, urgencies } from '../../../domain';
import { appointmentListQuerySchema, bookBodySchema, cancelBodySchema, confirmBodySchema, noShowBodySchema } from '../../api/appointments';
import { appointmentTypeBodySchema, clinicBodySchema, clinicQuerySchema, patientBodySchema, providerBodySchema } from '../../api/config';
import { scheduleQuerySchema, slotQuerySchema } from '../../api/schemas';
import { offerQuerySchema, waitlistBodySchema, waitlistQuerySchema } from '../../api/waitlist';
import { absenceBodySchema } from '../../api/workflows';
import type { JsonObject, OpenApiFragment } from '../openapi';

/**
 * OpenAPI description of the scheduling API (functions/api-*.ts). Request schemas are generated from the
 * very zod schemas the handlers validate with, so the document cannot drift from validation; response
 * schemas are written here and checked against real responses in test/unit/api-routes.test.ts.
 */

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
}

function queryParameters(schema: z.ZodType): JsonObject[] {
  const s = jsonSchema(schema) as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({ name, in: 'query', required: (s.required ?? []).includes(name), schema: prop }));
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const pathParam = (name: string, pattern = '^[A-Za-z0-9][A-Za-z0-9-]{0,39}$') => ({ name, in: 'path', required: true, schema: { type: 'string', pattern } });
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes the request safe to retry: the first response is replayed (header idempotent-replayed: true); the same key with a different body is 422 IDEMPOTENCY.KEY_REUSED.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};
const problem = (name: string) => ({ $ref: `#/components/responses/${name}` });
const ok = (description: string, schema: JsonObject) => ({ description, content: { 'application/json': { schema } } });
const body = (schema: JsonObject, required = true) => ({ required, content: { 'application/json': { schema } } });

const commonErrors = { '400': problem('BadRequest'), '401': problem('Unauthorized'), '403': problem('Forbidden') };
const writeErrors = { ...commonErrors, '413': problem('PayloadTooLarge'), '415': problem('UnsupportedMediaType') };

function operation(o: {
  operationId: string;
  summary: string;
  tags: string[];
  roles: string;
  parameters?: JsonObject[];
  requestBody?: JsonObject;
  responses: Record<string, JsonObject>;
}): JsonObject {
  return {
    operationId: o.operationId,
    summary: o.summary,
    description: `Roles: ${o.roles}.`,
    tags: o.tags,
    ...(o.parameters && o.parameters.length > 0 ? { parameters: o.parameters } : {}),
    ...(o.requestBody ? { requestBody: o.requestBody } : {}),
    responses: o.responses,
  };
}

const instant = { type: 'string', format: 'date-time', description: 'ISO 8601 with offset' };
const id = { type: 'string' };

const schemas: Record<string, JsonObject> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details. Never carries PHI: ids, codes and schema field names only.',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', description: 'Stable error code, e.g. APPOINTMENT.SLOT_TAKEN' },
      instance: { type: 'string' },
      correlationId: { type: 'string' },
      details: { type: 'object', additionalProperties: true },
      errors: {
        type: 'array',
        items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
      },
    },
  },
  Clinic: jsonSchema(clinicSchema, 'output'),
  AppointmentType: jsonSchema(appointmentTypeSchema, 'output'),
  Provider: jsonSchema(providerSchema, 'output'),
  Patient: jsonSchema(patientSchema, 'output'),
  FreeSlot: {
    type: 'object',
    required: ['slotId', 'providerId', 'start', 'end', 'appointmentType'],
    properties: { slotId: id, providerId: id, start: instant, end: instant, appointmentType: id },
  },
  Appointment: {
    type: 'object',
    required: [
      'appointmentId',
      'slotId',
      'clinicId',
      'providerId',
      'patientId',
      'appointmentType',
      'status',
      'start',
      'end',
      'source',
      'createdAt',
      'updatedAt',
      'version',
      'externalIds',
    ],
    properties: {
      appointmentId: id,
      slotId: id,
      clinicId: id,
      providerId: id,
      patientId: id,
      appointmentType: id,
      status: { type: 'string', enum: [...appointmentStatuses] },
      start: instant,
      end: instant,
      source: { type: 'string' },
      createdAt: instant,
      updatedAt: instant,
      version: { type: 'integer' },
      cancellation: {
        type: 'object',
        required: ['reasonCode', 'at', 'by', 'late'],
        properties: { reasonCode: { type: 'string' }, at: instant, by: { type: 'string' }, late: { type: 'boolean' } },
      },
      noShowAt: instant,
      confirmedAt: instant,
      eligibility: {
        type: 'object',
        required: ['status', 'checkedAt'],
        properties: { status: { type: 'string' }, checkedAt: instant, reasonCode: { type: 'string' } },
      },
      needsStaffConfirmation: { type: 'boolean' },
      externalIds: {
        type: 'array',
        items: { type: 'object', required: ['system', 'value'], properties: { system: { type: 'string' }, value: { type: 'string' } } },
      },
    },
  },
  AppointmentSummary: {
    type: 'object',
    required: ['appointmentId', 'slotId', 'patientId', 'providerId', 'appointmentType', 'status', 'start', 'end'],
    properties: {
      appointmentId: id,
      slotId: id,
      patientId: id,
      providerId: id,
      appointmentType: id,
      status: { type: 'string', enum: [...appointmentStatuses] },
      start: instant,
      end: instant,
    },
  },
  WaitlistEntry: {
    type: 'object',
    required: [
      'waitlistEntryId',
      'clinicId',
      'patientId',
      'appointmentType',
      'providerIds',
      'urgency',
      'timeOfDay',
      'status',
      'createdAt',
      'updatedAt',
      'version',
    ],
    properties: {
      waitlistEntryId: id,
      clinicId: id,
      patientId: id,
      appointmentType: id,
      providerIds: { type: 'array', items: id },
      earliest: instant,
      latest: instant,
      urgency: { type: 'string', enum: [...urgencies] },
      clinicalDeadline: instant,
      timeOfDay: { type: 'string', enum: [...timesOfDay] },
      status: { type: 'string', enum: ['active', 'offered', 'booked', 'removed'] },
      createdAt: instant,
      updatedAt: instant,
      version: { type: 'integer' },
    },
  },
  WaitlistOffer: {
    type: 'object',
    required: ['offerId', 'slotId', 'waitlistEntryId', 'patientId', 'workflowInstanceId', 'round', 'status', 'sentAt', 'expiresAt'],
    properties: {
      offerId: id,
      slotId: id,
      waitlistEntryId: id,
      patientId: id,
      workflowInstanceId: id,
      round: { type: 'integer' },
      status: { type: 'string', enum: [...offerStatuses] },
      sentAt: instant,
      expiresAt: instant,
      respondedAt: instant,
    },
  },
  ScheduleSlot: {
    type: 'object',
    required: ['slotId', 'start', 'end', 'appointmentTypes', 'state'],
    properties: {
      slotId: id,
      start: instant,
      end: instant,
      appointmentTypes: { type: 'array', items: id },
      state: { type: 'string', enum: ['free', 'booked', 'held'] },
      appointment: {
        type: 'object',
        required: ['appointmentId', 'patientId', 'appointmentType', 'status', 'start', 'end'],
        properties: { appointmentId: id, patientId: id, appointmentType: id, status: { type: 'string' }, start: instant, end: instant },
      },
      offer: {
        type: 'object',
        required: ['offerId', 'waitlistEntryId', 'patientId', 'expiresAt', 'round'],
        properties: { offerId: id, waitlistEntryId: id, patientId: id, expiresAt: instant, round: { type: 'integer' } },
      },
    },
  },
  DaySchedule: {
    type: 'object',
    required: ['clinicId', 'date', 'timeZone', 'providers'],
    properties: {
      clinicId: id,
      date: { type: 'string', format: 'date' },
      timeZone: { type: 'string' },
      providers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['providerId', 'name', 'slots'],
          properties: { providerId: id, name: { type: 'string' }, slots: { type: 'array', items: ref('ScheduleSlot') } },
        },
      },
    },
  },
  TimelineEvent: {
    type: 'object',
    required: ['at', 'kind', 'summary'],
    properties: {
      at: instant,
      kind: { type: 'string', enum: ['booked', 'confirmed', 'cancelled', 'noshow', 'eligibility', 'offer'] },
      summary: { type: 'string' },
      offerId: id,
      waitlistEntryId: id,
      status: { type: 'string' },
    },
  },
  WorkflowAccepted: { type: 'object', required: ['instanceId'], properties: { instanceId: id, statusUrl: { type: 'string' } } },
  WorkflowStatus: {
    type: 'object',
    required: ['instanceId', 'runtimeStatus', 'customStatus', 'output'],
    properties: {
      instanceId: id,
      name: { type: 'string' },
      runtimeStatus: { type: 'string', description: 'Pending, Running, Completed, Failed, Terminated, ...' },
      customStatus: {},
      output: {},
      createdTime: instant,
      lastUpdatedTime: instant,
    },
  },
};

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const responses: Record<string, JsonObject> = {
  BadRequest: problemResponse('Invalid input (VALIDATION.INVALID_INPUT, RANGE.*, TIME.INVALID): names the fields, never their values.'),
  Unauthorized: problemResponse('No valid x-ms-client-principal (AUTH.UNAUTHENTICATED).'),
  Forbidden: problemResponse("Wrong role (AUTH.FORBIDDEN) or a clinic outside the principal's clinic claims (AUTH.CLINIC_FORBIDDEN)."),
  NotFound: problemResponse('Unknown id (CLINIC/PROVIDER/PATIENT/SLOT/APPOINTMENT.NOT_FOUND, WORKFLOW.NOT_FOUND).'),
  Conflict: problemResponse(
    'APPOINTMENT.SLOT_TAKEN, APPOINTMENT.PATIENT_OVERLAP, APPOINTMENT.INVALID_TRANSITION, APPOINTMENT.CONCURRENT_MODIFICATION or IDEMPOTENCY.IN_PROGRESS.',
  ),
  Unprocessable: problemResponse('A booking rule refused the request, or IDEMPOTENCY.KEY_REUSED.'),
  PayloadTooLarge: problemResponse('Body larger than 64 KiB (HTTP.PAYLOAD_TOO_LARGE).'),
  UnsupportedMediaType: problemResponse('Body is not application/json (HTTP.UNSUPPORTED_MEDIA_TYPE).'),
  ServiceUnavailable: problemResponse('The workflow engine is not reachable (WORKFLOW.UNAVAILABLE).'),
};

const admin = 'admin';
const staff = 'scheduler, admin';
const config = ['Configuration'];
const frontDesk = ['Front desk'];
const waitlistTag = ['Waitlist'];
const workflows = ['Workflows'];

const put = (operationId: string, summary: string, param: string, bodySchema: z.ZodType, result: string) =>
  operation({
    operationId,
    summary,
    tags: config,
    roles: admin,
    parameters: [pathParam(param)],
    requestBody: body(jsonSchema(bodySchema)),
    responses: {
      '200': ok('Replaced', ref(result)),
      '201': ok('Created', ref(result)),
      ...writeErrors,
      '404': problem('NotFound'),
      '422': problem('Unprocessable'),
    },
  });

export const openApiFragment: OpenApiFragment = {
  tags: [
    { name: 'Configuration', description: 'Clinics, appointment types, providers and patients (role admin).' },
    { name: 'Front desk', description: 'Slots, appointments and the console day view (role scheduler).' },
    { name: 'Waitlist', description: 'Waitlist entries and the offers in flight.' },
    { name: 'Workflows', description: 'Provider absences and workflow status.' },
  ],
  components: { schemas, responses },
  paths: {
    '/api/clinics': {
      get: operation({
        operationId: 'listClinics',
        summary: 'Clinics the principal may see',
        tags: config,
        roles: staff,
        responses: {
          '200': ok('Clinics', { type: 'object', required: ['clinics'], properties: { clinics: { type: 'array', items: ref('Clinic') } } }),
          ...commonErrors,
        },
      }),
    },
    '/api/clinics/{clinicId}': { put: put('putClinic', 'Create or replace a clinic', 'clinicId', clinicBodySchema, 'Clinic') },
    '/api/appointment-types': {
      get: operation({
        operationId: 'listAppointmentTypes',
        summary: 'Appointment types of a clinic',
        tags: config,
        roles: staff,
        parameters: queryParameters(clinicQuerySchema),
        responses: {
          '200': ok('Types', {
            type: 'object',
            required: ['appointmentTypes'],
            properties: { appointmentTypes: { type: 'array', items: ref('AppointmentType') } },
          }),
          ...commonErrors,
          '404': problem('NotFound'),
        },
      }),
    },
    '/api/appointment-types/{code}': {
      put: put('putAppointmentType', 'Create or replace an appointment type', 'code', appointmentTypeBodySchema, 'AppointmentType'),
    },
    '/api/providers': {
      get: operation({
        operationId: 'listProviders',
        summary: 'Providers of a clinic',
        tags: config,
        roles: staff,
        parameters: queryParameters(clinicQuerySchema),
        responses: {
          '200': ok('Providers', { type: 'object', required: ['providers'], properties: { providers: { type: 'array', items: ref('Provider') } } }),
          ...commonErrors,
          '404': problem('NotFound'),
        },
      }),
    },
    '/api/providers/{providerId}': { put: put('putProvider', 'Create or replace a provider with weekly hours', 'providerId', providerBodySchema, 'Provider') },
    '/api/patients/{patientId}': { put: put('putPatient', 'Create or replace a patient (PHI; audited)', 'patientId', patientBodySchema, 'Patient') },
    '/api/slots': {
      get: operation({
        operationId: 'searchSlots',
        summary: 'Free slots for an appointment type',
        tags: frontDesk,
        roles: staff,
        parameters: queryParameters(slotQuerySchema),
        responses: {
          '200': ok('Free slots', { type: 'object', required: ['slots'], properties: { slots: { type: 'array', items: ref('FreeSlot') } } }),
          ...commonErrors,
          '404': problem('NotFound'),
          '422': problem('Unprocessable'),
        },
      }),
    },
    '/api/schedule': {
      get: operation({
        operationId: 'daySchedule',
        summary: 'Day view per provider: booked, free and held slots (console)',
        tags: frontDesk,
        roles: staff,
        parameters: queryParameters(scheduleQuerySchema),
        responses: { '200': ok('Day schedule', ref('DaySchedule')), ...commonErrors, '404': problem('NotFound') },
      }),
    },
    '/api/appointments': {
      post: operation({
        operationId: 'createAppointment',
        summary: 'Book a slot for a patient',
        tags: frontDesk,
        roles: staff,
        parameters: [idempotencyKey],
        requestBody: body(jsonSchema(bookBodySchema)),
        responses: {
          '201': ok('Booked', ref('Appointment')),
          ...writeErrors,
          '404': problem('NotFound'),
          '409': problem('Conflict'),
          '422': problem('Unprocessable'),
        },
      }),
      get: operation({
        operationId: 'listAppointments',
        summary: 'Appointments of a clinic starting in [from, to), paginated',
        tags: frontDesk,
        roles: staff,
        parameters: queryParameters(appointmentListQuerySchema),
        responses: {
          '200': ok('A page of appointments', {
            type: 'object',
            required: ['appointments'],
            properties: { appointments: { type: 'array', items: ref('AppointmentSummary') }, continuationToken: { type: 'string' } },
          }),
          ...commonErrors,
        },
      }),
    },
    '/api/appointments/{appointmentId}': {
      get: operation({
        operationId: 'getAppointment',
        summary: 'One appointment (audited)',
        tags: frontDesk,
        roles: staff,
        parameters: [pathParam('appointmentId', '^[A-Za-z0-9\\-.]{1,64}$')],
        responses: { '200': ok('The appointment', ref('Appointment')), ...commonErrors, '404': problem('NotFound') },
      }),
    },
    '/api/appointments/{appointmentId}/cancel': {
      post: operation({
        operationId: 'cancelAppointment',
        summary: 'Cancel; releases the slot and publishes the events',
        tags: frontDesk,
        roles: staff,
        parameters: [pathParam('appointmentId', '^[A-Za-z0-9\\-.]{1,64}$'), idempotencyKey],
        requestBody: body(jsonSchema(cancelBodySchema), false),
        responses: {
          '200': ok('Cancelled', ref('Appointment')),
          ...writeErrors,
          '404': problem('NotFound'),
          '409': problem('Conflict'),
          '422': problem('Unprocessable'),
        },
      }),
    },
    '/api/appointments/{appointmentId}/no-show': {
      post: operation({
        operationId: 'markNoShow',
        summary: 'Record a no-show (after the start time)',
        tags: frontDesk,
        roles: staff,
        parameters: [pathParam('appointmentId', '^[A-Za-z0-9\\-.]{1,64}$'), idempotencyKey],
        requestBody: body(jsonSchema(noShowBodySchema), false),
        responses: {
          '200': ok('Marked', ref('Appointment')),
          ...writeErrors,
          '404': problem('NotFound'),
          '409': problem('Conflict'),
          '422': problem('Unprocessable'),
        },
      }),
    },
    '/api/appointments/{appointmentId}/confirm': {
      post: operation({
        operationId: 'confirmAppointment',
        summary: 'Staff confirmation: a pending booking (no-show policy) becomes booked',
        tags: frontDesk,
        roles: staff,
        parameters: [pathParam('appointmentId', '^[A-Za-z0-9\\-.]{1,64}$'), idempotencyKey],
        requestBody: body(jsonSchema(confirmBodySchema), false),
        responses: { '200': ok('Confirmed', ref('Appointment')), ...writeErrors, '404': problem('NotFound'), '409': problem('Conflict') },
      }),
    },
    '/api/appointments/{appointmentId}/events': {
      get: operation({
        operationId: 'appointmentTimeline',
        summary: 'Timeline of an appointment, derived from its record and the offers for its slot',
        tags: frontDesk,
        roles: staff,
        parameters: [pathParam('appointmentId', '^[A-Za-z0-9\\-.]{1,64}$')],
        responses: {
          '200': ok('Timeline', {
            type: 'object',
            required: ['appointmentId', 'events'],
            properties: { appointmentId: id, events: { type: 'array', items: ref('TimelineEvent') } },
          }),
          ...commonErrors,
          '404': problem('NotFound'),
        },
      }),
    },
    '/api/waitlist': {
      post: operation({
        operationId: 'addToWaitlist',
        summary: 'Add a patient to the waitlist',
        tags: waitlistTag,
        roles: staff,
        parameters: [idempotencyKey],
        requestBody: body(jsonSchema(waitlistBodySchema)),
        responses: { '201': ok('Added', ref('WaitlistEntry')), ...writeErrors, '404': problem('NotFound'), '422': problem('Unprocessable') },
      }),
      get: operation({
        operationId: 'listWaitlist',
        summary: 'Waitlist entries of a clinic, paginated',
        tags: waitlistTag,
        roles: staff,
        parameters: queryParameters(waitlistQuerySchema),
        responses: {
          '200': ok('A page of entries', {
            type: 'object',
            required: ['entries'],
            properties: { entries: { type: 'array', items: ref('WaitlistEntry') }, continuationToken: { type: 'string' } },
          }),
          ...commonErrors,
        },
      }),
    },
    '/api/offers': {
      get: operation({
        operationId: 'listOffers',
        summary: 'Waitlist offers of a clinic in a window (default: sent, next 24 h)',
        tags: waitlistTag,
        roles: staff,
        parameters: queryParameters(offerQuerySchema),
        responses: {
          '200': ok('Offers', {
            type: 'object',
            required: ['offers', 'now'],
            properties: { offers: { type: 'array', items: ref('WaitlistOffer') }, now: instant },
          }),
          ...commonErrors,
          '404': problem('NotFound'),
        },
      }),
    },
    '/api/providers/{providerId}/absences': {
      post: operation({
        operationId: 'reportProviderAbsence',
        summary: 'Report an absence: starts the re-assignment workflow',
        tags: workflows,
        roles: staff,
        parameters: [pathParam('providerId'), idempotencyKey],
        requestBody: body(jsonSchema(absenceBodySchema)),
        responses: {
          '202': ok('Workflow started (or already running)', ref('WorkflowAccepted')),
          ...writeErrors,
          '404': problem('NotFound'),
          '503': problem('ServiceUnavailable'),
        },
      }),
    },
    '/api/workflows/{instanceId}': {
      get: operation({
        operationId: 'getWorkflowStatus',
        summary: 'Runtime status, custom status and output of a workflow',
        tags: workflows,
        roles: staff,
        parameters: [pathParam('instanceId', '^[A-Za-z0-9._:-]{1,100}$')],
        responses: { '200': ok('Status', ref('WorkflowStatus')), ...commonErrors, '404': problem('NotFound'), '503': problem('ServiceUnavailable') },
      }),
    },
    '/api/openapi.json': {
      get: {
        operationId: 'openApiDocument',
        summary: 'This document',
        tags: ['Meta'],
        security: [],
        responses: { '200': ok('OpenAPI 3.1 document', { type: 'object' }) },
      },
    },
  },
};
