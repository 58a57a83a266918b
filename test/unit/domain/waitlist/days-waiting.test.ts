import { DateTime, Settings } from 'luxon';
import { daysWaitingSince } from '../../../../domain/waitlist/ranking';

/** waitlistCandidates' daysWaiting before daysWaitingSince: a luxon diff per entry. */
const viaLuxon = (now: DateTime, createdAt: string) => Math.max(0, Math.floor(now.diff(DateTime.fromISO(createdAt), 'days').days));

describe('daysWaitingSince', () => {
  const zones = ['utc', 'America/New_York', 'Europe/Berlin', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];
  const formats = [
    (d: DateTime) => d.toUTC().toISO()!,
    (d: DateTime) => d.setZone('America/New_York').toISO()!,
    (d: DateTime) => d.toUTC().toISO({ suppressMilliseconds: true })!,
  ];
  let seed = 11;
  const r = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const base = Date.parse('2026-01-01T00:00:00Z');

  it.each(['UTC', 'America/New_York'])('agrees with the luxon diff (default zone %s), across DST changes', (defaultZone) => {
    const saved = Settings.defaultZone;
    Settings.defaultZone = defaultZone;
    try {
      for (let i = 0; i < 3000; i++) {
        const now = DateTime.fromMillis(base + r(400) * 86_400_000 + r(86_400_000), { zone: zones[r(zones.length)]! });
        const created = DateTime.fromMillis(now.toMillis() - (r(200) - 5) * 86_400_000 + (r(7_200_000) - 3_600_000));
        const iso = formats[r(formats.length)]!(created);
        expect([iso, daysWaitingSince(now)(iso)]).toEqual([iso, viaLuxon(now, iso)]);
      }
      for (const odd of ['2026-02-30T00:00:00Z', '2026-02-28T24:00:00Z', '2026-02-28T10:00:00+25:00', '2026-02-28T10:00:00.1234Z', 'not a date']) {
        const now = DateTime.fromISO('2026-06-01T12:00:00Z');
        expect([odd, daysWaitingSince(now)(odd)]).toEqual([odd, viaLuxon(now, odd)]);
      }
    } finally {
      Settings.defaultZone = saved;
    }
  });

  it('follows the system zone when TZ changes (the fixed-day answer is remembered per zone and TZ)', () => {
    const saved = { zone: Settings.defaultZone, tz: process.env.TZ };
    Settings.defaultZone = 'system';
    try {
      const now = DateTime.fromISO('2026-03-20T12:00:00Z');
      const created = '2026-03-07T12:30:00.000Z'; // across New York's spring-forward: 12 days 23.5 hours, one day fewer in New York's count
      for (const tz of ['UTC', 'America/New_York', 'UTC', 'America/New_York']) {
        process.env.TZ = tz;
        expect([tz, daysWaitingSince(now)(created)]).toEqual([tz, viaLuxon(now, created)]);
      }
    } finally {
      if (saved.tz === undefined) delete process.env.TZ;
      else process.env.TZ = saved.tz;
      Settings.defaultZone = saved.zone;
    }
  });
});
