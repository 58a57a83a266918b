import { DateTime } from 'luxon';
import { generateSlots, SlotGenerationMemo, type AppointmentType, type Provider } from '../../../domain';
import { deepFreeze, isDeepFrozen, stableJson } from '../../../domain/frozen';

const clinic = { clinicId: 'c1', timeZone: 'America/New_York' };
const types = new Map<string, AppointmentType>([['visit', { code: 'visit', clinicId: 'c1', name: 'Visit', durationMinutes: 30 } as AppointmentType]]);
const provider = (start: string): Provider =>
  ({
    providerId: 'dr-a',
    clinicId: 'c1',
    name: 'Dr A',
    appointmentTypes: ['visit'],
    weeklyHours: [{ day: 'mon', start, end: '12:00' }],
    exceptions: [],
  }) as unknown as Provider;
// Monday 2 March 2026 in New York.
const from = DateTime.fromISO('2026-03-02T00:00:00', { zone: 'America/New_York' });
const to = from.plus({ days: 1 });

describe('SlotGenerationMemo', () => {
  it('returns what generateSlots returns, computed once for the same input', () => {
    const memo = new SlotGenerationMemo();
    const first = memo.generate({ clinic, provider: provider('09:00'), appointmentTypes: types, from, to });
    const again = memo.generate({ clinic, provider: provider('09:00'), appointmentTypes: types, from, to });
    expect(first).toEqual(generateSlots({ clinic, provider: provider('09:00'), appointmentTypes: types, from, to }));
    expect(first).toHaveLength(6);
    expect(again).toBe(first);
    expect([memo.hits, memo.misses]).toEqual([1, 1]);
    expect(Object.isFrozen(first) && Object.isFrozen(first[0])).toBe(true);
  });

  it('never answers from a stale configuration: changed hours, types, zone or window give new slots', () => {
    const memo = new SlotGenerationMemo();
    memo.generate({ clinic, provider: provider('09:00'), appointmentTypes: types, from, to });
    expect(memo.generate({ clinic, provider: provider('10:00'), appointmentTypes: types, from, to })).toHaveLength(4);
    const longer = new Map([['visit', { ...types.get('visit')!, durationMinutes: 60 }]]);
    expect(memo.generate({ clinic, provider: provider('09:00'), appointmentTypes: longer, from, to })).toHaveLength(3);
    expect(memo.generate({ clinic: { ...clinic, timeZone: 'Europe/London' }, provider: provider('09:00'), appointmentTypes: types, from, to })[0]!.start).toBe(
      '2026-03-02T09:00:00+00:00',
    );
    expect(memo.generate({ clinic, provider: provider('09:00'), appointmentTypes: types, from: from.plus({ hours: 10 }), to })).toHaveLength(4);
    expect(memo.hits).toBe(0);
  });

  it('a provider record changed in place gives new slots; a deeply frozen one is keyed once and still by its content', () => {
    const memo = new SlotGenerationMemo();
    const mutable = provider('09:00');
    expect(memo.generate({ clinic, provider: mutable, appointmentTypes: types, from, to })).toHaveLength(6);
    (mutable.weeklyHours[0] as { start: string }).start = '11:00';
    expect(memo.generate({ clinic, provider: mutable, appointmentTypes: types, from, to })).toHaveLength(2);
    const frozen = deepFreeze(provider('09:00'));
    expect(memo.generate({ clinic, provider: frozen, appointmentTypes: types, from, to })).toHaveLength(6);
    expect(memo.generate({ clinic, provider: deepFreeze(provider('11:00')), appointmentTypes: types, from, to })).toHaveLength(2);
    expect([memo.hits, memo.misses]).toEqual([2, 2]);
  });

  it('keeps at most `capacity` entries, forgetting the least recently used', () => {
    const memo = new SlotGenerationMemo(2);
    const gen = (start: string) => memo.generate({ clinic, provider: provider(start), appointmentTypes: types, from, to });
    gen('09:00');
    gen('10:00');
    gen('09:00'); // 09:00 is now the most recent
    gen('11:00'); // evicts 10:00
    expect(memo.size).toBe(2);
    gen('09:00');
    expect(memo.hits).toBe(2);
    gen('10:00');
    expect(memo.misses).toBe(4);
  });
});

describe('stableJson', () => {
  it('is JSON.stringify; remembered only for deeply frozen objects', () => {
    const shallow = Object.freeze({ a: { b: 1 } });
    expect(isDeepFrozen(shallow)).toBe(false);
    expect(stableJson(shallow)).toBe('{"a":{"b":1}}');
    (shallow.a as { b: number }).b = 2;
    expect(stableJson(shallow)).toBe('{"a":{"b":2}}');
    const deep = deepFreeze({ a: { b: [1, { c: 'x' }] } });
    expect(isDeepFrozen(deep)).toBe(true);
    expect(stableJson(deep)).toBe(JSON.stringify(deep));
  });
});
