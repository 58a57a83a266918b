import { DateTime } from 'luxon';
import { toIsoInZone } from '../../../domain/time';

/** toIsoInZone before its arithmetic path: luxon's setZone and toISO. */
const viaLuxon = (dt: DateTime, zone: string) => dt.setZone(zone).toISO({ suppressMilliseconds: true, includeOffset: true })!;

describe('toIsoInZone', () => {
  it('writes what luxon writes, across zones, DST changes and odd inputs', () => {
    const zones = [
      'UTC',
      'Etc/UTC',
      'Europe/London',
      'America/New_York',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Africa/Monrovia',
      'Pacific/Chatham',
      'utc',
      'Not/AZone',
    ];
    let seed = 5;
    const r = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const instants = [0, -1000, Date.UTC(1971, 0, 1), Date.UTC(2026, 2, 8, 7), Date.UTC(2026, 10, 1, 6), Date.UTC(9999, 11, 29, 23), 1_772_463_600_500];
    for (let i = 0; i < 5000; i++) instants.push(Date.UTC(1970 + r(80), 0, 1) + r(366) * 86_400_000 + r(1440) * 60_000 + (r(4) === 0 ? r(60_000) : 0));
    for (const ms of instants)
      for (const zone of zones) {
        const dt = DateTime.fromMillis(ms, { zone: 'utc' });
        expect([ms, zone, toIsoInZone(dt, zone)]).toEqual([ms, zone, viaLuxon(dt, zone)]);
      }
  });
});
