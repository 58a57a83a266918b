/**
 * A held-out instance family for the optimizer, generated independently of testkit/optimizer-instances.ts and
 * of its assumptions (one clinic per candidate, hourly slots, 1-hour room blocks, a single time zone
 * without DST change): a multi-location practice over two weeks that cross the European DST change,
 * providers who work at different locations on different weekdays, morning/afternoon sessions of mixed
 * visit lengths, rooms shared by providers in 30-minute blocks (some rooms hold two visits per hour),
 * equipment counted per day, and candidates who accept one to three locations.
 * Reference optima (HiGHS, two-phase lexicographic MIP) are stored in bench/fixtures/optimizer-heldout.json.
 */
import { DateTime } from 'luxon';
import type { OptimizationInstance } from '../domain/optimizer';
import { prng } from './optimizer-instances';

type Slot = OptimizationInstance['slots'][number];
type Candidate = OptimizationInstance['candidates'][number];

export interface HeldOutOptions {
  seed: number;
  candidates: number;
  slots: number;
  locations: number;
  /** practice: candidates accept 1-3 locations; clinic: exactly one. */
  reach: 'practice' | 'clinic';
  sideConstraints: boolean;
  mustPlaceShare?: number;
  /** Weights that make many scores negative (high no-show weight, small base). */
  negativeScores?: boolean;
}

const ZONE = 'Europe/Berlin';
// Monday 22 March 2027; clocks go forward on Sunday 28 March, inside the horizon.
const FIRST_DAY = DateTime.fromISO('2027-03-22T00:00:00', { zone: ZONE });
const WORKDAYS = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11];
const TYPES = [
  { code: 'CHK', minutes: 15, share: 0.3 },
  { code: 'FUP', minutes: 20, share: 0.25 },
  { code: 'NEW', minutes: 40, share: 0.2 },
  { code: 'US', minutes: 30, share: 0.15, equipment: 'sono' },
  { code: 'PRC', minutes: 60, share: 0.1, equipment: 'proc-kit' },
] as const;

/** The practice: slots of every provider-day session, and who offers what where. */
function practiceSlots(o: HeldOutOptions, rnd: () => number) {
  const slots: Slot[] = [];
  const offers: { providerId: string; location: number; types: string[] }[] = [];
  const roomsPerLocation = 3;
  let p = 0;
  while (slots.length < o.slots) {
    const providerId = `dr${p}`;
    const home = p % o.locations;
    const second = rnd() < 0.45 && o.locations > 1 ? (home + 1 + Math.floor(rnd() * (o.locations - 1))) % o.locations : home;
    const nTypes = 2 + Math.floor(rnd() * 2);
    const types = [...TYPES].sort(() => rnd() - 0.5).slice(0, nTypes);
    offers.push({ providerId, location: home, types: types.map((t) => t.code) });
    if (second !== home) offers.push({ providerId, location: second, types: types.map((t) => t.code) });
    for (const d of WORKDAYS) {
      if (rnd() < 0.15) continue; // not working that day
      const location = second !== home && (d % 7 === 1 || d % 7 === 3) ? second : home;
      const sessions =
        rnd() < 0.5
          ? [[8, 0, 12, 0]]
          : rnd() < 0.5
            ? [[13, 30, 17, 30]]
            : [
                [8, 0, 12, 0],
                [13, 30, 17, 30],
              ];
      for (const [h0, m0, h1, m1] of sessions) {
        const room = `L${location}-room${Math.floor(rnd() * roomsPerLocation)}`;
        let t = FIRST_DAY.plus({ days: d }).set({ hour: h0, minute: m0 });
        const end = FIRST_DAY.plus({ days: d }).set({ hour: h1, minute: m1 });
        while (slots.length < o.slots) {
          let r = rnd();
          const type = types.find((x) => (r -= x.share / types.reduce((a, y) => a + y.share, 0)) <= 0) ?? types[0]!;
          const stop = t.plus({ minutes: type.minutes });
          if (stop > end) break;
          slots.push({
            id: `sl${slots.length}`,
            providerId,
            start: t.toISO()!,
            end: stop.toISO()!,
            appointmentType: type.code,
            locationId: `L${location}`,
            room,
            ...('equipment' in type ? { equipment: [`${type.equipment}-L${location}`] } : {}),
          });
          // Gaps between visits now and then (paperwork, a cancelled block).
          t = stop.plus({ minutes: rnd() < 0.2 ? 5 * (1 + Math.floor(rnd() * 3)) : 0 });
        }
      }
    }
    p++;
  }
  return { slots, offers, providers: p };
}

function candidateOf(o: HeldOutOptions, i: number, rnd: () => number, offers: { providerId: string; location: number; types: string[] }[]): Candidate {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let r = rnd();
  const type = TYPES.find((t) => (r -= t.share) <= 0) ?? TYPES[0];
  const home = Math.floor(rnd() * o.locations);
  const reach = o.reach === 'clinic' ? 1 : rnd() < 0.3 ? 1 : rnd() < 0.6 ? 2 : 3;
  const locations = [home];
  while (locations.length < Math.min(reach, o.locations)) {
    const l = Math.floor(rnd() * o.locations);
    if (!locations.includes(l)) locations.push(l);
  }
  const u = rnd();
  const urgency = u < 0.1 ? 8 + Math.floor(rnd() * 3) : u < 0.3 ? 'soon' : u < 0.4 ? Math.floor(rnd() * 8) : 'routine';
  const urgent = typeof urgency === 'number' && urgency >= 8;
  const startDay = Math.floor(rnd() * 9);
  const earliest = FIRST_DAY.plus({ days: startDay, hours: rnd() < 0.5 ? 0 : 12 });
  const latest = earliest.plus({ days: 1 + Math.floor(rnd() * 5), hours: Math.floor(rnd() * 12) });
  const offering = offers.filter((x) => locations.includes(x.location) && x.types.includes(type.code)).map((x) => x.providerId);
  const restrict = rnd() < 0.2 && offering.length > 0;
  const mustPlace = o.mustPlaceShare !== undefined && rnd() < o.mustPlaceShare;
  return {
    id: `pt${i}`,
    appointmentType: type.code,
    locationIds: locations.map((l) => `L${l}`),
    ...(restrict ? { providerIds: [...new Set([pick(offering), pick(offering), pick(offering)].slice(0, 1 + Math.floor(rnd() * 3)))] } : {}),
    earliest: earliest.toISO()!,
    latest: latest.toISO()!,
    ...(urgent ? { clinicalDeadline: earliest.plus({ days: 1 + Math.floor(rnd() * 3) }).toISO()! } : {}),
    urgency,
    daysWaiting: Math.floor(rnd() * 200),
    ...(rnd() < 0.5 && offering.length > 0 ? { preferredProviderId: pick(offering) } : {}),
    timeOfDay: pick(['morning', 'afternoon', 'any', 'any', 'any'] as const),
    noShowRisk: Math.round(rnd() * (o.negativeScores ? 90 : 60)) / 100,
    ...(mustPlace ? { mustPlace: true } : {}),
  };
}

/** One instance of the held-out family. */
export function heldOutInstance(o: HeldOutOptions): OptimizationInstance {
  const rnd = prng(o.seed * 7919 + 17);
  const { slots, offers } = practiceSlots(o, rnd);
  const candidates = Array.from({ length: o.candidates }, (_, i) => candidateOf(o, i, rnd, offers));
  const rooms = [...new Set(slots.map((s) => s.room!))].sort();
  const equipment = [...new Set(slots.flatMap((s) => s.equipment ?? []))].sort();
  return {
    timeZone: ZONE,
    slots,
    candidates,
    ...(o.negativeScores ? { weights: { base: 2, urgency: 20, waiting: 5, continuity: 10, timeOfDay: 5, promptness: 5, noShowRisk: 60 } } : {}),
    ...(o.sideConstraints
      ? {
          constraints: {
            providerDayCaps: [
              { kind: 'urgent' as const, max: 2 },
              { kind: 'long' as const, max: 3, minMinutes: 40 },
            ],
            resourceCapacity: [
              // Most rooms hold one visit per 30-minute block; every third room two per hour (two chairs).
              ...rooms.map((id, i) =>
                i % 3 === 2
                  ? { resource: 'room' as const, id, capacity: 2, blockMinutes: 60 }
                  : { resource: 'room' as const, id, capacity: 1, blockMinutes: 30 },
              ),
              // Equipment per day: a sonography unit for 6 visits, a procedure kit for 4.
              ...equipment.map((id) => ({ resource: 'equipment' as const, id, capacity: id.startsWith('sono') ? 6 : 4, blockMinutes: 1440 })),
            ],
          },
        }
      : {}),
  };
}

/** The absence day: the displaced patients (most must-place) and the open slots of one location. */
export function heldOutAbsenceDay(seed: number, displaced = 30, slots = 1000, mustPlace = 22): OptimizationInstance {
  const base = heldOutInstance({ seed, candidates: displaced, slots, locations: 1, reach: 'clinic', sideConstraints: true });
  return { ...base, candidates: base.candidates.map((c, i) => (i < mustPlace ? { ...c, mustPlace: true } : c)) };
}

/**
 * More must-place candidates than one location's narrow windows can hold: no assignment places all of
 * them (the count placed is the optimum to match), plus optional waitlisters.
 */
export function heldOutInfeasibleMustPlace(seed: number): OptimizationInstance {
  const base = heldOutInstance({ seed, candidates: 160, slots: 240, locations: 1, reach: 'clinic', sideConstraints: true });
  const firstDay = base.slots.filter((s) => s.start.startsWith('2027-03-22')).map((s) => s.start);
  const lastStart = firstDay.sort().at(-1)!;
  return {
    ...base,
    candidates: base.candidates.map((c, i) =>
      i < 70 ? { ...c, mustPlace: true, earliest: '2027-03-22T00:00:00+01:00', latest: lastStart, clinicalDeadline: undefined, providerIds: undefined } : c,
    ),
  };
}

export interface HeldOutCase {
  label: string;
  make: () => OptimizationInstance;
  /** Part of the default bench run (the others need --large). */
  small?: boolean;
  /** Warm-up and measured warm runs for ours (latency-sensitive and target rows). */
  warmRuns?: number;
}

/** The family as benchmarked and stored with reference optima. */
export const HELD_OUT_CASES: HeldOutCase[] = [
  { label: 'held-out absence day 30 x 1,000 side, 22 must-place', make: () => heldOutAbsenceDay(101), small: true, warmRuns: 20 },
  {
    label: 'held-out must-place negative scores 200 x 600 side',
    make: () =>
      heldOutInstance({
        seed: 102,
        candidates: 200,
        slots: 600,
        locations: 2,
        reach: 'practice',
        sideConstraints: true,
        mustPlaceShare: 0.4,
        negativeScores: true,
      }),
    small: true,
    warmRuns: 3,
  },
  { label: 'held-out infeasible must-place 160 x 240 side', make: () => heldOutInfeasibleMustPlace(103), small: true, warmRuns: 3 },
  {
    label: 'held-out practice-wide 500 x 2,000 side',
    make: () => heldOutInstance({ seed: 104, candidates: 500, slots: 2000, locations: 4, reach: 'practice', sideConstraints: true }),
    small: true,
    warmRuns: 3,
  },
  {
    label: 'held-out pure 1,000 x 5,000',
    make: () => heldOutInstance({ seed: 105, candidates: 1000, slots: 5000, locations: 6, reach: 'practice', sideConstraints: false }),
    warmRuns: 3,
  },
  {
    label: 'held-out practice-wide 1,000 x 5,000 side',
    make: () => heldOutInstance({ seed: 106, candidates: 1000, slots: 5000, locations: 6, reach: 'practice', sideConstraints: true }),
    warmRuns: 3,
  },
  {
    label: 'held-out clinic-structured 1,000 x 5,000 side',
    make: () => heldOutInstance({ seed: 107, candidates: 1000, slots: 5000, locations: 6, reach: 'clinic', sideConstraints: true }),
    warmRuns: 3,
  },
];
