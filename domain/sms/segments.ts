/**
 * SMS segment counting (3GPP TS 23.038 / GSM 03.38). A body that fits the GSM 7-bit default
 * alphabet costs 160 septets in one segment, 153 per segment when concatenated (the UDH takes 7);
 * the extension table's characters cost two septets (ESC + char) and never straddle a segment.
 * Any other character forces UCS-2: 70 UTF-16 code units in one segment, 67 concatenated, and a
 * surrogate pair is never split.
 */

/** The GSM 03.38 basic character set (no national shift tables). */
const GSM_BASIC = new Set('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà');
/** The extension table: each costs ESC + the character. */
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentCount {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

const isGsm = (text: string) => [...text].every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));

/** How many segments a body costs, and in which encoding. */
export function countSegments(text: string): SegmentCount {
  const gsm = isGsm(text);
  // Each character's cost in units: GSM septets, or UTF-16 code units.
  const costs = [...text].map((c) => (gsm ? (GSM_EXTENSION.has(c) ? 2 : 1) : c.length));
  const units = costs.reduce((a, b) => a + b, 0);
  const single = gsm ? 160 : 70;
  const perPart = gsm ? 153 : 67;
  if (units <= single) return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > perPart) {
      segments++;
      used = 0;
    }
    used += cost;
  }
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, segments };
}
