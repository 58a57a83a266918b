import { z } from 'zod';
import { entityIdSchema } from './ids';
import { dateTimeFromIso, isIanaZone, parseClockTime } from './time';
import { LruMap } from './lru';

const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
/**
 * Luxon (parseInstant) and Date.parse both read stored instants downstream; they disagree on
 * 2026-02-30 (Date.parse rolls over, luxon refuses) and on +25:00 (the reverse), so require both to agree.
 */
/**
 * Answers for recently checked instants: the same query bounds, slot edges and offer times arrive again
 * and again (luxon's parse is the cost). 20,000 short strings are a few megabytes; the simulator's
 * working set (slots of six weeks, waitlist windows) outgrew 1,000.
 */
const realInstantMemo = new LruMap<string, boolean>(20_000);
const isRealInstant = (iso: string): boolean => {
  const known = realInstantMemo.get(iso);
  if (known !== undefined) return known;
  const dt = dateTimeFromIso(iso);
  const real = dt.isValid && dt.toMillis() === Date.parse(iso);
  realInstantMemo.set(iso, real);
  return real;
};

/** ISO 8601 instant with an explicit offset or Z (never a floating local time). */
export const instantSchema = z
  .string()
  .max(40)
  .regex(INSTANT_PATTERN, 'must be ISO 8601 with an offset, e.g. 2026-03-09T09:00:00-04:00')
  .refine((iso) => !INSTANT_PATTERN.test(iso) || isRealInstant(iso), 'must be a real date and time');
export const localDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');
export const clockTimeSchema = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be HH:mm');
/** Zod runs refinements even when a field already failed, so refinements check before parsing (never throw). */
const isClockTime = (v: unknown): v is string => clockTimeSchema.safeParse(v).success;
export const timeZoneSchema = z
  .string()
  .max(64)
  .refine(isIanaZone, 'must be an IANA time zone such as America/New_York')
  // For the API documents: the refinement's syntactic part as a pattern (isIanaZone also asks the zone database).
  .meta({ pattern: '^(UTC|[A-Za-z_]+(/[A-Za-z0-9_+-]+)+)$', description: 'IANA time zone (Region/City or UTC), e.g. America/New_York' });
/** E.164: + then up to 15 digits, no leading zero. */
export const e164Schema = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +14155550123');
export const appointmentTypeCodeSchema = entityIdSchema;

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

export const weeklyHoursSchema = z
  .object({
    day: z.enum(weekdays),
    start: clockTimeSchema,
    end: clockTimeSchema,
    /** Appointment types bookable in this block; all of the provider's types when absent. */
    appointmentTypes: z.array(appointmentTypeCodeSchema).max(50).optional(),
  })
  .strict()
  .refine((w) => !isClockTime(w.start) || !isClockTime(w.end) || parseClockTime(w.end) > parseClockTime(w.start), {
    message: 'end must be after start',
    path: ['end'],
  });
export type WeeklyHours = z.infer<typeof weeklyHoursSchema>;

/** A day off (clinic-local date, e.g. a public holiday) or an absence between two instants. */
export const scheduleExceptionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('holiday'), date: localDateSchema, reason: z.string().max(200).optional() }).strict(),
  z.object({ kind: z.literal('absence'), from: instantSchema, to: instantSchema, reason: z.string().max(200).optional() }).strict(),
]);
export type ScheduleException = z.infer<typeof scheduleExceptionSchema>;

export const bookingPolicySchema = z
  .object({
    minNoticeMinutes: z
      .number()
      .int()
      .min(0)
      .max(60 * 24 * 30)
      .default(60),
    maxHorizonDays: z.number().int().min(1).max(730).default(90),
    /** Patients may cancel themselves until this many hours before the visit; staff always may. */
    cancellationWindowHours: z
      .number()
      .int()
      .min(0)
      .max(24 * 14)
      .default(24),
    noShowWindowDays: z.number().int().min(1).max(3650).default(180),
    /** At this many no-shows in the window, self-scheduling needs staff confirmation. */
    noShowThreshold: z.number().int().min(1).max(100).default(2),
  })
  .strict();
export type BookingPolicy = z.infer<typeof bookingPolicySchema>;

export const offerPolicySchema = z
  .object({
    /** Waitlisted patients offered a slot at once, per round. */
    batchSize: z.number().int().min(1).max(20).default(3),
    maxRounds: z.number().int().min(1).max(50).default(5),
    /** Offer expiry = clamp(fraction x time left before the slot, min, max). */
    expiryFraction: z.number().min(0.01).max(1).default(0.1),
    minExpiryMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(10),
    maxExpiryMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(120),
    /** No offers once the slot starts in less than this. */
    minLeadMinutes: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(60),
    /** No SMS between quietStart and quietEnd, clinic-local. */
    quietStart: clockTimeSchema.default('21:00'),
    quietEnd: clockTimeSchema.default('08:00'),
    /**
     * Move-up cascade bound: the most patients one released slot may move earlier in a chain (each
     * move-up frees a later slot whose own backfill is the next link). At the bound, the freed slot is
     * offered to patients without an appointment only, which ends the chain. Absent: DEFAULT_CASCADE_DEPTH.
     */
    cascadeDepth: z.number().int().min(0).max(20).optional(),
    /**
     * Widening rounds: the next round goes out after this fraction of the offers' expiry, while the
     * offers already out stay open until they expire; the first YES among all open offers takes the
     * slot. When it is taken, the other open offers close without a text (a later answer is told the
     * slot is taken). Absent or 1: each round's offers expire before the next round goes out, and
     * when the slot is taken the round's other patients are texted that it is gone.
     */
    roundIntervalFraction: z.number().min(0.05).max(1).optional(),
    /**
     * Move-up entries that stay on the list after a move, to move again if an even earlier slot opens:
     * `urgent` (urgent and soon entries) or `all`. Absent or `none`: a move ends the entry.
     */
    relistMoveUps: z.enum(['none', 'urgent', 'all']).optional(),
    /**
     * Entries holding an open offer that are offered an earlier slot when one frees meanwhile: `urgent`
     * (urgent and soon entries) or `all`. The new offer replaces the open one: its text names the offer
     * it closes, which closes once that text is out (the patient's YES answers their newest offer). Absent or
     * `none`: an entry with an open offer is not offered another slot until that offer is settled.
     */
    replaceOpenOffers: z.enum(['none', 'urgent', 'all']).optional(),
  })
  .strict()
  .refine((p) => p.minExpiryMinutes <= p.maxExpiryMinutes, { message: 'minExpiryMinutes must not exceed maxExpiryMinutes', path: ['minExpiryMinutes'] });
export type OfferPolicy = z.infer<typeof offerPolicySchema>;
/** Cascade depth of a clinic whose offer policy sets none. */
export const DEFAULT_CASCADE_DEPTH = 5;

/**
 * A BCP 47 language tag (e.g. `es`, `es-MX`, `en-US`), stored in canonical form. Any well-formed
 * tag is accepted; one we ship no texts for falls back to the clinic's default, then English (domain/sms/locale.ts).
 */
const canonicalLanguageTag = (tag: string): string | undefined => {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
};
export const languageTagSchema = z
  .string()
  .min(2)
  .max(35)
  .refine((tag) => canonicalLanguageTag(tag) !== undefined, { message: 'must be a BCP 47 language tag, e.g. "es" or "en-US"' })
  .overwrite((tag) => canonicalLanguageTag(tag) ?? tag)
  .meta({
    description: 'BCP 47 language tag (e.g. es, es-MX, en-US), stored in canonical form. Unsupported languages fall back to the clinic default, then English.',
  });
/** A clinic's postal address (FHIR Address: lines, city, state or region, postal code; ISO 3166-1 alpha-2 country). */
export const postalAddressSchema = z
  .object({
    line: z.array(z.string().trim().min(1).max(100)).min(1).max(4),
    city: z.string().trim().min(1).max(60),
    state: z.string().trim().min(1).max(60),
    postalCode: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9 -]{1,14}$/, 'must be a postal code such as 02139 or SW1A 1AA'),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US')
      .optional(),
  })
  .strict();
export type PostalAddress = z.infer<typeof postalAddressSchema>;

/** An identifier another system gives the clinic (e.g. an NPI, a state registry id): a URI system and a value. */
export const clinicIdentifierSchema = z
  .object({
    system: z
      .string()
      .min(3)
      .max(200)
      .regex(/^(https?:\/\/|urn:)\S+$/, 'must be a URI (http(s):// or urn:)'),
    value: z.string().trim().min(1).max(100),
  })
  .strict();
export type ClinicIdentifier = z.infer<typeof clinicIdentifierSchema>;

/** Reminder offsets before the visit, in hours (1 hour to 14 days, at most 5). */
/**
 * After a no-show, the patient is texted a rebooking link (PHI-free) this long after it is recorded,
 * moved out of quiet hours. On unless `enabled: false`; an appointment type can turn it off too.
 * The delay stays under the durable timer limit (6 days). docs/patient-channels.md, "No-show follow-up".
 */
export const noShowFollowUpSchema = z
  .object({
    enabled: z.boolean().default(true),
    delayMinutes: z
      .number()
      .int()
      .min(0)
      .max(3 * 24 * 60)
      .default(60),
  })
  .strict();
export type NoShowFollowUp = z.infer<typeof noShowFollowUpSchema>;

const reminderOffsetsSchema = z
  .array(
    z
      .number()
      .int()
      .min(1)
      .max(24 * 14),
  )
  .max(5);

export const clinicSchema = z
  .object({
    clinicId: entityIdSchema,
    name: z.string().min(1).max(100),
    timeZone: timeZoneSchema,
    /** Where patients go, and how they call: published on the clinic's Location (SMART Scheduling Links requires both). */
    address: postalAddressSchema.optional(),
    phone: e164Schema.optional(),
    /** Identifiers other systems give the clinic; its Location also always carries Slotflow's own (urn:slotflow:clinic). */
    identifiers: z.array(clinicIdentifierSchema).max(5).optional(),
    /** Name used in SMS; defaults to `name`. Must not reveal a specialty (it would be PHI in an SMS). */
    smsDisplayName: z.string().min(1).max(40).optional(),
    /** Language patients are texted in when theirs is not set or not shipped (BCP 47); English when unset. */
    defaultLanguage: languageTagSchema.optional(),
    bookingPolicy: bookingPolicySchema.default(bookingPolicySchema.parse({})),
    offerPolicy: offerPolicySchema.default(offerPolicySchema.parse({})),
    /** The no-show follow-up text; absent: on, 60 minutes after the no-show. */
    noShowFollowUp: noShowFollowUpSchema.optional(),
    /** Reminder offsets before the visit, in hours. */
    reminderHoursBefore: reminderOffsetsSchema.default([48, 2]),
    /**
     * Reminder offsets per no-show risk band, overriding the cadence derived from reminderHoursBefore
     * (low: its earliest reminder only; high: plus one the day before). docs/no-show-risk.md.
     */
    reminderHoursByRiskBand: z
      .object({ low: reminderOffsetsSchema.optional(), medium: reminderOffsetsSchema.optional(), high: reminderOffsetsSchema.optional() })
      .strict()
      .optional(),
    /** Overbooking suggestions list provider-days whose expected no-shows reach this (default 1). docs/no-show-risk.md. */
    overbookingMinExpectedNoShows: z.number().min(0.1).max(50).optional(),
    /** Eligibility is verified this many hours before the visit. */
    eligibilityLeadHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 30)
      .default(72),
  })
  .strict();
export type Clinic = z.infer<typeof clinicSchema>;

export const appointmentTypeSchema = z
  .object({
    code: appointmentTypeCodeSchema,
    clinicId: entityIdSchema,
    name: z.string().min(1).max(100),
    durationMinutes: z.number().int().min(5).max(480),
    /** false: no no-show follow-up text for this type, whatever the clinic's setting. */
    noShowFollowUp: z.boolean().optional(),
  })
  .strict();
export type AppointmentType = z.infer<typeof appointmentTypeSchema>;

export const providerSchema = z
  .object({
    providerId: entityIdSchema,
    clinicId: entityIdSchema,
    name: z.string().min(1).max(100),
    appointmentTypes: z.array(appointmentTypeCodeSchema).min(1).max(50),
    weeklyHours: z.array(weeklyHoursSchema).max(50),
    /** Length of one slot; defaults to the longest duration among the provider's types. */
    slotMinutes: z.number().int().min(5).max(480).optional(),
    exceptions: z.array(scheduleExceptionSchema).max(500).default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    p.weeklyHours.forEach((a, i) =>
      p.weeklyHours.forEach((b, j) => {
        if (j <= i || a.day !== b.day || ![a.start, a.end, b.start, b.end].every(isClockTime)) return;
        if (parseClockTime(a.start) < parseClockTime(b.end) && parseClockTime(b.start) < parseClockTime(a.end)) {
          ctx.addIssue({ code: 'custom', message: 'weekly hours blocks of one day must not overlap', path: ['weeklyHours', j] });
        }
      }),
    );
    p.exceptions.forEach((e, i) => {
      if (e.kind === 'absence' && Date.parse(e.to) <= Date.parse(e.from)) {
        ctx.addIssue({ code: 'custom', message: 'to must be after from', path: ['exceptions', i, 'to'] });
      }
    });
  });
export type Provider = z.infer<typeof providerSchema>;

export const coverageSchema = z
  .object({
    payerId: z.string().min(1).max(64),
    memberId: z.string().min(1).max(64),
    groupNumber: z.string().max(64).optional(),
    planName: z.string().max(100).optional(),
  })
  .strict();
export type Coverage = z.infer<typeof coverageSchema>;

/** Patient contact: PHI. Stored only in the patients container, never in events, logs or errors. */
export const patientSchema = z
  .object({
    patientId: entityIdSchema,
    name: z.string().min(1).max(200),
    phone: e164Schema,
    smsConsent: z.boolean(),
    /** Set when the patient texts STOP; cleared by START. Wins over smsConsent. */
    smsOptedOutAt: instantSchema.optional(),
    coverage: coverageSchema.optional(),
    /** Language for SMS and patient pages (BCP 47; from the API, FHIR Patient.communication or SIU PID-15). */
    preferredLanguage: languageTagSchema.optional(),
    /** Clinics that may see this patient; empty = organisation-wide record. */
    clinicIds: z.array(entityIdSchema).max(100).default([]),
  })
  .strict();
export type Patient = z.infer<typeof patientSchema>;

export const appointmentStatuses = [
  'proposed',
  'pending',
  'booked',
  'arrived',
  'checked-in',
  'fulfilled',
  'cancelled',
  'noshow',
  'waitlist',
  'entered-in-error',
] as const;
export type AppointmentStatus = (typeof appointmentStatuses)[number];

export const channels = ['api', 'sms', 'link', 'ehr', 'backfill', 'absence', 'console'] as const;
export type Channel = (typeof channels)[number];

/** Who acts: staff and EHR through the API, patients through SMS and links, the system in workflows. */
export interface Actor {
  kind: 'staff' | 'patient' | 'ehr' | 'system';
  principalId: string;
}

export interface Slot {
  slotId: string;
  clinicId: string;
  providerId: string;
  /** ISO 8601 with the clinic's offset at that instant. */
  start: string;
  end: string;
  appointmentTypes: string[];
}

export interface ExternalId {
  system: string;
  value: string;
}

export interface Appointment {
  appointmentId: string;
  slotId: string;
  clinicId: string;
  providerId: string;
  patientId: string;
  appointmentType: string;
  status: AppointmentStatus;
  /** ISO 8601 in the clinic's zone. */
  start: string;
  end: string;
  source: Channel;
  createdAt: string;
  updatedAt: string;
  /** Monotonic version, incremented on every change (optimistic concurrency, iCalendar SEQUENCE). */
  version: number;
  cancellation?: { reasonCode: string; at: string; by: Actor['kind']; late: boolean };
  noShowAt?: string;
  confirmedAt?: string;
  eligibility?: { status: 'active' | 'inactive' | 'error'; checkedAt: string; reasonCode?: string };
  /** EHR identifiers (SCH-1/SCH-2, FHIR identifiers), kept so EHR updates find this appointment. */
  externalIds: ExternalId[];
  /** Set when staff must confirm a self-scheduled booking (no-show policy). */
  needsStaffConfirmation?: boolean;
}

export const urgencies = ['routine', 'soon', 'urgent'] as const;
export type Urgency = (typeof urgencies)[number];
export const timesOfDay = ['any', 'morning', 'afternoon', 'evening'] as const;
export type TimeOfDay = (typeof timesOfDay)[number];

export interface WaitlistEntry {
  waitlistEntryId: string;
  clinicId: string;
  patientId: string;
  appointmentType: string;
  /** Acceptable providers; empty = any provider offering the type. */
  providerIds: string[];
  earliest?: string;
  latest?: string;
  urgency: Urgency;
  /** Latest clinically acceptable start; slots after it are not offered. */
  clinicalDeadline?: string;
  timeOfDay: TimeOfDay;
  /**
   * Move-up entries: the patient already holds this appointment and wants it earlier. Only slots
   * starting before the appointment are offered; accepting moves it (rescheduleAppointment).
   */
  moveUp?: MoveUp;
  status: 'active' | 'offered' | 'booked' | 'removed';
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** The appointment a move-up entry or offer would move, as it stood when the entry or offer was made. */
export interface MoveUp {
  appointmentId: string;
  /** The appointment's slot and start at that time (the start is refreshed before each offer). */
  slotId: string;
  start: string;
}

export const offerStatuses = ['sent', 'accepted', 'declined', 'expired', 'unavailable'] as const;
export type OfferStatus = (typeof offerStatuses)[number];

export interface WaitlistOffer {
  offerId: string;
  clinicId: string;
  slotId: string;
  waitlistEntryId: string;
  patientId: string;
  /** The backfill orchestration that made the offer and waits for the reply. */
  workflowInstanceId: string;
  round: number;
  status: OfferStatus;
  sentAt: string;
  expiresAt: string;
  respondedAt?: string;
  /** A move-up offer: the appointment it would move (from its slot at the time of the offer). */
  moveUp?: MoveUp;
  /** Move-ups that came before this offer's backfill in its cascade (0: the slot was freed by a cancellation or no-show). */
  cascadeDepth?: number;
  version: number;
}
