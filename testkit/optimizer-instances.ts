import { DateTime } from 'luxon';
import type { OptimizationInstance } from '../domain/optimizer';

/** Seeded PRNG (mulberry32): the same seed gives the same instance on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratorOptions {
  candidates: number;
  slots: number;
  sideConstraints: boolean;
  seed: number;
  /** Slots per clinic (a clinic is the natural independent unit); default 800, i.e. about 20 providers x 1 week. */
  slotsPerClinic?: number;
  /** Share of candidates that must be placed (displaced patients). */
  mustPlaceShare?: number;
}

const TYPES = [
  { code: 'FU', minutes: 20 },
  { code: 'NP', minutes: 45 },
  { code: 'PROC', minutes: 60 },
] as const;
const ZONE = 'America/New_York';
const MONDAY = DateTime.fromISO('2026-12-07T00:00:00', { zone: ZONE });

/**
 * Sparse, clinic-structured random instances: providers offer two of three appointment types, 8 slots a day
 * for 5 days; candidates want one type at one clinic within a 1-4 day window (1-6 % of all slots eligible).
 * With side constraints: urgent visits <= 1 and long visits <= 2 per provider-day, shared rooms with
 * capacity 1 per hour, and 1 ultrasound machine per clinic for PROC visits.
 */
export function generateInstance(o: GeneratorOptions): OptimizationInstance {
  const rnd = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const slotsPerClinic = o.slotsPerClinic ?? 800;
  const clinics = Math.max(1, Math.round(o.slots / slotsPerClinic));
  const slots: OptimizationInstance['slots'] = [];
  const providersOf: { id: string; types: string[] }[][] = Array.from({ length: clinics }, () => []);
  let p = 0;
  while (slots.length < o.slots) {
    const clinic = p % clinics;
    const local = providersOf[clinic]!.length;
    const providerId = `p${p}`;
    const first = Math.floor(rnd() * 3);
    const types = [TYPES[first]!.code, TYPES[(first + 1 + Math.floor(rnd() * 2)) % 3]!.code];
    providersOf[clinic]!.push({ id: providerId, types });
    const room = `c${clinic}-r${Math.floor(local * 0.5)}`;
    for (let day = 0; day < 5 && slots.length < o.slots; day++) {
      for (let hour = 8; hour < 16 && slots.length < o.slots; hour++) {
        const code = pick(types);
        const type = TYPES.find((t) => t.code === code)!;
        const start = MONDAY.plus({ days: day, hours: hour });
        slots.push({
          id: `s${slots.length}`,
          providerId,
          start: start.toISO()!,
          end: start.plus({ minutes: type.minutes }).toISO()!,
          appointmentType: code,
          locationId: `c${clinic}`,
          room,
          ...(code === 'PROC' ? { equipment: [`us-c${clinic}`] } : {}),
        });
      }
    }
    p++;
  }

  const candidates: OptimizationInstance['candidates'] = [];
  for (let i = 0; i < o.candidates; i++) {
    const clinic = Math.floor(rnd() * clinics);
    const code = pick(TYPES).code;
    const offering = providersOf[clinic]!.filter((pr) => pr.types.includes(code));
    const r = rnd();
    const urgency = r < 0.12 ? 'urgent' : r < 0.35 ? 'soon' : 'routine';
    const startDay = Math.floor(rnd() * 4);
    const days = 1 + Math.floor(rnd() * 4);
    const earliest = MONDAY.plus({ days: startDay });
    const restrict = rnd() < 0.3 && offering.length > 0;
    candidates.push({
      id: `r${i}`,
      appointmentType: code,
      locationIds: [`c${clinic}`],
      ...(restrict ? { providerIds: [pick(offering).id, pick(offering).id] } : {}),
      earliest: earliest.toISO()!,
      latest: earliest.plus({ days }).toISO()!,
      ...(urgency === 'urgent' ? { clinicalDeadline: earliest.plus({ days: 2 }).toISO()! } : {}),
      urgency,
      daysWaiting: Math.floor(rnd() * 120),
      ...(rnd() < 0.5 && offering.length > 0 ? { preferredProviderId: pick(offering).id } : {}),
      timeOfDay: pick(['morning', 'afternoon', 'any', 'any'] as const),
      noShowRisk: Math.round(rnd() * 50) / 100,
      ...(o.mustPlaceShare && rnd() < o.mustPlaceShare ? { mustPlace: true } : {}),
    });
  }

  return {
    timeZone: ZONE,
    slots,
    candidates,
    ...(o.sideConstraints
      ? {
          constraints: {
            providerDayCaps: [
              { kind: 'urgent' as const, max: 1 },
              { kind: 'long' as const, max: 2, minMinutes: 40 },
            ],
            resourceCapacity: [
              ...Array.from({ length: clinics }, (_, c) => ({ resource: 'equipment' as const, id: `us-c${c}`, capacity: 1, blockMinutes: 60 })),
              ...[...new Set(slots.map((s) => s.room!))].map((room) => ({ resource: 'room' as const, id: room, capacity: 1, blockMinutes: 60 })),
            ],
          },
        }
      : {}),
  };
}

/** The provider-absence day: displaced patients (all must-place) and the compatible open slots of one clinic. */
export function absenceInstance(seed: number, displaced = 30, slots = 1000): OptimizationInstance {
  const base = generateInstance({ candidates: displaced, slots, sideConstraints: true, seed, slotsPerClinic: slots });
  return { ...base, candidates: base.candidates.map((c) => ({ ...c, mustPlace: true })) };
}

/** One freed slot and the waitlist for its type: the backfill case. */
export function freedSlotInstance(seed: number, waitlist = 500): OptimizationInstance {
  const base = generateInstance({ candidates: waitlist, slots: 40, sideConstraints: false, seed, slotsPerClinic: 40 });
  const slot = base.slots[0]!;
  return {
    ...base,
    slots: [slot],
    candidates: base.candidates.map((c) => ({
      ...c,
      appointmentType: slot.appointmentType,
      locationIds: [slot.locationId!],
      providerIds: undefined,
      earliest: undefined,
      latest: undefined,
      clinicalDeadline: undefined,
    })),
  };
}
