import { IANAZone } from 'luxon';
import type { ScoreWeights, ValidOptimizationInstance } from './schema';
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
export interface AssignmentModel {
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
  return lowerBound(sorted, startMs, latest + 1) - lowerBound(sorted, startMs, earliest);
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
  // Zone offsets are looked up once per 15-minute UTC bucket (offset changes happen on such boundaries):
  // luxon's zone arithmetic per slot dominated model building at 15,000 slots.
  const zone = IANAZone.create(timeZone);
  const offsetCache = new Map<number, number>();
  for (let s = 0; s < S; s++) {
    const slot = slots[s]!;
    const startMs = Date.parse(slot.start);
    const bucket = Math.floor(startMs / 900000);
    let offsetMin = offsetCache.get(bucket);
    if (offsetMin === undefined) offsetCache.set(bucket, (offsetMin = zone.offset(startMs)));
    const local = new Date(startMs + offsetMin * 60000);
    slotFacts[s] = { startMs, endMs: Date.parse(slot.end), localDate: local.toISOString().slice(0, 10), partOfDay: partOfDay(local.getUTCHours()) };
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
  const pc: number[] = [];
  const ps: number[] = [];
  const sc: number[] = [];
  const facts: PairFacts = { urgency: 0, daysWaiting: 0, continuity: false, timeOfDayMatch: true, earliness: 0, noShowRisk: 0 };

  for (let c = 0; c < C; c++) {
    const cand = candidates[c]!;
    urgency[c] = urgencyLevel(cand.urgency);
    mustPlace[c] = cand.mustPlace ? 1 : 0;
    if (!byType.has(cand.appointmentType)) {
      noPairCause[c] = 'NO_SLOT_OF_TYPE';
      continue;
    }
    const earliest = cand.earliest ? Date.parse(cand.earliest) : -Infinity;
    let latest = cand.latest ? Date.parse(cand.latest) : Infinity;
    if (cand.clinicalDeadline) latest = Math.min(latest, Date.parse(cand.clinicalDeadline));
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
        if (providers && !providers.has(slot.providerId)) continue;
        if (locations && (slot.locationId === undefined || !locations.has(slot.locationId))) continue;
        allowed++;
        const f = slotFacts[s]!;
        facts.continuity = cand.preferredProviderId !== undefined && cand.preferredProviderId === slot.providerId;
        facts.timeOfDayMatch = pref === undefined || pref === f.partOfDay;
        facts.earliness = 1 - (f.startMs - horizonStartMs) / horizonSpanMs;
        const score = pairScore(facts, weights);
        // An optional candidate is only worth placing where the score is positive; must-place ones anywhere.
        if (score <= 0 && !cand.mustPlace) continue;
        pc.push(c);
        ps.push(s);
        sc.push(score);
        added++;
      }
    }
    if (added === 0) noPairCause[c] = inWindow === 0 ? 'NO_SLOT_IN_WINDOW' : allowed === 0 ? 'NO_ALLOWED_PROVIDER_OR_LOCATION' : 'NO_POSITIVE_SCORE';
  }

  const pairCand = Int32Array.from(pc);
  const pairSlot = Int32Array.from(ps);
  const pairScores = Float64Array.from(sc);
  const constraints = buildSideConstraints(instance, slotFacts, urgency, pairCand, pairSlot);

  // CSR index pair -> constraints.
  const P = pairCand.length;
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
  const pairsBySlot: number[][] = slots.map(() => []);
  for (let p = 0; p < pairSlot.length; p++) pairsBySlot[pairSlot[p]!]!.push(p);

  const addGroup = (label: string, cap: number, pairs: number[], wholeSlots?: number[]): void => {
    if (pairs.length === 0) return;
    // Redundant when fewer distinct slots (or candidates) than the cap can ever be chosen.
    const distinctSlots = new Set<number>();
    const distinctCands = new Set<number>();
    for (const p of pairs) {
      distinctSlots.add(pairSlot[p]!);
      distinctCands.add(pairCand[p]!);
    }
    if (Math.min(distinctSlots.size, distinctCands.size) <= cap) return;
    out.push({ label, cap, pairs: Int32Array.from(pairs), ...(wholeSlots ? { slots: Int32Array.from(new Set(wholeSlots)) } : {}) });
  };

  for (const cap of spec.providerDayCaps ?? []) {
    const providers = cap.providerIds && cap.providerIds.length > 0 ? new Set(cap.providerIds) : undefined;
    const minMs = (cap.minMinutes ?? 40) * 60000;
    const threshold = cap.urgencyAtLeast ?? 8;
    const groups = new Map<string, { pairs: number[]; slots: number[] }>();
    for (let s = 0; s < slots.length; s++) {
      const slot = slots[s]!;
      if (providers && !providers.has(slot.providerId)) continue;
      const f = slotFacts[s]!;
      if (cap.kind === 'long' && f.endMs - f.startMs < minMs) continue;
      const key = `${slot.providerId} ${f.localDate}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { pairs: [], slots: [] }));
      g.slots.push(s);
      for (const p of pairsBySlot[s]!) if (cap.kind === 'long' || urgency[pairCand[p]!]! >= threshold) g.pairs.push(p);
    }
    // Long-visit caps hold every pair of their slots; urgent caps only the urgent candidates' pairs.
    for (const [key, g] of groups) addGroup(`${cap.kind} visits per provider-day <= ${cap.max} (${key})`, cap.max, g.pairs, cap.kind === 'long' ? g.slots : undefined);
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
    const groups = new Map<number, { pairs: number[]; slots: number[] }>();
    for (const s of slotsUsing.get(`${res.resource}\u0000${res.id}`) ?? []) {
      const f = slotFacts[s]!;
      for (let b = Math.floor(f.startMs / blockMs); b <= Math.floor((f.endMs - 1) / blockMs); b++) {
        let g = groups.get(b);
        if (!g) groups.set(b, (g = { pairs: [], slots: [] }));
        g.slots.push(s);
        for (const p of pairsBySlot[s]!) g.pairs.push(p);
      }
    }
    for (const [b, g] of groups) {
      const at = new Date(b * blockMs).toISOString();
      addGroup(`${res.resource} ${res.id} capacity ${res.capacity} per ${res.blockMinutes ?? 60} min (block ${at})`, res.capacity, g.pairs, g.slots);
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
  };
}
