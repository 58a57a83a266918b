/**
 * The console's journey waterfall (functions/ops/console/journey.js) in headless Chromium against the
 * local host: an appointment's panel lists the traces that mention it (GET /_host/traces?id=) and opens
 * one as a waterfall of its spans, under the console's CSP (bars placed through CSSOM, no inline styles).
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { DateTime } from 'luxon';
import { chromium, type Browser, type Page } from 'playwright-core';
import { apiClient } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`console journey browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const browserTest = haveChromium ? test : test.skip;
jest.setTimeout(120_000);

const CLINIC = 'cj-clinic';
let host: LocalHostProcess;
let api: ReturnType<typeof apiClient>;
let browser: Browser;
let page: Page;

async function must(method: string, path: string, body?: unknown) {
  const r = await api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
  return r.body;
}

beforeAll(async () => {
  if (!haveChromium) return;
  host = await startLocalHost({});
  api = apiClient(host.baseUrl);
  await must('PUT', `/api/clinics/${CLINIC}`, { name: 'Journey Clinic', timeZone: 'UTC' });
  await must('PUT', '/api/appointment-types/cj-visit', { clinicId: CLINIC, name: 'Visit', durationMinutes: 30 });
  const allDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  await must('PUT', '/api/providers/cj-dr', { clinicId: CLINIC, name: 'Dr Journey', appointmentTypes: ['cj-visit'], weeklyHours: allDay, slotMinutes: 30 });
  await must('PUT', '/api/patients/cj-p1', { name: 'Journey Patient', phone: '+15557778001', smsConsent: true, clinicIds: [CLINIC] });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

browserTest('an appointment panel lists its traces and opens one as a waterfall', async () => {
  const now = DateTime.utc();
  const q = new URLSearchParams({
    clinicId: CLINIC,
    appointmentType: 'cj-visit',
    providerId: 'cj-dr',
    from: now.plus({ hours: 6 }).toISO()!,
    to: now.plus({ hours: 12 }).toISO()!,
  });
  const slot = ((await must('GET', `/api/slots?${q}`)) as { slots: { slotId: string; start: string }[] }).slots[0]!;
  await must('POST', '/api/appointments', { slotId: slot.slotId, patientId: 'cj-p1', appointmentType: 'cj-visit' });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(`${host.baseUrl}/console/?page=schedule&clinicId=${CLINIC}&view=day&date=${slot.start.slice(0, 10)}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 }).catch((e: Error) => {
    throw new Error(`${e.message} ${errors.join('; ')}`);
  });
  await page.locator(`td[data-slot-id="${slot.slotId}"]`).click();
  // The booking's trace mentions the appointment (its events' subject), so it is listed.
  const booking = page.locator('.journey-traces button', { hasText: 'POST /api/appointments ·' });
  await booking.waitFor({ timeout: 15_000 });
  await booking.click();
  await page.waitForSelector('.waterfall li.span');
  const names = await page.locator('.waterfall .span-name').allInnerTexts();
  expect(names.slice(0, 2)).toEqual(['POST /api/appointments', 'use-case createAppointment']);
  expect(names).toEqual(expect.arrayContaining(['servicebus.send scheduling-events', expect.stringMatching(/^cosmos batch schedule$/)]));
  const bar = await page
    .locator('.waterfall .span-bar')
    .first()
    .evaluate((b) => (b as unknown as { style: { width: string } }).style.width);
  expect(bar).toMatch(/%$/);
  expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  // docs/console-journey.png when asked for (UPDATE_SCREENSHOT=1) or missing, else a temp file.
  const docs = join(__dirname, '..', '..', 'docs', 'console-journey.png');
  await page.setViewportSize({ width: 1280, height: 2400 });
  await page
    .locator('#slot-panel')
    .screenshot({ path: process.env.UPDATE_SCREENSHOT === '1' || !existsSync(docs) ? docs : join(tmpdir(), 'slotflow-console-journey.png') });
  const result = await new AxeBuilder({ page }).include('.journey').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(result.violations.map((v) => v.id)).toEqual([]);
});
