/**
 * The simulator's scenario file (docs/simulation.md): clinics, providers, hours, appointment types,
 * demand, patient behaviour and each policy's settings. Strict: an unknown field, a negative rate,
 * a probability outside 0..1, an unknown zone or a clinic without providers is an error naming the
 * field, and nothing runs.
 */
import { z } from 'zod';
import { entityIdSchema } from '../domain/ids';
import { clockTimeSchema, localDateSchema, offerPolicySchema, weekdays } from '../domain/model';
import { isIanaZone, parseClockTime } from '../domain/time';

const probability = z.number().min(0, 'must be a probability between 0 and 1').max(1, 'must be a probability between 0 and 1');
const rate = z.number().min(0, 'must not be negative');
const positive = z.number().positive('must be positive');

const hoursSchema = z
  .object({ days: z.array(z.enum(weekdays)).min(1), start: clockTimeSchema, end: clockTimeSchema })
  .strict()
  .refine((h) => !clockTimeSchema.safeParse(h.start).success || !clockTimeSchema.safeParse(h.end).success || parseClockTime(h.end) > parseClockTime(h.start), {
    message: 'end must be after start',
    path: ['end'],
  });

const providerGroupSchema = z
  .object({
    /** Provider ids are `<idPrefix>-<n>` (n from 1), or exactly idPrefix when count is 1 and `exactId` is set. */
    idPrefix: entityIdSchema,
    count: z.number().int().min(1).max(500).default(1),
    appointmentTypes: z.array(entityIdSchema).min(1),
    hours: z.array(hoursSchema).min(1),
    slotMinutes: z.number().int().min(5).max(480).optional(),
  })
  .strict();

const appointmentTypeSchema = z
  .object({
    code: entityIdSchema,
    name: z.string().min(1).max(100).optional(),
    durationMinutes: z.number().int().min(5).max(480),
    /** Relative share of booking requests for this type. */
    weight: rate.default(1),
  })
  .strict();

const demandSchema = z
  .object({
    /** Share of the slots in the booking horizon already booked when the simulation starts. */
    initialFill: probability.default(0.9),
    /** New appointment requests per provider per working day (Poisson). */
    requestsPerProviderDay: rate,
    /** A request books the earliest free slot at least this many days ahead (uniform between min and max). */
    minLeadDays: z
      .object({ min: rate.default(1), max: rate.default(3) })
      .strict()
      .default({ min: 1, max: 3 }),
    /** Share of booked patients who ask to be moved earlier (move-up waitlist). */
    moveUpShare: probability.default(0.5),
    /** Share of waitlist entries limited to one provider (their own, for a move-up); the rest take any provider. */
    sameProviderShare: probability.default(0.8),
    /** Share of requests that are urgent (urgent patients always ask to move earlier). */
    urgentShare: probability.default(0.05),
    /** Patients without an appointment who join the waitlist, per clinic per working day (Poisson). */
    waitlistArrivalsPerDay: rate.default(0),
  })
  .strict();

const clinicSchema = z
  .object({
    clinicId: entityIdSchema,
    name: z.string().min(1).max(100).optional(),
    timeZone: z.string().refine(isIanaZone, 'must be a known IANA time zone such as America/New_York'),
    appointmentTypes: z.array(appointmentTypeSchema).min(1, 'a clinic needs at least one appointment type'),
    providers: z.array(providerGroupSchema).min(1, 'a clinic needs at least one provider group (an empty clinic has nothing to simulate)'),
    demand: demandSchema,
    /** Reminder offsets in hours (the reminders workflow); empty: no reminders. */
    reminderHoursBefore: z.array(z.number().int().min(1).max(336)).max(5).default([48, 2]),
    /** Provider absences announced during the run (the provider-absence workflow). */
    absences: z
      .array(
        z
          .object({
            providerId: entityIdSchema,
            /** Days after the start when the absence is announced, and the absent days (from, inclusive; days). */
            announcedDay: rate,
            fromDay: rate,
            days: positive,
          })
          .strict(),
      )
      .default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const codes = new Set(c.appointmentTypes.map((t) => t.code));
    c.providers.forEach((p, i) =>
      p.appointmentTypes.forEach((code, j) => {
        if (!codes.has(code)) ctx.addIssue({ code: 'custom', message: `unknown appointment type ${code}`, path: ['providers', i, 'appointmentTypes', j] });
      }),
    );
  });

const behaviourSchema = z
  .object({
    cancellation: z
      .object({
        /** Probability that a booking is cancelled: base + perWeekLead x weeks between booking and visit, at most max. */
        base: probability.default(0.08),
        perWeekLead: probability.default(0.02),
        max: probability.default(0.35),
        /** Share of cancellations in the last 48 hours before the visit (the rest spread over the lead time). */
        lateShare: probability.default(0.4),
      })
      .strict()
      .default({ base: 0.08, perWeekLead: 0.02, max: 0.35, lateShare: 0.4 }),
    noShow: z
      .object({
        base: probability.default(0.05),
        perWeekLead: probability.default(0.01),
        max: probability.default(0.3),
        /** Share of patients with a prior no-show, and how much that multiplies their probability. */
        priorNoShowShare: probability.default(0.15),
        priorNoShowMultiplier: z.number().min(1).max(10).default(2.5),
      })
      .strict()
      .default({ base: 0.05, perWeekLead: 0.01, max: 0.3, priorNoShowShare: 0.15, priorNoShowMultiplier: 2.5 }),
    offer: z
      .object({
        /** Probability that a patient who reads an offer takes it (per offer, before never-replies). */
        acceptance: probability,
        /** Extra acceptance per week the offer would bring a move-up forward, capped at 1. */
        acceptancePerWeekSooner: probability.default(0.02),
        /** Share of offers never answered. */
        neverReply: probability,
        /** Of the answered offers not taken, the share answered NO (the rest are ignored). */
        declineReplyShare: probability.default(0.5),
        /** Reply delay (log-normal), minutes. */
        replyDelayMinutes: z.object({ median: positive, p90: positive }).strict(),
      })
      .strict(),
  })
  .strict();

const baselineSchema = z
  .object({
    enabled: z.boolean().default(true),
    label: z.string().min(1).max(60).default('Fast Pass-like baseline'),
    offerPolicy: z.unknown().default({ batchSize: 10, maxRounds: 1, expiryFraction: 1, minExpiryMinutes: 720, maxExpiryMinutes: 720, cascadeDepth: 1 }),
  })
  .strict();
const slotflowSchema = z
  .object({
    enabled: z.boolean().default(true),
    label: z.string().min(1).max(60).default('Slotflow'),
    offerPolicy: z.unknown().default({}),
  })
  .strict();
const manualSchema = z
  .object({
    enabled: z.boolean().default(true),
    label: z.string().min(1).max(60).default('FCFS manual callback'),
    /** Staff calling hours (clinic-local) and how long one call takes. */
    officeHours: hoursSchema.default({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }),
    callMinutes: positive.default(5),
    /** Probability that a called patient picks up (a missed call counts as an offer without answer). */
    answerProbability: probability.default(0.6),
    /** Calls made for one freed slot before staff give up on it. */
    maxCallsPerSlot: z.number().int().min(1).max(100).default(10),
    /** Freed slots starting sooner than this are not worked. */
    minLeadMinutes: rate.default(120),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string().min(1).max(100).default('scenario'),
    description: z.string().max(2000).optional(),
    /** First simulated day (clinic-local date); the run starts at 00:00 of it in each clinic's zone. */
    start: localDateSchema,
    weeks: z.number().int().min(1).max(52).default(4),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    /** How far ahead patients book (and the schedule is pre-filled), days. */
    horizonDays: z.number().int().min(7).max(180).default(60),
    clinics: z.array(clinicSchema).min(1, 'a scenario needs at least one clinic'),
    behaviour: behaviourSchema,
    policies: z
      .object({ baseline: baselineSchema.optional(), manualCallback: manualSchema.optional(), slotflow: slotflowSchema.optional() })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    const ids = new Set<string>();
    s.clinics.forEach((c, i) => {
      if (ids.has(c.clinicId)) ctx.addIssue({ code: 'custom', message: `duplicate clinicId ${c.clinicId}`, path: ['clinics', i, 'clinicId'] });
      ids.add(c.clinicId);
    });
    for (const name of ['baseline', 'slotflow'] as const) {
      const policy = s.policies[name];
      if (!policy) continue;
      const parsed = offerPolicySchema.safeParse(policy.offerPolicy);
      if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['policies', name, 'offerPolicy', ...issue.path] } as never);
    }
  });

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioClinic = Scenario['clinics'][number];
export type Behaviour = Scenario['behaviour'];
export type ManualCallbackSettings = z.output<typeof manualSchema>;

/** A scenario that failed validation: one line per problem, each naming the field. */
export class ScenarioError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid scenario:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** `clinics[0].demand.requestsPerProviderDay` from a zod path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(scenario)';
}

/** Validates a scenario document; throws ScenarioError naming every bad field. */
export function parseScenario(doc: unknown): Scenario {
  const parsed = scenarioSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
    if (keys.length) return keys.map((k) => `${fieldPath([...issue.path, k])}: unknown field`).join('\n  ');
    return `${fieldPath(issue.path)}: ${issue.message}`;
  });
  throw new ScenarioError(problems);
}
