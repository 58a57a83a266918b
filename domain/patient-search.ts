/** Patient lookup by name (front desk): what every patient repository matches on. */

/** Shortest name query: shorter ones match too many records to be a lookup. */
export const NAME_QUERY_MIN_CHARS = 2;
/** Most matches one lookup returns. */
export const NAME_QUERY_MAX_RESULTS = 20;

/** The lower-cased words of a name query (at most five); a record matches when its name contains every one. */
export function nameWords(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 5);
}

/** True when the name contains every word of the query, case-insensitively. */
export function nameMatches(name: string, words: readonly string[]): boolean {
  const lower = name.toLowerCase();
  return words.length > 0 && words.every((w) => lower.includes(w));
}
