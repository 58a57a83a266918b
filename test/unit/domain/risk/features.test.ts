import { countHistory, localWeekdayHour, shrunkLogOdds, timeline, hourBand } from '../../../../domain/risk/features';
import type { PastAppointment } from '../../../../domain/risk/history';

const DAY = 86_400_000;

function visit(id: string, start: string, outcome: PastAppointment['outcome'], patientId = 'pat-1'): PastAppointment {
  return { appointmentId: id, patientId, appointmentType: 'FU', createdAt: '2025-01-01T09:00:00-05:00', start, outcome };
}

describe('risk features', () => {
  it('counts only strictly earlier visits inside the window; early cancellations do not count', () => {
    const start = Date.parse('2026-03-10T09:00:00Z');
    const prior = [
      { startMs: start - 400 * DAY, outcome: 'noshow' as const }, // outside a 365-day window
      { startMs: start - 100 * DAY, outcome: 'noshow' as const },
      { startMs: start - 50 * DAY, outcome: 'late-cancel' as const },
      { startMs: start - 20 * DAY, outcome: 'cancel' as const },
      { startMs: start - 10 * DAY, outcome: 'attended' as const },
      { startMs: start, outcome: 'noshow' as const }, // the same instant is not history yet
    ];
    expect(countHistory(prior, start, 365)).toEqual({ visits: 3, noShows: 1, lateCancels: 1 });
  });

  it('the timeline gives each appointment the same counts as countHistory, per patient', () => {
    const rows = [
      visit('a1', '2025-01-10T09:00:00-05:00', 'noshow'),
      visit('a2', '2025-02-10T09:00:00-05:00', 'attended'),
      visit('b1', '2025-02-10T09:00:00-05:00', 'noshow', 'pat-2'),
      visit('a3', '2025-02-10T09:00:00-05:00', 'noshow'), // same start as a2: neither sees the other
      visit('a4', '2026-02-01T09:00:00-05:00', 'attended'), // a1 has left the window
    ];
    const counts = Object.fromEntries(timeline(rows, { windowDays: 365 }).map((e) => [e.appointment.appointmentId, e.counts]));
    expect(counts.a1).toEqual({ visits: 0, noShows: 0, lateCancels: 0 });
    expect(counts.a2).toEqual({ visits: 1, noShows: 1, lateCancels: 0 });
    expect(counts.a3).toEqual({ visits: 1, noShows: 1, lateCancels: 0 });
    expect(counts.b1).toEqual({ visits: 0, noShows: 0, lateCancels: 0 });
    expect(counts.a4).toEqual({ visits: 2, noShows: 1, lateCancels: 0 });
  });

  it('shrinks short histories towards the clinic rate', () => {
    expect(shrunkLogOdds(0, 0, 0.2, 4)).toBe(0);
    const one = shrunkLogOdds(1, 1, 0.2, 4);
    const five = shrunkLogOdds(5, 5, 0.2, 4);
    expect(one).toBeGreaterThan(0);
    expect(five).toBeGreaterThan(one); // more evidence of the same rate moves further from the clinic's
    expect(shrunkLogOdds(0, 10, 0.2, 4)).toBeLessThan(0);
  });

  it('reads day and hour as written, or in the clinic zone across DST', () => {
    // Monday 2026-03-09 08:30 in New York (EDT since 2026-03-08).
    const iso = '2026-03-09T08:30:00-04:00';
    expect(localWeekdayHour(iso, Date.parse(iso))).toBe(0 * 24 + 8);
    const utc = '2026-03-09T12:30:00Z';
    expect(localWeekdayHour(utc, Date.parse(utc), 'America/New_York')).toBe(0 * 24 + 8);
    // Saturday 2026-03-07 08:30 EST is 13:30 UTC.
    expect(localWeekdayHour('2026-03-07T13:30:00Z', Date.parse('2026-03-07T13:30:00Z'), 'America/New_York')).toBe(5 * 24 + 8);
    expect([8, 9, 12, 14, 17].map(hourBand)).toEqual(['early', 'morning', 'midday', 'afternoon', 'evening']);
  });
});
