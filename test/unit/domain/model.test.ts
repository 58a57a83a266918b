import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import type { z } from 'zod';
import {
  appointmentTypeSchema,
  assertZone,
  clinicSchema,
  DomainError,
  entityIdSchema,
  ErrorCode,
  fhirIdSchema,
  isoEpochMs,
  instantSchema,
  interval,
  isIanaZone,
  offerPolicySchema,
  overlaps,
  parseClockTime,
  parseEvent,
  parseInstant,
  parseSlotId,
  patientSchema,
  zoneOffsetMinutes,
  providerSchema,
  scheduleExceptionSchema,
  toIsoInZone,
  weeklyHoursSchema,
} from '../../../domain';
import { clinic, patient, provider } from '../../fixtures/domain/builders';

/** The issues of a failed safeParse as [path, message]; fails the test if parsing succeeded or threw. */
function issues(schema: z.ZodType, input: unknown): [string, string][] {
  const result = schema.safeParse(input);
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((i) => [i.path.join('.'), i.message]);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return 'no error';
}

const baseProvider = { providerId: 'prov-1', clinicId: 'clinic-1', name: 'Dr Demo', appointmentTypes: ['checkup'] };

describe('clinic', () => {
  it('applies the policy defaults', () => {
    const c = clinic();
    expect(c.timeZone).toBe('America/New_York');
    expect(c.bookingPolicy.minNoticeMinutes).toBe(60);
    expect(c.offerPolicy).toMatchObject({ batchSize: 3, quietStart: '21:00', quietEnd: '08:00' });
    expect(c.reminderHoursBefore).toEqual([48, 2]);
  });

  it.each(['Mars/Olympus', 'EST', 'CET', '+02:00', 'GMT+2', '', 'America/New York', 'America/New_York/Extra'])(
    'rejects the zone %j at timeZone',
    (timeZone) => {
      expect(issues(clinicSchema, { clinicId: 'clinic-1', name: 'C', timeZone })).toEqual([['timeZone', 'must be an IANA time zone such as America/New_York']]);
    },
  );

  it('accepts IANA zones with and without DST, and UTC', () => {
    for (const timeZone of ['America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'America/Phoenix', 'America/Argentina/Buenos_Aires', 'UTC']) {
      expect(clinicSchema.safeParse({ clinicId: 'clinic-1', name: 'C', timeZone }).success).toBe(true);
    }
  });

  it('rejects unknown fields (strict) and an offer policy whose min expiry exceeds its max', () => {
    expect(issues(clinicSchema, { clinicId: 'clinic-1', name: 'C', timeZone: 'UTC', colour: 'red' })[0]![0]).toBe('');
    expect(issues(offerPolicySchema, { minExpiryMinutes: 60, maxExpiryMinutes: 30 })).toEqual([
      ['minExpiryMinutes', 'minExpiryMinutes must not exceed maxExpiryMinutes'],
    ]);
  });
});

describe('weekly hours and provider', () => {
  it('rejects end before or equal to start, at end', () => {
    expect(issues(weeklyHoursSchema, { day: 'mon', start: '17:00', end: '09:00' })).toEqual([['end', 'end must be after start']]);
    expect(issues(weeklyHoursSchema, { day: 'mon', start: '09:00', end: '09:00' })).toEqual([['end', 'end must be after start']]);
    expect(issues(providerSchema, { ...baseProvider, weeklyHours: [{ day: 'tue', start: '12:00', end: '08:00' }] })).toEqual([
      ['weeklyHours.0.end', 'end must be after start'],
    ]);
  });

  it('accepts 00:00-24:00 and rejects malformed clock times with an issue, not an exception', () => {
    expect(weeklyHoursSchema.safeParse({ day: 'mon', start: '00:00', end: '24:00' }).success).toBe(true);
    expect(issues(weeklyHoursSchema, { day: 'mon', start: '25:00', end: '17:00' })).toEqual([['start', 'must be HH:mm']]);
    expect(issues(weeklyHoursSchema, { day: 'mon', start: '09:00', end: '24:30' })).toEqual([['end', 'must be HH:mm']]);
    expect(issues(weeklyHoursSchema, { day: 'mon', start: '9:00', end: '17:00' })).toEqual([['start', 'must be HH:mm']]);
    expect(issues(weeklyHoursSchema, { day: 'someday', start: '09:00', end: '17:00' }).map(([path]) => path)).toEqual(['day']);
    expect(
      issues(providerSchema, {
        ...baseProvider,
        weeklyHours: [
          { day: 'mon', start: '9:00', end: '17:00' },
          { day: 'mon', start: '09:00', end: '17:00' },
        ],
      }),
    ).toEqual([['weeklyHours.0.start', 'must be HH:mm']]);
  });

  it('rejects overlapping blocks of one day, at the later block', () => {
    const overlapping = [
      { day: 'mon', start: '09:00', end: '12:00' },
      { day: 'mon', start: '11:30', end: '14:00' },
    ];
    expect(issues(providerSchema, { ...baseProvider, weeklyHours: overlapping })).toEqual([
      ['weeklyHours.1', 'weekly hours blocks of one day must not overlap'],
    ]);
    // Touching blocks and the same hours on different days are fine.
    const touching = [
      { day: 'mon', start: '09:00', end: '12:00' },
      { day: 'mon', start: '12:00', end: '14:00' },
      { day: 'tue', start: '09:00', end: '12:00' },
    ];
    expect(providerSchema.safeParse({ ...baseProvider, weeklyHours: touching }).success).toBe(true);
  });

  it('rejects an absence that ends before it starts and malformed exception instants', () => {
    const exceptions = [{ kind: 'absence', from: '2026-03-05T00:00:00Z', to: '2026-03-04T00:00:00Z' }];
    expect(issues(providerSchema, { ...baseProvider, weeklyHours: [], exceptions })).toEqual([['exceptions.0.to', 'to must be after from']]);
    expect(issues(scheduleExceptionSchema, { kind: 'absence', from: '2026-03-05 09:00', to: '2026-03-05T10:00:00Z' }).map(([p]) => p)).toEqual(['from']);
    expect(issues(scheduleExceptionSchema, { kind: 'holiday', date: '03/05/2026' }).map(([p]) => p)).toEqual(['date']);
    expect(issues(scheduleExceptionSchema, { kind: 'vacation', date: '2026-03-05' }).map(([p]) => p)).toEqual(['kind']);
  });

  it('needs at least one appointment type and valid type codes', () => {
    expect(issues(providerSchema, { ...baseProvider, appointmentTypes: [], weeklyHours: [] }).map(([p]) => p)).toEqual(['appointmentTypes']);
    expect(issues(providerSchema, { ...baseProvider, appointmentTypes: ['check up'], weeklyHours: [] }).map(([p]) => p)).toEqual(['appointmentTypes.0']);
  });

  it('garbage in any field gives issues, never a thrown exception', () => {
    for (const input of [
      null,
      42,
      'x',
      {},
      { ...baseProvider, weeklyHours: 'x', exceptions: 'y' },
      { ...baseProvider, weeklyHours: [null, 1], exceptions: [null, {}] },
    ]) {
      expect(() => providerSchema.safeParse(input)).not.toThrow();
      expect(providerSchema.safeParse(input).success).toBe(false);
    }
  });

  it('the demo provider is valid', () => {
    expect(provider().weeklyHours).toHaveLength(10);
  });
});

describe('patient and appointment type', () => {
  it.each(['0123', '4155550123', '+0123456789', '+1 415 555 0123', '+1-415-555-0123', '+1234567890123456', '+12345', '', '+1415555012a'])(
    'rejects the phone %j at phone',
    (phone) => {
      expect(issues(patientSchema, { patientId: 'pat-1', name: 'P', phone, smsConsent: true })).toEqual([
        ['phone', 'must be an E.164 phone number such as +14155550123'],
      ]);
    },
  );

  it('accepts E.164 phones', () => {
    for (const phone of ['+14155550123', '+442071838750', '+919876543210', '+123456789012345']) expect(patient({ phone }).phone).toBe(phone);
  });

  it('needs smsConsent and rejects unknown fields', () => {
    expect(issues(patientSchema, { patientId: 'pat-1', name: 'P', phone: '+14155550123' }).map(([p]) => p)).toEqual(['smsConsent']);
    expect(issues(patientSchema, { patientId: 'pat-1', name: 'P', phone: '+14155550123', smsConsent: true, ssn: '123' })[0]![1]).toMatch(/ssn/);
  });

  it('appointment type duration is 5-480 whole minutes', () => {
    const base = { code: 'checkup', clinicId: 'clinic-1', name: 'Checkup' };
    for (const durationMinutes of [4, 481, 30.5, -10])
      expect(issues(appointmentTypeSchema, { ...base, durationMinutes }).map(([p]) => p)).toEqual(['durationMinutes']);
    expect(appointmentTypeSchema.parse({ ...base, durationMinutes: 5 }).durationMinutes).toBe(5);
  });
});

describe('ids', () => {
  it.each(['', '-abc', 'a_b', 'a.b', 'a b', 'a/b', 'Ä', 'a'.repeat(41)])('rejects the entity id %j', (id) => {
    expect(entityIdSchema.safeParse(id).success).toBe(false);
    expect(issues(clinicSchema, { clinicId: id, name: 'C', timeZone: 'UTC' }).map(([p]) => p)).toEqual(['clinicId']);
    expect(issues(patientSchema, { patientId: id, name: 'P', phone: '+14155550123', smsConsent: true }).map(([p]) => p)).toEqual(['patientId']);
  });

  it('accepts entity ids of letters, digits and hyphens up to 40', () => {
    for (const id of ['a', '1', 'clinic-1', 'A-b-C', 'a'.repeat(40)]) expect(entityIdSchema.safeParse(id).success).toBe(true);
  });

  it('FHIR ids allow dots and up to 64 characters; derived slot ids fit', () => {
    expect(fhirIdSchema.safeParse(`${'a'.repeat(40)}.20260303T1400`).success).toBe(true);
    expect(fhirIdSchema.safeParse('a'.repeat(65)).success).toBe(false);
    expect(fhirIdSchema.safeParse('a_b').success).toBe(false);
  });
});

describe('time helpers', () => {
  it('parseInstant keeps the offset and rejects anything without one', () => {
    expect(parseInstant('2026-03-08T03:30:00-04:00').toISO()).toBe('2026-03-08T03:30:00.000-04:00');
    expect(parseInstant('2026-03-08T07:30:00Z').toMillis()).toBe(Date.UTC(2026, 2, 8, 7, 30));
    expect(parseInstant('2026-03-08T07:30:00+0530').offset).toBe(330);
    for (const bad of ['garbage', '', '2026-03-02', '2026-03-02T09:00:00', '2026-03-02T25:00:00Z', '2026-02-30T00:00:00Z', 'Z', '+05:00', 'nonsense+01:00']) {
      expect(codeOf(() => parseInstant(bad))).toBe(ErrorCode.INVALID_TIME);
    }
  });

  it('parseInstant and isoEpochMs read every string as luxon fromISO(setZone) does (the fast path included)', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const iso = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        two(13),
        two(32),
        two(25),
        two(60),
        fc.option(two(60), { nil: undefined }),
        fc.option(fc.stringMatching(/^\d{1,4}$/), { nil: undefined }),
        fc.oneof(
          fc.constant('Z'),
          fc.tuple(fc.constantFrom('+', '-'), two(24), two(60)).map(([sign, h, m]) => `${sign}${h}:${m}`),
          fc.constant(''),
        ),
      )
      .map(
        ([y, mo, d, h, mi, sec, frac, zone]) => `${y}-${mo}-${d}T${h}:${mi}${sec === undefined ? '' : `:${sec}${frac === undefined ? '' : `.${frac}`}`}${zone}`,
      );
    fc.assert(
      fc.property(iso, (text) => {
        const luxon = DateTime.fromISO(text, { setZone: true });
        expect(isoEpochMs(text)).toBe(luxon.isValid ? luxon.toMillis() : Number.NaN);
        const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/.test(text);
        if (!hasOffset || !luxon.isValid) {
          expect(codeOf(() => parseInstant(text))).toBe(ErrorCode.INVALID_TIME);
          return;
        }
        const ours = parseInstant(text);
        expect([ours.toMillis(), ours.zoneName, ours.offset, ours.toISO()]).toEqual([luxon.toMillis(), luxon.zoneName, luxon.offset, luxon.toISO()]);
        expect(ours.equals(luxon)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('zoneOffsetMinutes answers as luxon IANAZone.offset at every instant, around transitions too', () => {
    const zones = [
      'America/New_York',
      'Europe/Berlin',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'America/St_Johns',
      'Pacific/Chatham',
      'Africa/Casablanca',
      'UTC',
    ];
    // Instants anywhere in 1900-2100, and within a day of the zones' transitions (found by stepping a year by hours).
    const near: number[] = [];
    for (const zone of zones) {
      const tz = IANAZone.create(zone);
      for (let ms = Date.UTC(2025, 0, 1); ms < Date.UTC(2026, 0, 1); ms += 3_600_000) if (tz.offset(ms) !== tz.offset(ms + 3_600_000)) near.push(ms);
    }
    expect(near.length).toBeGreaterThan(10);
    const instant = fc.oneof(
      fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) }),
      fc.tuple(fc.constantFrom(...near), fc.integer({ min: -86_400_000, max: 86_400_000 })).map(([t, d]) => t + d),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(instant, fc.constantFrom(...zones)), { minLength: 1, maxLength: 50 }), (asks) => {
        for (const [ms, zone] of asks) expect(zoneOffsetMinutes(ms, zone)).toBe(IANAZone.create(zone).offset(ms));
      }),
      { numRuns: 400 },
    );
    expect(Number.isNaN(zoneOffsetMinutes(0, 'Not/AZone'))).toBe(true);
  });

  it('parseInstant names the field, never echoes the value', () => {
    try {
      parseInstant('call me at +14155550123', 'from');
    } catch (e) {
      expect((e as DomainError).details).toEqual({ field: 'from' });
      expect((e as DomainError).message).not.toContain('4155550123');
    }
    expect.assertions(2);
  });

  it('instantSchema rejects impossible dates and offsets that the downstream parsers read differently', () => {
    for (const bad of ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-03-02T23:60:00Z', '2026-03-02T09:00:00+25:00']) {
      expect(issues(instantSchema, bad)).toEqual([['', 'must be a real date and time']]);
    }
    // Accepted at the edge means usable later: an absence on 30 February would otherwise break every slot search.
    const absence = { kind: 'absence', from: '2026-02-30T00:00:00Z', to: '2026-03-05T00:00:00Z' };
    expect(issues(providerSchema, { ...baseProvider, weeklyHours: [], exceptions: [absence] })).toEqual([
      ['exceptions.0.from', 'must be a real date and time'],
    ]);
  });

  it('instantSchema agrees with parseInstant on offsets', () => {
    expect(instantSchema.safeParse('2026-03-08T07:30:00Z').success).toBe(true);
    expect(instantSchema.safeParse('2026-03-08T07:30:00.123456789+05:30').success).toBe(true);
    expect(instantSchema.safeParse('2026-03-08T07:30:00').success).toBe(false);
  });

  it('parseClockTime reads HH:mm up to 24:00', () => {
    expect(parseClockTime('00:00')).toBe(0);
    expect(parseClockTime('09:05')).toBe(545);
    expect(parseClockTime('24:00')).toBe(1440);
    for (const bad of ['24:01', '9:00', '09:60', '25:00', 'ab:cd', '', '09:00:00']) expect(codeOf(() => parseClockTime(bad))).toBe(ErrorCode.INVALID_TIME);
  });

  it('zones: assertZone throws CLINIC.INVALID_TIME_ZONE, isIanaZone is a plain predicate', () => {
    expect(assertZone('Asia/Kolkata')).toBe('Asia/Kolkata');
    for (const bad of ['Mars/Olympus', 'EST', '+02:00', '', 'UTC+2']) {
      expect(isIanaZone(bad)).toBe(false);
      expect(codeOf(() => assertZone(bad))).toBe(ErrorCode.INVALID_TIME_ZONE);
    }
  });

  it('interval rejects end <= start; overlaps is half-open', () => {
    const t = (m: number) => DateTime.fromMillis(Date.UTC(2026, 2, 2, 9, m), { zone: 'utc' });
    expect(codeOf(() => interval(t(10), t(10)))).toBe(ErrorCode.END_BEFORE_START);
    expect(codeOf(() => interval(t(10), t(5)))).toBe(ErrorCode.END_BEFORE_START);
    expect(interval(t(0), t(30)).length('minutes')).toBe(30);
    expect(overlaps(t(0), t(30), t(30), t(45))).toBe(false);
    expect(overlaps(t(0), t(30), t(29), t(45))).toBe(true);
    expect(overlaps(t(10), t(20), t(0), t(30))).toBe(true);
  });

  it('toIsoInZone prints the zone offset at that instant, to the second', () => {
    const instant = DateTime.fromMillis(Date.UTC(2026, 2, 8, 7, 30), { zone: 'utc' });
    expect(toIsoInZone(instant, 'America/New_York')).toBe('2026-03-08T03:30:00-04:00');
    expect(toIsoInZone(instant, 'Asia/Kolkata')).toBe('2026-03-08T13:00:00+05:30');
    expect(toIsoInZone(instant, 'UTC')).toBe('2026-03-08T07:30:00Z');
  });
});

describe('domain parsers never leak a library exception', () => {
  const parsers: [string, (input: string) => unknown][] = [
    ['parseInstant', (s) => parseInstant(s)],
    ['parseClockTime', (s) => parseClockTime(s)],
    ['assertZone', (s) => assertZone(s)],
    ['parseSlotId', (s) => parseSlotId(s)],
    ['parseEvent', (s) => parseEvent(s)],
  ];

  it.each(parsers)('%s returns or throws a DomainError for arbitrary strings', (_name, parse) => {
    const interesting = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '',
        'null',
        '{}',
        '[]',
        '2026-02-30T00:00:00Z',
        '24:00',
        'x.20260101T0000',
        'Etc/GMT+5',
        '{"specversion":"1.0"}',
        '\u0000',
        '9'.repeat(400),
      ),
      fc.json(),
    );
    fc.assert(
      fc.property(interesting, (s) => {
        try {
          parse(s);
        } catch (e) {
          expect(e).toBeInstanceOf(DomainError);
        }
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  it('schemas answer arbitrary values with issues, never by throwing', () => {
    const schemas: z.ZodType[] = [clinicSchema, providerSchema, patientSchema, weeklyHoursSchema, offerPolicySchema, scheduleExceptionSchema];
    fc.assert(
      fc.property(fc.anything(), fc.constantFrom(...schemas), (value, schema) => {
        expect(() => schema.safeParse(value)).not.toThrow();
      }),
      { numRuns: 200, seed: 5 },
    );
    const nearMiss = fc.record({
      day: fc.constantFrom('mon', 'sun', 'x'),
      start: fc.oneof(fc.string(), fc.constantFrom('09:00', '24:00', '25:00')),
      end: fc.oneof(fc.string(), fc.constantFrom('17:00', '00:00', '99:99')),
    });
    fc.assert(
      fc.property(fc.array(nearMiss, { maxLength: 4 }), (weeklyHours) => {
        expect(() => providerSchema.safeParse({ ...baseProvider, weeklyHours })).not.toThrow();
      }),
      { numRuns: 200, seed: 6 },
    );
  });
});
