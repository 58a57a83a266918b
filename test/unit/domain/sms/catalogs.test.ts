import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import {
  CATALOGS,
  countSegments,
  languageFromFhirCommunication,
  languageFromPid15,
  renderSms,
  resolvePatientLocale,
  SMS_SEGMENT_BUDGET,
  SMS_TEMPLATES,
  SUPPORTED_LANGUAGES,
  type SmsTemplate,
} from '../../../../domain/sms';
import { en } from '../../../../domain/sms/catalogs/en';

const clinic = { displayName: 'Riverside Clinic', timeZone: 'America/New_York' };
// The longest display name a clinic may set (40 characters), for the segment budgets.
const longClinic = { displayName: 'Riverside Family Health Centre Northwest', timeZone: 'America/New_York' };
const PHI = {
  patientName: 'Maria Lopez',
  name: 'Maria Lopez',
  appointmentType: 'Echocardiogram follow-up',
  providerName: 'Dr. Jane Heart',
  diagnosis: 'atrial fibrillation',
  planName: 'Gold PPO Plus',
  memberId: 'MBR-99812',
  notes: 'post-surgical check',
};
const PHI_STRINGS = ['Maria', 'Lopez', 'Echocardiogram', 'Heart', 'fibrillation', 'Gold PPO', 'MBR-99812', 'surgical', 'Dr.'];
// Times whose formatting is longest (two-digit day and hour, long month abbreviations).
const T1 = '2026-12-10T15:30:00Z';
const T2 = '2026-09-24T16:45:00Z';
const params = (c: typeof clinic): { [T in SmsTemplate]: Record<string, unknown> } => ({
  offer: { clinic: c, start: T1, expiresAt: T2 },
  'offer-taken': { clinic: c },
  'offer-expired': { clinic: c },
  'offer-checking': { clinic: c, start: T1 },
  'offer-declined': { clinic: c },
  'no-open-offer': { clinic: c },
  booked: { clinic: c, start: T1 },
  reminder: { clinic: c, start: T1 },
  confirmed: { clinic: c, start: T1 },
  cancelled: { clinic: c, start: T1 },
  'cancel-too-late': { clinic: c, start: T1 },
  'no-upcoming-appointment': { clinic: c },
  eligibility: { clinic: c, start: T1 },
  rehomed: { clinic: c, previousStart: T1, start: T2 },
  'booking-link': { clinic: c, url: 'https://slotflow.example.org/book/eyJ2IjoxLCJwIjoicGF0MSJ9.AbCdEfGhIjKlMnOpQrStUv', expiresAt: T2 },
  help: { clinic: c },
  'opted-out': { clinic: c },
  'opted-in': { clinic: c },
  'book-list': { clinic: c, starts: [T1, T2, T1, T2, T1] },
  'book-none': { clinic: c },
  'book-pick-invalid': { clinic: c, count: 5 },
  'book-slot-gone': { clinic: c },
  'book-failed': { clinic: c },
  'offer-move-up': { clinic: c, start: T1, currentStart: T2, expiresAt: T1 },
  'offer-replacement': { clinic: c, start: T1, replacedStart: T2, expiresAt: T1 },
  'offer-move-up-replacement': { clinic: c, start: T1, currentStart: T2, replacedStart: T2, expiresAt: T1 },
  moved: { clinic: c, start: T1, previousStart: T2 },
  'already-moved': { clinic: c },
  'offer-withdrawn': { clinic: c },
  'earlier-added': { clinic: c, start: T2 },
  'reschedule-link': { clinic: c, start: T1, url: 'https://slotflow.example.org/book/eyJ2IjoxLCJwIjoicGF0MSJ9.AbCdEfGhIjKlMnOpQrStUv', expiresAt: T2 },
  'reschedule-too-late': { clinic: c, start: T1 },
  'noshow-follow-up': { clinic: c, url: 'https://slotflow.example.org/book/eyJ2IjoxLCJwIjoicGF0MSJ9.AbCdEfGhIjKlMnOpQrStUv', expiresAt: T2 },
});

/** Placeholder and tag names of one ICU message, sorted. */
function placeholders(message: string): string[] {
  const names = new Set<string>();
  const walk = (els: MessageFormatElement[]) => {
    for (const el of els) {
      if (el.type === TYPE.literal || el.type === TYPE.pound) continue;
      names.add(el.type === TYPE.tag ? `<${el.value}>` : el.value);
      if (el.type === TYPE.tag) walk(el.children);
      if (el.type === TYPE.select || el.type === TYPE.plural) for (const o of Object.values(el.options)) walk(o.value);
    }
  };
  walk(parse(message));
  return [...names].sort();
}

describe('message catalogs', () => {
  const keys = Object.keys(en).sort();
  it.each(SUPPORTED_LANGUAGES.map((l) => [l]))('%s has every key and the same placeholders as English', (language) => {
    const catalog = CATALOGS[language];
    expect(Object.keys(catalog).sort()).toEqual(keys);
    for (const key of keys) {
      const message = catalog[key as keyof typeof en];
      expect([key, message.trim().length > 0]).toEqual([key, true]);
      expect([key, placeholders(message)]).toEqual([key, placeholders(en[key as keyof typeof en])]);
    }
  });

  it('every SMS template has a catalog message and a segment budget', () => {
    for (const t of SMS_TEMPLATES) {
      expect(en[t]).toBeDefined();
      expect(SMS_SEGMENT_BUDGET[t]).toBeGreaterThanOrEqual(1);
    }
  });

  const cases = SUPPORTED_LANGUAGES.flatMap((l) => SMS_TEMPLATES.map((t) => [l, t] as const));
  it.each(cases)('%s %s: no PHI, names the clinic, within its segment budget', (language, template) => {
    const locale = resolvePatientLocale(language === 'es' ? 'es-US' : language);
    const body = renderSms(template, { ...params(clinic)[template], ...PHI } as never, locale);
    for (const s of PHI_STRINGS) expect(body).not.toContain(s);
    expect(body).toContain('Riverside Clinic');
    expect(body).not.toMatch(/[{}]/);
    // Never ask for CANCEL / CANCELAR (carrier opt-out words) to cancel a visit.
    expect(body).not.toMatch(/\bCANCEL(AR)?\b/);
    const long = renderSms(template, params(longClinic)[template] as never, locale);
    expect([template, countSegments(long).segments <= SMS_SEGMENT_BUDGET[template]]).toEqual([template, true]);
  });

  it('English is GSM-7 within two segments; Spanish with á/í/ó/ú and Vietnamese are UCS-2', () => {
    for (const t of SMS_TEMPLATES) {
      const english = countSegments(renderSms(t, params(longClinic)[t] as never));
      expect([t, english.encoding, english.segments <= 2]).toEqual([t, 'GSM-7', true]);
    }
    const es = resolvePatientLocale('es-US');
    expect(countSegments(renderSms('booked', { clinic, start: T1 }, es)).encoding).toBe('UCS-2');
    // No accent outside GSM-7 (and the time's no-break spaces made plain): stays GSM-7.
    expect(countSegments(renderSms('reminder', { clinic, start: T1 }, es)).encoding).toBe('GSM-7');
    expect(countSegments(renderSms('reminder', { clinic, start: T1 }, resolvePatientLocale('vi'))).encoding).toBe('UCS-2');
  });
});

describe('rendering in the patient language', () => {
  it('Spanish and Vietnamese, with dates in the clinic zone and the patient locale', () => {
    expect(renderSms('reminder', { clinic, start: '2026-03-03T14:30:00Z' }, resolvePatientLocale('es'))).toBe(
      'Riverside Clinic: le recordamos su cita del mar, 3 mar, 9:30. Responda C para confirmarla, X para cancelarla o R para elegir otro horario. ¿Prefiere antes? Responda ANTES.',
    );
    expect(renderSms('booked', { clinic, start: '2026-03-03T14:30:00Z' }, resolvePatientLocale('vi'))).toBe(
      'Riverside Clinic: quý vị đã được đặt lịch vào 9:30 Thứ 3, 3 thg 3. Trả lời X để hủy.',
    );
  });

  it('an unknown clinic is named in the patient language', () => {
    expect(renderSms('help', {}, resolvePatientLocale('es-MX'))).toMatch(/^Su clínica: responda SÍ\/NO/);
  });

  it('offer-checking without a start reads naturally', () => {
    expect(renderSms('offer-checking', { clinic }, resolvePatientLocale('es'))).toContain('revisando ese horario para usted');
  });
});

describe('resolvePatientLocale', () => {
  it.each([
    [undefined, undefined, 'en', 'en-US'],
    ['es', undefined, 'es', 'es'],
    ['es-MX', 'vi', 'es', 'es-MX'],
    ['en-GB', 'es', 'en', 'en-GB'],
    ['EN', undefined, 'en', 'en-US'],
    ['fr', 'es', 'es', 'es'],
    ['fr', undefined, 'en', 'en-US'],
    ['not a tag', 'vi', 'vi', 'vi'],
    [undefined, 'xx-invalid-', 'en', 'en-US'],
  ])('patient %j, clinic %j -> %s (%s)', (patient, clinicDefault, language, locale) => {
    expect(resolvePatientLocale(patient, clinicDefault)).toEqual({ language, locale });
  });
});

describe('countSegments (GSM 03.38)', () => {
  it.each([
    ['', 'GSM-7', 0, 1],
    ['a'.repeat(160), 'GSM-7', 160, 1],
    ['a'.repeat(161), 'GSM-7', 161, 2],
    ['a'.repeat(306), 'GSM-7', 306, 2],
    ['a'.repeat(307), 'GSM-7', 307, 3],
    // Extension characters cost two septets.
    ['€'.repeat(80), 'GSM-7', 160, 1],
    ['€'.repeat(81), 'GSM-7', 162, 2],
    // é ñ ü ¿ ¡ are in the basic set; á í ó ú are not.
    ['¿Señor Müller? ¡é!', 'GSM-7', 18, 1],
    ['sí', 'UCS-2', 2, 1],
    ['ó'.repeat(70), 'UCS-2', 70, 1],
    ['ó'.repeat(71), 'UCS-2', 71, 2],
    ['ó'.repeat(134), 'UCS-2', 134, 2],
    ['ó'.repeat(135), 'UCS-2', 135, 3],
    ['Thứ 3', 'UCS-2', 5, 1],
  ])('%j -> %s, %i units, %i segments', (text, encoding, units, segments) => {
    expect(countSegments(text)).toEqual({ encoding, units, segments });
  });

  it('an escape pair never straddles two segments', () => {
    // 306 septets would fit two parts, but after 152 septets the euro (2) must move to the second.
    expect(countSegments('a'.repeat(152) + '€' + 'a'.repeat(152)).segments).toBe(3);
  });

  it('a surrogate pair is never split', () => {
    expect(countSegments('a'.repeat(66) + '😀' + 'a'.repeat(66)).segments).toBe(3);
  });
});

describe('language from EHR data (ready for patient intake)', () => {
  it('FHIR Patient.communication: the preferred entry, BCP 47 or ISO 639 codes', () => {
    expect(
      languageFromFhirCommunication([
        { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en' }] } },
        { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'es-MX' }] }, preferred: true },
      ]),
    ).toBe('es-MX');
    expect(languageFromFhirCommunication([{ language: { coding: [{ code: 'vie' }] } }])).toBe('vi');
    expect(languageFromFhirCommunication([{ language: { text: 'Spanish' } }])).toBeUndefined();
    expect(languageFromFhirCommunication(undefined)).toBeUndefined();
  });
  it('SIU PID-15', () => {
    expect(languageFromPid15('spa^Spanish^ISO6392')).toBe('es');
    expect(languageFromPid15('VI')).toBe('vi');
    expect(languageFromPid15('')).toBeUndefined();
    expect(languageFromPid15('Spanish language^^')).toBeUndefined();
  });
  it('feeds resolvePatientLocale', () => {
    expect(resolvePatientLocale(languageFromPid15('spa^Spanish^ISO6392'))).toEqual({ language: 'es', locale: 'es' });
  });
});
