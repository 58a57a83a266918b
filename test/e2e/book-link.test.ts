/**
 * Self-scheduling link in a real browser (headless Chromium via playwright-core). The booking
 * handlers are served by a tiny in-test HTTP server on loopback (the same handlers the local host
 * serves); state is in-memory with a fixed clock.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { DateTime } from 'luxon';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { appointmentTypeSchema, bookAppointment, clinicSchema, providerSchema } from '../../domain';
import { moveUpEntryId } from '../../domain/waitlist/move-up';
import { FixedClock, SequentialIds } from '../../domain/memory';
import { bookLinkConfirm, bookLinkPage } from '../../functions/patient/book-link';
import { loadSettings } from '../../functions/app/config';
import { createInMemoryServices, setServices, type Services } from '../../functions/app/services';
import { createBookingLink } from '../../functions/patient/links';
import { durableClientInput } from '../../functions/patient/durable';

const NOW = DateTime.fromISO('2026-03-02T15:00:00Z', { zone: 'utc' }); // Mon 10:00 New York
let server: Server;
let base: string;
let browser: Browser;
let services: Services;
let clock: FixedClock;
const raised: { instanceId: string; name: string; data: unknown }[] = [];

async function serve(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const url = new URL(req.url ?? '/', base);
  const m = /^\/book\/([^/]+)$/.exec(url.pathname);
  if (!m || (req.method !== 'GET' && req.method !== 'POST')) {
    res.writeHead(404).end();
    return;
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  const request = new HttpRequest({
    method: req.method,
    url: url.toString(),
    headers,
    params: { token: decodeURIComponent(m[1]!) },
    body: { string: Buffer.concat(chunks).toString('utf8') },
  });
  const context = new InvocationContext({
    functionName: req.method === 'GET' ? 'bookLinkPage' : 'bookLinkConfirm',
    invocationId: 'e2e',
    options: { trigger: { type: 'httpTrigger', name: 'request' }, extraInputs: [durableClientInput], extraOutputs: [] },
    logHandler: () => undefined,
  });
  context.extraInputs.set(durableClientInput, {
    raiseEvent: async (instanceId: string, name: string, data: unknown) => void raised.push({ instanceId, name, data }),
  });
  const out = req.method === 'GET' ? await bookLinkPage(request, context) : await bookLinkConfirm(request, context);
  res.writeHead(out.status ?? 200, out.headers as Record<string, string>).end(String(out.body ?? ''));
}

beforeAll(async () => {
  server = createServer((req, res) => void serve(req, res).catch(() => res.writeHead(500).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  clock = new FixedClock(NOW);
  services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local', PUBLIC_BASE_URL: base }), { clock, ids: new SequentialIds() });
  await services.config.putClinic(
    clinicSchema.parse({ clinicId: 'c1', name: 'Riverside Cardiology Associates', smsDisplayName: 'Riverside Clinic', timeZone: 'America/New_York' }),
  );
  await services.config.putAppointmentType(
    appointmentTypeSchema.parse({ code: 'echo', clinicId: 'c1', name: 'Echocardiogram follow-up', durationMinutes: 30 }),
  );
  await services.config.putProvider(
    providerSchema.parse({
      providerId: 'p1',
      clinicId: 'c1',
      name: 'Dr. Jane Heart',
      appointmentTypes: ['echo'],
      weeklyHours: ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, start: '09:00', end: '11:00' })),
    }),
  );
  await services.patients.put({
    patientId: 'pat1',
    name: 'Maria Lopez',
    phone: '+15551230001',
    smsConsent: true,
    clinicIds: ['c1'],
    noShows: [],
    updatedAt: NOW.toISO()!,
  });
  setServices(services);
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
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  setServices(undefined);
});

const searchLink = (ttlMinutes = 48 * 60) =>
  createBookingLink(services, {
    patientId: 'pat1',
    scope: { kind: 'search', clinicId: 'c1', appointmentType: 'echo', from: NOW.toISO()!, to: NOW.plus({ days: 3 }).toISO()! },
    ttlMinutes,
  });

const bookings = async () => services.appointments.listByPatient('pat1', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');

describe('GET/POST /book/{token} in Chromium', () => {
  it('open a link, pick a slot, confirm, see the confirmation; reuse is refused', async () => {
    const link = searchLink();
    expect(link.url.startsWith(`${base}/book/`)).toBe(true);
    expect(link.url).not.toMatch(/Maria|Lopez|Echo|Heart|\+1555/i);

    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const first = await page.goto(link.url);
    expect(first?.status()).toBe(200);
    expect(first?.headers()['referrer-policy']).toBe('no-referrer');
    await page.getByRole('heading', { name: 'Choose your appointment time' }).waitFor();
    // Times in the clinic's zone, grouped by local day. Today's last slot (10:30) is inside the
    // 60-minute minimum notice, and the window ends Thursday 10:00.
    expect(await page.locator('h2').allTextContents()).toEqual(['Tuesday 3 March', 'Wednesday 4 March', 'Thursday 5 March']);
    expect(await page.getByRole('radio').count()).toBe(4 + 4 + 2);
    expect(await page.locator('label.slot').first().textContent()).toBe('9:00 AM');
    expect(await page.content()).not.toMatch(/Maria|Lopez|Echocardiogram|Heart|Cardiology/);
    await page.screenshot({ path: join(__dirname, '..', '..', 'docs', 'booking-link.png'), fullPage: false });

    await page.getByRole('radio', { name: '9:30 AM' }).first().check();
    await page.getByRole('button', { name: 'Confirm appointment' }).click();
    await page.getByRole('heading', { name: "You're booked" }).waitFor();
    expect(await page.getByRole('status').textContent()).toBe('Tuesday 3 March at 9:30 AM');
    const booked = await bookings();
    expect(booked.map((a) => [a.slotId, a.source, a.status])).toEqual([['p1.20260303T1430', 'link', 'booked']]);

    const again = await page.goto(link.url);
    expect(again?.status()).toBe(410);
    await page.getByRole('heading', { name: 'This link has already been used' }).waitFor();
    // A replayed POST (e.g. the back button) books nothing more.
    const replay = await fetch(link.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'slotId=p1.20260304T1430' });
    expect(replay.status).toBe(410);
    expect(await bookings()).toHaveLength(1);
    await page.close();
  });

  it('a tampered token is refused and changes nothing', async () => {
    const link = searchLink();
    const [payload, sig] = link.token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), p: 'pat2' })).toString('base64url');
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const res = await page.goto(`${base}/book/${forged}.${sig}`);
    expect(res?.status()).toBe(403);
    await page.getByRole('heading', { name: "This link isn't valid" }).waitFor();
    const garbled = await page.goto(`${base}/book/not-a-token`);
    expect(garbled?.status()).toBe(400);
    const post = await fetch(`${base}/book/${forged}.${sig}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'slotId=p1.20260305T1400',
    });
    expect(post.status).toBe(403);
    expect(await bookings()).toHaveLength(1);
    await page.close();
  });

  it('an expired link shows a clear page (injected clock)', async () => {
    const link = searchLink(30);
    clock.advance({ minutes: 31 });
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
      const res = await page.goto(link.url);
      expect(res?.status()).toBe(410);
      await page.getByRole('heading', { name: 'This link has expired' }).waitFor();
      await page.close();
    } finally {
      clock.set(NOW);
    }
  });

  it('a cross-site POST is refused', async () => {
    const link = searchLink();
    const res = await fetch(link.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'slotId=p1.20260305T1400',
    });
    expect(res.status).toBe(403);
    expect(await bookings()).toHaveLength(1);
  });

  it('a slot taken meanwhile: the page says so and the link stays usable for another time', async () => {
    const link = searchLink();
    await services.patients.put({
      patientId: 'pat9',
      name: 'Other Person',
      phone: '+15551239999',
      smsConsent: true,
      clinicIds: ['c1'],
      noShows: [],
      updatedAt: NOW.toISO()!,
    });
    await bookAppointment(services, {
      slotId: 'p1.20260304T1500',
      patientId: 'pat9',
      appointmentType: 'echo',
      channel: 'api',
      actor: { kind: 'staff', principalId: 'desk' },
    });
    const post = (slotId: string) =>
      fetch(link.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base }, body: `slotId=${slotId}` });
    // Not on the page any more (the page lists free times only) -> told it was taken, asked to choose again from the fresh list.
    const taken = await post('p1.20260304T1500');
    expect(taken.status).toBe(409);
    const page = await taken.text();
    expect(page).toContain('Sorry, that time was just taken. Please choose another.');
    expect(page).not.toContain('value="p1.20260304T1500"');
    const ok = await post('p1.20260304T1530');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Wednesday 4 March');
    expect((await bookings()).map((a) => a.slotId)).toEqual(['p1.20260303T1430', 'p1.20260304T1530']);
  });

  it('an offer link books the offered slot and tells the backfill workflow', async () => {
    await services.waitlist.add({
      waitlistEntryId: 'wl-1',
      clinicId: 'c1',
      patientId: 'pat1',
      appointmentType: 'echo',
      providerIds: [],
      urgency: 'routine',
      timeOfDay: 'any',
      status: 'offered',
      createdAt: NOW.toISO()!,
      updatedAt: NOW.toISO()!,
      version: 1,
    });
    await services.offers.create({
      offerId: 'off-1',
      clinicId: 'c1',
      slotId: 'p1.20260305T1500',
      waitlistEntryId: 'wl-1',
      patientId: 'pat1',
      workflowInstanceId: 'backfill-p1.20260305T1500',
      round: 1,
      status: 'sent',
      sentAt: NOW.toISO()!,
      expiresAt: NOW.plus({ hours: 2 }).toISO()!,
      version: 1,
    });
    const link = createBookingLink(services, { patientId: 'pat1', scope: { kind: 'offer', offerId: 'off-1' }, ttlMinutes: 120 });
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(link.url);
    expect(await page.getByRole('radio').count()).toBe(1);
    await page.getByRole('button', { name: 'Confirm appointment' }).click();
    await page.getByRole('heading', { name: "You're booked" }).waitFor();
    expect(await page.getByRole('status').textContent()).toBe('Thursday 5 March at 10:00 AM');
    expect(raised).toEqual([
      {
        instanceId: 'backfill-p1.20260305T1500',
        name: 'OfferReply',
        data: { offerId: 'off-1', patientId: 'pat1', reply: 'yes', channel: 'link', appointmentId: expect.any(String) },
      },
    ]);
    // The offer is settled as accepted, so the workflow does not book again.
    expect(await services.offers.get('off-1')).toMatchObject({ status: 'accepted', respondedAt: NOW.toISO(), version: 2 });
    expect((await services.waitlist.get('wl-1'))?.status).toBe('booked');
    await page.close();
  });
  it('in Spanish for a Spanish-preferring patient; an unreadable link follows the browser language', async () => {
    await services.patients.put({
      patientId: 'pat-es',
      name: 'Lucía Fernández',
      phone: '+15551230042',
      smsConsent: true,
      preferredLanguage: 'es-MX',
      clinicIds: ['c1'],
      noShows: [],
      updatedAt: NOW.toISO()!,
    });
    const link = createBookingLink(services, {
      patientId: 'pat-es',
      scope: { kind: 'search', clinicId: 'c1', appointmentType: 'echo', from: NOW.toISO()!, to: NOW.plus({ days: 3 }).toISO()! },
      ttlMinutes: 48 * 60,
    });
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    expect((await page.goto(link.url))?.status()).toBe(200);
    await page.getByRole('heading', { name: 'Elija el horario de su cita' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('es');
    expect(await page.locator('h2').allTextContents()).toEqual(['martes, 3 de marzo', 'miércoles, 4 de marzo', 'jueves, 5 de marzo']);
    // es-MX writes times with "a.m." (CLDR); the zone stays the clinic's.
    expect((await page.locator('label.slot').first().textContent())?.replace(/\s/g, ' ')).toBe('9:00 a.m.');
    expect(await page.content()).not.toMatch(/Lucía|Fernández|Echocardiogram|Heart|Cardiology/);
    await page.screenshot({ path: join(__dirname, '..', '..', 'docs', 'booking-link-es.png'), fullPage: false });

    await page.getByRole('button', { name: 'Confirmar cita' }).click();
    await page.getByRole('heading', { name: 'Su cita está reservada' }).waitFor();
    expect((await page.getByRole('status').textContent())?.replace(/\s/g, ' ')).toBe('martes, 3 de marzo a las 9:00 a.m.');
    expect(await page.getByText('Le enviaremos un recordatorio por mensaje antes de su cita.').count()).toBe(1);
    expect((await page.goto(link.url))?.status()).toBe(410);
    await page.getByRole('heading', { name: 'Este enlace ya se usó' }).waitFor();
    await page.close();

    // Before the link names a patient, the page follows Accept-Language.
    const stranger = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'es-ES' });
    expect((await stranger.goto(`${base}/book/not-a-token`))?.status()).toBe(400);
    await stranger.getByRole('heading', { name: 'Este enlace no es válido' }).waitFor();
    await stranger.close();
  });

  it('a reschedule link in Spanish: the current time, other times, and the move', async () => {
    await services.patients.put({
      patientId: 'pat-es2',
      name: 'Lucía Fernández',
      phone: '+15551230043',
      smsConsent: true,
      preferredLanguage: 'es-US',
      clinicIds: ['c1'],
      noShows: [],
      updatedAt: NOW.toISO()!,
    });
    const current = await bookAppointment(services, {
      slotId: 'p1.20260306T1500',
      patientId: 'pat-es2',
      appointmentType: 'echo',
      channel: 'api',
      actor: { kind: 'staff', principalId: 'desk' },
    });
    const link = createBookingLink(services, { patientId: 'pat-es2', scope: { kind: 'reschedule', appointmentId: current.appointmentId }, ttlMinutes: 120 });
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    expect((await page.goto(link.url))?.status()).toBe(200);
    await page.getByRole('heading', { name: 'Elija el horario de su cita' }).waitFor();
    expect((await page.locator('p.notice').first().textContent())?.replace(/\s/g, ' ')).toBe(
      'Su cita actual es el viernes, 6 de marzo a las 10:00 a.m. y sigue reservada hasta que confirme un nuevo horario.',
    );
    expect(await page.getByRole('checkbox').count()).toBe(0);
    const radios = page.getByRole('radio');
    expect(await radios.count()).toBeGreaterThan(0);
    expect(await page.locator('input[value="p1.20260306T1500"]').count()).toBe(0);
    expect(await page.content()).not.toMatch(/Lucía|Fernández|Echocardiogram|Heart|Cardiology/);
    await page.screenshot({ path: join(__dirname, '..', '..', 'docs', 'reschedule-link-es.png'), fullPage: false });
    const chosen = await radios.first().getAttribute('value');
    await page.getByRole('button', { name: 'Cambiar mi cita' }).click();
    await page.getByRole('heading', { name: 'Su cita se cambió' }).waitFor();
    expect(await page.getByText('Su horario anterior, viernes, 6 de marzo, 10:00 a.m., quedó libre.').count()).toBe(1);
    expect(await services.appointments.get(current.appointmentId)).toMatchObject({ slotId: chosen, status: 'booked' });
    expect((await page.goto(link.url))?.status()).toBe(410);
    await page.close();
  });

  it('the "earlier time" box books the visit and puts it on the move-up list', async () => {
    const link = searchLink();
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(link.url);
    await page.getByRole('checkbox', { name: 'Text me if an earlier time opens up' }).check();
    const chosen = await page.getByRole('radio').first().getAttribute('value');
    await page.getByRole('button', { name: 'Confirm appointment' }).click();
    await page.getByRole('heading', { name: "You're booked" }).waitFor();
    expect(await page.getByText("We'll text you if an earlier time opens up.").count()).toBe(1);
    const booked = (await bookings()).find((a) => a.slotId === chosen)!;
    expect(await services.waitlist.get(moveUpEntryId(booked.appointmentId))).toMatchObject({
      status: 'active',
      moveUp: { appointmentId: booked.appointmentId },
    });
    await page.close();
  });
});
