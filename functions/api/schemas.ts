/**
 * The request and response schemas of the scheduling API (functions/api), in zod. Handlers validate
 * requests with the request schemas; views.ts builds every response of the shapes declared here; the
 * OpenAPI document (functions/ops/openapi/scheduling.ts) is generated from both. Other trigger areas
 * import API schemas only from here (dependency rule trigger-areas-meet-through-schemas).
 */
import { z } from 'zod';
import {
  appointmentStatuses,
  appointmentTypeCodeSchema,
  appointmentTypeSchema,
  clinicSchema,
  entityIdSchema,
  fhirIdSchema,
  instantSchema,
  languageTagSchema,
  localDateSchema,
  offerStatuses,
  patientSchema,
  providerSchema,
  scheduleExceptionSchema,
  timesOfDay,
  urgencies,
  weeklyHoursSchema,
} from '../../domain';
import { NAME_QUERY_MAX_RESULTS, NAME_QUERY_MIN_CHARS } from '../../domain/patient-search';
import { riskBands, riskFactorCodes } from '../../domain/risk';

// ---- Requests -------------------------------------------------------------------------------------

/**
 * An instant in a query string. A `+` offset sent unencoded arrives as a space; read it back as `+`
 * rather than failing every client that forgot to encode it.
 */
export const queryInstantSchema = z
  .string()
  .max(40)
  .transform((s) => s.replace(/ (\d{2}:\d{2})$/, '+$1'))
  .pipe(instantSchema)
  // The pipe hides the instant pattern from the generated document; a '+' sent unencoded arrives as a space.
  .meta({
    pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+ -]\\d{2}:\\d{2})$',
    description: 'ISO 8601 instant with an offset (Z or ±hh:mm), e.g. 2026-03-09T09:00:00-04:00',
  });

/** A short code-like phrase ("patient request"), stored as a code: free text could carry clinical detail. */
const reasonCodeSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'must be a short reason code (letters, digits, space, . _ -), at most 64');
const pageLimitSchema = z.coerce.number().int().min(1).max(200);
const continuationTokenSchema = z.string().min(1).max(2048);

/** Routes that take no query parameters (any parameter is an error). */
export const noQuerySchema = z.object({}).strict();

export const clinicParamsSchema = z.object({ clinicId: entityIdSchema }).strict();
export const appointmentTypeParamsSchema = z.object({ code: entityIdSchema }).strict();
export const providerParamsSchema = z.object({ providerId: entityIdSchema }).strict();
export const patientParamsSchema = z.object({ patientId: entityIdSchema }).strict();
export const appointmentParamsSchema = z.object({ appointmentId: fhirIdSchema }).strict();
export const workflowParamsSchema = z.object({ instanceId: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be a workflow instance id') }).strict();

// Configuration
export const clinicBodySchema = clinicSchema.omit({ clinicId: true });
export const appointmentTypeBodySchema = appointmentTypeSchema.omit({ code: true });
export const providerBodySchema = z
  .object({
    clinicId: entityIdSchema,
    name: z.string().min(1).max(100),
    appointmentTypes: z.array(entityIdSchema).min(1).max(50),
    weeklyHours: z.array(weeklyHoursSchema).max(50),
    slotMinutes: z.number().int().min(5).max(480).optional(),
    exceptions: z.array(scheduleExceptionSchema).max(500).optional(),
  })
  .strict();
export const patientBodySchema = patientSchema
  .omit({ patientId: true, smsOptedOutAt: true })
  .extend({ clinicIds: z.array(entityIdSchema).max(100).optional() })
  .strict();
export const clinicQuerySchema = z.object({ clinicId: entityIdSchema }).strict();

// Slots and the day view
export const slotQuerySchema = z
  .object({
    clinicId: entityIdSchema,
    appointmentType: appointmentTypeCodeSchema,
    from: queryInstantSchema,
    to: queryInstantSchema,
    providerId: entityIdSchema.optional(),
  })
  .strict();
export const scheduleQuerySchema = z.object({ clinicId: entityIdSchema, date: localDateSchema, providerId: entityIdSchema.optional() }).strict();

// Appointments
export const bookBodySchema = z.object({ slotId: z.string().min(1).max(64), patientId: entityIdSchema, appointmentType: appointmentTypeCodeSchema }).strict();
export const cancelBodySchema = z.object({ reason: reasonCodeSchema.optional() }).strict();
export const noShowBodySchema = z.object({}).strict();
export const confirmBodySchema = z.object({}).strict();
export const appointmentListQuerySchema = z
  .object({
    clinicId: entityIdSchema,
    from: queryInstantSchema,
    to: queryInstantSchema,
    providerId: entityIdSchema.optional(),
    patientId: entityIdSchema.optional(),
    status: z.enum(appointmentStatuses).optional(),
    limit: pageLimitSchema.optional(),
    continuationToken: continuationTokenSchema.optional(),
  })
  .strict();

// Waitlist and offers
export const waitlistBodySchema = z
  .object({
    /** Required unless appointmentId is given (then it must match the appointment's). */
    patientId: entityIdSchema.optional(),
    clinicId: entityIdSchema.optional(),
    appointmentType: appointmentTypeCodeSchema.optional(),
    /** A booked appointment of the patient to move earlier (a move-up entry): clinic, type and patient come from it. */
    appointmentId: entityIdSchema.optional(),
    providerIds: z.array(entityIdSchema).max(20).optional(),
    earliest: instantSchema.optional(),
    latest: instantSchema.optional(),
    urgency: z.enum(urgencies).optional(),
    clinicalDeadline: instantSchema.optional(),
    timeOfDay: z.enum(timesOfDay).optional(),
  })
  .strict()
  .refine((b) => !b.earliest || !b.latest || Date.parse(b.latest) > Date.parse(b.earliest), { message: 'latest must be after earliest', path: ['latest'] })
  .superRefine((b, ctx) => {
    if (b.appointmentId !== undefined) return;
    for (const field of ['patientId', 'clinicId', 'appointmentType'] as const) {
      if (b[field] === undefined) ctx.addIssue({ code: 'custom', message: 'required unless appointmentId is given', path: [field] });
    }
  });
export const waitlistQuerySchema = z
  .object({ clinicId: entityIdSchema, limit: pageLimitSchema.optional(), continuationToken: continuationTokenSchema.optional() })
  .strict();
export const offerQuerySchema = z
  .object({ clinicId: entityIdSchema, from: queryInstantSchema.optional(), to: queryInstantSchema.optional(), status: z.enum(offerStatuses).optional() })
  .strict();

// Workflows
/** Longest absence one request may cover. */
export const MAX_ABSENCE_DAYS = 92;
export const absenceBodySchema = z
  .object({ from: instantSchema, to: instantSchema, reason: reasonCodeSchema.optional() })
  .strict()
  .refine((b) => Date.parse(b.to) > Date.parse(b.from), { message: 'to must be after from', path: ['to'] })
  .refine((b) => Date.parse(b.to) - Date.parse(b.from) <= MAX_ABSENCE_DAYS * 86_400_000, {
    message: `an absence may span at most ${MAX_ABSENCE_DAYS} days`,
    path: ['to'],
  });

// ---- Responses ------------------------------------------------------------------------------------
// What the API writes. Objects are open (a client must tolerate fields added later), and values are
// described as written: ids and codes as strings, instants as ISO 8601 date-times with offset.

const id = z.string();
const instant = z.string().meta({ format: 'date-time', description: 'ISO 8601 with offset' });
const pageToken = z.string();

export const clinicListSchema = z.object({ clinics: z.array(clinicSchema) });
export const appointmentTypeListSchema = z.object({ appointmentTypes: z.array(appointmentTypeSchema) });
export const providerListSchema = z.object({ providers: z.array(providerSchema) });

export const freeSlotSchema = z.object({ slotId: id, providerId: id, start: instant, end: instant, appointmentType: id });
export const freeSlotListSchema = z.object({ slots: z.array(freeSlotSchema) });

/** Upcoming appointments only: the clinic model's probability of a no-show, its band and up to three reasons in words (docs/no-show-risk.md). */
export const noShowRiskSchema = z.object({
  score: z.number().min(0).max(1),
  band: z.enum(riskBands),
  factors: z.array(z.object({ code: z.enum(riskFactorCodes), text: z.string(), effect: z.enum(['raises', 'lowers', 'neutral']) })).max(3),
  modelVersion: z.string(),
});

/** The appointment as the API shows it (everything on it is ids, codes and instants). */
export const appointmentViewSchema = z.object({
  appointmentId: id,
  slotId: id,
  clinicId: id,
  providerId: id,
  patientId: id,
  appointmentType: id,
  status: z.enum(appointmentStatuses),
  start: instant,
  end: instant,
  source: z.string(),
  createdAt: instant,
  updatedAt: instant,
  version: z.number().int(),
  cancellation: z.object({ reasonCode: z.string(), at: instant, by: z.string(), late: z.boolean() }).optional(),
  noShowAt: instant.optional(),
  confirmedAt: instant.optional(),
  eligibility: z.object({ status: z.string(), checkedAt: instant, reasonCode: z.string().optional() }).optional(),
  needsStaffConfirmation: z.boolean().optional(),
  externalIds: z.array(z.object({ system: z.string(), value: z.string() })),
  noShowRisk: noShowRiskSchema.optional(),
});
/** The appointment in a list. */
export const appointmentSummarySchema = appointmentViewSchema.pick({
  appointmentId: true,
  slotId: true,
  patientId: true,
  providerId: true,
  appointmentType: true,
  status: true,
  start: true,
  end: true,
  noShowRisk: true,
});
/** The appointment occupying a slot of the day view. */
export const scheduledAppointmentSchema = appointmentViewSchema.pick({
  appointmentId: true,
  patientId: true,
  appointmentType: true,
  status: true,
  start: true,
  end: true,
});
export const appointmentPageSchema = z.object({ appointments: z.array(appointmentSummarySchema), continuationToken: pageToken.optional() });

export const timelineEventSchema = z.object({
  at: instant,
  kind: z.enum(['booked', 'confirmed', 'cancelled', 'noshow', 'eligibility', 'offer']),
  summary: z.string(),
  offerId: id.optional(),
  waitlistEntryId: id.optional(),
  status: z.string().optional(),
});
export const timelineSchema = z.object({ appointmentId: id, events: z.array(timelineEventSchema) });

export const waitlistEntrySchema = z.object({
  waitlistEntryId: id,
  clinicId: id,
  patientId: id,
  appointmentType: id,
  providerIds: z.array(id),
  earliest: instant.optional(),
  latest: instant.optional(),
  urgency: z.enum(urgencies),
  clinicalDeadline: instant.optional(),
  timeOfDay: z.enum(timesOfDay),
  /** Move-up entries: the appointment they would move earlier (where it stood when last checked). */
  moveUp: z.object({ appointmentId: id, slotId: id, start: instant }).optional(),
  status: z.enum(['active', 'offered', 'booked', 'removed']),
  createdAt: instant,
  updatedAt: instant,
  version: z.number().int(),
});
export const waitlistPageSchema = z.object({ entries: z.array(waitlistEntrySchema), continuationToken: pageToken.optional() });

export const waitlistOfferSchema = z.object({
  offerId: id,
  slotId: id,
  waitlistEntryId: id,
  patientId: id,
  workflowInstanceId: id,
  round: z.number().int(),
  status: z.enum(offerStatuses),
  sentAt: instant,
  expiresAt: instant,
  respondedAt: instant.optional(),
  /** Move-up offers: the appointment accepting would move. */
  moveUp: z.object({ appointmentId: id, slotId: id, start: instant }).optional(),
  cascadeDepth: z.number().int().optional(),
});
export const offerListSchema = z.object({ offers: z.array(waitlistOfferSchema), now: instant });

export const slotStates = ['free', 'booked', 'held'] as const;
export const scheduleSlotSchema = z.object({
  slotId: id,
  start: instant,
  end: instant,
  appointmentTypes: z.array(id),
  state: z.enum(slotStates),
  appointment: scheduledAppointmentSchema.optional(),
  offer: waitlistOfferSchema.pick({ offerId: true, waitlistEntryId: true, patientId: true, expiresAt: true, round: true }).optional(),
});
export const dayScheduleSchema = z.object({
  clinicId: id,
  date: z.string().meta({ format: 'date' }),
  timeZone: z.string(),
  providers: z.array(z.object({ providerId: id, name: z.string(), slots: z.array(scheduleSlotSchema) })),
});

export const workflowAcceptedSchema = z.object({ instanceId: id, statusUrl: z.string().optional() });
/** One backfill of a move-up cascade: which offer freed its slot, and which slot its own move-up released. */
export const cascadeLinkSchema = z.object({
  instanceId: id,
  slotId: id,
  depth: z.number().int().meta({ description: 'Move-ups before this backfill in the chain (0: freed by a cancellation or no-show)' }),
  runtimeStatus: z.string(),
  outcome: z.string().optional(),
  freedByOfferId: id.optional(),
  previousInstanceId: id.optional(),
  movedOfferId: id.optional(),
  movedAppointmentId: id.optional(),
  releasedSlotId: id.optional(),
  nextInstanceId: id.optional(),
});
export const workflowStatusSchema = z.object({
  instanceId: id,
  name: z.string().optional(),
  runtimeStatus: z.string().meta({ description: 'Pending, Running, Completed, Failed, Terminated, ...' }),
  customStatus: z.unknown(),
  output: z.unknown(),
  createdTime: instant.optional(),
  lastUpdatedTime: instant.optional(),
  /** Backfills: the move-up cascade this one belongs to, first link first. */
  cascade: z.array(cascadeLinkSchema).optional(),
});

export const erasureReportSchema = z.object({
  patientId: id,
  erasedAt: instant,
  appointmentsDeidentified: z.number().int().optional(),
  waitlistEntriesDeleted: z.number().int().optional(),
  patientDocumentsDeleted: z.number().int().optional(),
  idempotencyRecordsDeleted: z.number().int().optional(),
  eventId: id,
});

export type TimelineEvent = z.output<typeof timelineEventSchema>;
export type ScheduleSlot = z.output<typeof scheduleSlotSchema>;

// ---- Console routes (schedule-days, reschedule, patient-lookup, patient-search, absence-preview, ------
// ---- appointment-timeline, backfill-rounds) ---------------------------------------------------------

/** Longest calendar one GET /api/schedule/days returns. */
export const MAX_SCHEDULE_DAYS = 7;
export const scheduleDaysQuerySchema = z
  .object({
    clinicId: entityIdSchema,
    from: localDateSchema,
    days: z.coerce.number().int().min(1).max(MAX_SCHEDULE_DAYS).optional(),
    providerId: entityIdSchema.optional(),
  })
  .strict();
export const rescheduleBodySchema = z.object({ slotId: z.string().min(1).max(64), appointmentType: appointmentTypeCodeSchema.optional() }).strict();
export const patientLookupQuerySchema = z.object({ clinicId: entityIdSchema.optional() }).strict();
export const patientSearchBodySchema = z
  .object({
    name: z.string().trim().min(NAME_QUERY_MIN_CHARS, `must be at least ${NAME_QUERY_MIN_CHARS} characters`).max(100, 'must be at most 100 characters'),
    clinicId: entityIdSchema.optional(),
    limit: z.number().int().min(1).max(NAME_QUERY_MAX_RESULTS).optional(),
  })
  .strict();
/** The absence preview takes exactly what reporting the absence takes. */
export const absencePreviewBodySchema = absenceBodySchema;
/** Widest look-back of GET /api/backfills. */
export const MAX_BACKFILL_HOURS = 7 * 24;
export const backfillRoundsQuerySchema = z
  .object({ clinicId: entityIdSchema, hours: z.coerce.number().int().min(1).max(MAX_BACKFILL_HOURS).optional() })
  .strict();

export const calendarSlotStates = ['free', 'booked', 'held', 'pending'] as const;
export const calendarSlotSchema = z.object({
  slotId: id,
  start: instant,
  end: instant,
  appointmentTypes: z.array(id),
  state: z.enum(calendarSlotStates),
  past: z.literal(true).optional().meta({ description: 'The slot has ended (no booking, no reschedule into it).' }),
  outsideHours: z
    .literal(true)
    .optional()
    .meta({ description: 'An appointment that matches no generated slot (hours or an absence changed after it was booked).' }),
  appointment: appointmentViewSchema
    .pick({ appointmentId: true, patientId: true, appointmentType: true, status: true, start: true, end: true, source: true })
    .optional(),
  offer: waitlistOfferSchema.pick({ offerId: true, waitlistEntryId: true, patientId: true, expiresAt: true, round: true, workflowInstanceId: true }).optional(),
});
export const scheduleDaysSchema = z.object({
  clinicId: id,
  timeZone: z.string(),
  from: z.string().meta({ format: 'date' }),
  dates: z.array(z.string().meta({ format: 'date' })),
  now: instant,
  appointmentTypes: z.array(z.object({ code: id, name: z.string(), durationMinutes: z.number().int() })),
  providers: z.array(
    z.object({
      providerId: id,
      name: z.string(),
      appointmentTypes: z.array(id),
      absences: z.array(z.object({ kind: z.literal('absence'), from: instant, to: instant, reason: z.string().optional() })),
      days: z.array(z.object({ date: z.string().meta({ format: 'date' }), slots: z.array(calendarSlotSchema) })),
    }),
  ),
});
export const rescheduledSchema = appointmentViewSchema.extend({ previousSlotId: id, previousStart: instant });
export const patientCardSchema = z.object({
  patientId: id,
  name: z.string(),
  phone: z.string(),
  smsConsent: z.boolean(),
  smsOptedOut: z.boolean(),
  clinicIds: z.array(id),
  noShows: z.number().int().meta({ description: 'Recorded no-shows (all time).' }),
  preferredLanguage: z.string().optional().meta({ description: 'BCP 47 tag the patient asked for (may be one without texts: see smsLanguage).' }),
  smsLanguage: z
    .enum(['en', 'es', 'vi'])
    .optional()
    .meta({ description: "Language texts go out in at clinicId: the preferred language if shipped, else the clinic's default, else English." }),
});
/** PUT /api/patients/{id}/preferred-language (patient-language.ts). */
export const patientLanguageBodySchema = z
  .object({
    preferredLanguage: languageTagSchema.nullable().meta({ description: 'BCP 47 tag (e.g. es, es-MX), or null to clear it.' }),
  })
  .strict();
export const patientLanguageSchema = z.object({
  patientId: z.string(),
  preferredLanguage: z.string().optional(),
  smsLanguage: z.enum(['en', 'es', 'vi']).optional().meta({ description: 'Language texts go out in at clinicId (when given).' }),
});

export const patientMatchesSchema = z.object({ patients: z.array(z.object({ patientId: id, name: z.string(), clinicIds: z.array(id) })) });
export const absencePreviewSchema = z.object({
  providerId: id,
  clinicId: id,
  timeZone: z.string(),
  from: instant,
  to: instant,
  instanceId: z.string().meta({ description: 'The workflow POST /api/providers/{providerId}/absences would start for this window.' }),
  displaced: z.array(
    z.object({
      appointmentId: id,
      patientId: id,
      patientName: z.string().optional(),
      appointmentType: id,
      status: z.enum(['booked', 'pending']),
      start: instant,
      end: instant,
      proposal: z
        .object({
          slotId: id,
          providerId: id,
          providerName: z.string(),
          start: instant,
          end: instant,
          reason: z.string().meta({ description: "The optimizer's one-line reason for this assignment." }),
        })
        .optional(),
      unplacedReason: z.string().optional(),
    }),
  ),
  optimizer: z.object({ status: z.string(), solveMs: z.number() }),
  plannedAt: instant,
});
/** An SMS as the timeline shows it: ids, purpose, template and delivery status; never the phone or the text. */
export const timelineSmsSchema = z.object({
  messageId: id,
  purpose: z.string(),
  template: z.string(),
  status: z.string().meta({ description: 'Delivery status (queued, sent, delivered, undelivered, failed, ...).' }),
  sentAt: instant,
  updatedAt: instant,
  errorCode: z.string().optional(),
  offerId: id.optional(),
  language: z.string().optional().meta({ description: 'Language the message went out in (catalog language, e.g. es).' }),
});
export const timelineOfferSchema = waitlistOfferSchema.omit({ slotId: true });
export const appointmentHistorySchema = z.object({
  appointment: appointmentViewSchema,
  events: z.array(timelineEventSchema),
  sms: z.array(timelineSmsSchema),
  offers: z.array(timelineOfferSchema),
});
export const backfillRoundsSchema = z.object({
  clinicId: id,
  timeZone: z.string(),
  now: instant,
  workflows: z.array(
    z.object({
      instanceId: id,
      slotId: id,
      providerId: id,
      slotStart: instant,
      outcome: z.enum(['booked', 'offering', 'no-taker-yet']),
      /** Move-ups before this backfill in its cascade (absent: the slot was freed by a cancellation or no-show). */
      cascadeDepth: z.number().int().optional(),
      runtimeStatus: z.string().optional(),
      customStatus: z.unknown().optional(),
      rounds: z.array(
        z.object({
          round: z.number().int(),
          sentAt: instant,
          expiresAt: instant,
          offers: z.array(
            waitlistOfferSchema.pick({
              offerId: true,
              patientId: true,
              waitlistEntryId: true,
              status: true,
              sentAt: true,
              expiresAt: true,
              respondedAt: true,
              moveUp: true,
            }),
          ),
        }),
      ),
    }),
  ),
});
/** GET /api/overbooking-suggestions (functions/api/overbooking.ts). */
export const overbookingQuerySchema = z
  .object({ clinicId: entityIdSchema, from: queryInstantSchema, to: queryInstantSchema, providerId: entityIdSchema.optional() })
  .strict();
/** POST /api/overbooking-suggestions/decisions: staff accept or dismiss one suggested slot (audited). */
export const overbookingDecisionBodySchema = z
  .object({
    clinicId: entityIdSchema,
    providerId: entityIdSchema,
    date: localDateSchema,
    slotId: z.string().min(1).max(64),
    decision: z.enum(['accepted', 'dismissed']),
  })
  .strict();

/** One suggested provider-day (domain/risk/overbooking.ts). */
export const overbookingSuggestionSchema = z.object({
  providerId: id,
  date: z.string(),
  bookedAppointments: z.number().int(),
  expectedNoShows: z.number(),
  threshold: z.number(),
  slots: z.array(z.object({ slotId: id, appointmentId: id, start: instant, end: instant, noShowRisk: noShowRiskSchema })),
});
export const overbookingSuggestionListSchema = z.object({ suggestions: z.array(overbookingSuggestionSchema) });
export const overbookingDecisionSchema = z.object({ suggestionId: z.string(), decision: z.enum(['accepted', 'dismissed']), recordedAt: instant });
