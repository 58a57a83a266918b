import {
  absenceBodySchema,
  appointmentListQuerySchema,
  appointmentPageSchema,
  appointmentParamsSchema,
  appointmentTypeBodySchema,
  appointmentTypeListSchema,
  appointmentTypeParamsSchema,
  appointmentViewSchema,
  appointmentSummarySchema,
  bookBodySchema,
  cancelBodySchema,
  clinicBodySchema,
  clinicListSchema,
  clinicParamsSchema,
  clinicQuerySchema,
  confirmBodySchema,
  dayScheduleSchema,
  freeSlotListSchema,
  freeSlotSchema,
  noShowBodySchema,
  offerListSchema,
  overbookingDecisionBodySchema,
  overbookingDecisionSchema,
  overbookingQuerySchema,
  overbookingSuggestionListSchema,
  offerQuerySchema,
  patientBodySchema,
  patientParamsSchema,
  providerBodySchema,
  providerListSchema,
  providerParamsSchema,
  scheduleQuerySchema,
  scheduleSlotSchema,
  slotQuerySchema,
  timelineEventSchema,
  timelineSchema,
  waitlistBodySchema,
  waitlistEntrySchema,
  waitlistOfferSchema,
  waitlistPageSchema,
  waitlistQuerySchema,
  workflowAcceptedSchema,
  workflowParamsSchema,
  workflowStatusSchema,
  MAX_ABSENCE_DAYS,
} from '../../api/schemas';
import { appointmentTypeSchema, clinicSchema, MAX_SEARCH_DAYS, patientSchema, providerSchema } from '../../../domain';
import { MAX_OVERBOOKING_DAYS } from '../../../domain/risk/overbooking';
import { problemSchema } from '../../http/problem';
import { z } from 'zod';
import type { JsonObject, OpenApiFragment } from '../openapi';
import { openApiSchemas } from './_schema';

/**
 * OpenAPI description of the scheduling API (functions/api). Every schema is generated from the zod
 * schemas in functions/api/schemas.ts: requests from the ones the handlers validate with, responses from
 * the ones the views are typed by (checked against real responses in test/unit/functions/api/routes.test.ts).
 * This file adds what zod does not know: operations, roles, status codes and their descriptions.
 */

const s = openApiSchemas({
  Problem: problemSchema,
  Clinic: clinicSchema,
  AppointmentType: appointmentTypeSchema,
  Provider: providerSchema,
  Patient: patientSchema,
  FreeSlot: freeSlotSchema,
  Appointment: appointmentViewSchema,
  AppointmentSummary: appointmentSummarySchema,
  WaitlistEntry: waitlistEntrySchema,
  WaitlistOffer: waitlistOfferSchema,
  ScheduleSlot: scheduleSlotSchema,
  DaySchedule: dayScheduleSchema,
  TimelineEvent: timelineEventSchema,
  WorkflowAccepted: workflowAcceptedSchema,
  WorkflowStatus: workflowStatusSchema,
});

const ref = s.ref;
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes the request safe to retry: the first response is replayed (header idempotent-replayed: true); the same key with a different body is 422 IDEMPOTENCY.KEY_REUSED.',
  schema: s.input(z.string().min(1).max(255)),
};
const problem = (name: string) => ({ $ref: `#/components/responses/${name}` });
const ok = (description: string, schema: JsonObject) => ({ description, content: { 'application/json': { schema } } });
const body = (schema: z.ZodType, required = true) => ({ required, content: { 'application/json': { schema: s.input(schema) } } });

const commonErrors = { '400': problem('BadRequest'), '401': problem('Unauthorized'), '403': problem('Forbidden') };
const writeErrors = { ...commonErrors, '413': problem('PayloadTooLarge'), '415': problem('UnsupportedMediaType') };

/** A time window two parameters (or body fields) span, as the server enforces it. */
export interface TimeRange {
  from: string;
  to: string;
  in: 'query' | 'body';
  maxDays: number;
}
const rangeText = (r: TimeRange) =>
  `\`${r.from}\` and \`${r.to}\` are instants with an offset; \`${r.to}\` must be after \`${r.from}\` and at most ${r.maxDays} days later, else 400.`;

function operation(o: {
  operationId: string;
  summary: string;
  tags: string[];
  roles: string;
  parameters?: JsonObject[];
  requestBody?: JsonObject;
  responses: Record<string, JsonObject>;
  /** A [from, to) window the server checks: to after from, at most maxDays apart (400 otherwise). */
  range?: TimeRange;
}): JsonObject {
  return {
    operationId: o.operationId,
    summary: o.summary,
    description: `Roles: ${o.roles}.${o.range ? ` ${rangeText(o.range)}` : ''}`,
    ...(o.range ? { 'x-slotflow-range': o.range } : {}),
    tags: o.tags,
    ...(o.parameters && o.parameters.length > 0 ? { parameters: o.parameters } : {}),
    ...(o.requestBody ? { requestBody: o.requestBody } : {}),
    responses: o.responses,
  };
}

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

const put = (operationId: string, summary: string, params: z.ZodType, bodySchema: z.ZodType, result: string) =>
  operation({
    operationId,
    summary,
    tags: config,
    roles: admin,
    parameters: s.pathParameters(params),
    requestBody: body(bodySchema),
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
  components: { schemas: s.components, responses },
  paths: {
    '/api/clinics': {
      get: operation({
        operationId: 'listClinics',
        summary: 'Clinics the principal may see',
        tags: config,
        roles: staff,
        responses: {
          '200': ok('Clinics', s.output(clinicListSchema)),
          ...commonErrors,
        },
      }),
    },
    '/api/clinics/{clinicId}': { put: put('putClinic', 'Create or replace a clinic', clinicParamsSchema, clinicBodySchema, 'Clinic') },
    '/api/appointment-types': {
      get: operation({
        operationId: 'listAppointmentTypes',
        summary: 'Appointment types of a clinic',
        tags: config,
        roles: staff,
        parameters: s.queryParameters(clinicQuerySchema),
        responses: {
          '200': ok('Types', s.output(appointmentTypeListSchema)),
          ...commonErrors,
          '404': problem('NotFound'),
        },
      }),
    },
    '/api/appointment-types/{code}': {
      put: put('putAppointmentType', 'Create or replace an appointment type', appointmentTypeParamsSchema, appointmentTypeBodySchema, 'AppointmentType'),
    },
    '/api/providers': {
      get: operation({
        operationId: 'listProviders',
        summary: 'Providers of a clinic',
        tags: config,
        roles: staff,
        parameters: s.queryParameters(clinicQuerySchema),
        responses: {
          '200': ok('Providers', s.output(providerListSchema)),
          ...commonErrors,
          '404': problem('NotFound'),
        },
      }),
    },
    '/api/providers/{providerId}': {
      put: put('putProvider', 'Create or replace a provider with weekly hours', providerParamsSchema, providerBodySchema, 'Provider'),
    },
    '/api/patients/{patientId}': { put: put('putPatient', 'Create or replace a patient (PHI; audited)', patientParamsSchema, patientBodySchema, 'Patient') },
    '/api/slots': {
      get: operation({
        operationId: 'searchSlots',
        summary: 'Free slots for an appointment type',
        tags: frontDesk,
        roles: staff,
        parameters: s.queryParameters(slotQuerySchema),
        range: { from: 'from', to: 'to', in: 'query', maxDays: MAX_SEARCH_DAYS },
        responses: {
          '200': ok('Free slots', s.output(freeSlotListSchema)),
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
        parameters: s.queryParameters(scheduleQuerySchema),
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
        requestBody: body(bookBodySchema),
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
        parameters: s.queryParameters(appointmentListQuerySchema),
        range: { from: 'from', to: 'to', in: 'query', maxDays: 366 },
        responses: {
          '200': ok('A page of appointments', s.output(appointmentPageSchema)),
          ...commonErrors,
        },
      }),
    },
    '/api/overbooking-suggestions': {
      get: operation({
        operationId: 'listOverbookingSuggestions',
        summary: 'Provider-days whose expected no-shows reach the clinic threshold, and the slots that could take one extra booking (read-only)',
        tags: frontDesk,
        roles: staff,
        parameters: s.queryParameters(overbookingQuerySchema),
        range: { from: 'from', to: 'to', in: 'query', maxDays: MAX_OVERBOOKING_DAYS },
        responses: { '200': ok('Suggestions', s.output(overbookingSuggestionListSchema)), ...commonErrors, '404': problem('NotFound') },
      }),
    },
    '/api/overbooking-suggestions/decisions': {
      post: operation({
        operationId: 'decideOverbooking',
        summary: 'Record a staff decision on a suggested slot (audited; books nothing)',
        tags: frontDesk,
        roles: staff,
        requestBody: body(overbookingDecisionBodySchema),
        responses: { '201': ok('Recorded', s.output(overbookingDecisionSchema)), ...writeErrors },
      }),
    },
    '/api/appointments/{appointmentId}': {
      get: operation({
        operationId: 'getAppointment',
        summary: 'One appointment (audited)',
        tags: frontDesk,
        roles: staff,
        parameters: s.pathParameters(appointmentParamsSchema),
        responses: { '200': ok('The appointment', ref('Appointment')), ...commonErrors, '404': problem('NotFound') },
      }),
    },
    '/api/appointments/{appointmentId}/cancel': {
      post: operation({
        operationId: 'cancelAppointment',
        summary: 'Cancel; releases the slot and publishes the events',
        tags: frontDesk,
        roles: staff,
        parameters: [...s.pathParameters(appointmentParamsSchema), idempotencyKey],
        requestBody: body(cancelBodySchema, false),
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
        parameters: [...s.pathParameters(appointmentParamsSchema), idempotencyKey],
        requestBody: body(noShowBodySchema, false),
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
        parameters: [...s.pathParameters(appointmentParamsSchema), idempotencyKey],
        requestBody: body(confirmBodySchema, false),
        responses: { '200': ok('Confirmed', ref('Appointment')), ...writeErrors, '404': problem('NotFound'), '409': problem('Conflict') },
      }),
    },
    '/api/appointments/{appointmentId}/events': {
      get: operation({
        operationId: 'appointmentTimeline',
        summary: 'Timeline of an appointment, derived from its record and the offers for its slot',
        tags: frontDesk,
        roles: staff,
        parameters: s.pathParameters(appointmentParamsSchema),
        responses: {
          '200': ok('Timeline', s.output(timelineSchema)),
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
        requestBody: body(waitlistBodySchema),
        responses: {
          '201': ok('Added', ref('WaitlistEntry')),
          ...writeErrors,
          '404': problem('NotFound'),
          // Move-ups: the appointment is not booked (WAITLIST.MOVE_UP_APPOINTMENT_NOT_BOOKED) or already waits to move (WAITLIST.MOVE_UP_DUPLICATE).
          '409': problem('Conflict'),
          '422': problem('Unprocessable'),
        },
      }),
      get: operation({
        operationId: 'listWaitlist',
        summary: 'Waitlist entries of a clinic, paginated',
        tags: waitlistTag,
        roles: staff,
        parameters: s.queryParameters(waitlistQuerySchema),
        responses: {
          '200': ok('A page of entries', s.output(waitlistPageSchema)),
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
        parameters: s.queryParameters(offerQuerySchema),
        range: { from: 'from', to: 'to', in: 'query', maxDays: 7 },
        responses: {
          '200': ok('Offers', s.output(offerListSchema)),
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
        parameters: [...s.pathParameters(providerParamsSchema), idempotencyKey],
        requestBody: body(absenceBodySchema),
        range: { from: 'from', to: 'to', in: 'body', maxDays: MAX_ABSENCE_DAYS },
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
        parameters: s.pathParameters(workflowParamsSchema),
        responses: { '200': ok('Status', ref('WorkflowStatus')), ...commonErrors, '404': problem('NotFound'), '503': problem('ServiceUnavailable') },
      }),
    },
    '/api/openapi.json': {
      get: {
        operationId: 'openApiDocument',
        summary: 'This document',
        tags: ['Meta'],
        security: [],
        responses: { '200': ok('OpenAPI 3.1 document', s.output(z.object({}))) },
      },
    },
  },
};
