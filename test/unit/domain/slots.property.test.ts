import fc from 'fast-check';
import { DateTime } from 'luxon';
import { generateSlots, resolveLocalEndTime, resolveLocalTime, weekdays, type WeeklyHours } from '../../../domain';
import { appointmentType, provider, typeMap } from '../../fixtures/domain/builders';

/**
 * DST zones (incl. a 30-minute shift and transitions at midnight) and zones without DST, each with
 * 2026 transition days (its own, or another zone's for the zones without DST): ranges cover one.
 */
const ZONE_TRANSITIONS: Record<string, string[]> = {
  'America/New_York': ['2026-03-08', '2026-11-01'],
  'Europe/Berlin': ['2026-03-29', '2026-10-25'],
  'Europe/London': ['2026-03-29', '2026-10-25'],
  'Australia/Sydney': ['2026-04-05', '2026-10-04'],
  'Australia/Lord_Howe': ['2026-04-05', '2026-10-04'],
  'America/Santiago': ['2026-04-05', '2026-09-06'],
  'America/Havana': ['2026-03-08', '2026-11-01'],
  'America/Phoenix': ['2026-03-08', '2026-11-01'],
  'Asia/Kolkata': ['2026-03-29', '2026-10-25'],
  'Asia/Tokyo': ['2026-03-08', '2026-11-01'],
  UTC: ['2026-03-29'],
};

const clock = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/**
 * One day's blocks: sorted distinct boundaries taken in pairs, so blocks never overlap in wall time
 * (what the provider schema demands). Boundaries favour the small hours, where transitions happen.
 */
const dayBlocks = fc
  .uniqueArray(
    fc.oneof(
      fc.integer({ min: 0, max: 20 }).map((q) => q * 15),
      fc.integer({ min: 0, max: 96 }).map((q) => q * 15),
    ),
    {
      minLength: 0,
      maxLength: 6,
    },
  )
  .map((marks) => {
    const sorted = [...marks].sort((a, b) => a - b);
    const blocks: { start: string; end: string }[] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) blocks.push({ start: clock(sorted[i]!), end: clock(sorted[i + 1]!) });
    return blocks;
  });

const weeklyHours = fc
  .tuple(...weekdays.map(() => dayBlocks))
  .map((days): WeeklyHours[] => days.flatMap((blocks, i) => blocks.map((b) => ({ day: weekdays[i]!, ...b }))));

const scenario = fc.constantFrom(...Object.entries(ZONE_TRANSITIONS)).chain(([zone, days]) =>
  fc.record({
    zone: fc.constant(zone),
    weeklyHours,
    slotMinutes: fc.constantFrom(15, 20, 30, 45, 60, 90),
    transitionDay: fc.constantFrom(...days),
    /** The range starts this long before the transition day's local midnight ... */
    leadMinutes: fc.integer({ min: 0, max: 36 * 60 }),
    /** ... and is this long, so it mostly covers the transition. */
    lengthMinutes: fc.integer({ min: 60, max: 3 * 24 * 60 }),
  }),
);

function rangeOf(s: { zone: string; transitionDay: string; leadMinutes: number; lengthMinutes: number }) {
  const from = DateTime.fromISO(s.transitionDay, { zone: s.zone }).startOf('day').minus({ minutes: s.leadMinutes }).toUTC();
  return { from, to: from.plus({ minutes: s.lengthMinutes }) };
}

describe('generateSlots properties', () => {
  it('slots of a provider never overlap, no instant appears twice, each lasts slotMinutes and lies in [from, to)', () => {
    const types = typeMap([appointmentType('short', 15)]);
    fc.assert(
      fc.property(scenario, (s) => {
        const p = provider({ appointmentTypes: ['short'], weeklyHours: s.weeklyHours, slotMinutes: s.slotMinutes });
        const { from, to } = rangeOf(s);
        const slots = generateSlots({ clinic: { clinicId: 'clinic-1', timeZone: s.zone }, provider: p, appointmentTypes: types, from, to });

        const spans = slots.map((slot) => ({ start: Date.parse(slot.start), end: Date.parse(slot.end), slot }));
        for (let i = 0; i < spans.length; i++) {
          const { start, end, slot } = spans[i]!;
          expect(end - start).toBe(s.slotMinutes * 60_000);
          expect(start).toBeGreaterThanOrEqual(from.toMillis());
          expect(start).toBeLessThan(to.toMillis());
          // The printed offset is the zone's real offset at that instant (no invented wall time).
          const real = DateTime.fromMillis(start, { zone: s.zone });
          expect(slot.start).toBe(real.toISO({ suppressMilliseconds: true }));
          if (i > 0) expect(spans[i - 1]!.end).toBeLessThanOrEqual(start);
        }
        expect(new Set(spans.map((x) => x.start)).size).toBe(spans.length);
        expect(new Set(slots.map((x) => x.slotId)).size).toBe(slots.length);
      }),
      { numRuns: 40, seed: 20260308 },
    );
  });

  it('every generated slot lies inside a weekly block (clinic-local wall time) of its day', () => {
    const types = typeMap([appointmentType('short', 15)]);
    fc.assert(
      fc.property(scenario, (s) => {
        const p = provider({ appointmentTypes: ['short'], weeklyHours: s.weeklyHours, slotMinutes: s.slotMinutes });
        const slots = generateSlots({ clinic: { clinicId: 'clinic-1', timeZone: s.zone }, provider: p, appointmentTypes: types, ...rangeOf(s) });
        for (const slot of slots) {
          const local = DateTime.fromISO(slot.start, { setZone: true });
          const minute = local.hour * 60 + local.minute;
          const day = weekdays[local.weekday - 1];
          // On fall-back the repeated hour shows earlier wall times (01:00 EST after 01:30 EDT): allow up to the shift (1 h).
          const inside = s.weeklyHours.some((b) => b.day === day && minute >= toMinutes(b.start) - 60 && minute < toMinutes(b.end));
          expect(inside).toBe(true);
        }
      }),
      { numRuns: 25, seed: 20261101 },
    );
  });

  it('dense blocks around a DST transition (ends inside the gap, starts just after) never give overlapping slots', () => {
    // Transition days (all Sundays) and the local minute the clocks change.
    const cases: [zone: string, day: string, atMinute: number][] = [
      ['America/New_York', '2026-03-08', 120],
      ['America/New_York', '2026-11-01', 120],
      ['Europe/Berlin', '2026-03-29', 120],
      ['Europe/Berlin', '2026-10-25', 180],
      ['Australia/Lord_Howe', '2026-10-04', 120],
      ['Australia/Lord_Howe', '2026-04-05', 120],
      ['America/Santiago', '2026-09-06', 0],
      ['America/Havana', '2026-03-08', 0],
    ];
    const types = typeMap([appointmentType('short', 15)]);
    fc.assert(
      fc.property(
        fc.constantFrom(...cases),
        fc.uniqueArray(fc.integer({ min: -4, max: 12 }), { minLength: 2, maxLength: 8 }),
        fc.constantFrom(15, 20, 30, 45, 60),
        ([zone, day, atMinute], quarterMarks, slotMinutes) => {
          const marks = [...new Set(quarterMarks.map((q) => Math.max(0, atMinute + q * 15)))].sort((a, b) => a - b);
          const blocks: WeeklyHours[] = [];
          for (let i = 0; i + 1 < marks.length; i += 2) blocks.push({ day: 'sun', start: clock(marks[i]!), end: clock(marks[i + 1]!) });
          const p = provider({ appointmentTypes: ['short'], weeklyHours: blocks, slotMinutes });
          const from = DateTime.fromISO(day, { zone }).startOf('day').minus({ hours: 6 });
          const slots = generateSlots({
            clinic: { clinicId: 'clinic-1', timeZone: zone },
            provider: p,
            appointmentTypes: types,
            from,
            to: from.plus({ days: 2 }),
          });
          const spans = slots.map((x) => [Date.parse(x.start), Date.parse(x.end)] as const);
          for (let i = 1; i < spans.length; i++) expect(spans[i - 1]![1]).toBeLessThanOrEqual(spans[i]![0]);
        },
      ),
      { numRuns: 150, seed: 20260329 },
    );
  });

  it('resolveLocalTime matches a reference that compares formatted wall times, and block ends never come after starts', () => {
    /** Reference: of the readings with the offsets a day before and after, the earliest whose wall time is the one asked for. */
    const reference = (date: DateTime, minutes: number, zone: string): number => {
      const naive = DateTime.fromObject({ year: date.year, month: date.month, day: date.day }, { zone: 'utc' }).plus({ minutes });
      const offsets = [-1, 1].map((d) => DateTime.fromMillis(naive.toMillis() + d * 86_400_000, { zone }).offset);
      const wall = naive.toFormat("yyyy-MM-dd'T'HH:mm");
      const hits = offsets.map((o) => naive.minus({ minutes: o }).setZone(zone)).filter((dt) => dt.toFormat("yyyy-MM-dd'T'HH:mm") === wall);
      return hits.length > 0 ? Math.min(...hits.map((h) => h.toMillis())) : naive.minus({ minutes: offsets[0]! }).toMillis();
    };
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.entries(ZONE_TRANSITIONS)),
        fc.integer({ min: -3, max: 3 }),
        fc.integer({ min: 0, max: 96 }).map((q) => q * 15),
        fc.integer({ min: 0, max: 96 }).map((q) => q * 15),
        ([zone, days], shift, a, b) => {
          const date = DateTime.fromISO(days[0]!, { zone }).plus({ days: shift });
          expect(resolveLocalTime(date, a, zone).toMillis()).toBe(reference(date, a, zone));
          // A block [x, y) with x < y: its end is never after the start of a block beginning at y or later.
          const [x, y] = a < b ? [a, b] : [b, a];
          expect(resolveLocalEndTime(date, x, zone) <= resolveLocalTime(date, y, zone)).toBe(true);
        },
      ),
      { numRuns: 150, seed: 1101 },
    );
  });
});

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}
