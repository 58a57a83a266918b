import type { SupportedLanguage } from './catalogs';

/**
 * Reply keywords, in every shipped language at once (a patient may answer in English to a Spanish
 * text, and the words do not collide), matched without accents or case: "SÍ", "si" and "Sí!" are
 * the same reply. Carrier opt-out words (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, and the
 * Spanish PARAR, ALTO, CANCELAR that US carriers honour) always mean opt-out, which is why
 * cancelling a visit is "X" and never "CANCEL" / "CANCELAR".
 */
export type ReplyIntent = (
  | { kind: 'yes' }
  | { kind: 'no' }
  | { kind: 'confirm' }
  | { kind: 'cancel' }
  | { kind: 'book' }
  /** EARLIER: move my next appointment earlier if a time opens up (a move-up waitlist entry). */
  | { kind: 'earlier' }
  /** R: I cannot come then; send me a link to pick another time for my next appointment. */
  | { kind: 'reschedule' }
  | { kind: 'pick'; number: number }
  | { kind: 'opt-out' }
  | { kind: 'opt-in' }
  | { kind: 'help' }
  | { kind: 'unknown' }
) & {
  /** Set when the word is only of that language (e.g. AYUDA): answers to an unknown sender use it. */
  language?: SupportedLanguage;
};

export const OPT_OUT_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'] as const;
/** Spanish opt-out words US carriers honour. */
export const OPT_OUT_WORDS_ES = ['PARAR', 'ALTO', 'CANCELAR'] as const;
export const OPT_IN_WORDS = ['START', 'UNSTOP', 'YES START'] as const;
export const HELP_WORDS = ['HELP', 'INFO'] as const;

type Kind = Exclude<ReplyIntent['kind'], 'pick' | 'unknown'>;
/** Word (upper case, accents removed) -> intent and, for non-English words, their language. */
const WORDS = new Map<string, { kind: Kind; language?: SupportedLanguage }>();
const add = (kind: Kind, words: readonly string[], language?: SupportedLanguage) => {
  for (const w of words) WORDS.set(fold(w), language ? { kind, language } : { kind });
};

/** Upper case, accents removed (Vietnamese Đ too, which has no decomposition), spaces collapsed. */
function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[Đđ]/g, 'D')
    .toUpperCase()
    .replace(/\s+/g, ' ')
    .trim();
}

add('opt-out', OPT_OUT_WORDS);
add('opt-out', OPT_OUT_WORDS_ES, 'es');
add('opt-in', OPT_IN_WORDS);
add('help', HELP_WORDS);
add('yes', ['YES', 'Y', 'YEA', 'YEAH', 'YEP', 'OK', 'OKAY']);
add('no', ['NO', 'N', 'NOPE']);
add('confirm', ['C', 'CONFIRM']);
add('cancel', ['X']);
add('book', ['BOOK']);
add('earlier', ['EARLIER', 'SOONER']);
add('reschedule', ['R', 'RESCHEDULE']);
// Spanish ("NO" is the same word in both).
add('yes', ['SÍ', 'SI', 'VALE', 'CLARO'], 'es');
add('confirm', ['CONFIRMAR', 'CONFIRMO'], 'es');
add('book', ['CITA', 'CITAS'], 'es');
add('earlier', ['ANTES'], 'es');
add('reschedule', ['CAMBIAR', 'REPROGRAMAR'], 'es');
add('help', ['AYUDA'], 'es');
// Vietnamese.
add('yes', ['CÓ', 'ĐỒNG Ý', 'VÂNG', 'DẠ'], 'vi');
add('no', ['KHÔNG'], 'vi');
add('confirm', ['XÁC NHẬN'], 'vi');
add('book', ['ĐẶT', 'ĐẶT LỊCH'], 'vi');
add('earlier', ['SỚM HƠN', 'SỚM'], 'vi');
add('reschedule', ['ĐỔI', 'ĐỔI LỊCH', 'DỜI LỊCH'], 'vi');
add('help', ['TRỢ GIÚP', 'GIÚP'], 'vi');

/** Longest reply we bother to interpret; anything longer is free text. */
const MAX_KEYWORD_LENGTH = 20;

/** Interprets an inbound SMS body. "1" is reported as a pick; the state decides whether it means YES. */
export function parseReply(body: string): ReplyIntent {
  const text = fold(
    body
      .normalize('NFKC')
      .trim()
      .replace(/[.!?,;:'"]+$/g, '')
      .replace(/^['"¡¿]+/, ''),
  );
  if (text.length === 0 || text.length > MAX_KEYWORD_LENGTH) return { kind: 'unknown' };
  const word = WORDS.get(text);
  if (word) return { ...word };
  const pick = /^#?(\d{1,2})$/.exec(text);
  if (pick) return { kind: 'pick', number: Number(pick[1]) };
  return { kind: 'unknown' };
}
