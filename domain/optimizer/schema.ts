import { IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * The optimizer's own input: an instance of the slot-assignment problem. It is deliberately independent of
 * the booking model so that waitlist backfill, provider absence and the CLI can all build one.
 * Field-by-field documentation: docs/optimizer.md.
 */

const idSchema = z.string().min(1).max(128);

/** ISO 8601 instant with an offset or Z ("2026-11-30T09:00:00+01:00"); local times are ambiguous and rejected. */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Milliseconds since the epoch of an ISO 8601 instant with an offset or Z, or NaN when it does not match
 * the format or names no real calendar time: Date.parse rolls 2026-02-30 over to 2 March and accepts
 * 24:00, so month, day (leap years included), hour, minute, second and offset are checked one by one.
 * Equals Date.parse for every instant it accepts, and is several times faster (the hot path of
 * validation and model building at thousands of slots).
 */
export function instantMs(text: string): number {
  let ms = instantCache.get(text);
  if (ms === undefined) {
    if (instantCache.size >= INSTANT_CACHE_SIZE) instantCache.clear();
    instantCache.set(text, (ms = parseInstant(text)));
  }
  return ms;
}

/**
 * Instants repeat (slot starts and ends on a grid, every one read by validation and again by model
 * building): parsed values are kept, up to this many strings (then the cache starts over).
 */
const INSTANT_CACHE_SIZE = 100_000;
const instantCache = new Map<string, number>();

function parseInstant(text: string): number {
  const m = INSTANT.exec(text);
  if (!m) return NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return NaN;
  let offsetMin = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[8]);
    const om = Number(m[9]);
    if (oh > 23 || om > 59) return NaN;
    offsetMin = (text[text.length - 6] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000 + 1e-9);
  let utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (year < 100) {
    // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
    const date = new Date(utc);
    date.setUTCFullYear(year);
    utc = date.getTime();
  }
  return utc - offsetMin * 60000;
}

/** True when the text is an ISO 8601 instant with an offset or Z that exists on the calendar (see instantMs). */
export function isCalendarInstant(text: string): boolean {
  return !Number.isNaN(instantMs(text));
}

const instantSchema = z.string().superRefine((s, ctx) => {
  if (!isCalendarInstant(s)) {
    ctx.addIssue({
      code: 'custom',
      message: INSTANT.test(s)
        ? 'is not a real calendar date and time (e.g. 30 February, 24:00 or offset beyond 23:59)'
        : 'must be an ISO 8601 date-time with an offset or Z',
    });
  }
});

/** Zone names already found valid (luxon builds an Intl.DateTimeFormat for every check). */
const validZones = new Set<string>();
function isValidTimeZone(tz: string): boolean {
  if (validZones.has(tz)) return true;
  if (!IANAZone.isValidZone(tz)) return false;
  if (validZones.size < 1000) validZones.add(tz);
  return true;
}

export const URGENCY_LEVELS = { routine: 2, soon: 5, urgent: 8 } as const;

const urgencySchema = z.union([z.number().min(0).max(10), z.enum(['routine', 'soon', 'urgent'])], {
  error: "must be a number from 0 to 10 or one of 'routine', 'soon', 'urgent'",
});

export const slotSchema = z.object({
  id: idSchema,
  providerId: idSchema,
  start: instantSchema,
  end: instantSchema,
  appointmentType: idSchema,
  locationId: idSchema.optional(),
  room: idSchema.optional(),
  equipment: z.array(idSchema).optional(),
});

export const candidateSchema = z.object({
  id: idSchema,
  appointmentType: idSchema,
  /** Providers the candidate may see; absent or empty means any provider. */
  providerIds: z.array(idSchema).optional(),
  /** Locations the candidate accepts; absent or empty means any location. */
  locationIds: z.array(idSchema).optional(),
  earliest: instantSchema.optional(),
  latest: instantSchema.optional(),
  /** The visit must start no later than this instant (hard constraint). */
  clinicalDeadline: instantSchema.optional(),
  urgency: urgencySchema.optional(),
  daysWaiting: z.number().min(0).max(100000).optional(),
  preferredProviderId: idSchema.optional(),
  timeOfDay: z.enum(['morning', 'afternoon', 'evening', 'any']).optional(),
  noShowRisk: z.number().min(0).max(1).optional(),
  /**
   * Move-up candidates: the start of the appointment they already hold. Only slots starting before it
   * are eligible, and the days gained (currentStart - slot start) earn the moveUp term.
   */
  currentStart: instantSchema.optional(),
  /** Displaced patients: placed before every optional candidate (lexicographic objective). */
  mustPlace: z.boolean().optional(),
});

export const weightsSchema = z
  .object({
    base: z.number().min(0).max(1000),
    urgency: z.number().min(0).max(1000),
    waiting: z.number().min(0).max(1000),
    waitingCapDays: z.number().positive().max(3650),
    continuity: z.number().min(0).max(1000),
    timeOfDay: z.number().min(0).max(1000),
    promptness: z.number().min(0).max(1000),
    noShowRisk: z.number().min(0).max(1000),
    moveUp: z.number().min(0).max(1000),
    moveUpCapDays: z.number().positive().max(3650),
  })
  .partial()
  .strict();

const providerDayCapSchema = z
  .object({
    kind: z.enum(['urgent', 'long']),
    /** Most such visits one provider may get on one local day (in the instance time zone). */
    max: z.number().int().min(0),
    /** 'urgent': candidates with urgency >= this count (default 8, i.e. 'urgent'). */
    urgencyAtLeast: z.number().min(0).max(10).optional(),
    /** 'long': slots at least this many minutes long count (default 40). */
    minMinutes: z.number().positive().optional(),
    /** Limit the cap to these providers; absent means every provider. */
    providerIds: z.array(idSchema).optional(),
  })
  .strict();

const resourceCapacitySchema = z
  .object({
    resource: z.enum(['room', 'equipment']),
    id: idSchema,
    /** Most visits using the resource in one time block. */
    capacity: z.number().int().min(0),
    /** Block length; blocks start at midnight UTC each day, the last block of a day ends at midnight (default 60). */
    blockMinutes: z.number().int().min(5).max(1440).optional(),
  })
  .strict();

export const instanceSchema = z
  .object({
    /** IANA zone for provider days and time-of-day preferences (default UTC). */
    timeZone: z
      .string()
      .refine((tz) => isValidTimeZone(tz), { message: 'must be an IANA time zone name' })
      .optional(),
    slots: z.array(slotSchema),
    candidates: z.array(candidateSchema),
    weights: weightsSchema.optional(),
    constraints: z
      .object({
        providerDayCaps: z.array(providerDayCapSchema).optional(),
        resourceCapacity: z.array(resourceCapacitySchema).optional(),
      })
      .strict()
      .optional(),
  })
  // Unknown top-level keys are errors: a typo ("constraint") would otherwise drop the side constraints silently.
  .strict()
  .superRefine((inst, ctx) => {
    const seenSlots = new Set<string>();
    inst.slots.forEach((s, i) => {
      if (seenSlots.has(s.id)) ctx.addIssue({ code: 'custom', path: ['slots', i, 'id'], message: `duplicate slot id` });
      seenSlots.add(s.id);
      if (instantMs(s.end) <= instantMs(s.start)) {
        ctx.addIssue({ code: 'custom', path: ['slots', i, 'end'], message: 'must be after start' });
      }
    });
    const seenCandidates = new Set<string>();
    inst.candidates.forEach((c, i) => {
      if (seenCandidates.has(c.id)) ctx.addIssue({ code: 'custom', path: ['candidates', i, 'id'], message: 'duplicate candidate id' });
      seenCandidates.add(c.id);
      if (c.earliest && c.latest && instantMs(c.latest) < instantMs(c.earliest)) {
        ctx.addIssue({ code: 'custom', path: ['candidates', i, 'latest'], message: 'must not be before earliest' });
      }
    });
  });

export type OptimizationInstance = z.input<typeof instanceSchema>;
export type ValidOptimizationInstance = z.output<typeof instanceSchema>;
export type OptimizerSlot = z.output<typeof slotSchema>;
export type OptimizerCandidate = z.output<typeof candidateSchema>;
export type ScoreWeights = Required<z.output<typeof weightsSchema>>;
export type Urgency = z.output<typeof urgencySchema>;

/** A problem with one field of an instance; `path` is like `candidates[3].earliest`. */
export interface InstanceIssue {
  path: string;
  message: string;
}

/** Thrown for instances that do not match the schema; `issues` names every offending field. */
export class OptimizerInputError extends Error {
  readonly code = 'OPTIMIZER.INVALID_INSTANCE';
  constructor(readonly issues: InstanceIssue[]) {
    // The message lists the first 20; `issues` holds every one.
    const shown = issues.slice(0, 20).map((i) => `${i.path}: ${i.message}`);
    super(`Invalid optimization instance: ${shown.join('; ')}${issues.length > 20 ? `; and ${issues.length - 20} more` : ''}`);
    this.name = 'OptimizerInputError';
  }
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(instance)' : out;
}

/** Validates an unknown value as an instance, throwing OptimizerInputError that names the fields. */
export function parseInstance(value: unknown): ValidOptimizationInstance {
  const parsed = instanceSchema.safeParse(value);
  if (!parsed.success) {
    throw new OptimizerInputError(parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  }
  return parsed.data;
}
