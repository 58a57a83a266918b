import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  bookableWindow,
  bookingPolicySchema,
  bookingTimeRuleBroken,
  channels,
  checkBooking,
  checkCancellation,
  checkNoShow,
  DomainError,
  ErrorCode,
  recentNoShows,
  SELF_SERVICE_CHANNELS,
  type Actor,
  type AppointmentStatus,
  type BookingCheck,
  type Channel,
} from '../../../domain';
import { appointmentType, NOW, patientActor, provider, slot, staff, system } from '../../fixtures/domain/builders';

const policy = bookingPolicySchema.parse({});
const checkup = appointmentType('checkup', 30);

/** A valid staff booking of a checkup tomorrow 09:00 New York (slot of prov-1). */
function booking(overrides: Partial<BookingCheck> = {}): BookingCheck {
  return {
    now: NOW,
    policy,
    provider: provider(),
    appointmentType: checkup,
    slot: slot(),
    channel: 'api',
    patientAppointments: [],
    patientNoShows: [],
    ...overrides,
  };
}

/** A slot starting at this offset from NOW, in New York time. */
function slotIn(duration: { minutes?: number; hours?: number; days?: number }) {
  const start = NOW.plus(duration).setZone('America/New_York');
  return slot({ start: start.toISO({ suppressMilliseconds: true })!, end: start.plus({ minutes: 30 }).toISO({ suppressMilliseconds: true })! });
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

describe('policy defaults', () => {
  it('are the documented ones', () => {
    expect(policy).toEqual({ minNoticeMinutes: 60, maxHorizonDays: 90, cancellationWindowHours: 24, noShowWindowDays: 180, noShowThreshold: 2 });
  });

  it('self-service channels are sms and link only', () => {
    expect([...SELF_SERVICE_CHANNELS].sort()).toEqual(['link', 'sms']);
  });
});

describe('checkBooking', () => {
  it('books a valid slot; the appointment lasts the type duration, not the slot', () => {
    const d = checkBooking(booking({ appointmentType: appointmentType('followup', 15) }));
    expect(d.status).toBe('booked');
    expect(d.needsStaffConfirmation).toBe(false);
    expect(d.start.toISO()).toBe('2026-03-03T09:00:00.000-05:00');
    expect(d.end.diff(d.start, 'minutes').minutes).toBe(15);
  });

  it('rejects a type the provider does not offer, even if the slot lists it', () => {
    const long = appointmentType('long', 60);
    expect(codeOf(() => checkBooking(booking({ appointmentType: long, slot: slot({ appointmentTypes: ['long'] }) })))).toBe(
      ErrorCode.APPOINTMENT_TYPE_NOT_OFFERED,
    );
  });

  it('rejects a type the slot does not take', () => {
    expect(codeOf(() => checkBooking(booking({ slot: slot({ appointmentTypes: ['followup'] }) })))).toBe(ErrorCode.APPOINTMENT_TYPE_DOES_NOT_FIT);
  });

  it('rejects a slot that has started or is in the past, for every channel', () => {
    for (const channel of ['api', 'ehr', 'sms'] as Channel[]) {
      expect(codeOf(() => checkBooking(booking({ channel, slot: slotIn({ minutes: -30 }) })))).toBe(ErrorCode.IN_THE_PAST);
      expect(codeOf(() => checkBooking(booking({ channel, slot: slotIn({}) })))).toBe(ErrorCode.IN_THE_PAST);
    }
  });

  it('applies minimum notice to self-service channels only', () => {
    const soon = slotIn({ minutes: 30 });
    expect(codeOf(() => checkBooking(booking({ channel: 'sms', slot: soon })))).toBe(ErrorCode.TOO_LITTLE_NOTICE);
    expect(codeOf(() => checkBooking(booking({ channel: 'link', slot: soon })))).toBe(ErrorCode.TOO_LITTLE_NOTICE);
    for (const channel of ['api', 'console', 'ehr', 'backfill', 'absence'] as Channel[]) {
      expect(checkBooking(booking({ channel, slot: soon })).status).toBe('booked');
    }
    // Exactly the minimum notice is enough.
    expect(checkBooking(booking({ channel: 'sms', slot: slotIn({ minutes: 60 }) })).status).toBe('booked');
    expect(codeOf(() => checkBooking(booking({ channel: 'sms', slot: slotIn({ minutes: 59 }) })))).toBe(ErrorCode.TOO_LITTLE_NOTICE);
  });

  it('applies the horizon to every channel but the EHR', () => {
    const far = slotIn({ days: 91 });
    for (const channel of ['api', 'sms', 'link', 'console'] as Channel[]) {
      expect(codeOf(() => checkBooking(booking({ channel, slot: far })))).toBe(ErrorCode.BEYOND_HORIZON);
    }
    expect(checkBooking(booking({ channel: 'ehr', slot: far })).status).toBe('booked');
    expect(checkBooking(booking({ slot: slotIn({ days: 90 }) })).status).toBe('booked');
    expect(codeOf(() => checkBooking(booking({ slot: slotIn({ days: 90, minutes: 1 }) })))).toBe(ErrorCode.BEYOND_HORIZON);
  });

  it('rejects an overlap with another appointment of the patient that still holds its time', () => {
    const other = (status: AppointmentStatus, start: string, end: string) => ({ appointmentId: 'apt-9', status, start, end });
    const clash = other('booked', '2026-03-03T09:15:00-05:00', '2026-03-03T09:45:00-05:00');
    let caught: unknown;
    try {
      checkBooking(booking({ patientAppointments: [clash] }));
    } catch (e) {
      caught = e;
    }
    expect((caught as DomainError).code).toBe(ErrorCode.PATIENT_OVERLAP);
    expect((caught as DomainError).details).toEqual({ appointmentId: 'apt-9' });
    for (const status of ['pending', 'arrived', 'checked-in', 'proposed'] as AppointmentStatus[]) {
      expect(codeOf(() => checkBooking(booking({ patientAppointments: [{ ...clash, status }] })))).toBe(ErrorCode.PATIENT_OVERLAP);
    }
    for (const status of ['cancelled', 'noshow', 'entered-in-error', 'waitlist'] as AppointmentStatus[]) {
      expect(checkBooking(booking({ patientAppointments: [{ ...clash, status }] })).status).toBe('booked');
    }
    // Back to back is fine: [09:00, 09:30) and [09:30, 10:00).
    const after = other('booked', '2026-03-03T09:30:00-05:00', '2026-03-03T10:00:00-05:00');
    const before = other('booked', '2026-03-03T08:30:00-05:00', '2026-03-03T09:00:00-05:00');
    expect(checkBooking(booking({ patientAppointments: [after, before] })).status).toBe('booked');
    // Overlap is by instant, whatever offset the other appointment is written in.
    expect(codeOf(() => checkBooking(booking({ patientAppointments: [other('booked', '2026-03-03T14:20:00Z', '2026-03-03T14:50:00Z')] })))).toBe(
      ErrorCode.PATIENT_OVERLAP,
    );
  });

  describe('no-show policy', () => {
    const twoRecent = ['2026-01-10T15:00:00Z', '2026-02-20T15:00:00Z'];

    it('at the threshold, a self-service booking is pending and needs staff confirmation', () => {
      for (const channel of ['sms', 'link'] as Channel[]) {
        const d = checkBooking(booking({ channel, patientNoShows: twoRecent }));
        expect(d).toMatchObject({ status: 'pending', needsStaffConfirmation: true });
      }
    });

    it('staff and EHR bookings are booked whatever the history', () => {
      for (const channel of ['api', 'console', 'ehr'] as Channel[]) {
        expect(checkBooking(booking({ channel, patientNoShows: twoRecent }))).toMatchObject({ status: 'booked', needsStaffConfirmation: false });
      }
    });

    it('below the threshold or outside the rolling window it is booked', () => {
      expect(checkBooking(booking({ channel: 'sms', patientNoShows: [twoRecent[0]!] })).status).toBe('booked');
      const oneOld = ['2025-06-01T15:00:00Z', '2026-02-20T15:00:00Z'];
      expect(checkBooking(booking({ channel: 'sms', patientNoShows: oneOld })).status).toBe('booked');
      expect(checkBooking(booking({ channel: 'sms', patientNoShows: twoRecent, policy: { ...policy, noShowThreshold: 3 } })).status).toBe('booked');
    });

    it('recentNoShows counts (now - window, now], ignoring future and unreadable entries', () => {
      const window = { noShowWindowDays: 30 };
      expect(recentNoShows([], NOW, window)).toBe(0);
      expect(recentNoShows([NOW.minus({ days: 30 }).toISO()!], NOW, window)).toBe(0);
      expect(recentNoShows([NOW.minus({ days: 30 }).plus({ minutes: 1 }).toISO()!], NOW, window)).toBe(1);
      expect(recentNoShows([NOW.toISO()!], NOW, window)).toBe(1);
      expect(recentNoShows([NOW.plus({ minutes: 1 }).toISO()!], NOW, window)).toBe(0);
      expect(recentNoShows(['garbage', '', '2026-02-30T00:00:00Z'], NOW, window)).toBe(0);
      expect(recentNoShows(['2026-02-20T10:00:00-05:00', '2026-02-21T15:00:00Z'], NOW, window)).toBe(2);
    });
  });

  it('an unreadable slot start is TIME.INVALID, not a library exception', () => {
    expect(codeOf(() => checkBooking(booking({ slot: slot({ start: 'tomorrow at nine' }) })))).toBe(ErrorCode.INVALID_TIME);
  });
});

describe('checkCancellation', () => {
  const booked = (start: { hours?: number; days?: number; minutes?: number }, status: AppointmentStatus = 'booked') => ({
    status,
    start: NOW.plus(start).setZone('America/New_York').toISO()!,
  });

  it('patients may cancel outside the window', () => {
    expect(checkCancellation(booked({ hours: 48 }), NOW, policy, patientActor)).toEqual({ status: 'cancelled', late: false });
    // Exactly the window is still outside it.
    expect(checkCancellation(booked({ hours: 24 }), NOW, policy, patientActor)).toEqual({ status: 'cancelled', late: false });
  });

  it('patients may not cancel inside the window or after the start', () => {
    for (const start of [{ hours: 23, minutes: 59 }, { hours: 1 }, { hours: -1 }]) {
      expect(codeOf(() => checkCancellation(booked(start), NOW, policy, patientActor))).toBe(ErrorCode.CANCELLATION_WINDOW_PASSED);
    }
  });

  it('staff, EHR and the system may cancel late; the decision says it was late', () => {
    const ehr: Actor = { kind: 'ehr', principalId: 'ehr-1' };
    for (const actor of [staff, ehr, system]) {
      expect(checkCancellation(booked({ hours: 2 }), NOW, policy, actor)).toEqual({ status: 'cancelled', late: true });
      expect(checkCancellation(booked({ hours: 48 }), NOW, policy, actor)).toEqual({ status: 'cancelled', late: false });
    }
  });

  it('a window of 0 hours lets patients cancel until the start', () => {
    expect(checkCancellation(booked({ minutes: 1 }), NOW, { cancellationWindowHours: 0 }, patientActor).late).toBe(false);
  });

  it('only statuses that may become cancelled can be cancelled', () => {
    for (const status of ['booked', 'pending', 'proposed', 'waitlist'] as AppointmentStatus[]) {
      expect(checkCancellation(booked({ hours: 48 }, status), NOW, policy, staff).status).toBe('cancelled');
    }
    for (const status of ['cancelled', 'fulfilled', 'noshow', 'arrived', 'checked-in', 'entered-in-error'] as AppointmentStatus[]) {
      expect(codeOf(() => checkCancellation(booked({ hours: 48 }, status), NOW, policy, staff))).toBe(ErrorCode.INVALID_TRANSITION);
    }
  });
});

describe('checkNoShow', () => {
  const at = (minutes: number, status: AppointmentStatus = 'booked') => ({ status, start: NOW.plus({ minutes }).toISO()! });

  it('records a no-show for a booked visit once its start has passed (or is now)', () => {
    expect(checkNoShow(at(-15), NOW)).toBe('noshow');
    expect(checkNoShow(at(0), NOW)).toBe('noshow');
  });

  it('refuses before the start', () => {
    expect(codeOf(() => checkNoShow(at(1), NOW))).toBe(ErrorCode.NOT_YET_HAPPENED);
  });

  it('refuses statuses other than booked', () => {
    for (const status of ['pending', 'arrived', 'checked-in', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error'] as AppointmentStatus[]) {
      expect(codeOf(() => checkNoShow(at(-15, status), NOW))).toBe(ErrorCode.INVALID_TRANSITION);
    }
  });
});

describe('bookableWindow: the one timing rule of booking and of every free-slot list', () => {
  const offsets = [{ minutes: -1 }, { minutes: 0 }, { minutes: 1 }, { minutes: 59 }, { minutes: 60 }, { days: 90 }, { days: 90, minutes: 1 }];
  test.each([...channels])('checkBooking refuses exactly the starts bookingTimeRuleBroken names (channel %s)', (channel: Channel) => {
    for (const offset of offsets) {
      const s = slotIn(offset);
      const broken = bookingTimeRuleBroken(Date.parse(s.start), bookableWindow(NOW, policy, channel));
      let thrown: string | undefined;
      try {
        checkBooking(booking({ slot: s, channel }));
      } catch (e) {
        thrown = (e as DomainError).code;
      }
      expect([offset, thrown]).toEqual([offset, broken]);
    }
  });

  test('self-service channels need the minimum notice; the EHR has no horizon; nobody books a started slot', () => {
    const at = (channel: Channel, offset: { minutes?: number; days?: number }) =>
      bookingTimeRuleBroken(NOW.plus(offset).toMillis(), bookableWindow(NOW, policy, channel));
    expect(at('api', { minutes: 0 })).toBe(ErrorCode.IN_THE_PAST);
    expect(at('api', { minutes: 1 })).toBeUndefined();
    expect(at('link', { minutes: 59 })).toBe(ErrorCode.TOO_LITTLE_NOTICE);
    expect(at('sms', { minutes: 60 })).toBeUndefined();
    expect(at('api', { days: 91 })).toBe(ErrorCode.BEYOND_HORIZON);
    expect(at('ehr', { days: 400 })).toBeUndefined();
  });

  test('the window and the no-show count are luxon plus/minus of minutes and days, in UTC and in a zone with DST', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 0, 1) }),
        fc.constantFrom('utc', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe'),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.constantFrom(...channels),
        fc.array(fc.integer({ min: -400 * 86_400_000, max: 86_400_000 }), { maxLength: 6 }),
        (ms, zone, minNoticeMinutes, days, channel, noShowOffsets) => {
          const now = DateTime.fromMillis(ms, { zone });
          const p = { ...policy, minNoticeMinutes, maxHorizonDays: days, noShowWindowDays: days };
          expect(bookableWindow(now, p, channel)).toEqual({
            startsAfterMs: ms,
            notBeforeMs: SELF_SERVICE_CHANNELS.has(channel) ? now.plus({ minutes: minNoticeMinutes }).toMillis() : ms,
            notAfterMs: channel === 'ehr' ? Number.POSITIVE_INFINITY : now.plus({ days }).toMillis(),
          });
          // Instants as the ledger writes them (UTC) and with an offset.
          const noShows = noShowOffsets.map((d, i) =>
            i % 2 ? new Date(ms + d).toISOString() : DateTime.fromMillis(ms + d, { zone: 'America/Chicago' }).toISO()!,
          );
          const since = now.minus({ days });
          const expected = noShows.filter((iso) => DateTime.fromISO(iso) > since && DateTime.fromISO(iso) <= now).length;
          expect(recentNoShows(noShows, now, p)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
