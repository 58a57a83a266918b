/**
 * Patients texted and answered in their language: sending picks the patient's language (else the
 * clinic's default, else English) and records it; replies (HELP, STOP, offer answers) come back in
 * it. In-memory services, a fixed clock, the local SMS outbox.
 */
import { DateTime } from 'luxon';
import { clinicSchema, patientSchema, type PatientRecord } from '../../../../domain';
import { FixedClock, SequentialIds } from '../../../../domain/memory';
import { handleInboundSms, sendPatientSms, type OfferReplyPayload } from '../../../../domain/sms';
import { LOCAL_SMS_FROM, SmsOutbox } from '../../../../functions/adapters/twilio/outbox';
import { loadSettings } from '../../../../functions/app/config';
import { createInMemoryServices, type Services } from '../../../../functions/app/services';
import { patientBodySchema } from '../../../../functions/api/schemas';
import { bookingLinkIssuerOf } from '../../../../functions/patient/links';

const NOW = DateTime.fromISO('2026-03-02T15:00:00Z', { zone: 'utc' }); // Mon 10:00 New York
let services: Services;
let outbox: SmsOutbox;
const raised: OfferReplyPayload[] = [];
const workflow = { raiseOfferReply: async (_id: string, reply: OfferReplyPayload) => (raised.push(reply), 'raised' as const) };

const patient = (patientId: string, phone: string, preferredLanguage?: string): PatientRecord => ({
  patientId,
  name: 'Lucía Fernández',
  phone,
  smsConsent: true,
  clinicIds: ['c1'],
  noShows: [],
  updatedAt: NOW.toISO()!,
  ...(preferredLanguage ? { preferredLanguage } : {}),
});

beforeEach(async () => {
  raised.length = 0;
  const clock = new FixedClock(NOW);
  outbox = new SmsOutbox(LOCAL_SMS_FROM, () => clock.now().toUTC().toISO()!);
  services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' }), { clock, ids: new SequentialIds(), sms: outbox });
  await services.config.putClinic(clinicSchema.parse({ clinicId: 'c1', name: 'Riverside', timeZone: 'America/New_York' }));
  await services.patients.put(patient('p-es', '+15551230001', 'es-US'));
  await services.patients.put(patient('p-fr', '+15551230002', 'fr'));
  await services.patients.put(patient('p-none', '+15551230003'));
});

const send = (patientId: string) =>
  sendPatientSms(services, {
    patientId,
    clinicId: 'c1',
    template: 'reminder',
    params: { start: '2026-03-04T14:30:00Z' },
    purpose: 'reminder',
    correlationId: 'rem-1',
  });
const text = (from: string, body: string) =>
  handleInboundSms(services, workflow, { messageSid: `SM${Math.random().toString(16).slice(2)}`, from, body }, bookingLinkIssuerOf(services));

describe('sending in the patient language', () => {
  it('a Spanish-preferring patient gets Spanish, and the record says es', async () => {
    const r = await send('p-es');
    expect(outbox.list().map((m) => m.body)).toEqual([
      'Riverside: le recordamos su cita del mié, 4 de mar, 9:30 a.m. Responda C para confirmarla, X para cancelarla o R para elegir otro horario. ¿Prefiere antes? Responda ANTES.',
    ]);
    expect(await services.smsMessages.get((r as { messageId: string }).messageId)).toMatchObject({ template: 'reminder', language: 'es' });
  });

  it('an unsupported language falls back to the clinic default, then English', async () => {
    await send('p-fr');
    expect(outbox.list()[0]!.body).toMatch(/^Riverside: reminder of your appointment on Wed 4 Mar 9:30 AM/);
    await services.config.putClinic(clinicSchema.parse({ clinicId: 'c1', name: 'Riverside', timeZone: 'America/New_York', defaultLanguage: 'vi' }));
    const r = await send('p-fr');
    expect(outbox.list()[1]!.body).toMatch(/^Riverside: nhắc lịch hẹn của quý vị vào /);
    expect(await services.smsMessages.get((r as { messageId: string }).messageId)).toMatchObject({ language: 'vi' });
  });
});

describe('answers in the patient language', () => {
  it('HELP and STOP from a Spanish-preferring patient are answered in Spanish', async () => {
    expect((await text('+15551230001', 'HELP')).answer).toMatch(/^Riverside: responda SÍ\/NO a una oferta/);
    const stop = await text('+15551230001', 'STOP');
    expect(stop).toMatchObject({ action: 'opt-out', answer: 'Riverside: ya no recibirá más mensajes nuestros. Responda START para volver a recibirlos.' });
    expect((await services.patients.get('p-es'))?.smsOptedOutAt).toBe(NOW.toISO());
  });

  it('PARAR opts out in any language; a patient with no preference who writes Spanish is answered in Spanish', async () => {
    expect(await text('+15551230003', 'parar')).toMatchObject({ action: 'opt-out', answer: expect.stringMatching(/^Riverside: ya no recibirá/) });
    expect((await text('+15551230002', 'AYUDA')).answer).toMatch(/^Riverside: reply YES\/NO/); // fr patient: clinic default (English)
    expect((await text('+15559999999', 'ayuda')).answer).toMatch(/^Su clínica: responda SÍ\/NO/); // unknown sender
  });

  it('"Sí" to an open offer is passed to the workflow and acknowledged in Spanish', async () => {
    await services.offers.create({
      offerId: 'off-1',
      clinicId: 'c1',
      slotId: 'prov1.20260303T1430',
      waitlistEntryId: 'wl-1',
      patientId: 'p-es',
      workflowInstanceId: 'backfill-1',
      round: 1,
      status: 'sent',
      sentAt: NOW.toISO()!,
      expiresAt: NOW.plus({ hours: 1 }).toISO()!,
      version: 1,
    });
    const r = await text('+15551230001', 'Sí');
    expect(r.action).toBe('offer-reply');
    expect(r.answer).toBe('Riverside: ¡gracias! Estamos revisando el mar, 3 de mar, 9:30 a.m. para usted y le escribiremos en breve.');
    expect(raised).toEqual([expect.objectContaining({ offerId: 'off-1', reply: 'yes', channel: 'sms' })]);
  });
});

describe('preferredLanguage and defaultLanguage', () => {
  it('accepts BCP 47 tags in canonical form and refuses others', () => {
    const body = { name: 'X', phone: '+15551230009', smsConsent: true };
    expect(patientBodySchema.parse({ ...body, preferredLanguage: 'ES-mx' }).preferredLanguage).toBe('es-MX');
    expect(patientBodySchema.parse({ ...body, preferredLanguage: 'vi' }).preferredLanguage).toBe('vi');
    for (const bad of ['spanish language', 'e', 'en_US', '123', 'x'.repeat(40)])
      expect([bad, patientBodySchema.safeParse({ ...body, preferredLanguage: bad }).success]).toEqual([bad, false]);
    expect(patientSchema.safeParse({ patientId: 'p', ...body, preferredLanguage: 'zz' }).success).toBe(true); // well-formed; falls back when sent
    expect(clinicSchema.safeParse({ clinicId: 'c', name: 'C', timeZone: 'UTC', defaultLanguage: 'es' }).success).toBe(true);
    expect(clinicSchema.safeParse({ clinicId: 'c', name: 'C', timeZone: 'UTC', defaultLanguage: 'not a tag' }).success).toBe(false);
  });
});
