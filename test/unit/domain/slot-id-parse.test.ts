import { DateTime } from 'luxon';
import { parseSlotId, parseSlotIdMs } from '../../../domain/ids';

/** The parse before parseSlotIdMs: luxon's fromFormat. */
function viaLuxon(slotId: string): string {
  const m = /^([A-Za-z0-9][A-Za-z0-9-]{0,39})\.(\d{8}T\d{4})$/.exec(slotId);
  const start = m ? DateTime.fromFormat(m[2]!, "yyyyMMdd'T'HHmm", { zone: 'utc' }) : undefined;
  return !m || !start?.isValid ? 'malformed' : `${m[1]}|${start.toMillis()}`;
}
function viaMs(slotId: string): string {
  try {
    const { providerId, startMs } = parseSlotIdMs(slotId);
    return `${providerId}|${startMs}`;
  } catch {
    return 'malformed';
  }
}

describe('parseSlotIdMs', () => {
  it('agrees with the luxon parse on valid and invalid dates and times', () => {
    let seed = 7;
    const r = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const ids = ['dr-1.20260302T1400', 'dr-1.20240229T0000', 'dr-1.20250229T0000', 'dr-1.20260302T2400', 'x.00990101T0000', 'bad', 'dr.2026030T1400'];
    for (let i = 0; i < 50_000; i++) {
      const y = [r(10000), 2026, 2024, 1900, 2000, 0, 99, 100][r(8)]!;
      ids.push(`dr-${r(30)}.${pad(y, 4)}${pad(r(14))}${pad(r(33))}T${pad(r(26))}${pad(r(62))}`);
    }
    for (const id of ids) expect([id, viaMs(id)]).toEqual([id, viaLuxon(id)]);
  });

  it('parseSlotId still returns the start as a UTC DateTime', () => {
    const { providerId, startUtc } = parseSlotId('dr-1.20260302T1400');
    expect(providerId).toBe('dr-1');
    expect(startUtc.toISO()).toBe('2026-03-02T14:00:00.000Z');
  });
});
