import { IANAZone } from 'luxon';
import { instantMs, type ScoreWeights, type ValidOptimizationInstance } from './schema';
import { DEFAULT_WEIGHTS, pairScore, urgencyLevel, type PairFacts } from './scoring';

/** Why a candidate has no eligible pair at all (reported as the unassigned reason). */
export type NoPairCause = 'NO_SLOT_OF_TYPE' | 'NO_SLOT_IN_WINDOW' | 'NO_ALLOWED_PROVIDER_OR_LOCATION' | 'NO_POSITIVE_SCORE';

/** A side constraint: at most `cap` of `pairs` may be chosen. */
export interface SideConstraint {
  label: string;
  cap: number;
  pairs: Int32Array;
  /**
   * Set when the constraint holds every pair of these slots (resource capacity, long visits): with cap 1 it
   * is a group of slots of which at most one is used, which the solver can treat as a single column.
   */
  slots?: Int32Array;
}

/** Slot facts precomputed once per instance. */
export interface SlotFacts {
  startMs: number;
  endMs: number;
  localDate: string;
  partOfDay: 'morning' | 'afternoon' | 'evening';
}

/**
 * The eligible (candidate, slot) pairs of an instance, with scores and side constraints: the only variables
 * any solver sees. Arrays are indexed by pair number; candidates and slots by their position in the instance.
 */
/**
 * What the solvers need of a model: plain numbers, typed arrays and constraint caps, so it can be sent to
 * another thread (structured clone) and solved there.
 */
export interface SolverModel {
  candidateCount: number;
  slotCount: number;
  mustPlace: Uint8Array; // per candidate
  pairCand: Int32Array;
  pairSlot: Int32Array;
  pairScore: Float64Array;
  constraints: { cap: number; pairs: Int32Array; slots?: Int32Array }[];
  /** CSR: constraints containing pair p are consIndex[consStart[p] .. consStart[p+1]). */
  consStart: Int32Array;
  consIndex: Int32Array;
}

/** The solver's part of a model, without the instance and labels (for another thread). */
export function solverModelOf(model: SolverModel): SolverModel {
  return {
    candidateCount: model.candidateCount,
    slotCount: model.slotCount,
    mustPlace: model.mustPlace,
    pairCand: model.pairCand,
    pairSlot: model.pairSlot,
    pairScore: model.pairScore,
    constraints: model.constraints.map((k) => (k.slots ? { cap: k.cap, pairs: k.pairs, slots: k.slots } : { cap: k.cap, pairs: k.pairs })),
    consStart: model.consStart,
    consIndex: model.consIndex,
  };
}

export interface AssignmentModel extends SolverModel {
  instance: ValidOptimizationInstance;
  weights: ScoreWeights;
  timeZone: string;
  slotFacts: SlotFacts[];
  urgency: Float64Array; // per candidate, 0..10
  mustPlace: Uint8Array; // per candidate
  pairCand: Int32Array;
  pairSlot: Int32Array;
  pairScore: Float64Array;
  constraints: SideConstraint[];
  /** CSR: constraints containing pair p are consIndex[consStart[p] .. consStart[p+1]). */
  consStart: Int32Array;
  consIndex: Int32Array;
  noPairCause: (NoPairCause | undefined)[];
  horizonStartMs: number;
  horizonSpanMs: number;
}

function partOfDay(hour: number): SlotFacts['partOfDay'] {
  if (hour < 12) return 'morning';
  if (hour < 17) return 'afternoon';
  return 'evening';
}

function countInWindow(sorted: number[], startMs: Float64Array, earliest: number, latest: number): number {
  // An empty window (a clinical deadline before earliest) holds nothing; the difference would go negative.
  if (latest < earliest) return 0;
  return lowerBound(sorted, startMs, latest + 1) - lowerBound(sorted, startMs, earliest);
}

const DAY_MS = 86_400_000;

/** Offset (minutes) per 15-minute UTC bucket, per zone; each map starts over at OFFSET_CACHE_SIZE buckets (about 5 years). */
const OFFSET_CACHE_SIZE = 200_000;
const offsetCaches = new Map<string, Map<number, number>>();
function offsetCacheOf(timeZone: string): Map<number, number> {
  let cache = offsetCaches.get(timeZone);
  if (!cache) {
    if (offsetCaches.size >= 64) offsetCaches.clear();
    offsetCaches.set(timeZone, (cache = new Map()));
  } else if (cache.size >= OFFSET_CACHE_SIZE) cache.clear();
  return cache;
}

/**
 * Resource blocks start at midnight UTC every day: block k of day d covers [d + k*len, min(d + (k+1)*len,
 * next midnight)). Numbered d * blocksPerDay + k, so a slot's blocks are the consecutive numbers from
 * that of its start to that of its last millisecond, also across midnight.
 */
export function resourceBlockOf(ms: number, blockMs: number): number {
  const blocksPerDay = Math.ceil(DAY_MS / blockMs);
  const day = Math.floor(ms / DAY_MS);
  return day * blocksPerDay + Math.floor((ms - day * DAY_MS) / blockMs);
}

/** Start (ms since the epoch) of a block numbered by resourceBlockOf. */
export function resourceBlockStart(block: number, blockMs: number): number {
  const blocksPerDay = Math.ceil(DAY_MS / blockMs);
  const day = Math.floor(block / blocksPerDay);
  return day * DAY_MS + (block - day * blocksPerDay) * blockMs;
}

function lowerBound(sorted: number[], startMs: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (startMs[sorted[mid]!]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Builds the eligible pairs, their scores and the non-redundant side constraints of a validated instance. */
export function buildModel(instance: ValidOptimizationInstance): AssignmentModel {
  const weights: ScoreWeights = { ...DEFAULT_WEIGHTS, ...(instance.weights ?? {}) };
  const timeZone = instance.timeZone ?? 'UTC';
  const slots = instance.slots;
  const candidates = instance.candidates;
  const S = slots.length;
  const C = candidates.length;

  const slotStart = new Float64Array(S);
  const slotFacts: SlotFacts[] = new Array<SlotFacts>(S);
  let horizonStartMs = Infinity;
  let horizonEndMs = -Infinity;
  // Zone offsets are looked up once per 15-minute UTC bucket (offset changes happen on such boundaries) and
  // zone, for the life of the thread (they never change for a given instant): luxon's lookup
  // (Intl formatToParts) was most of model building for a 30 x 1,000 absence day.
  const zone = IANAZone.create(timeZone);
  const offsetCache = offsetCacheOf(timeZone);
  const dateOfDay = new Map<number, string>();
  for (let s = 0; s < S; s++) {
    const slot = slots[s]!;
    const startMs = instantMs(slot.start);
    const bucket = Math.floor(startMs / 900000);
    let offsetMin = offsetCache.get(bucket);
    if (offsetMin === undefined) offsetCache.set(bucket, (offsetMin = zone.offset(startMs)));
    const localMs = startMs + offsetMin * 60000;
    const day = Math.floor(localMs / 86400000);
    let localDate = dateOfDay.get(day);
    if (localDate === undefined) dateOfDay.set(day, (localDate = new Date(day * 86400000).toISOString().slice(0, 10)));
    const hour = Math.floor((localMs - day * 86400000) / 3600000);
    slotFacts[s] = { startMs, endMs: instantMs(slot.end), localDate, partOfDay: partOfDay(hour) };
    slotStart[s] = startMs;
    horizonStartMs = Math.min(horizonStartMs, startMs);
    horizonEndMs = Math.max(horizonEndMs, startMs);
  }
  const horizonSpanMs = S > 0 ? Math.max(horizonEndMs - horizonStartMs, 1) : 1;

  // Slot lists by type, by type+provider and by type+location, each sorted by start: a candidate scans only
  // the lists its restrictions allow, from its earliest start on.
  const byType = new Map<string, number[]>();
  const index = (key: string, s: number): void => {
    let list = byType.get(key);
    if (!list) byType.set(key, (list = []));
    list.push(s);
  };
  for (let s = 0; s < S; s++) {
    const slot = slots[s]!;
    index(slot.appointmentType, s);
    index(`${slot.appointmentType}\u0000p\u0000${slot.providerId}`, s);
    if (slot.locationId !== undefined) index(`${slot.appointmentType}\u0000l\u0000${slot.locationId}`, s);
  }
  for (const list of byType.values()) list.sort((a, b) => slotStart[a]! - slotStart[b]! || a - b);

  const urgency = new Float64Array(C);
  const mustPlace = new Uint8Array(C);
  const noPairCause: (NoPairCause | undefined)[] = new Array<NoPairCause | undefined>(C).fill(undefined);
  let pc = new Int32Array(1024);
  let ps = new Int32Array(1024);
  let sc = new Float64Array(1024);
  let P = 0;
  const facts: PairFacts = { urgency: 0, daysWaiting: 0, continuity: false, timeOfDayMatch: true, earliness: 0, noShowRisk: 0, daysGained: 0 };

  for (let c = 0; c < C; c++) {
    const cand = candidates[c]!;
    urgency[c] = urgencyLevel(cand.urgency);
    mustPlace[c] = cand.mustPlace ? 1 : 0;
    if (!byType.has(cand.appointmentType)) {
      noPairCause[c] = 'NO_SLOT_OF_TYPE';
      continue;
    }
    const earliest = cand.earliest ? instantMs(cand.earliest) : -Infinity;
    let latest = cand.latest ? instantMs(cand.latest) : Infinity;
    if (cand.clinicalDeadline) latest = Math.min(latest, instantMs(cand.clinicalDeadline));
    // A move-up only takes a slot that starts before the appointment it holds.
    const currentMs = cand.currentStart ? instantMs(cand.currentStart) : undefined;
    if (currentMs !== undefined) latest = Math.min(latest, currentMs - 1);
    const providers = cand.providerIds && cand.providerIds.length > 0 ? new Set(cand.providerIds) : undefined;
    const locations = cand.locationIds && cand.locationIds.length > 0 ? new Set(cand.locationIds) : undefined;
    const pref = cand.timeOfDay && cand.timeOfDay !== 'any' ? cand.timeOfDay : undefined;
    facts.urgency = urgency[c]!;
    facts.daysWaiting = cand.daysWaiting ?? 0;
    facts.noShowRisk = cand.noShowRisk ?? 0;
    let inWindow = 0;
    let allowed = 0;
    let added = 0;
    const lists = providers
      ? [...providers].map((p) => byType.get(`${cand.appointmentType}\u0000p\u0000${p}`) ?? [])
      : locations
        ? [...locations].map((l) => byType.get(`${cand.appointmentType}\u0000l\u0000${l}`) ?? [])
        : [byType.get(cand.appointmentType)!];
    // With restrictions, a slot outside them counts towards "in window" only via the type list; count it separately.
    if (providers || locations) inWindow = countInWindow(byType.get(cand.appointmentType)!, slotStart, earliest, latest);
    for (const list of lists) {
      for (let i = lowerBound(list, slotStart, earliest); i < list.length; i++) {
        const s = list[i]!;
        if (slotStart[s]! > latest) break;
        if (!providers && !locations) inWindow++;
        const slot = slots[s]!;
        // The lists already hold only allowed providers (or, without providers, allowed locations).
        if (providers && locations && (slot.locationId === undefined || !locations.has(slot.locationId))) continue;
        allowed++;
        const f = slotFacts[s]!;
        facts.continuity = cand.preferredProviderId !== undefined && cand.preferredProviderId === slot.providerId;
        facts.timeOfDayMatch = pref === undefined || pref === f.partOfDay;
        facts.earliness = 1 - (f.startMs - horizonStartMs) / horizonSpanMs;
        facts.daysGained = currentMs !== undefined ? Math.max(0, (currentMs - f.startMs) / DAY_MS) : 0;
        const score = pairScore(facts, weights);
        // An optional candidate is only worth placing where the score is positive; must-place ones anywhere.
        if (score <= 0 && !cand.mustPlace) continue;
        if (P === pc.length) {
          const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
            const b = make(a.length * 2);
            b.set(a);
            return b;
          };
          pc = grow(pc, (k) => new Int32Array(k));
          ps = grow(ps, (k) => new Int32Array(k));
          sc = grow(sc, (k) => new Float64Array(k));
        }
        pc[P] = c;
        ps[P] = s;
        sc[P++] = score;
        added++;
      }
    }
    if (added === 0) noPairCause[c] = inWindow === 0 ? 'NO_SLOT_IN_WINDOW' : allowed === 0 ? 'NO_ALLOWED_PROVIDER_OR_LOCATION' : 'NO_POSITIVE_SCORE';
  }

  const pairCand = pc.slice(0, P);
  const pairSlot = ps.slice(0, P);
  const pairScores = sc.slice(0, P);
  const constraints = buildSideConstraints(instance, slotFacts, urgency, pairCand, pairSlot);

  // CSR index pair -> constraints.
  const counts = new Int32Array(P + 1);
  for (const k of constraints) for (const p of k.pairs) counts[p + 1]!++;
  for (let p = 0; p < P; p++) counts[p + 1]! += counts[p]!;
  const consStart = counts;
  const consIndex = new Int32Array(consStart[P]!);
  const fill = consStart.slice(0, P);
  constraints.forEach((k, ki) => {
    for (const p of k.pairs) consIndex[fill[p]!++] = ki;
  });

  return {
    candidateCount: C,
    slotCount: S,
    instance,
    weights,
    timeZone,
    slotFacts,
    urgency,
    mustPlace,
    pairCand,
    pairSlot,
    pairScore: pairScores,
    constraints,
    consStart,
    consIndex,
    noPairCause,
    horizonStartMs,
    horizonSpanMs,
  };
}

function buildSideConstraints(
  instance: ValidOptimizationInstance,
  slotFacts: SlotFacts[],
  urgency: Float64Array,
  pairCand: Int32Array,
  pairSlot: Int32Array,
): SideConstraint[] {
  const slots = instance.slots;
  const out: SideConstraint[] = [];
  const spec = instance.constraints;
  if (!spec) return out;
  // Pairs by slot (CSR, ascending pair numbers within a slot).
  const S = slots.length;
  const P = pairSlot.length;
  const slotPairStart = new Int32Array(S + 1);
  for (let p = 0; p < P; p++) slotPairStart[pairSlot[p]! + 1]!++;
  for (let i = 0; i < S; i++) slotPairStart[i + 1]! += slotPairStart[i]!;
  const slotPairs = new Int32Array(P);
  const fill = slotPairStart.slice(0, S);
  for (let p = 0; p < P; p++) slotPairs[fill[pairSlot[p]!]!++] = p;

  // Distinct slots and candidates of a group, counted with stamps (no per-group sets).
  const slotStamp = new Int32Array(S).fill(-1);
  const candStamp = new Int32Array(instance.candidates.length).fill(-1);
  let stamp = 0;
  const buffer: number[] = [];
  const wholeBuffer: number[] = [];
  /**
   * "At most cap of the pairs in these slots" (only urgent candidates' pairs when urgencyAtLeast is given,
   * otherwise every pair of the slots: then the slots are recorded for slot groups).
   */
  const addGroup = (label: () => string, cap: number, groupSlots: number[], urgencyAtLeast?: number): void => {
    stamp++;
    buffer.length = 0;
    wholeBuffer.length = 0;
    let distinctSlots = 0;
    for (const s of groupSlots) {
      if (slotStamp[s] === stamp) continue;
      slotStamp[s] = stamp;
      wholeBuffer.push(s);
      let any = false;
      for (let i = slotPairStart[s]!; i < slotPairStart[s + 1]!; i++) {
        const p = slotPairs[i]!;
        if (urgencyAtLeast !== undefined && urgency[pairCand[p]!]! < urgencyAtLeast) continue;
        buffer.push(p);
        any = true;
      }
      if (any) distinctSlots++;
    }
    // Redundant when fewer distinct slots (or candidates) than the cap can ever be chosen.
    if (distinctSlots <= cap) return;
    let distinctCands = 0;
    for (const p of buffer) {
      const c = pairCand[p]!;
      if (candStamp[c] !== stamp) {
        candStamp[c] = stamp;
        distinctCands++;
      }
    }
    if (distinctCands <= cap) return;
    out.push({ label: label(), cap, pairs: Int32Array.from(buffer), ...(urgencyAtLeast === undefined ? { slots: Int32Array.from(wholeBuffer) } : {}) });
  };

  for (const cap of spec.providerDayCaps ?? []) {
    const providers = cap.providerIds && cap.providerIds.length > 0 ? new Set(cap.providerIds) : undefined;
    const minMs = (cap.minMinutes ?? 40) * 60000;
    const threshold = cap.urgencyAtLeast ?? 8;
    const groups = new Map<string, number[]>();
    for (let s = 0; s < S; s++) {
      const slot = slots[s]!;
      if (providers && !providers.has(slot.providerId)) continue;
      const f = slotFacts[s]!;
      if (cap.kind === 'long' && f.endMs - f.startMs < minMs) continue;
      const key = `${slot.providerId} ${f.localDate}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(s);
    }
    // Long-visit caps hold every pair of their slots; urgent caps only the urgent candidates' pairs.
    for (const [key, g] of groups) {
      addGroup(() => `${cap.kind} visits per provider-day <= ${cap.max} (${key})`, cap.max, g, cap.kind === 'urgent' ? threshold : undefined);
    }
  }

  const slotsUsing = new Map<string, number[]>();
  const uses = (key: string, s: number): void => {
    let list = slotsUsing.get(key);
    if (!list) slotsUsing.set(key, (list = []));
    list.push(s);
  };
  slots.forEach((slot, s) => {
    if (slot.room !== undefined) uses(`room\u0000${slot.room}`, s);
    for (const e of new Set(slot.equipment ?? [])) uses(`equipment\u0000${e}`, s);
  });
  for (const res of spec.resourceCapacity ?? []) {
    const blockMs = (res.blockMinutes ?? 60) * 60000;
    const groups = new Map<number, number[]>();
    for (const s of slotsUsing.get(`${res.resource}\u0000${res.id}`) ?? []) {
      const f = slotFacts[s]!;
      for (let b = resourceBlockOf(f.startMs, blockMs); b <= resourceBlockOf(f.endMs - 1, blockMs); b++) {
        let g = groups.get(b);
        if (!g) groups.set(b, (g = []));
        g.push(s);
      }
    }
    for (const [b, g] of groups) {
      addGroup(
        () =>
          `${res.resource} ${res.id} capacity ${res.capacity} per ${res.blockMinutes ?? 60} min (block ${new Date(resourceBlockStart(b, blockMs)).toISOString()})`,
        res.capacity,
        g,
      );
    }
  }
  return out;
}

/** Pair facts for explanations (recomputed for chosen pairs only). */
export function pairFacts(model: AssignmentModel, c: number, s: number): PairFacts {
  const cand = model.instance.candidates[c]!;
  const slot = model.instance.slots[s]!;
  const f = model.slotFacts[s]!;
  const pref = cand.timeOfDay && cand.timeOfDay !== 'any' ? cand.timeOfDay : undefined;
  return {
    urgency: model.urgency[c]!,
    daysWaiting: cand.daysWaiting ?? 0,
    continuity: cand.preferredProviderId !== undefined && cand.preferredProviderId === slot.providerId,
    timeOfDayMatch: pref === undefined || pref === f.partOfDay,
    earliness: 1 - (f.startMs - model.horizonStartMs) / model.horizonSpanMs,
    noShowRisk: cand.noShowRisk ?? 0,
    daysGained: cand.currentStart ? Math.max(0, (instantMs(cand.currentStart) - f.startMs) / DAY_MS) : 0,
  };
}
