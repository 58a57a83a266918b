import { DateTime } from 'luxon';
import {
  DomainError,
  ErrorCode,
  findSlot,
  freeSlots,
  generateSlots,
  isDomainError,
  longerThanDays,
  MAX_SLOT_RANGE_DAYS,
  parseSlotId,
  resolveLocalEndTime,
  resolveLocalTime,
  slotIdFor,
  slotMinutesOf,
  slotStartMs,
  SlotGenerationMemo,
  type Provider,
  type Slot,
  type WeeklyHours,
} from '../../../domain';
import { appointmentType, at, NY, provider, typeMap } from '../../fixtures/domain/builders';

const clinicIn = (timeZone: string) => ({ clinicId: 'clinic-1', timeZone });
const thirty = typeMap([appointmentType('checkup', 30)]);

/** A provider with 30-minute checkups and the given weekly hours. */
function providerWith(weeklyHours: WeeklyHours[], extra: Partial<Provider> = {}): Provider {
  return provider({ appointmentTypes: ['checkup'], weeklyHours, ...extra });
}

/** Generates the slots of `p` in `zone` for the clinic-local day `date` (and nothing else). */
function slotsOnDay(zone: string, p: Provider, date: string, types = thirty): Slot[] {
  const from = DateTime.fromISO(date, { zone }).startOf('day');
  return generateSlots({ clinic: clinicIn(zone), provider: p, appointmentTypes: types, from, to: from.plus({ days: 1 }) });
}

const starts = (slots: Slot[]) => slots.map((s) => s.start);

function expectCode(fn: () => unknown, code: ErrorCode): DomainError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe(code);
    return e as DomainError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/** Slots sorted by instant: each ends no later than the next starts, and no instant appears twice. */
function expectNoOverlap(slots: Slot[]): void {
  const sorted = [...slots].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  for (let i = 1; i < sorted.length; i++) {
    expect(Date.parse(sorted[i - 1]!.end)).toBeLessThanOrEqual(Date.parse(sorted[i]!.start));
  }
  expect(new Set(slots.map((s) => Date.parse(s.start))).size).toBe(slots.length);
  expect(new Set(slots.map((s) => s.slotId)).size).toBe(slots.length);
}

describe('resolveLocalTime', () => {
  const day = (date: string, zone: string) => DateTime.fromISO(date, { zone });

  it('uses the first occurrence of an ambiguous fall-back time', () => {
    expect(resolveLocalTime(day('2026-11-01', NY), 90, NY).toISO()).toBe('2026-11-01T01:30:00.000-04:00');
    expect(resolveLocalTime(day('2026-10-25', 'Europe/Berlin'), 150, 'Europe/Berlin').toISO()).toBe('2026-10-25T02:30:00.000+02:00');
  });

  it('reads a time in a spring-forward gap with the offset before the gap (RFC 5545)', () => {
    expect(resolveLocalTime(day('2026-03-08', NY), 150, NY).toISO()).toBe('2026-03-08T03:30:00.000-04:00');
    expect(resolveLocalTime(day('2026-03-29', 'Europe/Berlin'), 135, 'Europe/Berlin').toISO()).toBe('2026-03-29T03:15:00.000+02:00');
  });

  it('resolves ordinary times, midnight and 24:00', () => {
    expect(resolveLocalTime(day('2026-03-08', NY), 0, NY).toISO()).toBe('2026-03-08T00:00:00.000-05:00');
    expect(resolveLocalTime(day('2026-03-08', NY), 24 * 60, NY).toISO()).toBe('2026-03-09T00:00:00.000-04:00');
    expect(resolveLocalTime(day('2026-07-01', 'Asia/Kolkata'), 9 * 60 + 15, 'Asia/Kolkata').toISO()).toBe('2026-07-01T09:15:00.000+05:30');
  });

  it('ends a block that ends inside a spring-forward gap at the end of the gap', () => {
    expect(resolveLocalEndTime(day('2026-03-08', NY), 150, NY).toISO()).toBe('2026-03-08T03:00:00.000-04:00');
    expect(resolveLocalEndTime(day('2026-03-29', 'Europe/Berlin'), 150, 'Europe/Berlin').toISO()).toBe('2026-03-29T03:00:00.000+02:00');
    // Lord Howe moves by 30 minutes (02:00 +10:30 -> 02:30 +11:00).
    expect(resolveLocalEndTime(day('2026-10-04', 'Australia/Lord_Howe'), 135, 'Australia/Lord_Howe').toISO()).toBe('2026-10-04T02:30:00.000+11:00');
    // Outside a gap it is resolveLocalTime.
    expect(resolveLocalEndTime(day('2026-11-01', NY), 90, NY).toISO()).toBe('2026-11-01T01:30:00.000-04:00');
    expect(resolveLocalEndTime(day('2026-03-08', NY), 240, NY).toISO()).toBe('2026-03-08T04:00:00.000-04:00');
  });
});

describe('generateSlots across DST in America/New_York', () => {
  it('spring-forward (2026-03-08): a 00:00-04:00 block skips the missing hour', () => {
    const slots = slotsOnDay(NY, providerWith([{ day: 'sun', start: '00:00', end: '04:00' }]), '2026-03-08');
    expect(starts(slots)).toEqual([
      '2026-03-08T00:00:00-05:00',
      '2026-03-08T00:30:00-05:00',
      '2026-03-08T01:00:00-05:00',
      '2026-03-08T01:30:00-05:00',
      '2026-03-08T03:00:00-04:00',
      '2026-03-08T03:30:00-04:00',
    ]);
    // The slot across the gap lasts 30 real minutes: 01:30 EST to 03:00 EDT.
    expect(slots[3]!.end).toBe('2026-03-08T03:00:00-04:00');
    expectNoOverlap(slots);
  });

  it('fall-back (2026-11-01): a 00:00-04:00 block has the repeated hour twice, with different offsets, never the same instant', () => {
    const slots = slotsOnDay(NY, providerWith([{ day: 'sun', start: '00:00', end: '04:00' }]), '2026-11-01');
    expect(starts(slots)).toEqual([
      '2026-11-01T00:00:00-04:00',
      '2026-11-01T00:30:00-04:00',
      '2026-11-01T01:00:00-04:00',
      '2026-11-01T01:30:00-04:00',
      '2026-11-01T01:00:00-05:00',
      '2026-11-01T01:30:00-05:00',
      '2026-11-01T02:00:00-05:00',
      '2026-11-01T02:30:00-05:00',
      '2026-11-01T03:00:00-05:00',
      '2026-11-01T03:30:00-05:00',
    ]);
    expectNoOverlap(slots);
  });

  it('overnight-ish blocks (sat 22:00-24:00 + sun 00:00-03:00) across fall-back form one gapless run of 6 real hours', () => {
    const p = providerWith([
      { day: 'sat', start: '22:00', end: '24:00' },
      { day: 'sun', start: '00:00', end: '03:00' },
    ]);
    const slots = generateSlots({
      clinic: clinicIn(NY),
      provider: p,
      appointmentTypes: thirty,
      from: at('2026-10-31T12:00:00Z'),
      to: at('2026-11-02T00:00:00Z'),
    });
    expect(slots).toHaveLength(12);
    expect(slots[0]!.start).toBe('2026-10-31T22:00:00-04:00');
    expect(slots[11]!.end).toBe('2026-11-01T03:00:00-05:00');
    for (let i = 1; i < slots.length; i++) expect(Date.parse(slots[i]!.start)).toBe(Date.parse(slots[i - 1]!.end));
    expectNoOverlap(slots);
  });

  it('overnight-ish blocks across spring-forward lose exactly the missing hour', () => {
    const p = providerWith([
      { day: 'sat', start: '22:00', end: '24:00' },
      { day: 'sun', start: '00:00', end: '03:00' },
    ]);
    const slots = generateSlots({
      clinic: clinicIn(NY),
      provider: p,
      appointmentTypes: thirty,
      from: at('2026-03-07T12:00:00Z'),
      to: at('2026-03-09T00:00:00Z'),
    });
    // 22:00 EST to 03:00 EDT is 4 real hours.
    expect(slots).toHaveLength(8);
    expect(slots.map((s) => s.start)).not.toContain('2026-03-08T02:00:00-05:00');
    expect(slots[7]!.end).toBe('2026-03-08T03:00:00-04:00');
    expectNoOverlap(slots);
  });

  it('an ambiguous block start (01:30 on fall-back) means the first occurrence', () => {
    const slots = slotsOnDay(NY, providerWith([{ day: 'sun', start: '01:30', end: '03:00' }]), '2026-11-01');
    expect(starts(slots)).toEqual([
      '2026-11-01T01:30:00-04:00',
      '2026-11-01T01:00:00-05:00',
      '2026-11-01T01:30:00-05:00',
      '2026-11-01T02:00:00-05:00',
      '2026-11-01T02:30:00-05:00',
    ]);
  });

  it('a block starting in the spring-forward gap (02:30) starts after the gap and invents no time', () => {
    const slots = slotsOnDay(NY, providerWith([{ day: 'sun', start: '02:30', end: '04:00' }]), '2026-03-08');
    expect(starts(slots)).toEqual(['2026-03-08T03:30:00-04:00']);
  });

  it('blocks ending in the gap and starting after it do not overlap (45-minute slots)', () => {
    const p = providerWith(
      [
        { day: 'sun', start: '00:00', end: '02:30' },
        { day: 'sun', start: '03:00', end: '04:00' },
      ],
      { slotMinutes: 45 },
    );
    const slots = slotsOnDay(NY, p, '2026-03-08');
    expectNoOverlap(slots);
    expect(starts(slots)).toEqual(['2026-03-08T00:00:00-05:00', '2026-03-08T00:45:00-05:00', '2026-03-08T03:00:00-04:00']);
  });

  it('an ordinary weekday is unaffected by DST and uses the day offset', () => {
    const slots = slotsOnDay(NY, provider(), '2026-03-09', typeMap());
    expect(slots).toHaveLength(14);
    expect(slots[0]!.start).toBe('2026-03-09T09:00:00-04:00');
    expect(slots.at(-1)!.end).toBe('2026-03-09T17:00:00-04:00');
  });
});

describe('generateSlots across DST in Europe/Berlin', () => {
  const p = providerWith([{ day: 'sun', start: '01:00', end: '04:00' }]);

  it('spring-forward (2026-03-29, 02:00 CET -> 03:00 CEST)', () => {
    expect(starts(slotsOnDay('Europe/Berlin', p, '2026-03-29'))).toEqual([
      '2026-03-29T01:00:00+01:00',
      '2026-03-29T01:30:00+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-29T03:30:00+02:00',
    ]);
  });

  it('fall-back (2026-10-25, 03:00 CEST -> 02:00 CET)', () => {
    const slots = slotsOnDay('Europe/Berlin', p, '2026-10-25');
    expect(starts(slots)).toEqual([
      '2026-10-25T01:00:00+02:00',
      '2026-10-25T01:30:00+02:00',
      '2026-10-25T02:00:00+02:00',
      '2026-10-25T02:30:00+02:00',
      '2026-10-25T02:00:00+01:00',
      '2026-10-25T02:30:00+01:00',
      '2026-10-25T03:00:00+01:00',
      '2026-10-25T03:30:00+01:00',
    ]);
    expectNoOverlap(slots);
  });
});

describe('generateSlots in zones without DST', () => {
  const night = providerWith([{ day: 'sun', start: '00:00', end: '04:00' }]);

  it.each(['2026-03-08', '2026-11-01'])('America/Phoenix keeps -07:00 and 8 slots on the US transition day %s', (date) => {
    const slots = slotsOnDay('America/Phoenix', night, date);
    expect(slots).toHaveLength(8);
    expect(slots.every((s) => s.start.endsWith('-07:00') && s.end.endsWith('-07:00'))).toBe(true);
    expect(slots[0]!.start).toBe(`${date}T00:00:00-07:00`);
  });

  it('Asia/Kolkata uses +05:30', () => {
    const slots = slotsOnDay('Asia/Kolkata', providerWith([{ day: 'mon', start: '09:00', end: '10:00' }]), '2026-03-30');
    expect(slots.map((s) => [s.start, s.end])).toEqual([
      ['2026-03-30T09:00:00+05:30', '2026-03-30T09:30:00+05:30'],
      ['2026-03-30T09:30:00+05:30', '2026-03-30T10:00:00+05:30'],
    ]);
    expect(slots[0]!.slotId).toBe('prov-1.20260330T0330');
  });

  it('Asia/Tokyo uses +09:00 on the European transition day', () => {
    expect(starts(slotsOnDay('Asia/Tokyo', night, '2026-03-29'))).toHaveLength(8);
    expect(slotsOnDay('Asia/Tokyo', night, '2026-03-29')[0]!.start).toBe('2026-03-29T00:00:00+09:00');
  });
});

describe('generateSlots: exceptions, types and slot length', () => {
  const week = { from: at('2026-03-02T05:00:00Z'), to: at('2026-03-07T05:00:00Z') };

  it('skips a holiday (clinic-local date) entirely', () => {
    const p = provider({ exceptions: [{ kind: 'holiday', date: '2026-03-03' }] });
    const slots = generateSlots({ clinic: clinicIn(NY), provider: p, appointmentTypes: typeMap(), ...week });
    expect(slots.some((s) => s.start.startsWith('2026-03-03'))).toBe(false);
    expect(slots.filter((s) => s.start.startsWith('2026-03-04'))).toHaveLength(14);
    expect(slots).toHaveLength(4 * 14);
  });

  it('drops every slot an absence touches, even partly', () => {
    const p = provider({ exceptions: [{ kind: 'absence', from: '2026-03-04T10:00:00-05:00', to: '2026-03-04T11:15:00-05:00' }] });
    const wed = starts(slotsOnDay(NY, p, '2026-03-04', typeMap()));
    expect(wed).toEqual(expect.arrayContaining(['2026-03-04T09:00:00-05:00', '2026-03-04T09:30:00-05:00', '2026-03-04T11:30:00-05:00']));
    for (const gone of ['10:00', '10:30', '11:00']) expect(wed).not.toContain(`2026-03-04T${gone}:00-05:00`);
    expect(wed).toHaveLength(11);
  });

  it('an absence spanning days removes them all', () => {
    const p = provider({ exceptions: [{ kind: 'absence', from: '2026-03-03T00:00:00-05:00', to: '2026-03-05T00:00:00-05:00' }] });
    const slots = generateSlots({ clinic: clinicIn(NY), provider: p, appointmentTypes: typeMap(), ...week });
    expect(slots.some((s) => s.start.startsWith('2026-03-03') || s.start.startsWith('2026-03-04'))).toBe(false);
    expect(slots).toHaveLength(3 * 14);
  });

  it('restricts a block to its appointmentTypes; other blocks offer all of the provider types', () => {
    const p = provider({
      weeklyHours: [
        { day: 'mon', start: '09:00', end: '10:00', appointmentTypes: ['followup'] },
        { day: 'mon', start: '10:00', end: '11:00' },
      ],
    });
    const slots = slotsOnDay(NY, p, '2026-03-02', typeMap());
    expect(slots.map((s) => [s.start.slice(11, 16), s.appointmentTypes])).toEqual([
      ['09:00', ['followup']],
      ['09:30', ['followup']],
      ['10:00', ['checkup', 'followup']],
      ['10:30', ['checkup', 'followup']],
    ]);
  });

  it('a block listing a type the provider does not offer yields no slots for it', () => {
    const p = provider({ weeklyHours: [{ day: 'mon', start: '09:00', end: '10:00', appointmentTypes: ['long'] }] });
    expect(slotsOnDay(NY, p, '2026-03-02', typeMap())).toEqual([]);
  });

  it('slot length defaults to the longest of the provider types', () => {
    const p = provider({ appointmentTypes: ['checkup', 'long'], weeklyHours: [{ day: 'mon', start: '09:00', end: '12:00' }] });
    expect(slotMinutesOf(p, typeMap())).toBe(60);
    const slots = slotsOnDay(NY, p, '2026-03-02', typeMap());
    expect(slots.map((s) => [s.start.slice(11, 16), s.end.slice(11, 16)])).toEqual([
      ['09:00', '10:00'],
      ['10:00', '11:00'],
      ['11:00', '12:00'],
    ]);
    expect(slots[0]!.appointmentTypes).toEqual(['checkup', 'long']);
  });

  it('an explicit slot length wins, and types longer than a slot are not offered in it', () => {
    const p = provider({ slotMinutes: 15, weeklyHours: [{ day: 'mon', start: '09:00', end: '10:00' }] });
    expect(slotMinutesOf(p, typeMap())).toBe(15);
    const slots = slotsOnDay(NY, p, '2026-03-02', typeMap());
    expect(slots).toHaveLength(4);
    expect(slots.every((s) => s.appointmentTypes.join() === 'followup')).toBe(true);
  });

  it('drops the tail of a block shorter than one slot', () => {
    const p = provider({ weeklyHours: [{ day: 'mon', start: '09:00', end: '10:15' }] });
    expect(starts(slotsOnDay(NY, p, '2026-03-02', typeMap()))).toEqual(['2026-03-02T09:00:00-05:00', '2026-03-02T09:30:00-05:00']);
  });
});

describe('generateSlots: ids, output and range', () => {
  const input = { clinic: clinicIn(NY), provider: provider(), appointmentTypes: typeMap(), from: at('2026-03-02T00:00:00Z'), to: at('2026-03-16T00:00:00Z') };

  it('is deterministic: the same input gives the same slots and ids', () => {
    const a = generateSlots(input);
    const b = generateSlots({ ...input, provider: provider(), appointmentTypes: typeMap() });
    expect(a).toEqual(b);
    expect(a.length).toBe(10 * 14);
  });

  it('slot ids are provider + UTC start and round-trip through parseSlotId', () => {
    const slots = generateSlots(input);
    expect(slots[0]!.slotId).toBe('prov-1.20260302T1400');
    for (const s of slots) {
      const { providerId, startUtc } = parseSlotId(s.slotId);
      expect(providerId).toBe('prov-1');
      expect(startUtc.toMillis()).toBe(Date.parse(s.start));
      expect(slotIdFor(providerId, startUtc)).toBe(s.slotId);
      expect(s.slotId).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    }
    // The same instant gets the same id whatever zone the DateTime carries.
    expect(slotIdFor('prov-1', DateTime.fromISO('2026-03-02T09:00:00-05:00', { setZone: true }))).toBe('prov-1.20260302T1400');
  });

  it('parseSlotId rejects malformed ids with SLOT.NOT_FOUND', () => {
    for (const bad of ['', 'prov-1', 'prov-1.2026', 'prov-1.20261399T0000', '-x.20260302T1400', 'prov_1.20260302T1400', 'prov-1.20260302T2561']) {
      expectCode(() => parseSlotId(bad), ErrorCode.SLOT_NOT_FOUND);
    }
  });

  it('emits ISO 8601 with the clinic offset, no milliseconds, in the clinic zone even when the range is in another zone', () => {
    const slots = generateSlots({ ...input, from: DateTime.fromISO('2026-03-09T00:00:00+09:00', { setZone: true }), to: at('2026-03-10T00:00:00Z') });
    expect(slots.length).toBeGreaterThan(0);
    for (const s of slots) {
      expect(s.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-04:00$/);
      expect(s.clinicId).toBe('clinic-1');
    }
  });

  it('returns slots starting in [from, to): a slot starting at `from` is in, one starting at `to` is out', () => {
    const slots = generateSlots({ ...input, from: at('2026-03-02T09:00:00-05:00'), to: at('2026-03-02T10:00:00-05:00') });
    expect(starts(slots)).toEqual(['2026-03-02T09:00:00-05:00', '2026-03-02T09:30:00-05:00']);
    const mid = generateSlots({ ...input, from: at('2026-03-02T09:10:00-05:00'), to: at('2026-03-02T09:31:00-05:00') });
    expect(starts(mid)).toEqual(['2026-03-02T09:30:00-05:00']);
  });

  it('rejects an empty or reversed range, a range too long, an invalid instant', () => {
    expectCode(() => generateSlots({ ...input, to: input.from }), ErrorCode.END_BEFORE_START);
    expectCode(() => generateSlots({ ...input, from: input.to, to: input.from }), ErrorCode.END_BEFORE_START);
    expectCode(() => generateSlots({ ...input, to: input.from.plus({ days: MAX_SLOT_RANGE_DAYS + 1 }) }), ErrorCode.RANGE_TOO_LONG);
    expect(generateSlots({ ...input, to: input.from.plus({ days: MAX_SLOT_RANGE_DAYS }) }).length).toBeGreaterThan(0);
    expectCode(() => generateSlots({ ...input, from: DateTime.fromISO('garbage') }), ErrorCode.INVALID_TIME);
  });

  it('counts a range as luxon does near the day limit (DST days included), in ms arithmetic elsewhere', () => {
    // From a week before to a week after the limit, in steps of 30 minutes, across New York's DST changes.
    for (const start of ['2026-03-01T00:00:00-05:00', '2026-10-31T12:00:00-04:00']) {
      const from = at(start);
      for (let h = -7 * 24; h <= 7 * 24; h += 0.5) {
        const to = from.plus({ days: MAX_SLOT_RANGE_DAYS }).plus({ minutes: h * 60 });
        expect([h, longerThanDays(from, to, MAX_SLOT_RANGE_DAYS)]).toEqual([h, to.diff(from, 'days').days > MAX_SLOT_RANGE_DAYS]);
      }
    }
  });

  it.each(['Mars/Olympus', 'EST', '+02:00', '', 'America/New York'])('rejects the zone %j with CLINIC.INVALID_TIME_ZONE', (zone) => {
    expectCode(() => generateSlots({ ...input, clinic: clinicIn(zone) }), ErrorCode.INVALID_TIME_ZONE);
  });

  it('rejects an appointment type it does not know with APPOINTMENT_TYPE.UNKNOWN', () => {
    const e = expectCode(() => generateSlots({ ...input, appointmentTypes: typeMap([appointmentType('checkup', 30)]) }), ErrorCode.APPOINTMENT_TYPE_UNKNOWN);
    expect(e.details).toEqual({ appointmentType: 'followup' });
    const p = provider({ weeklyHours: [{ day: 'mon', start: '09:00', end: '10:00', appointmentTypes: ['ghost'] }] });
    expectCode(() => generateSlots({ ...input, provider: p }), ErrorCode.APPOINTMENT_TYPE_UNKNOWN);
  });
});

describe('findSlot and freeSlots', () => {
  const base = { clinic: clinicIn(NY), provider: provider({ exceptions: [{ kind: 'holiday', date: '2026-03-03' }] }), appointmentTypes: typeMap() };

  it('finds a slot by id and start; SLOT.NOT_FOUND outside hours or on a holiday', () => {
    const slot = findSlot(base, at('2026-03-02T14:00:00Z'), 'prov-1.20260302T1400');
    expect(slot.start).toBe('2026-03-02T09:00:00-05:00');
    expectCode(() => findSlot(base, at('2026-03-02T12:00:00Z'), 'prov-1.20260302T1200'), ErrorCode.SLOT_NOT_FOUND);
    expectCode(() => findSlot(base, at('2026-03-03T14:00:00Z'), 'prov-1.20260303T1400'), ErrorCode.SLOT_NOT_FOUND);
    // Off-grid start (09:10) is not a slot.
    expectCode(() => findSlot(base, at('2026-03-02T14:10:00Z'), 'prov-1.20260302T1410'), ErrorCode.SLOT_NOT_FOUND);
  });

  it('through a memo: the same slot (frozen), the same SLOT.NOT_FOUND, and a changed schedule is never answered from the memo', () => {
    const memo = new SlotGenerationMemo();
    const plain = findSlot(base, at('2026-03-02T14:00:00Z'), 'prov-1.20260302T1400');
    const first = findSlot(base, at('2026-03-02T14:00:00Z'), 'prov-1.20260302T1400', memo);
    expect(first).toEqual(plain);
    expect(Object.isFrozen(first)).toBe(true);
    expect(findSlot(base, at('2026-03-02T14:00:00Z'), 'prov-1.20260302T1400', memo)).toBe(first);
    expect(memo.hits).toBe(1);
    expectCode(() => findSlot(base, at('2026-03-03T14:00:00Z'), 'prov-1.20260303T1400', memo), ErrorCode.SLOT_NOT_FOUND);
    // The provider takes 2 March off: the slot resolved a moment ago is gone.
    const off = { ...base, provider: provider({ exceptions: [{ kind: 'holiday', date: '2026-03-02' }] }) };
    expectCode(() => findSlot(off, at('2026-03-02T14:00:00Z'), 'prov-1.20260302T1400', memo), ErrorCode.SLOT_NOT_FOUND);
  });

  it('removes slots overlapped by an occupying appointment of the same provider only', () => {
    const slots = generateSlots({ ...base, from: at('2026-03-02T14:00:00Z'), to: at('2026-03-02T16:00:00Z') });
    expect(slots).toHaveLength(4);
    const appt = (status: 'booked' | 'cancelled' | 'noshow' | 'pending', providerId = 'prov-1') => ({
      providerId,
      start: '2026-03-02T09:45:00-05:00',
      end: '2026-03-02T10:15:00-05:00',
      status,
    });
    expect(starts(freeSlots(slots, [appt('booked')]))).toEqual(['2026-03-02T09:00:00-05:00', '2026-03-02T10:30:00-05:00']);
    expect(freeSlots(slots, [appt('pending')])).toHaveLength(2);
    expect(freeSlots(slots, [appt('cancelled'), appt('noshow')])).toHaveLength(4);
    expect(freeSlots(slots, [appt('booked', 'prov-2')])).toHaveLength(4);
  });

  it("reads an appointment's instants from startMs/endMs where the adapter gives them, and the memo's slots' from the memo", () => {
    const memo = new SlotGenerationMemo();
    const range = { from: at('2026-03-02T14:00:00Z'), to: at('2026-03-02T16:00:00Z') };
    const memoSlots = memo.generate({ ...base, ...range });
    expect(memoSlots.map(slotStartMs)).toEqual(memoSlots.map((s) => Date.parse(s.start)));
    // The parsed instants win over the strings (which an adapter keeps equal): 10:00-10:30 New York taken, whatever the strings say.
    const parsed = {
      providerId: 'prov-1',
      start: 'unread',
      end: 'unread',
      status: 'booked' as const,
      startMs: Date.parse('2026-03-02T15:00:00Z'),
      endMs: Date.parse('2026-03-02T15:30:00Z'),
    };
    for (const slots of [memoSlots, generateSlots({ ...base, ...range })]) {
      expect(starts(freeSlots(slots, [parsed]))).toEqual(['2026-03-02T09:00:00-05:00', '2026-03-02T09:30:00-05:00', '2026-03-02T10:30:00-05:00']);
    }
  });
});

describe('errors never escape as library exceptions', () => {
  it('every generateSlots failure is a DomainError', () => {
    const attempts: (() => unknown)[] = [
      () =>
        generateSlots({
          clinic: clinicIn('Nowhere/Zone'),
          provider: provider(),
          appointmentTypes: typeMap(),
          from: at('2026-03-02T00:00:00Z'),
          to: at('2026-03-03T00:00:00Z'),
        }),
      () =>
        generateSlots({
          clinic: clinicIn(NY),
          provider: provider(),
          appointmentTypes: new Map(),
          from: at('2026-03-02T00:00:00Z'),
          to: at('2026-03-03T00:00:00Z'),
        }),
    ];
    for (const attempt of attempts) {
      let caught: unknown;
      try {
        attempt();
      } catch (e) {
        caught = e;
      }
      expect(isDomainError(caught)).toBe(true);
    }
  });
});
