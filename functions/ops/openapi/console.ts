import { z } from 'zod';
import {
  absencePreviewBodySchema,
  absencePreviewSchema,
  appointmentHistorySchema,
  appointmentParamsSchema,
  appointmentViewSchema,
  backfillRoundsQuerySchema,
  backfillRoundsSchema,
  calendarSlotSchema,
  patientCardSchema,
  patientLookupQuerySchema,
  patientMatchesSchema,
  patientParamsSchema,
  patientSearchBodySchema,
  providerParamsSchema,
  rescheduleBodySchema,
  rescheduledSchema,
  scheduleDaysQuerySchema,
  scheduleDaysSchema,
  timelineEventSchema,
} from '../../api/schemas';
import { problemSchema } from '../../http/problem';
import type { JsonObject, OpenApiFragment } from '../openapi';
import { openApiSchemas } from './_schema';

/**
 * The routes the front-desk console added (functions/api: schedule-days, reschedule, patient-lookup,
 * patient-search, absence-preview, appointment-timeline, backfill-rounds), generated like scheduling.ts
 * from the zod schemas in functions/api/schemas.ts ("Console routes"); responses are checked against the
 * document in test/unit/functions/api/console-routes.test.ts. Shared responses come from scheduling.ts.
 */

const s = openApiSchemas({
  Problem: problemSchema,
  Appointment: appointmentViewSchema,
  TimelineEvent: timelineEventSchema,
  CalendarSlot: calendarSlotSchema,
  ScheduleDays: scheduleDaysSchema,
  PatientCard: patientCardSchema,
  PatientMatches: patientMatchesSchema,
  AbsencePreview: absencePreviewSchema,
  AppointmentHistory: appointmentHistorySchema,
  BackfillRounds: backfillRoundsSchema,
});

const problem = (name: string) => ({ $ref: `#/components/responses/${name}` });
const ok = (description: string, schema: JsonObject) => ({ description, content: { 'application/json': { schema } } });
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: s.input(schema) } } });
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Makes the request safe to retry: the first response is replayed; the same key with a different body is 422 IDEMPOTENCY.KEY_REUSED.',
  schema: s.input(z.string().min(1).max(255)),
};
const commonErrors = { '400': problem('BadRequest'), '401': problem('Unauthorized'), '403': problem('Forbidden') };
const writeErrors = { ...commonErrors, '413': problem('PayloadTooLarge'), '415': problem('UnsupportedMediaType') };
const tags = ['Console'];
const staff = 'Roles: scheduler, admin.';

export const openApiFragment: OpenApiFragment = {
  tags: [{ name: 'Console', description: 'Reads and actions the front-desk console needs beyond the scheduling API (roles scheduler, admin).' }],
  components: { schemas: s.components },
  paths: {
    '/api/schedule/days': {
      get: {
        operationId: 'scheduleDays',
        summary: 'One to seven clinic-local days per provider: free, booked, held and pending slots (console day and week views)',
        description: staff,
        tags,
        parameters: s.queryParameters(scheduleDaysQuerySchema),
        responses: { '200': ok('Calendar', s.ref('ScheduleDays')), ...commonErrors, '404': problem('NotFound') },
      },
    },
    '/api/appointments/{appointmentId}/reschedule': {
      post: {
        operationId: 'rescheduleAppointment',
        summary: 'Move an appointment to another free slot; the old slot is released (and so backfilled)',
        description: staff,
        tags,
        parameters: [...s.pathParameters(appointmentParamsSchema), idempotencyKey],
        requestBody: body(rescheduleBodySchema),
        responses: {
          '200': ok('Rescheduled', s.output(rescheduledSchema)),
          ...writeErrors,
          '404': problem('NotFound'),
          '409': problem('Conflict'),
          '422': problem('Unprocessable'),
        },
      },
    },
    '/api/patients/{patientId}': {
      get: {
        operationId: 'lookupPatient',
        summary: 'One patient by id (audited read): name, phone, SMS consent, no-shows',
        description: `${staff} With clinicId, an organisation-wide record is visible to staff of that clinic.`,
        tags,
        parameters: [...s.pathParameters(patientParamsSchema), ...s.queryParameters(patientLookupQuerySchema)],
        responses: { '200': ok('Patient', s.ref('PatientCard')), ...commonErrors, '404': problem('NotFound') },
      },
    },
    '/api/patients/search': {
      post: {
        operationId: 'searchPatients',
        summary: 'Find patients by name (audited; the name travels in the body, never in a URL)',
        description: `${staff} A read: no Idempotency-Key, nothing is stored but the audit entries.`,
        tags,
        requestBody: body(patientSearchBodySchema),
        responses: { '200': ok('Matches', s.ref('PatientMatches')), ...writeErrors },
      },
    },
    '/api/providers/{providerId}/absences/preview': {
      post: {
        operationId: 'previewProviderAbsence',
        summary: 'Who an absence displaces and where the optimizer would move each of them, without changing anything',
        description: `${staff} A read: no Idempotency-Key.`,
        tags,
        parameters: s.pathParameters(providerParamsSchema),
        requestBody: body(absencePreviewBodySchema),
        responses: { '200': ok('Preview', s.ref('AbsencePreview')), ...writeErrors, '404': problem('NotFound') },
      },
    },
    '/api/appointments/{appointmentId}/timeline': {
      get: {
        operationId: 'appointmentTimelineWithMessages',
        summary: "An appointment's events, the SMS sent about it with delivery status, and the offers made for its slot",
        description: staff,
        tags,
        parameters: s.pathParameters(appointmentParamsSchema),
        responses: { '200': ok('Timeline', s.ref('AppointmentHistory')), ...commonErrors, '404': problem('NotFound') },
      },
    },
    '/api/backfills': {
      get: {
        operationId: 'backfillRounds',
        summary: 'Backfill workflows of a clinic with offers in the last hours: rounds, offers and workflow status (polled by the console)',
        description: staff,
        tags,
        parameters: s.queryParameters(backfillRoundsQuerySchema),
        responses: { '200': ok('Backfill workflows', s.ref('BackfillRounds')), ...commonErrors, '404': problem('NotFound') },
      },
    },
  },
};
