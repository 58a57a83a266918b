import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  isEligibleForSlot,
  isQuietHours,
  isTooCloseToOffer,
  nextSendTime,
  offerExpiresAt,
  offerPolicySchema,
  rankWaitlistSimple,
  timeOfDayOf,
  type WaitlistEntry,
} from '../../../../domain';
import { resolveLocalEndTime } from '../../../../domain/slots';
import { at, NOW, NY, slot, waitlistEntry } from '../../../fixtures/domain/builders';

const policy = offerPolicySchema.parse({});
/** Tuesday 2026-03-03 09:00-09:30 New York, prov-1, checkup + followup. */
const theSlot = slot();

describe('isEligibleForSlot', () => {
  const eligible = (overrides: Partial<WaitlistEntry>, type = 'checkup') => isEligibleForSlot(waitlistEntry(overrides), theSlot, type);

  it('an active entry of the same clinic and type, any provider, no window, is eligible', () => {
    expect(eligible({})).toBe(true);
  });

  it('only active entries', () => {
    for (const status of ['offered', 'booked', 'removed'] as const) expect(eligible({ status })).toBe(false);
  });

  it('same clinic only', () => {
    expect(eligible({ clinicId: 'clinic-2' })).toBe(false);
  });

  it('the entry type must be the offered type and the slot must take it', () => {
    expect(eligible({ appointmentType: 'followup' })).toBe(false);
    expect(eligible({ appointmentType: 'followup' }, 'followup')).toBe(true);
    expect(eligible({ appointmentType: 'long' }, 'long')).toBe(false);
  });

  it('a provider list restricts providers; an empty one means any', () => {
    expect(eligible({ providerIds: ['prov-1', 'prov-2'] })).toBe(true);
    expect(eligible({ providerIds: ['prov-2'] })).toBe(false);
    expect(eligible({ providerIds: [] })).toBe(true);
  });

  it('earliest and latest bound the slot start, inclusive, by instant', () => {
    expect(eligible({ earliest: '2026-03-03T09:00:00-05:00' })).toBe(true);
    expect(eligible({ earliest: '2026-03-03T14:01:00Z' })).toBe(false);
    expect(eligible({ latest: '2026-03-03T14:00:00Z' })).toBe(true);
    expect(eligible({ latest: '2026-03-03T08:59:00-05:00' })).toBe(false);
    expect(eligible({ earliest: '2026-03-01T00:00:00Z', latest: '2026-03-10T00:00:00Z' })).toBe(true);
  });

  it('a clinical deadline before the slot makes it ineligible', () => {
    expect(eligible({ clinicalDeadline: '2026-03-02T23:59:00-05:00' })).toBe(false);
    expect(eligible({ clinicalDeadline: '2026-03-03T09:00:00-05:00' })).toBe(true);
    expect(eligible({ clinicalDeadline: '2026-03-20T00:00:00Z' })).toBe(true);
  });
});

describe('rankWaitlistSimple', () => {
  it('orders by urgency, then clinical deadline, then time of day, then longest wait, then id; drops ineligible entries', () => {
    const entries = [
      waitlistEntry({ waitlistEntryId: 'routine-old', createdAt: '2026-01-01T00:00:00Z' }),
      waitlistEntry({ waitlistEntryId: 'routine-new', createdAt: '2026-02-01T00:00:00Z' }),
      waitlistEntry({ waitlistEntryId: 'routine-evening', timeOfDay: 'evening', createdAt: '2025-12-01T00:00:00Z' }),
      waitlistEntry({ waitlistEntryId: 'routine-morning', timeOfDay: 'morning', createdAt: '2026-02-15T00:00:00Z' }),
      waitlistEntry({ waitlistEntryId: 'soon', urgency: 'soon' }),
      waitlistEntry({ waitlistEntryId: 'urgent-late-deadline', urgency: 'urgent', clinicalDeadline: '2026-03-30T00:00:00Z' }),
      waitlistEntry({ waitlistEntryId: 'urgent-near-deadline', urgency: 'urgent', clinicalDeadline: '2026-03-05T00:00:00Z' }),
      waitlistEntry({ waitlistEntryId: 'urgent-no-deadline', urgency: 'urgent' }),
      waitlistEntry({ waitlistEntryId: 'urgent-but-removed', urgency: 'urgent', status: 'removed' }),
      waitlistEntry({ waitlistEntryId: 'urgent-other-type', urgency: 'urgent', appointmentType: 'long' }),
      waitlistEntry({ waitlistEntryId: 'b-tie', createdAt: '2026-02-01T00:00:00Z' }),
    ];
    expect(rankWaitlistSimple(entries, theSlot, 'checkup').map((e) => e.waitlistEntryId)).toEqual([
      'urgent-near-deadline',
      'urgent-late-deadline',
      'urgent-no-deadline',
      'soon',
      'routine-old',
      'b-tie',
      'routine-new',
      'routine-morning',
      'routine-evening',
    ]);
  });

  it('uses the slot clinic-local hour for time of day', () => {
    const evening = slot({ start: '2026-03-03T18:00:00-05:00', end: '2026-03-03T18:30:00-05:00' });
    const entries = [
      waitlistEntry({ waitlistEntryId: 'a-morning', timeOfDay: 'morning' }),
      waitlistEntry({ waitlistEntryId: 'b-evening', timeOfDay: 'evening' }),
    ];
    expect(rankWaitlistSimple(entries, evening, 'checkup').map((e) => e.waitlistEntryId)).toEqual(['b-evening', 'a-morning']);
    expect(rankWaitlistSimple(entries, theSlot, 'checkup').map((e) => e.waitlistEntryId)).toEqual(['a-morning', 'b-evening']);
  });

  it('timeOfDayOf bands', () => {
    expect([0, 11, 12, 16, 17, 23].map(timeOfDayOf)).toEqual(['morning', 'morning', 'afternoon', 'afternoon', 'evening', 'evening']);
  });

  it('is deterministic whatever the input order', () => {
    const entries = ['c', 'a', 'b'].map((id) => waitlistEntry({ waitlistEntryId: id }));
    expect(rankWaitlistSimple(entries, theSlot, 'checkup').map((e) => e.waitlistEntryId)).toEqual(['a', 'b', 'c']);
    expect(rankWaitlistSimple([...entries].reverse(), theSlot, 'checkup').map((e) => e.waitlistEntryId)).toEqual(['a', 'b', 'c']);
  });
});

describe('offerExpiresAt', () => {
  const expiryMinutes = (leadMinutes: number) => offerExpiresAt(NOW, NOW.plus({ minutes: leadMinutes }), policy).diff(NOW, 'minutes').minutes;

  it('is a fraction of the time left, clamped to [min, max]', () => {
    expect(expiryMinutes(7 * 24 * 60)).toBe(120);
    expect(expiryMinutes(300)).toBe(30);
    expect(expiryMinutes(180)).toBe(18);
    expect(expiryMinutes(90)).toBe(10);
  });

  it('never passes the offer cut-off (slot start minus minLeadMinutes)', () => {
    expect(expiryMinutes(65)).toBe(5);
    expect(offerExpiresAt(NOW, NOW.plus({ minutes: 65 }), policy).toMillis()).toBe(NOW.plus({ minutes: 5 }).toMillis());
  });

  it('shrinks (never grows) as the slot gets closer and never passes the cut-off', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 14 * 24 * 60 }), fc.integer({ min: 1, max: 14 * 24 * 60 }), (a, b) => {
        const [near, far] = a < b ? [a, b] : [b, a];
        expect(expiryMinutes(near)).toBeLessThanOrEqual(expiryMinutes(far));
        const slotStart = NOW.plus({ minutes: near });
        expect(offerExpiresAt(NOW, slotStart, policy) <= slotStart.minus({ minutes: policy.minLeadMinutes })).toBe(true);
        expect(expiryMinutes(far)).toBeLessThanOrEqual(policy.maxExpiryMinutes);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

describe('isTooCloseToOffer', () => {
  it('is true once less than minLead + minExpiry is left', () => {
    expect(isTooCloseToOffer(NOW, NOW.plus({ minutes: 70 }), policy)).toBe(false);
    expect(isTooCloseToOffer(NOW, NOW.plus({ minutes: 69 }), policy)).toBe(true);
    expect(isTooCloseToOffer(NOW, NOW.minus({ minutes: 5 }), policy)).toBe(true);
    expect(isTooCloseToOffer(NOW, NOW.plus({ days: 2 }), policy)).toBe(false);
  });
});

describe('quiet hours (21:00-08:00 clinic-local by default)', () => {
  const quietAt = (iso: string, zone = NY) => isQuietHours(at(iso), zone, policy);

  it('spans midnight in the clinic zone', () => {
    expect(quietAt('2026-03-02T08:00:00-05:00')).toBe(false);
    expect(quietAt('2026-03-02T07:59:00-05:00')).toBe(true);
    expect(quietAt('2026-03-02T20:59:00-05:00')).toBe(false);
    expect(quietAt('2026-03-02T21:00:00-05:00')).toBe(true);
    expect(quietAt('2026-03-03T00:30:00-05:00')).toBe(true);
    expect(quietAt('2026-03-02T12:00:00-05:00')).toBe(false);
  });

  it('is judged in the clinic zone, not UTC or the instant offset', () => {
    // 02:00Z is 21:00 in New York; 03:00Z is 08:30 in Kolkata; 21:00Z is 16:00 in New York but 22:00 in Berlin.
    expect(quietAt('2026-03-03T02:00:00Z', NY)).toBe(true);
    expect(quietAt('2026-03-03T03:00:00Z', 'Asia/Kolkata')).toBe(false);
    expect(quietAt('2026-03-02T21:00:00Z', NY)).toBe(false);
    expect(quietAt('2026-03-02T21:00:00Z', 'Europe/Berlin')).toBe(true);
  });

  it('supports a window inside one day, and an empty window', () => {
    const lunch = { quietStart: '12:00', quietEnd: '13:00' };
    expect(isQuietHours(at('2026-03-02T12:30:00-05:00'), NY, lunch)).toBe(true);
    expect(isQuietHours(at('2026-03-02T13:00:00-05:00'), NY, lunch)).toBe(false);
    expect(isQuietHours(at('2026-03-02T23:00:00-05:00'), NY, lunch)).toBe(false);
    expect(isQuietHours(at('2026-03-02T23:00:00-05:00'), NY, { quietStart: '21:00', quietEnd: '21:00' })).toBe(false);
  });
});

describe('the epoch-arithmetic offer timing agrees with its luxon definitions', () => {
  // The definitions before the epoch arithmetic: luxon diff, plus, minus and setZone.
  const expiresViaLuxon = (now: DateTime, slotStart: DateTime, p: typeof policy) => {
    const minutes = Math.min(p.maxExpiryMinutes, Math.max(p.minExpiryMinutes, Math.floor(slotStart.diff(now, 'minutes').minutes * p.expiryFraction)));
    const cutoff = slotStart.minus({ minutes: p.minLeadMinutes });
    const expires = now.plus({ minutes });
    return expires < cutoff ? expires : cutoff;
  };
  const quietViaLuxon = (now: DateTime, zone: string, p: Pick<typeof policy, 'quietStart' | 'quietEnd'>) => {
    const local = now.setZone(zone);
    const minute = local.hour * 60 + local.minute;
    const [start, end] = [p.quietStart, p.quietEnd].map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3)));
    if (start === end) return false;
    return start! < end! ? minute >= start! && minute < end! : minute >= start! || minute < end!;
  };
  const zones = ['America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'UTC'];

  it('for random instants (in any zone and offset), slot leads, policies and quiet windows, across DST changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
        fc.integer({ min: -600, max: 20 * 24 * 60 }),
        fc.constantFrom(...zones),
        fc.constantFrom(...zones),
        fc.record({
          expiryFraction: fc.double({ min: 0.05, max: 1, noNaN: true }),
          minExpiryMinutes: fc.integer({ min: 1, max: 120 }),
          maxExpiryMinutes: fc.integer({ min: 120, max: 1440 }),
          minLeadMinutes: fc.integer({ min: 0, max: 240 }),
        }),
        fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })),
        (ms, leadMinutes, nowZone, clinicZone, timing, [h1, m1, h2, m2]) => {
          const now = DateTime.fromMillis(ms, { zone: nowZone });
          const slotStart = DateTime.fromMillis(ms + leadMinutes * 60_000 + 17_000, { zone: clinicZone });
          const p = { ...policy, ...timing };
          const mine = offerExpiresAt(now, slotStart, p);
          const theirs = expiresViaLuxon(now, slotStart, p);
          expect([mine.toISO(), mine.zoneName]).toEqual([theirs.toISO(), theirs.zoneName]);
          expect(isTooCloseToOffer(now, slotStart, p)).toBe(slotStart.minus({ minutes: p.minLeadMinutes + p.minExpiryMinutes }) < now);
          const quiet = {
            quietStart: `${String(h1).padStart(2, '0')}:${String(m1).padStart(2, '0')}`,
            quietEnd: `${String(h2).padStart(2, '0')}:${String(m2).padStart(2, '0')}`,
          };
          expect(isQuietHours(now, clinicZone, quiet)).toBe(quietViaLuxon(now, clinicZone, quiet));
        },
      ),
      { numRuns: 3000, seed: 16 },
    );
  });
});

describe('nextSendTime', () => {
  const next = (iso: string, zone = NY, p: { quietStart: string; quietEnd: string } = policy) => nextSendTime(at(iso), zone, p).toUTC().toISO();

  it('is now outside quiet hours', () => {
    expect(nextSendTime(NOW, NY, policy).toMillis()).toBe(NOW.toMillis());
  });

  it('is the end of quiet hours the same morning or the next one', () => {
    expect(next('2026-03-03T01:00:00-05:00')).toBe('2026-03-03T13:00:00.000Z');
    expect(next('2026-03-02T22:00:00-05:00')).toBe('2026-03-03T13:00:00.000Z');
    expect(next('2026-03-02T21:00:00-05:00')).toBe('2026-03-03T13:00:00.000Z');
    expect(next('2026-03-02T12:30:00-05:00', NY, { quietStart: '12:00', quietEnd: '13:00' })).toBe('2026-03-02T18:00:00.000Z');
  });

  it('keeps 08:00 wall time across a spring-forward night (9 real hours from 22:00)', () => {
    expect(next('2026-03-07T22:00:00-05:00')).toBe('2026-03-08T12:00:00.000Z');
    expect(nextSendTime(at('2026-03-07T22:00:00-05:00'), NY, policy).setZone(NY).toFormat('HH:mm ZZ')).toBe('08:00 -04:00');
    // During the night, after the change.
    expect(next('2026-03-08T03:30:00-04:00')).toBe('2026-03-08T12:00:00.000Z');
  });

  it('keeps 08:00 wall time across a fall-back night (11 real hours from 22:00), also from the repeated hour', () => {
    expect(next('2026-10-31T22:00:00-04:00')).toBe('2026-11-01T13:00:00.000Z');
    expect(next('2026-11-01T01:30:00-04:00')).toBe('2026-11-01T13:00:00.000Z');
    expect(next('2026-11-01T01:30:00-05:00')).toBe('2026-11-01T13:00:00.000Z');
  });

  it('quiet hours ending inside the spring-forward gap end when the gap does (the first instant outside them)', () => {
    const gapEnd = { quietStart: '22:00', quietEnd: '02:30' };
    // 03:00 EDT comes straight after 01:59 EST and is past 02:30 on the wall clock, so not quiet.
    expect(isQuietHours(at('2026-03-08T03:00:00-04:00'), NY, gapEnd)).toBe(false);
    expect(next('2026-03-08T01:00:00-05:00', NY, gapEnd)).toBe('2026-03-08T07:00:00.000Z');
    expect(next('2026-03-07T23:00:00-05:00', NY, gapEnd)).toBe('2026-03-08T07:00:00.000Z');
  });

  it('works in Europe/Berlin on its transition nights', () => {
    expect(next('2026-03-28T23:00:00+01:00', 'Europe/Berlin')).toBe('2026-03-29T06:00:00.000Z');
    expect(next('2026-10-24T23:00:00+02:00', 'Europe/Berlin')).toBe('2026-10-25T07:00:00.000Z');
  });

  it('the result is never in quiet hours and never before now', () => {
    const zones = [NY, 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe'];
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: 0, max: 366 * 24 * 4 }), (zone, quarter) => {
        const now = DateTime.fromISO('2026-01-01T00:00:00Z', { zone: 'utc' }).plus({ minutes: quarter * 15 });
        const t = nextSendTime(now, zone, policy);
        expect(t >= now).toBe(true);
        expect(isQuietHours(t, zone, policy)).toBe(false);
        expect(t.diff(now, 'hours').hours).toBeLessThanOrEqual(12);
      }),
      { numRuns: 150, seed: 11 },
    );
  });

  it('equals the zoned-DateTime definition (setZone, the end on that date or the next by plus({ days: 1 })) at any instant', () => {
    const byDateTime = (now: DateTime, zone: string, p: { quietStart: string; quietEnd: string }): DateTime => {
      if (!isQuietHours(now, zone, p)) return now;
      const local = now.setZone(zone);
      const [h, m] = p.quietEnd.split(':').map(Number) as [number, number];
      let candidate = resolveLocalEndTime(local, h * 60 + m, zone);
      if (candidate <= local) candidate = resolveLocalEndTime(local.plus({ days: 1 }), h * 60 + m, zone);
      return candidate.toUTC();
    };
    const zones = [NY, 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Chatham', 'America/Havana'];
    const clock = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
      .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 0, 1) }),
        clock,
        clock,
        (zone, ms, quietStart, quietEnd) => {
          const now = DateTime.fromMillis(ms, { zone: 'utc' });
          const p = { quietStart, quietEnd };
          const ours = nextSendTime(now, zone, p);
          const reference = byDateTime(now, zone, p);
          expect([ours.toMillis(), ours.zoneName]).toEqual([reference.toMillis(), reference.zoneName]);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
