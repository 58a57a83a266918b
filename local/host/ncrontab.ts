/**
 * NCRONTAB schedules as Azure Functions timer triggers read them: six fields
 * `{second} {minute} {hour} {day} {month} {day-of-week}` (a five-field expression is read with
 * second 0), or a TimeSpan `hh:mm:ss` meaning "every interval". Evaluated in UTC.
 */

export interface Schedule {
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
  readonly expression: string;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function parseValue(token: string, names: string[] | undefined, offset: number): number {
  const upper = token.toUpperCase();
  if (names) {
    const i = names.findIndex((n) => upper.startsWith(n));
    if (i >= 0) return i + offset;
  }
  const n = Number(token);
  if (!Number.isInteger(n)) throw new Error(`Invalid NCRONTAB value "${token}"`);
  return n;
}

function parseField(field: string, min: number, max: number, names?: string[], offset = 0): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const [rangePart, stepPart] = part.split('/');
    const step = stepPart === undefined ? 1 : Number(stepPart);
    if (!Number.isInteger(step) || step < 1) throw new Error(`Invalid NCRONTAB step in "${field}"`);
    let lo: number;
    let hi: number;
    if (rangePart === '*' || rangePart === '?') {
      lo = min;
      hi = max;
    } else if (rangePart?.includes('-')) {
      const [a, b] = rangePart.split('-');
      lo = parseValue(a ?? '', names, offset);
      hi = parseValue(b ?? '', names, offset);
    } else {
      lo = parseValue(rangePart ?? '', names, offset);
      hi = stepPart === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw new Error(`NCRONTAB field "${field}" out of range ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return values;
}

/** Parses a timer trigger schedule; throws with the offending field on error. */
export function parseSchedule(expression: string): Schedule {
  const trimmed = expression.trim();
  const span = /^(\d+\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(trimmed);
  if (span) {
    const days = span[1] ? Number(span[1].slice(0, -1)) : 0;
    const ms = (((days * 24 + Number(span[2])) * 60 + Number(span[3])) * 60 + Number(span[4])) * 1000;
    if (ms <= 0) throw new Error(`Invalid TimeSpan schedule "${expression}"`);
    return { expression, next: (after) => new Date(after.getTime() + ms) };
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length === 5) fields.unshift('0');
  if (fields.length !== 6) throw new Error(`NCRONTAB expression "${expression}" must have 6 fields`);
  const [sec, min, hour, day, month, dow] = fields as [string, string, string, string, string, string];
  const seconds = parseField(sec, 0, 59);
  const minutes = parseField(min, 0, 59);
  const hours = parseField(hour, 0, 23);
  const days = parseField(day, 1, 31);
  const months = parseField(month, 1, 12, MONTHS, 1);
  const weekdays = parseField(dow.replace(/\b7\b/g, '0'), 0, 6, DAYS, 0);
  return {
    expression,
    next(after: Date): Date {
      const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      const limit = after.getTime() + 5 * 366 * 24 * 3600 * 1000;
      while (t.getTime() <= limit) {
        if (!months.has(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!days.has(t.getUTCDate()) || !weekdays.has(t.getUTCDay())) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0, 0);
          continue;
        }
        if (!hours.has(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
          continue;
        }
        if (!minutes.has(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
          continue;
        }
        if (!seconds.has(t.getUTCSeconds())) {
          t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
          continue;
        }
        return new Date(t);
      }
      throw new Error(`NCRONTAB expression "${expression}" has no occurrence within 5 years`);
    },
  };
}
