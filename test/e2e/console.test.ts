// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * The console in headless Chromium (Debian `chromium`, driven by playwright-core), against the registered
 * handlers served in-process by a loopback server (test/support/api-server.ts) over in-memory services with
 * a fixed clock. Main flows: day view (booked, free, held), offers with countdowns, book, timeline, cancel,
 * no-show, add to the waitlist; basic accessibility (labels, names, keyboard). Saves docs/console.png.
 */
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bookAppointment } from '../../domain';
import { NOW, P1_TUE_0900, P1_TUE_0930, invoke, seed, type Seeded } from '../support/api-harness';
import { startApiServer } from '../support/api-server';

import '../../functions/api/appointments';
import '../../functions/api/config';
import '../../functions/api/slots';
import '../../functions/api/waitlist';
import '../../functions/api/workflows';
import '../../functions/ops/console';

// Functions passed to page.evaluate run in the browser. The project has no DOM lib; these declarations type
// just what those functions use, and stay local to this module.
interface BrowserElement {
  id: string;
  textContent: string | null;
  classList: { contains(name: string): boolean };
  getAttribute(name: string): string | null;
  labels?: { length: number } | null;
}
declare const document: {
  querySelector(selector: string): BrowserElement | null;
  querySelectorAll(selector: string): ArrayLike<BrowserElement> & Iterable<BrowserElement>;
  activeElement: BrowserElement | null;
  documentElement: { lang: string };
};

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`console browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const browserTest = haveChromium ? test : test.skip;

let env: Seeded;
let server: Awaited<ReturnType<typeof startApiServer>>;
let browser: Browser;
let page: Page;
const P1_TUE_1000 = 'p1.20260303T1500';
const P2_TUE_1100 = 'p2.20260303T1600';

beforeAll(async () => {
  if (!haveChromium) return;
  env = await seed();
  // Tuesday: p1 09:00 booked for pat1, 09:30 offered to a waitlisted patient (open offer), one waitlist entry.
  const booked = await invoke('POST', '/api/appointments', { body: { slotId: P1_TUE_0900, patientId: 'pat1', appointmentType: 'checkup' } });
  expect(booked.status).toBe(201);
  await env.offers.create({
    offerId: 'ofr-1',
    clinicId: 'c1',
    slotId: P1_TUE_0930,
    waitlistEntryId: 'wl-1',
    patientId: 'pat2',
    workflowInstanceId: 'backfill-1',
    round: 1,
    status: 'sent',
    sentAt: NOW.toISO()!,
    expiresAt: NOW.plus({ minutes: 30 }).toISO()!,
    version: 1,
  });
  await invoke('POST', '/api/waitlist', { body: { patientId: 'pat2', clinicId: 'c1', appointmentType: 'checkup', urgency: 'soon' } });
  // A self-scheduled booking by a patient with two recent no-shows waits for staff confirmation (held).
  const pat1 = (await env.services.patients.get('pat1'))!;
  await env.services.patients.put({ ...pat1, noShows: [NOW.minus({ days: 3 }).toISO()!, NOW.minus({ days: 9 }).toISO()!] });
  await bookAppointment(env.services, {
    slotId: P2_TUE_1100,
    patientId: 'pat1',
    appointmentType: 'checkup',
    channel: 'link',
    actor: { kind: 'patient', principalId: 'pat1' },
  });
  server = await startApiServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${server.baseUrl}/console/?clinicId=c1&date=2026-03-03`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const row = (slotId: string) => page.locator(`tr[data-slot-id="${slotId}"]`);

browserTest('day view per provider: booked, held and free slots', async () => {
  await expect(row(P1_TUE_0900).getAttribute('data-state')).resolves.toBe('booked');
  await expect(row(P1_TUE_0900).innerText()).resolves.toContain('pat1');
  await expect(row(P1_TUE_0930).getAttribute('data-state')).resolves.toBe('held');
  await expect(page.locator('section.provider h3').allInnerTexts()).resolves.toEqual([expect.stringContaining('Dr One'), expect.stringContaining('Dr Two')]);
  await expect(page.locator('tr[data-state="free"]').count()).resolves.toBe(29);
  await expect(row(P2_TUE_1100).getAttribute('data-state')).resolves.toBe('held');
  await expect(row(P1_TUE_0900).locator('th').innerText()).resolves.toBe('09:00');
});

browserTest('offers in flight count down against the server clock', async () => {
  const countdown = page.locator('tr[data-offer-id="ofr-1"] .countdown');
  await expect(countdown.innerText()).resolves.toMatch(/^(30:00|29:[0-5]\d)$/);
  await expect(page.locator('#waitlist tr').allInnerTexts()).resolves.toEqual([expect.stringContaining('pat2')]);
});

browserTest('book a free slot with the keyboard', async () => {
  await row(P1_TUE_1000).getByRole('button', { name: /^Book/ }).focus();
  await page.keyboard.press('Enter');
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('book-patient');
  await expect(page.inputValue('#book-slot')).resolves.toBe(P1_TUE_1000);
  await page.keyboard.type('pat2');
  await page.selectOption('#book-type', 'checkup');
  await page.getByRole('button', { name: 'Book appointment' }).click();
  await page.waitForFunction((id) => document.querySelector(`tr[data-slot-id="${id}"]`)?.getAttribute('data-state') === 'booked', P1_TUE_1000);
  await expect(page.locator('#status').innerText()).resolves.toMatch(/^Booked apt-\S+ for pat2 at 10:00$/);
});

browserTest('confirm a booking that waits for staff confirmation', async () => {
  await row(P2_TUE_1100)
    .getByRole('button', { name: /^Confirm/ })
    .click();
  await page.waitForFunction((id) => document.querySelector(`tr[data-slot-id="${id}"]`)?.getAttribute('data-state') === 'booked', P2_TUE_1100);
  await expect(page.locator('#status').innerText()).resolves.toBe('Confirmed 11:00–11:30');
});

browserTest('a refused action shows the problem code', async () => {
  await row(P1_TUE_1000)
    .getByRole('button', { name: /^Mark no-show/ })
    .click();
  await page.waitForFunction(() => document.querySelector('#status')?.classList.contains('error'));
  await expect(page.locator('#status').innerText()).resolves.toContain('APPOINTMENT.NOT_YET_STARTED');
});

browserTest('timeline, then cancel frees the slot', async () => {
  await row(P1_TUE_0900)
    .getByRole('button', { name: /^Timeline/ })
    .click();
  await page.waitForSelector('#timeline li');
  await expect(page.locator('#timeline li').first().innerText()).resolves.toContain('Booked via api');
  await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('timeline-panel');
  await row(P1_TUE_0900)
    .getByRole('button', { name: /^Cancel/ })
    .click();
  await page.waitForFunction((id) => document.querySelector(`tr[data-slot-id="${id}"]`)?.getAttribute('data-state') === 'free', P1_TUE_0900);
  await expect(page.locator('#status').innerText()).resolves.toBe('Cancelled 09:00–09:30');
  const cancelled = [...(env.services.appointments as unknown as { byId: Map<string, { slotId: string; status: string; source: string }> }).byId.values()].find(
    (a) => a.slotId === P1_TUE_0900,
  );
  expect(cancelled).toMatchObject({ status: 'cancelled', source: 'api' });
});

browserTest('no-show once the visit has started', async () => {
  env.clock.set(NOW.plus({ days: 1, hours: 2, minutes: 15 })); // Tuesday 10:15 New York
  await row(P1_TUE_1000)
    .getByRole('button', { name: /^Mark no-show/ })
    .click();
  try {
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('No-show recorded'));
    // A no-show releases what is left of the slot: the row turns free again.
    await page.waitForFunction((id) => document.querySelector(`tr[data-slot-id="${id}"]`)?.getAttribute('data-state') === 'free', P1_TUE_1000);
    const marked = [...(env.services.appointments as unknown as { byId: Map<string, { slotId: string; status: string }> }).byId.values()].find(
      (a) => a.slotId === P1_TUE_1000,
    );
    expect(marked?.status).toBe('noshow');
  } finally {
    env.clock.set(NOW);
  }
});

browserTest('add to the waitlist', async () => {
  await page.fill('#wl-patient', 'pat1');
  await page.selectOption('#wl-type', 'consult');
  await page.selectOption('#wl-urgency', 'urgent');
  await page.getByRole('button', { name: 'Add to waitlist' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#waitlist tr[data-entry-id]').length === 2);
  await expect(page.locator('#waitlist').innerText()).resolves.toMatch(/pat1\s+consult\s+urgent\s+active/);
});

browserTest('accessible: labelled controls, named buttons, one h1, skip link first in tab order', async () => {
  const report = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    h1: document.querySelectorAll('h1').length,
    unlabelled: [...document.querySelectorAll('input, select')].filter((e) => e.labels?.length === 0 && !e.getAttribute('aria-label')).map((e) => e.id),
    unnamedButtons: [...document.querySelectorAll('button')].filter((b) => !(b.getAttribute('aria-label') || b.textContent?.trim())).length,
  }));
  expect(report).toEqual({ lang: 'en', h1: 1, unlabelled: [], unnamedButtons: 0 });
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await page.keyboard.press('Tab');
  await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to the day view');
});

browserTest('screenshot for the docs', async () => {
  for (const [slotId, patientId] of [
    ['p2.20260303T1430', 'pat1'],
    ['p1.20260303T1600', 'pat2'],
    ['p2.20260303T1800', 'pat2'],
  ] as const) {
    expect((await invoke('POST', '/api/appointments', { body: { slotId, patientId, appointmentType: 'checkup' } })).status).toBe(201);
  }
  await page.goto(`${server.baseUrl}/console/?clinicId=c1&date=2026-03-03`);
  await page.waitForSelector('body[data-ready="true"]');
  await row('p2.20260303T1430')
    .getByRole('button', { name: /^Timeline/ })
    .click();
  await page.waitForSelector('#timeline li');
  // docs/console.png is refreshed on request (UPDATE_SCREENSHOT=1) or when missing; otherwise the shot goes to a temp file.
  const docsShot = join(__dirname, '..', '..', 'docs', 'console.png');
  const path = process.env.UPDATE_SCREENSHOT === '1' || !existsSync(docsShot) ? docsShot : join(tmpdir(), 'slotflow-console.png');
  await page.screenshot({ path, fullPage: true });
  expect(statSync(path).size).toBeGreaterThan(10_000);
});

browserTest('static assets: only known files, with a content security policy', async () => {
  const res = await fetch(`${server.baseUrl}/console/app.js`);
  expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect((await fetch(`${server.baseUrl}/console/../package.json`)).status).toBe(404);
  expect((await fetch(`${server.baseUrl}/console/%2e%2e/package.json`)).status).toBe(404);
  expect((await fetch(`${server.baseUrl}/console`)).status).toBe(200);
});
