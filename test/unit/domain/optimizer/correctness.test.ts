import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GLPK } from 'glpk.js/node';
import fc from 'fast-check';
import { instantMs } from '../../../../domain/optimizer/schema';
import {
  buildModel,
  optimizeAssignment,
  OptimizerInputError,
  parseInstance,
  provideGlpk,
  type GlpkWasm,
  type OptimizationInstance,
} from '../../../../domain/optimizer';
import { generateInstance, prng } from '../../../../testkit/optimizer-instances';
import type { CliIo } from '../../../../scripts/cli';
import { main } from '../../../../scripts/optimize';
import { glpkForJest, glpkWasmForJest } from './glpk-for-jest';

const at = (day: string, hhmm: string): string => `${day}T${hhmm}:00Z`;
const DAY = '2026-12-07';

function slot(id: string, providerId: string, start: string, minutes = 30, extra: Partial<OptimizationInstance['slots'][number]> = {}) {
  const s = Date.parse(start);
  return { id, providerId, start, end: new Date(s + minutes * 60000).toISOString(), appointmentType: 'FU', ...extra };
}

/** Exhaustive search over the eligible pairs: lexicographic (must-place count, then score). */
function bruteForce(instance: OptimizationInstance): { must: number; score: number } {
  const model = buildModel(parseInstance(instance));
  const C = model.instance.candidates.length;
  const byCand: number[][] = Array.from({ length: C }, () => []);
  for (let p = 0; p < model.pairCand.length; p++) byCand[model.pairCand[p]!]!.push(p);
  const slotUsed = new Set<number>();
  const used = new Int32Array(model.constraints.length);
  let best = { must: -1, score: -Infinity };
  const visit = (c: number, must: number, score: number): void => {
    if (c === C) {
      if (must > best.must || (must === best.must && score > best.score + 1e-9)) best = { must, score };
      return;
    }
    visit(c + 1, must, score);
    for (const p of byCand[c]!) {
      const s = model.pairSlot[p]!;
      if (slotUsed.has(s)) continue;
      const ks: number[] = [];
      for (let i = model.consStart[p]!; i < model.consStart[p + 1]!; i++) ks.push(model.consIndex[i]!);
      if (ks.some((k) => used[k]! >= model.constraints[k]!.cap)) continue;
      slotUsed.add(s);
      for (const k of ks) used[k]!++;
      visit(c + 1, must + model.mustPlace[c]!, score + model.pairScore[p]!);
      slotUsed.delete(s);
      for (const k of ks) used[k]!--;
    }
  };
  visit(0, 0, 0);
  return best;
}

let glpk: GLPK;
beforeAll(async () => {
  glpk = await glpkForJest();
});

describe('must-place semantics', () => {
  // Scores: continuity 20, no-show risk 15 (risk 1), nothing else. A: 5 with drA (preferred), -15 with drB. B: drA only, -15.
  const weights = { base: 0, urgency: 0, waiting: 0, continuity: 20, timeOfDay: 0, promptness: 0, noShowRisk: 15 };
  const twoNegative: OptimizationInstance = {
    slots: [slot('a1', 'drA', at(DAY, '09:00')), slot('b1', 'drB', at(DAY, '09:00'))],
    candidates: [
      { id: 'A', appointmentType: 'FU', preferredProviderId: 'drA', noShowRisk: 1, mustPlace: true },
      { id: 'B', appointmentType: 'FU', providerIds: ['drA'], noShowRisk: 1, mustPlace: true },
    ],
    weights,
  };

  test('two must-place candidates with negative scores are both placed when that is feasible, whatever the scores', async () => {
    const result = await optimizeAssignment(twoNegative);
    expect(result.mustPlace).toMatchObject({ total: 2, placed: 2 });
    expect(result.status).toBe('optimal');
    expect(result.objective).toBeCloseTo(-30, 6);
    expect(Object.fromEntries(result.assignments.map((a) => [a.candidateId, a.slotId]))).toEqual({ A: 'b1', B: 'a1' });
  });

  test('matches brute force on small instances whose must-place candidates have negative scores', async () => {
    for (let seed = 1; seed <= 120; seed++) {
      const rnd = prng(seed);
      const nSlots = 2 + Math.floor(rnd() * 5);
      const slots = Array.from({ length: nSlots }, (_, i) =>
        slot(`s${i}`, `p${Math.floor(rnd() * 3)}`, at(DAY, `${String(8 + Math.floor(rnd() * 4)).padStart(2, '0')}:00`), rnd() < 0.4 ? 45 : 20, {
          room: `r${Math.floor(rnd() * 2)}`,
        }),
      );
      const candidates = Array.from({ length: 1 + Math.floor(rnd() * 5) }, (_, i) => ({
        id: `c${i}`,
        appointmentType: 'FU',
        ...(rnd() < 0.5 ? { providerIds: [`p${Math.floor(rnd() * 3)}`] } : {}),
        ...(rnd() < 0.5 ? { preferredProviderId: `p${Math.floor(rnd() * 3)}` } : {}),
        urgency: Math.floor(rnd() * 11),
        noShowRisk: Math.round(rnd() * 100) / 100,
        mustPlace: rnd() < 0.6,
      }));
      const instance: OptimizationInstance = {
        slots,
        candidates,
        weights: { base: 1, urgency: 10, continuity: 25, noShowRisk: 40 },
        constraints: { resourceCapacity: [{ resource: 'room', id: 'r0', capacity: 1 }], providerDayCaps: [{ kind: 'long', max: 1 }] },
      };
      const bf = bruteForce(instance);
      const result = await optimizeAssignment(instance, { timeLimitMs: 10_000 });
      const must = candidates.filter((c) => c.mustPlace).length;
      expect({ seed, placed: result.mustPlace.placed }).toEqual({ seed, placed: Math.max(bf.must, 0) });
      expect(result.objective).toBeCloseTo(bf.score, 3);
      expect(result.status).toBe(bf.must < must ? 'infeasible' : 'optimal');
      expect(result.mustPlaceInfeasible).toBe(bf.must < must);
    }
  });

  test('infeasible says which must-place candidate cannot be placed and why', async () => {
    const instance: OptimizationInstance = {
      slots: [slot('only', 'drA', at(DAY, '09:00'))],
      candidates: [
        { id: 'd1', appointmentType: 'FU', mustPlace: true, urgency: 'urgent' },
        { id: 'd2', appointmentType: 'FU', mustPlace: true },
      ],
    };
    const result = await optimizeAssignment(instance);
    expect(result.status).toBe('infeasible');
    expect(result.mustPlace).toEqual({ total: 2, placed: 1 });
    expect(result.mustPlaceInfeasible).toBe(true);
    expect(result.unassigned).toEqual([expect.objectContaining({ candidateId: 'd2', mustPlace: true, code: 'SLOTS_TAKEN' })]);
    expect(result.unassigned[0]!.reason).toMatch(/must-place/);
  });

  test('no slots and a must-place candidate: infeasible, not empty', async () => {
    const result = await optimizeAssignment({ slots: [], candidates: [{ id: 'd', appointmentType: 'FU', mustPlace: true }] });
    expect(result.status).toBe('infeasible');
    expect(result.mustPlace).toEqual({ total: 1, placed: 0 });
    expect(result.mustPlaceInfeasible).toBe(true);
    expect(result.unassigned).toEqual([expect.objectContaining({ candidateId: 'd', code: 'NO_SLOT_OF_TYPE' })]);
    const optionalOnly = await optimizeAssignment({ slots: [], candidates: [{ id: 'w', appointmentType: 'FU' }] });
    expect(optionalOnly.status).toBe('empty');
  });

  test('infeasible only with the rest proven optimal; a time-limited rest keeps its own status and the flag', async () => {
    const base = generateInstance({ candidates: 120, slots: 480, sideConstraints: true, seed: 12, slotsPerClinic: 240 });
    const instance = { ...base, candidates: [...base.candidates, { id: 'nowhere', appointmentType: 'NONE', mustPlace: true }] };
    const seen = new Set<string>();
    for (const limit of [2, 4, 6, 9, 12, 18, 25, 40, 60, 1e9]) {
      let t = 0;
      const result = await optimizeAssignment(instance, { timeLimitMs: limit, now: () => t++ });
      seen.add(result.status);
      expect(result.mustPlaceInfeasible).toBe(true);
      if (result.status === 'infeasible') expect(result.gap).toBe(0);
      else expect(['feasible-with-gap', 'greedy-fallback']).toContain(result.status);
    }
    expect(seen.has('infeasible')).toBe(true);
  });
});

describe('input validation', () => {
  const valid = (start: string) => ({ slots: [{ id: 's', providerId: 'p', appointmentType: 'FU', start, end: '2030-01-01T00:00:00Z' }], candidates: [] });
  const issuesOf = (value: unknown): string[] => {
    try {
      parseInstance(value);
    } catch (e) {
      if (e instanceof OptimizerInputError) return e.issues.map((i) => `${i.path}: ${i.message}`);
      throw e;
    }
    return [];
  };

  test('impossible calendar dates and times are rejected, naming the field', () => {
    for (const bad of [
      '2026-02-30T09:00:00Z',
      '2026-02-29T09:00:00Z',
      '2026-04-31T09:00:00+02:00',
      '2026-13-01T09:00:00Z',
      '2026-12-07T24:00:00Z',
      '2026-12-07T09:60:00Z',
      '2026-12-07T09:00:60Z',
      '2026-12-07T09:00:00+24:00',
    ]) {
      expect({ bad, issues: issuesOf(valid(bad)) }).toEqual({ bad, issues: [expect.stringMatching(/^slots\[0\]\.start: .*calendar/)] });
    }
    expect(issuesOf(valid('2028-02-29T09:00:00Z'))).toEqual([]);
    expect(issuesOf({ slots: [], candidates: [{ id: 'c', appointmentType: 'FU', clinicalDeadline: '2026-02-30T00:00:00Z' }] })).toEqual([
      expect.stringMatching(/^candidates\[0\]\.clinicalDeadline: /),
    ]);
  });

  test('instantMs equals Date.parse on every real calendar instant (offsets, fractions, leap days)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        fc.constantFrom('', '.5', '.123', '.123456789'),
        (d, offsetMin, fraction) => {
          const local = new Date(d.getTime() + offsetMin * 60000).toISOString().slice(0, 19);
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          const text = `${local}${fraction}${offsetMin === 0 && fraction === '' ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`}`;
          expect(instantMs(text)).toBe(Date.parse(text));
        },
      ),
      { numRuns: 2000 },
    );
    expect(instantMs('2028-02-29T23:59:59.999Z')).toBe(Date.parse('2028-02-29T23:59:59.999Z'));
    expect(instantMs('2026-02-30T09:00:00Z')).toBeNaN();
  });

  test('every bad field gets its line (no cap at 20)', () => {
    const candidates = Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, appointmentType: 'FU', noShowRisk: 2 }));
    expect(issuesOf({ slots: [], candidates })).toHaveLength(30);
  });

  test('an unknown top-level key is an error (a typo would silently drop constraints)', () => {
    expect(issuesOf({ slots: [], candidates: [], constraint: { providerDayCaps: [] } })).toEqual([expect.stringMatching(/constraint/)]);
  });
});

describe('cause codes', () => {
  test('a clinical deadline before earliest, with provider or location restrictions: NO_SLOT_IN_WINDOW', async () => {
    const instance: OptimizationInstance = {
      // 11:00 lies between the deadline and earliest: a window count that subtracts the two goes negative.
      slots: ['09:00', '11:00', '15:00'].map((hhmm, i) => slot(`s${i}`, 'drA', at(DAY, hhmm), 30, { locationId: 'main' })),
      candidates: [
        { id: 'byProvider', appointmentType: 'FU', providerIds: ['drA'], earliest: at(DAY, '12:00'), clinicalDeadline: at(DAY, '10:00') },
        { id: 'byLocation', appointmentType: 'FU', locationIds: ['main'], earliest: at(DAY, '12:00'), clinicalDeadline: at(DAY, '10:00') },
        { id: 'none', appointmentType: 'FU', earliest: at(DAY, '12:00'), clinicalDeadline: at(DAY, '10:00') },
      ],
    };
    const result = await optimizeAssignment(instance);
    expect(Object.fromEntries(result.unassigned.map((u) => [u.candidateId, u.code]))).toEqual({
      byProvider: 'NO_SLOT_IN_WINDOW',
      byLocation: 'NO_SLOT_IN_WINDOW',
      none: 'NO_SLOT_IN_WINDOW',
    });
  });
});

describe('resource blocks', () => {
  test('blocks are aligned to midnight UTC also when blockMinutes does not divide a day', async () => {
    // 2026-12-07 00:00 UTC is minute 29,417,760 since the epoch: epoch-aligned 100-minute blocks would start at 00:40.
    const instance: OptimizationInstance = {
      slots: [slot('a', 'drA', at(DAY, '00:10'), 20, { room: 'r1' }), slot('b', 'drB', at(DAY, '00:50'), 20, { room: 'r1' })],
      candidates: [
        { id: 'c1', appointmentType: 'FU' },
        { id: 'c2', appointmentType: 'FU' },
      ],
      constraints: { resourceCapacity: [{ resource: 'room', id: 'r1', capacity: 1, blockMinutes: 100 }] },
    };
    const model = buildModel(parseInstance(instance));
    expect(model.constraints.map((k) => k.label)).toEqual([expect.stringContaining(`block ${DAY}T00:00:00.000Z`)]);
    const result = await optimizeAssignment(instance);
    expect(result.assignments).toHaveLength(1);
  });
});

describe('time limit', () => {
  test('a solver that overruns the time it is given still leaves the answer within the limit', async () => {
    // A fake clock: every glpk call advances it by 1.3x the time limit glpk was handed (a solver that overshoots by 30 %),
    // every other reading by 1 ms.
    let t = 0;
    const solve = ((lp: Parameters<GLPK['solve']>[0], options?: Parameters<GLPK['solve']>[1]) => {
      const res = glpk.solve(lp, options);
      const tmlim = typeof options === 'object' && options.tmlim !== undefined ? options.tmlim : 0;
      t += 1300 * tmlim;
      return res;
    }) as GLPK['solve'];
    const overrunning: GLPK = { ...glpk, solve };
    // The incremental restricted LP calls GLPK's C API directly: the same overrun there.
    const api = glpkWasmForJest(glpk);
    const overrunningApi: GlpkWasm = {
      ...api,
      simplex: (p, msgLev, tmLimMs, presolve) => {
        const rc = api.simplex(p, msgLev, tmLimMs, presolve);
        t += 1.3 * tmLimMs;
        return rc;
      },
    };
    provideGlpk(overrunning, overrunningApi);
    try {
      const instance = generateInstance({ candidates: 200, slots: 800, sideConstraints: true, seed: 21, slotsPerClinic: 400 });
      for (const limit of [50, 200, 1000, 5000]) {
        t = 0;
        const result = await optimizeAssignment(instance, { timeLimitMs: limit, now: () => (t += 1) });
        expect({ limit, within: result.solveMs <= limit }).toEqual({ limit, within: true });
      }
    } finally {
      provideGlpk(glpk);
    }
  });
});

describe('npm run optimize', () => {
  const capture = (): { io: CliIo; out: () => string; err: () => string } => {
    let out = '';
    let err = '';
    return { io: { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) } }, out: () => out, err: () => err };
  };

  test('--out writes the result to a file (stdout stays free of npm banners), usage names npm run -s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optimize-out-'));
    const file = join(dir, 'in.json');
    const out = join(dir, 'out.json');
    writeFileSync(file, JSON.stringify({ slots: [slot('s', 'p', at(DAY, '09:00'))], candidates: [{ id: 'c', appointmentType: 'FU' }] }));
    const c = capture();
    expect(await main([file, '--greedy', '--out', out], c.io)).toBe(0);
    expect(c.out()).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ assignments: [{ candidateId: 'c', slotId: 's' }] });
    const help = capture();
    expect(await main(['--help'], help.io)).toBe(64);
    expect(help.err()).toMatch(/npm run -s optimize/);
  });

  test('an impossible date is an input error naming the field (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optimize-date-'));
    const file = join(dir, 'in.json');
    writeFileSync(
      file,
      JSON.stringify({
        slots: [slot('s', 'p', at(DAY, '09:00')), { ...slot('t', 'p', at(DAY, '09:00')), start: '2026-02-30T09:00:00Z', end: '2026-02-30T09:30:00Z' }],
        candidates: [],
      }),
    );
    const c = capture();
    expect(await main([file], c.io)).toBe(2);
    expect(c.err()).toMatch(/slots\[1\]\.start/);
  });
});
