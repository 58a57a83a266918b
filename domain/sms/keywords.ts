/**
 * Reply keywords. Carrier opt-out words (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) always mean
 * opt-out, which is why cancelling a visit is "X" and never "CANCEL".
 */
export type ReplyIntent =
  | { kind: 'yes' }
  | { kind: 'no' }
  | { kind: 'confirm' }
  | { kind: 'cancel' }
  | { kind: 'book' }
  | { kind: 'pick'; number: number }
  | { kind: 'opt-out' }
  | { kind: 'opt-in' }
  | { kind: 'help' }
  | { kind: 'unknown' };

export const OPT_OUT_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'] as const;
export const OPT_IN_WORDS = ['START', 'UNSTOP', 'YES START'] as const;
export const HELP_WORDS = ['HELP', 'INFO'] as const;

const YES = new Set(['YES', 'Y', 'YEA', 'YEAH', 'YEP', 'OK', 'OKAY']);
const NO = new Set(['NO', 'N', 'NOPE']);

/** Longest reply we bother to interpret; anything longer is free text. */
const MAX_KEYWORD_LENGTH = 20;

/** Interprets an inbound SMS body. "1" is reported as a pick; the state decides whether it means YES. */
export function parseReply(body: string): ReplyIntent {
  const text = body
    .normalize('NFKC')
    .trim()
    .toUpperCase()
    .replace(/[.!?,;:'"]+$/g, '')
    .replace(/^['"]+/, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (text.length === 0 || text.length > MAX_KEYWORD_LENGTH) return { kind: 'unknown' };
  if ((OPT_OUT_WORDS as readonly string[]).includes(text)) return { kind: 'opt-out' };
  if ((OPT_IN_WORDS as readonly string[]).includes(text)) return { kind: 'opt-in' };
  if ((HELP_WORDS as readonly string[]).includes(text)) return { kind: 'help' };
  if (YES.has(text)) return { kind: 'yes' };
  if (NO.has(text)) return { kind: 'no' };
  if (text === 'C' || text === 'CONFIRM') return { kind: 'confirm' };
  if (text === 'X') return { kind: 'cancel' };
  if (text === 'BOOK') return { kind: 'book' };
  const pick = /^#?(\d{1,2})$/.exec(text);
  if (pick) return { kind: 'pick', number: Number(pick[1]) };
  return { kind: 'unknown' };
}
