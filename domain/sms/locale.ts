import { SUPPORTED_LANGUAGES, type SupportedLanguage } from './catalogs';

/**
 * Patient languages. A patient's `preferredLanguage` is any BCP 47 tag (e.g. `es`, `es-MX`, `en-US`);
 * the text comes from the catalog of its primary language if we ship one, else the clinic's default,
 * else English. Dates keep the full tag (es-MX formats differently from es), within the catalog's language.
 */

/** How many characters a language tag may have (RFC 5646 tags in practice stay far below). */
export const MAX_LANGUAGE_TAG_LENGTH = 35;

/** The canonical form of a well-formed BCP 47 tag, or undefined. */
export function canonicalLanguageTag(tag: string): string | undefined {
  if (tag.length === 0 || tag.length > MAX_LANGUAGE_TAG_LENGTH) return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** The language and locale a patient is written to in. */
export interface PatientLocale {
  /** Which catalog. */
  language: SupportedLanguage;
  /** Which locale dates and times are formatted in: the patient's tag when it is of that language. */
  locale: string;
}

const supported = (tag: string | undefined): PatientLocale | undefined => {
  const canonical = tag ? canonicalLanguageTag(tag) : undefined;
  if (!canonical) return undefined;
  const language = new Intl.Locale(canonical).language as SupportedLanguage;
  if (!(SUPPORTED_LANGUAGES as readonly string[]).includes(language)) return undefined;
  // English keeps en-US formatting unless a region says otherwise, so today's texts stay byte-identical.
  return { language, locale: canonical === 'en' ? 'en-US' : canonical };
};

/** The patient's language, else the clinic's default, else English. */
export function resolvePatientLocale(preferredLanguage?: string, clinicDefaultLanguage?: string): PatientLocale {
  return supported(preferredLanguage) ?? supported(clinicDefaultLanguage) ?? { language: 'en', locale: 'en-US' };
}

export const ENGLISH: PatientLocale = { language: 'en', locale: 'en-US' };

/**
 * The first shipped language of an Accept-Language header (RFC 9110, by q-value), for pages shown
 * before the patient is known (a link that cannot be read). English when none matches.
 */
export function localeFromAcceptLanguage(header: string | null | undefined): PatientLocale {
  const ranges = (header ?? '')
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)).find(Boolean);
      return { tag: tag.trim(), q: q ? Number(q[1]) : 1, i };
    })
    .filter((r) => r.tag && r.tag !== '*' && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    const found = supported(r.tag);
    if (found) return found;
  }
  return ENGLISH;
}

/** The parts of a FHIR R4 Patient.communication entry that name a language. */
export interface FhirPatientCommunication {
  language?: { coding?: { system?: string; code?: string }[]; text?: string };
  preferred?: boolean;
}

/**
 * `preferredLanguage` from FHIR Patient.communication: the entry marked preferred, else the first;
 * its first coding that is a well-formed tag (urn:ietf:bcp:47 codes, or ISO 639 codes, which canonicalize: spa -> es).
 * Ready for an EHR patient intake; none feeds patients yet.
 */
export function languageFromFhirCommunication(communication: readonly FhirPatientCommunication[] | undefined): string | undefined {
  const list = communication ?? [];
  const entry = list.find((c) => c.preferred) ?? list[0];
  for (const coding of entry?.language?.coding ?? []) {
    const tag = coding.code ? canonicalLanguageTag(coding.code) : undefined;
    if (tag) return tag;
  }
  return undefined;
}

/** `preferredLanguage` from HL7 v2 PID-15 (Primary Language, CWE: identifier^text^coding system), e.g. "spa^Spanish^ISO6392" or "es". */
export function languageFromPid15(field: string | undefined): string | undefined {
  const identifier = (field ?? '').split('^')[0]?.trim();
  return identifier ? canonicalLanguageTag(identifier) : undefined;
}
