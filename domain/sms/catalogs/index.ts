import { IntlMessageFormat } from 'intl-messageformat';
import { en, type Catalog, type MessageKey } from './en';
import { es } from './es';
import { vi } from './vi';

export type { Catalog, MessageKey } from './en';

/** The languages patients can be texted in (primary language subtags). */
export const SUPPORTED_LANGUAGES = ['en', 'es', 'vi'] as const;
export type SupportedLanguage = (typeof SUPPORTED_LANGUAGES)[number];

/** Every shipped catalog, by language. */
export const CATALOGS: Readonly<Record<SupportedLanguage, Catalog>> = { en, es, vi };

/** Values a message may take: strings, numbers, and tag functions for rich text (the pages' <b>). */
export type MessageValues = Record<string, string | number | ((chunks: string[]) => string)>;

const compiled = new Map<string, IntlMessageFormat>();

/** Formats one catalog message (compiled once per language and key). */
export function formatMessage(language: SupportedLanguage, key: MessageKey, values: MessageValues = {}): string {
  const id = `${language}\u0000${key}`;
  let format = compiled.get(id);
  if (!format) {
    format = new IntlMessageFormat(CATALOGS[language][key], language);
    compiled.set(id, format);
  }
  const out = format.format<string>(values);
  return Array.isArray(out) ? out.join('') : String(out);
}
