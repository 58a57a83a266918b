/**
 * Patient channels through the real local host over HTTP: BOOK by SMS (signed webhook), and a
 * self-scheduling link opened, confirmed and reused in headless Chromium. Times are relative to the
 * host's clock (the clinic is open around the clock in UTC), so nothing depends on the date.
 */
import { DateTime } from 'luxon';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { createLinkToken } from '../../domain/sms';
import { apiClient, outbox, sendInboundSms } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

jest.setTimeout(120_000);

const TOKEN = 'e2e-sms-auth-token';
const LINK_KEY = 'e2e-link-signing-key-0123456789abcdefghij';
const CLINIC = 'sms-e2e-clinic';
const PHONE = '+15557770001';
let host: LocalHostProcess;
let api: ReturnType<typeof apiClient>;
let browser: Browser;

async function must(method: string, path: string, body?: unknown) {
  const r = await api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
  return r.body;
}

const message = (twiml: string) => /<Message>([\s\S]*)<\/Message>/.exec(twiml)?.[1] ?? '';

async function appointmentsOf(patientId: string) {
  const q = new URLSearchParams({
    clinicId: CLINIC,
    from: DateTime.utc().minus({ days: 1 }).toISO()!,
    to: DateTime.utc().plus({ days: 30 }).toISO()!,
    patientId,
  });
  return ((await must('GET', `/api/appointments?${q}`)) as { appointments: { slotId: string; status: string; start: string }[] }).appointments;
}

beforeAll(async () => {
  host = await startLocalHost({ env: { TWILIO_AUTH_TOKEN: TOKEN, LINK_SIGNING_KEY: LINK_KEY } });
  api = apiClient(host.baseUrl);
  await must('PUT', `/api/clinics/${CLINIC}`, { name: 'SMS E2E Clinic', timeZone: 'UTC', offerPolicy: { quietStart: '00:00', quietEnd: '00:00' } });
  await must('PUT', '/api/appointment-types/sms-visit', { clinicId: CLINIC, name: 'Visit', durationMinutes: 30 });
  const allDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  await must('PUT', '/api/providers/sms-dr', { clinicId: CLINIC, name: 'sms-dr', appointmentTypes: ['sms-visit'], weeklyHours: allDay, slotMinutes: 30 });
  await must('PUT', '/api/patients/sms-p1', { name: 'Test Patient', phone: PHONE, smsConsent: true, clinicIds: [CLINIC] });
  await must('PUT', '/api/patients/sms-p2', { name: 'Link Patient', phone: '+15557770002', smsConsent: true, clinicIds: [CLINIC] });
  await must('POST', '/api/waitlist', { patientId: 'sms-p1', clinicId: CLINIC, appointmentType: 'sms-visit' });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

describe('patient channels through the local host', () => {
  it('BOOK by SMS lists times, a number books, and the outbox shows the answers', async () => {
    const list = await sendInboundSms(host.baseUrl, TOKEN, PHONE, 'BOOK');
    expect(list.status).toBe(200);
    expect(message(list.twiml)).toMatch(/^SMS E2E Clinic: open times: 1\) .+, 2\) .+ Reply with a number to book\.$/);
    const booked = await sendInboundSms(host.baseUrl, TOKEN, PHONE, '1');
    expect(message(booked.twiml)).toMatch(/you're booked for/);
    const apts = await appointmentsOf('sms-p1');
    expect(apts).toHaveLength(1);
    expect(apts[0]!.status).toBe('booked');
    // Webhook answers (Twilio would send them from the TwiML) are recorded with purpose "reply";
    // other workflows (eligibility) may text the patient too.
    const sent = (await outbox(host.baseUrl, PHONE)).filter((m) => m.purpose === 'reply');
    expect(sent.map((m) => m.body)).toEqual([message(list.twiml).replace(/&amp;/g, '&'), message(booked.twiml)]);
    // A forged webhook is refused.
    const forged = await sendInboundSms(host.baseUrl, 'wrong-token', PHONE, 'X');
    expect(forged.status).toBe(403);
    expect((await appointmentsOf('sms-p1'))[0]!.status).toBe('booked');
  });

  it('a signed link books once in the browser, then is refused', async () => {
    const now = DateTime.utc().startOf('second');
    const token = createLinkToken(
      {
        tokenId: randomBytes(16).toString('base64url'),
        patientId: 'sms-p2',
        scope: { kind: 'search', clinicId: CLINIC, appointmentType: 'sms-visit', from: now.plus({ days: 2 }).toISO()!, to: now.plus({ days: 3 }).toISO()! },
        issuedAt: now.toISO()!,
        expiresAt: now.plus({ hours: 1 }).toISO()!,
      },
      LINK_KEY,
    );
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const res = await page.goto(`${host.baseUrl}/book/${token}`);
    expect(res?.status()).toBe(200);
    await page.getByRole('radio').nth(2).check();
    await page.getByRole('button', { name: 'Confirm appointment' }).click();
    await page.getByRole('heading', { name: "You're booked" }).waitFor();
    const apts = await appointmentsOf('sms-p2');
    expect(apts).toHaveLength(1);
    const again = await page.goto(`${host.baseUrl}/book/${token}`);
    expect(again?.status()).toBe(410);
    const tampered = await page.goto(`${host.baseUrl}/book/${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`);
    expect(tampered?.status()).toBe(403);
    expect(await appointmentsOf('sms-p2')).toHaveLength(1);
    await page.close();
  });
});
