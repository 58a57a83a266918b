import { z } from 'zod';
import { appointmentStatuses, offerStatuses } from '../../../domain';
import { absencePreviewBodySchema } from '../../api/absence-preview';
import { backfillRoundsQuerySchema } from '../../api/backfill-rounds';
import { patientLookupQuerySchema } from '../../api/patient-lookup';
import { patientSearchBodySchema } from '../../api/patient-search';
import { rescheduleBodySchema } from '../../api/reschedule';
import { scheduleDaysQuerySchema } from '../../api/schedule-days';
import type { JsonObject, OpenApiFragment } from '../openapi';

/**
 * The routes the front-desk console added (functions/api: schedule-days, reschedule, patient-lookup,
 * patient-search, absence-preview, appointment-timeline, backfill-rounds). Request schemas come from the
 * zod schemas the handlers validate with; response schemas are checked against real responses in
 * test/unit/functions/api/console-routes.test.ts. Shared components (Problem, Appointment, responses)
 * come from scheduling.ts.
 */

function jsonSchema(schema: z.ZodType): JsonObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  return rest;
}
function queryParameters(schema: z.ZodType): JsonObject[] {
  const s = jsonSchema(schema) as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({ name, in: 'query', required: (s.required ?? []).includes(name), schema: prop }));
}
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problem = (name: string) => ({ $ref: `#/components/responses/${name}` });
const ok = (description: string, schema: JsonObject) => ({ description, content: { 'application/json': { schema } } });
const body = (schema: JsonObject) => ({ required: true, content: { 'application/json': { schema } } });
const pathParam = (name: string, pattern = '^[A-Za-z0-9][A-Za-z0-9-]{0,39}$') => ({ name, in: 'path', required: true, schema: { type: 'string', pattern } });
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Makes the request safe to retry: the first response is replayed; the same key with a different body is 422 IDEMPOTENCY.KEY_REUSED.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};
const commonErrors = { '400': problem('BadRequest'), '401': problem('Unauthorized'), '403': problem('Forbidden') };
const writeErrors = { ...commonErrors, '413': problem('PayloadTooLarge'), '415': problem('UnsupportedMediaType') };
const staff = 'Roles: scheduler, admin.';
const tags = ['Console'];
const instant = { type: 'string', format: 'date-time', description: 'ISO 8601 with offset' };
const id = { type: 'string' };
const obj = (required: string[], properties: Record<string, unknown>, extra: JsonObject = {}) => ({ type: 'object', required, properties, ...extra });

const schemas: Record<string, JsonObject> = {
  CalendarSlot: obj(['slotId', 'start', 'end', 'appointmentTypes', 'state'], {
    slotId: id,
    start: instant,
    end: instant,
    appointmentTypes: { type: 'array', items: id },
    state: { type: 'string', enum: ['free', 'booked', 'held', 'pending'] },
    past: { type: 'boolean', const: true },
    outsideHours: { type: 'boolean', const: true, description: 'An appointment that matches no generated slot (hours or an absence changed).' },
    appointment: obj(['appointmentId', 'patientId', 'appointmentType', 'status', 'start', 'end', 'source'], {
      appointmentId: id,
      patientId: id,
      appointmentType: id,
      status: { type: 'string', enum: [...appointmentStatuses] },
      start: instant,
      end: instant,
      source: id,
    }),
    offer: obj(['offerId', 'waitlistEntryId', 'patientId', 'expiresAt', 'round', 'workflowInstanceId'], {
      offerId: id,
      waitlistEntryId: id,
      patientId: id,
      expiresAt: instant,
      round: { type: 'integer' },
      workflowInstanceId: id,
    }),
  }),
  ScheduleDays: obj(['clinicId', 'timeZone', 'from', 'dates', 'now', 'appointmentTypes', 'providers'], {
    clinicId: id,
    timeZone: id,
    from: { type: 'string', format: 'date' },
    dates: { type: 'array', items: { type: 'string', format: 'date' } },
    now: instant,
    appointmentTypes: {
      type: 'array',
      items: obj(['code', 'name', 'durationMinutes'], { code: id, name: { type: 'string' }, durationMinutes: { type: 'integer' } }),
    },
    providers: {
      type: 'array',
      items: obj(['providerId', 'name', 'appointmentTypes', 'absences', 'days'], {
        providerId: id,
        name: { type: 'string' },
        appointmentTypes: { type: 'array', items: id },
        absences: { type: 'array', items: obj(['kind', 'from', 'to'], { kind: { const: 'absence' }, from: instant, to: instant, reason: { type: 'string' } }) },
        days: {
          type: 'array',
          items: obj(['date', 'slots'], { date: { type: 'string', format: 'date' }, slots: { type: 'array', items: ref('CalendarSlot') } }),
        },
      }),
    },
  }),
  PatientCard: obj(['patientId', 'name', 'phone', 'smsConsent', 'smsOptedOut', 'clinicIds', 'noShows'], {
    patientId: id,
    name: { type: 'string' },
    phone: { type: 'string' },
    smsConsent: { type: 'boolean' },
    smsOptedOut: { type: 'boolean' },
    clinicIds: { type: 'array', items: id },
    noShows: { type: 'integer', description: 'Recorded no-shows (all time).' },
  }),
  PatientMatches: obj(['patients'], {
    patients: {
      type: 'array',
      items: obj(['patientId', 'name', 'clinicIds'], { patientId: id, name: { type: 'string' }, clinicIds: { type: 'array', items: id } }),
    },
  }),
  AbsencePreview: obj(['providerId', 'clinicId', 'timeZone', 'from', 'to', 'instanceId', 'displaced', 'optimizer', 'plannedAt'], {
    providerId: id,
    clinicId: id,
    timeZone: id,
    from: instant,
    to: instant,
    instanceId: { type: 'string', description: 'The workflow POST /api/providers/{providerId}/absences would start for this window.' },
    displaced: {
      type: 'array',
      items: obj(['appointmentId', 'patientId', 'appointmentType', 'status', 'start', 'end'], {
        appointmentId: id,
        patientId: id,
        patientName: { type: 'string' },
        appointmentType: id,
        status: { type: 'string', enum: ['booked', 'pending'] },
        start: instant,
        end: instant,
        proposal: obj(['slotId', 'providerId', 'providerName', 'start', 'end', 'reason'], {
          slotId: id,
          providerId: id,
          providerName: { type: 'string' },
          start: instant,
          end: instant,
          reason: { type: 'string', description: "The optimizer's one-line reason for this assignment." },
        }),
        unplacedReason: { type: 'string' },
      }),
    },
    optimizer: obj(['status', 'solveMs'], { status: { type: 'string' }, solveMs: { type: 'number' } }),
    plannedAt: instant,
  }),
  AppointmentTimeline: obj(['appointment', 'events', 'sms', 'offers'], {
    appointment: ref('Appointment'),
    events: {
      type: 'array',
      items: obj(['at', 'kind', 'summary'], {
        at: instant,
        kind: { type: 'string' },
        summary: { type: 'string' },
        offerId: id,
        waitlistEntryId: id,
        status: { type: 'string' },
      }),
    },
    sms: {
      type: 'array',
      items: obj(['messageId', 'purpose', 'template', 'status', 'sentAt', 'updatedAt'], {
        messageId: id,
        purpose: { type: 'string' },
        template: { type: 'string' },
        status: { type: 'string', description: 'Delivery status (queued, sent, delivered, undelivered, failed, ...).' },
        sentAt: instant,
        updatedAt: instant,
        errorCode: { type: 'string' },
        offerId: id,
      }),
    },
    offers: { type: 'array', items: ref('TimelineOffer') },
  }),
  TimelineOffer: obj(['offerId', 'patientId', 'waitlistEntryId', 'round', 'status', 'sentAt', 'expiresAt'], {
    offerId: id,
    patientId: id,
    waitlistEntryId: id,
    workflowInstanceId: id,
    round: { type: 'integer' },
    status: { type: 'string', enum: [...offerStatuses] },
    sentAt: instant,
    expiresAt: instant,
    respondedAt: instant,
  }),
  BackfillRounds: obj(['clinicId', 'timeZone', 'now', 'workflows'], {
    clinicId: id,
    timeZone: id,
    now: instant,
    workflows: {
      type: 'array',
      items: obj(['instanceId', 'slotId', 'providerId', 'slotStart', 'outcome', 'rounds'], {
        instanceId: id,
        slotId: id,
        providerId: id,
        slotStart: instant,
        outcome: { type: 'string', enum: ['booked', 'offering', 'no-taker-yet'] },
        runtimeStatus: { type: 'string' },
        customStatus: {},
        rounds: {
          type: 'array',
          items: obj(['round', 'sentAt', 'expiresAt', 'offers'], {
            round: { type: 'integer' },
            sentAt: instant,
            expiresAt: instant,
            offers: {
              type: 'array',
              items: obj(['offerId', 'patientId', 'waitlistEntryId', 'status', 'sentAt', 'expiresAt'], {
                offerId: id,
                patientId: id,
                waitlistEntryId: id,
                status: { type: 'string', enum: [...offerStatuses] },
                sentAt: instant,
                expiresAt: instant,
                respondedAt: instant,
              }),
            },
          }),
        },
      }),
    },
  }),
};

export const openApiFragment: OpenApiFragment = {
  tags: [{ name: 'Console', description: 'Reads and actions the front-desk console needs beyond the scheduling API.' }],
  components: { schemas },
  paths: {
    '/api/schedule/days': {
      get: {
        operationId: 'scheduleDays',
        summary: 'One to seven clinic-local days per provider: free, booked, held and pending slots (console day and week views)',
        description: staff,
        tags,
        parameters: queryParameters(scheduleDaysQuerySchema),
        responses: { '200': ok('Calendar', ref('ScheduleDays')), ...commonErrors, '404': problem('NotFound') },
      },
    },
    '/api/appointments/{appointmentId}/reschedule': {
      post: {
        operationId: 'rescheduleAppointment',
        summary: 'Move an appointment to another free slot; the old slot is released (and backfilled)',
        description: staff,
        tags,
        parameters: [pathParam('appointmentId', '^[A-Za-z0-9\\-.]{1,64}$'), idempotencyKey],
        requestBody: body(jsonSchema(rescheduleBodySchema)),
        responses: {
          '200': ok('Rescheduled', { allOf: [ref('Appointment'), obj(['previousSlotId', 'previousStart'], { previousSlotId: id, previousStart: instant })] }),
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
        parameters: [pathParam('patientId'), ...queryParameters(patientLookupQuerySchema)],
        responses: { '200': ok('Patient', ref('PatientCard')), ...commonErrors, '404': problem('NotFound') },
      },
    },
    '/api/patients/search': {
      post: {
        operationId: 'searchPatients',
        summary: 'Find patients by name (audited; the name travels in the body, never in a URL)',
        description: `${staff} A read: no Idempotency-Key, nothing is stored but the audit entries.`,
        tags,
        requestBody: body(jsonSchema(patientSearchBodySchema)),
        responses: { '200': ok('Matches', ref('PatientMatches')), ...writeErrors },
      },
    },
    '/api/providers/{providerId}/absences/preview': {
      post: {
        operationId: 'previewProviderAbsence',
        summary: 'Who an absence displaces and where the optimizer would move each of them, without changing anything',
        description: `${staff} A read: no Idempotency-Key.`,
        tags,
        parameters: [pathParam('providerId')],
        requestBody: body(jsonSchema(absencePreviewBodySchema)),
        responses: { '200': ok('Preview', ref('AbsencePreview')), ...writeErrors, '404': problem('NotFound') },
      },
    },
    '/api/appointments/{appointmentId}/timeline': {
      get: {
        operationId: 'appointmentTimelineWithMessages',
        summary: "An appointment's events, the SMS sent about it with delivery status, and the offers made for its slot",
        description: staff,
        tags,
        parameters: [pathParam('appointmentId', '^[A-Za-z0-9\\-.]{1,64}$')],
        responses: { '200': ok('Timeline', ref('AppointmentTimeline')), ...commonErrors, '404': problem('NotFound') },
      },
    },
    '/api/backfills': {
      get: {
        operationId: 'backfillRounds',
        summary: 'Backfill workflows of a clinic with offers in the last hours: rounds, offers and workflow status (polled by the console)',
        description: staff,
        tags,
        parameters: queryParameters(backfillRoundsQuerySchema),
        responses: { '200': ok('Backfill workflows', ref('BackfillRounds')), ...commonErrors, '404': problem('NotFound') },
      },
    },
  },
};
