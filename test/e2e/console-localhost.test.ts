/**
 * The console in headless Chromium against the real local host (built app, durable backend, Service Bus,
 * Cosmos-compatible store), for what needs the workflows to run: report a provider's absence, preview it,
 * start the workflow and follow it to the end; cancel a visit and watch the backfill offers arrive on the
 * Workflows page; reschedule by picking a slot and see the freed slot's backfill start. The clinic is
 * open around the clock in UTC, so the tests find future slots at any hour (times relative to now).
 */
import { existsSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import { DateTime } from 'luxon';
import { chromium, type Browser, type Page } from 'playwright-core';
import { apiClient, eventually } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

// Functions passed to page.waitForFunction run in the browser; the project has no DOM lib.
declare const document: { querySelector(selector: string): { getAttribute(name: string): string | null; textContent: string | null } | null };

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`console-through-host browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const browserTest = haveChromium ? test : test.skip;
jest.setTimeout(120_000);

const CLINIC = 'cl-clinic';
const TYPE = 'cl-visit';
const patients = Array.from({ length: 8 }, (_, i) => ({ patientId: `cl-p${i + 1}`, name: `Console Patient ${i + 1}`, phone: `+1555556${String(1000 + i)}` }));

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
  host = await startLocalHost({ env: { TWILIO_AUTH_TOKEN: 'console-e2e-token' } });
  api = apiClient(host.baseUrl);
  await must('PUT', `/api/clinics/${CLINIC}`, {
    name: 'Console E2E Clinic',
    timeZone: 'UTC',
    offerPolicy: {
      batchSize: 2,
      maxRounds: 3,
      expiryFraction: 0.01,
      minExpiryMinutes: 5,
      maxExpiryMinutes: 5,
      minLeadMinutes: 5,
      quietStart: '00:00',
      quietEnd: '00:00',
    },
  });
  await must('PUT', `/api/appointment-types/${TYPE}`, { clinicId: CLINIC, name: 'Visit', durationMinutes: 30 });
  const allDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  for (const [providerId, name] of [
    ['cl-dr-a', 'Dr Able'],
    ['cl-dr-b', 'Dr Baker'],
    ['cl-dr-c', 'Dr Clark'],
  ]) {
    await must('PUT', `/api/providers/${providerId}`, { clinicId: CLINIC, name, appointmentTypes: [TYPE], weeklyHours: allDay, slotMinutes: 30 });
  }
  for (const p of patients) {
    await must('PUT', `/api/patients/${p.patientId}`, { name: p.name, phone: p.phone, smsConsent: true, clinicIds: [CLINIC] });
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

/** Prints the host's output when a test fails (a host that died explains itself). */
afterEach(() => {
  const state = expect.getState() as { assertionCalls: number; suppressedErrors: unknown[] };
  if (state.suppressedErrors.length > 0 && host) console.log(host.output().slice(-4000));
});

async function freeSlots(providerId: string, fromHours: number, toHours: number): Promise<{ slotId: string; start: string }[]> {
  const now = DateTime.utc();
  const q = new URLSearchParams({
    clinicId: CLINIC,
    appointmentType: TYPE,
    providerId,
    from: now.plus({ hours: fromHours }).toISO()!,
    to: now.plus({ hours: toHours }).toISO()!,
  });
  return ((await must('GET', `/api/slots?${q}`)) as { slots: { slotId: string; start: string }[] }).slots;
}
const book = async (slotId: string, patientId: string) =>
  String((await must('POST', '/api/appointments', { slotId, patientId, appointmentType: TYPE })).appointmentId);
const waitlist = (patientId: string, providerId: string) =>
  must('POST', '/api/waitlist', { patientId, clinicId: CLINIC, appointmentType: TYPE, providerIds: [providerId] });

async function open(query: string) {
  await page.goto(`${host.baseUrl}/console/?${query}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
}
const cell = (slotId: string) => page.locator(`td[data-slot-id="${slotId}"]`);
const waitState = (slotId: string, state: string) =>
  page.waitForFunction(([id, s]) => document.querySelector(`td[data-slot-id="${id}"]`)?.getAttribute('data-state') === s, [slotId, state] as const, {
    timeout: 15_000,
  });
async function axe(label: string) {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(result.violations.map((v) => `${label}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`)).toEqual([]);
}
const local = (dt: DateTime) => dt.toUTC().toFormat("yyyy-MM-dd'T'HH:mm");

browserTest('provider absence: preview, start the workflow, follow it to the end', async () => {
  const slots = await freeSlots('cl-dr-a', 30, 34);
  const ids = [await book(slots[0]!.slotId, 'cl-p1'), await book(slots[2]!.slotId, 'cl-p2')];
  const from = DateTime.utc().plus({ hours: 29 }).startOf('minute');
  const to = DateTime.utc().plus({ hours: 35 }).startOf('minute');
  await open(`page=absence&clinicId=${CLINIC}`);
  await page.selectOption('#absence-provider', 'cl-dr-a');
  await page.fill('#absence-from', local(from));
  await page.fill('#absence-to', local(to));
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.waitForSelector('#absence-rows tr');
  await expect(page.locator('#absence-summary').innerText()).resolves.toMatch(/^2 appointments displaced; 2 can be moved, 0 need a call\./);
  await expect(page.locator('#absence-rows tr').allInnerTexts()).resolves.toEqual([
    expect.stringContaining('Console Patient 1 (cl-p1)'),
    expect.stringContaining('Console Patient 2 (cl-p2)'),
  ]);
  await page.getByRole('button', { name: 'Start absence workflow' }).click();
  await page.waitForFunction(() => document.querySelector('#absence-runtime')?.textContent === 'Completed', undefined, { timeout: 60_000 });
  await expect(page.locator('#absence-outcome').innerText()).resolves.toBe('2 of 2 re-homed; 0 need a call.');
  await expect(page.locator('#absence-steps li.done').count()).resolves.toBe(3);
  await expect(page.locator('#absence-steps li[aria-current="step"]').innerText()).resolves.toBe('Done ✓');
  for (const id of ids) {
    const original = await must('GET', `/api/appointments/${id}`);
    expect([original.status, (original.cancellation as { reasonCode: string }).reasonCode]).toEqual(['cancelled', 'provider-absence']);
  }
  await axe('absence completed');
});

browserTest('cancel in the console, then the backfill rounds arrive on the Workflows page', async () => {
  const target = (await freeSlots('cl-dr-b', 6, 10))[0]!;
  await book(target.slotId, 'cl-p3');
  await waitlist('cl-p4', 'cl-dr-b');
  await waitlist('cl-p5', 'cl-dr-b');
  await open(`page=schedule&clinicId=${CLINIC}&view=day&date=${target.start.slice(0, 10)}`);
  await cell(target.slotId).click();
  await page.getByRole('button', { name: 'Cancel…' }).click();
  await page.selectOption('#cancel-reason', 'patient-request');
  await page.getByRole('button', { name: 'Cancel appointment' }).click();
  const t0 = Date.now();
  await waitState(target.slotId, 'free');
  await page.getByRole('link', { name: 'Workflows' }).click();
  const card = page.locator(`article[data-instance-id="backfill-${target.slotId}"]`);
  await card.locator('ol.rounds li[data-round="1"]').waitFor({ timeout: 20_000 });
  console.log(`cancel -> round 1 offers shown on the Workflows page after ${Date.now() - t0} ms (polling every 3 s)`);
  await expect(card.locator('[data-offer-id]').allInnerTexts()).resolves.toEqual(expect.arrayContaining([expect.stringMatching(/cl-p4 sent/)]));
  await page.waitForSelector('#offers tr[data-offer-id]');
  await axe('workflows with live offers');
});

browserTest('reschedule by picking a free slot; the freed slot starts its backfill', async () => {
  // Two free slots on one clinic day: the move happens within the day view.
  const free = await freeSlots('cl-dr-c', 8, 14);
  const from = free.find((s) => free.some((t) => t.start.slice(0, 10) === s.start.slice(0, 10) && t.start > s.start));
  const to = [...free].reverse().find((t) => t.start.slice(0, 10) === from!.start.slice(0, 10));
  await book(from!.slotId, 'cl-p6');
  await waitlist('cl-p7', 'cl-dr-c');
  await open(`page=schedule&clinicId=${CLINIC}&view=day&date=${from!.start.slice(0, 10)}`);
  await cell(from!.slotId).click();
  await page.getByRole('button', { name: 'Reschedule' }).click();
  await cell(to!.slotId).click();
  await page.getByRole('button', { name: 'Move here' }).click();
  await waitState(to!.slotId, 'booked');
  const started = await eventually(
    async () => {
      const r = await api('GET', `/api/workflows/${encodeURIComponent(`backfill-${from!.slotId}`)}`);
      return r.status === 200 ? r.body : undefined;
    },
    20_000,
    'backfill of the freed slot',
  );
  expect(started.name).toBe('backfillOrchestrator');
});
