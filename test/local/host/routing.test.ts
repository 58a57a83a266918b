/** Pure parts of the local host: route templates and precedence, NCRONTAB schedules, settings. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSchedule } from '../../../local/host/ncrontab';
import { Router, fullRoute } from '../../../local/host/router';
import { applyLocalSettings, routePrefixFrom } from '../../../local/host/settings';

describe('route templates', () => {
  const router = new Router<string>();
  router.add(fullRoute('', 'fhir/Appointment/{id}'), ['GET'], 'fhirRead');
  router.add(fullRoute('', 'fhir/Appointment/$find'), ['POST'], 'fhirFind');
  router.add(fullRoute('', 'book/{token}'), ['GET', 'POST'], 'book');
  router.add(fullRoute('api', 'appointments/{appointmentId}/cancel'), ['POST'], 'cancel');
  router.add(fullRoute('api', 'appointments/{appointmentId}'), ['GET'], 'getAppointment');
  router.add(fullRoute('api', 'providers/{providerId}/calendar.ics'), ['GET'], 'ics');
  router.add(fullRoute('api', 'files/{*path}'), ['GET'], 'files');
  router.add(fullRoute('api', 'opt/{a}/{b?}'), ['GET'], 'optional');

  const hit = (method: string, path: string) => {
    const m = router.match(method, path);
    return m.route ? { target: m.route.target, params: m.params } : undefined;
  };

  it('joins prefix and route as the host does', () => {
    expect(fullRoute('api', '/clinics/{id}/')).toBe('api/clinics/{id}');
    expect(fullRoute('', 'book/{token}')).toBe('book/{token}');
  });

  it('matches parameters, literals with dots and dollar signs, case-insensitively', () => {
    expect(hit('GET', '/fhir/Appointment/a-1')).toEqual({ target: 'fhirRead', params: { id: 'a-1' } });
    expect(hit('POST', '/fhir/appointment/$find')).toEqual({ target: 'fhirFind', params: {} });
    expect(hit('GET', '/book/abc.def')).toEqual({ target: 'book', params: { token: 'abc.def' } });
    expect(hit('GET', '/api/providers/p1/calendar.ics')).toEqual({ target: 'ics', params: { providerId: 'p1' } });
    expect(hit('POST', '/api/appointments/a%2F1/cancel')).toEqual({ target: 'cancel', params: { appointmentId: 'a/1' } });
  });

  it('supports catch-all and optional parameters, and a trailing slash', () => {
    expect(hit('GET', '/api/files/a/b/c.txt')).toEqual({ target: 'files', params: { path: 'a/b/c.txt' } });
    expect(hit('GET', '/api/opt/x')).toEqual({ target: 'optional', params: { a: 'x' } });
    expect(hit('GET', '/api/opt/x/y/')).toEqual({ target: 'optional', params: { a: 'x', b: 'y' } });
  });

  it('does not match other methods or longer paths', () => {
    expect(hit('DELETE', '/api/appointments/a1')).toBeUndefined();
    expect(router.match('DELETE', '/api/appointments/a1').pathMatched).toBe(true);
    expect(hit('GET', '/api/appointments/a1/extra')).toBeUndefined();
    expect(hit('GET', '/appointments/a1')).toBeUndefined();
  });
});

describe('NCRONTAB schedules', () => {
  const after = (expr: string, iso: string) => parseSchedule(expr).next(new Date(iso)).toISOString();

  it('reads six fields with seconds', () => {
    expect(after('0 */5 * * * *', '2026-03-01T09:02:30.000Z')).toBe('2026-03-01T09:05:00.000Z');
    expect(after('30 0 9 * * *', '2026-03-01T09:00:30.000Z')).toBe('2026-03-02T09:00:30.000Z');
    expect(after('* * * * * *', '2026-03-01T09:00:00.400Z')).toBe('2026-03-01T09:00:01.000Z');
  });

  it('honours day-of-week names and ranges, months and lists', () => {
    // 2026-03-06 is a Friday: next weekday 08:00 is Monday the 9th.
    expect(after('0 0 8 * * MON-FRI', '2026-03-06T08:00:00.000Z')).toBe('2026-03-09T08:00:00.000Z');
    expect(after('0 0 0 1 JAN,JUL *', '2026-03-01T00:00:00.000Z')).toBe('2026-07-01T00:00:00.000Z');
    expect(after('0 15,45 * * * *', '2026-03-01T09:20:00.000Z')).toBe('2026-03-01T09:45:00.000Z');
  });

  it('accepts five-field expressions and TimeSpan intervals, rejects nonsense', () => {
    expect(after('*/10 * * * *', '2026-03-01T09:01:00.000Z')).toBe('2026-03-01T09:10:00.000Z');
    expect(after('00:15:00', '2026-03-01T09:01:00.000Z')).toBe('2026-03-01T09:16:00.000Z');
    expect(() => parseSchedule('0 0 25 * * *')).toThrow(/out of range/);
    expect(() => parseSchedule('every day')).toThrow();
  });
});

describe('settings', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'slotflow-settings-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies local.settings.json Values where the environment has none (environment wins)', () => {
    const file = join(dir, 'local.settings.json');
    writeFileSync(file, JSON.stringify({ IsEncrypted: false, Values: { TWILIO_AUTH_TOKEN: 'from-file', SMS_MODE: 'outbox' } }));
    const env: NodeJS.ProcessEnv = { TWILIO_AUTH_TOKEN: 'from-env' };
    expect(applyLocalSettings(file, env)).toEqual(['SMS_MODE']);
    expect(env).toEqual({ TWILIO_AUTH_TOKEN: 'from-env', SMS_MODE: 'outbox' });
    expect(applyLocalSettings(join(dir, 'absent.json'), env)).toEqual([]);
  });

  it('reads the route prefix from host.json, "api" when absent', () => {
    const file = join(dir, 'host.json');
    writeFileSync(file, JSON.stringify({ version: '2.0', extensions: { http: { routePrefix: '' } } }));
    expect(routePrefixFrom(file)).toBe('');
    writeFileSync(file, JSON.stringify({ version: '2.0' }));
    expect(routePrefixFrom(file)).toBe('api');
  });
});
