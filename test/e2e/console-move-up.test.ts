// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * The console's move-up views in headless Chromium (as test/e2e/console.test.ts: playwright-core against
 * the registered handlers on a loopback server, in-memory services, fixed clock Monday 2 March 2026
 * 08:00 New York): the waitlist lists a move-up entry with the appointment it would move (time,
 * provider), and the backfill cards show the cascade links (the move-up that freed a slot, the slot a
 * move-up released and that it is offered next). Accessibility checked with axe-core.
 */
import { existsSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { WaitlistOffer } from '../../domain';
import { invoke, NOW, P1_TUE_0900, seed, SEEDED_PHI, type Seeded } from '../support/api-harness';
import { startApiServer } from '../support/api-server';

import '../../functions/api/appointments';
import '../../functions/api/config';
import '../../functions/api/waitlist';
import '../../functions/api/workflows';
import '../../functions/api/backfill-rounds';
import '../../functions/ops/console';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const browserTest = haveChromium ? test : test.skip;
jest.setTimeout(60_000);

/** Tuesday 10 and Wednesday 11 March 09:00 New York (EDT, 13:00 UTC) with p1 (Dr One). */
const LATER = 'p1.20260310T1300';
const LATER2 = 'p1.20260311T1300';

let env: Seeded;
let server: Awaited<ReturnType<typeof startApiServer>>;
let browser: Browser;
let page: Page;
const requested: string[] = [];

async function must(method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await invoke(method, path, { body });
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
  return r.body as Record<string, unknown>;
}

const offer = (o: Partial<WaitlistOffer> & Pick<WaitlistOffer, 'offerId' | 'slotId' | 'patientId'>): WaitlistOffer => ({
  clinicId: 'c1',
  waitlistEntryId: `wl-${o.offerId}`,
  workflowInstanceId: `backfill-${o.slotId}`,
  round: 1,
  status: 'sent',
  sentAt: NOW.minus({ minutes: 20 }).toUTC().toISO()!,
  expiresAt: NOW.plus({ minutes: 30 }).toUTC().toISO()!,
  version: 1,
  ...o,
});

beforeAll(async () => {
  if (!haveChromium) return;
  env = await seed();
  // pat1 was moved from 10 March to Tuesday 3 March by a move-up (the first link); 10 March is now offered to pat2 (the second link).
  const moved = await must('POST', '/api/appointments', { slotId: P1_TUE_0900, patientId: 'pat1', appointmentType: 'checkup' });
  await env.offers.create(
    offer({
      offerId: 'ofr-up-1',
      slotId: P1_TUE_0900,
      patientId: 'pat1',
      status: 'accepted',
      respondedAt: NOW.minus({ minutes: 15 }).toUTC().toISO()!,
      moveUp: { appointmentId: String(moved.appointmentId), slotId: LATER, start: '2026-03-10T09:00:00-04:00' },
    }),
  );
  await env.offers.create(
    offer({ offerId: 'ofr-next-1', slotId: LATER, patientId: 'pat2', cascadeDepth: 1, sentAt: NOW.minus({ minutes: 14 }).toUTC().toISO()! }),
  );
  // pat2 also waits to move their 11 March visit earlier.
  const later = await must('POST', '/api/appointments', { slotId: LATER2, patientId: 'pat2', appointmentType: 'checkup' });
  await must('POST', '/api/waitlist', { appointmentId: later.appointmentId });
  await must('POST', '/api/waitlist', { patientId: 'pat1', clinicId: 'c1', appointmentType: 'consult' });

  server = await startApiServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.on('request', (r) => requested.push(r.url()));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

browserTest('waitlist shows a move-up entry with the appointment it would move; backfill cards show the cascade links', async () => {
  await page.goto(`${server.baseUrl}/console/?page=workflows&clinicId=c1`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  await page.waitForSelector('#waitlist tr[data-entry-id]');
  const rows = page.locator('#waitlist tr[data-entry-id]');
  await expect(rows.count()).resolves.toBe(2);
  const moveUp = page.locator('#waitlist tr[data-move-up]');
  await expect(moveUp.locator('td').allInnerTexts()).resolves.toEqual([
    'pat2',
    'checkup',
    'routine',
    'active',
    expect.stringMatching(/^Earlier than Wed 11 Mar, 09:00, Dr One \(appointment apt-\S+\)$/),
  ]);
  await expect(page.locator('#waitlist tr:not([data-move-up]) td').last().innerText()).resolves.toBe('A new appointment');

  const first = page.locator(`article[data-instance-id="backfill-${P1_TUE_0900}"]`);
  await expect(first.locator('ul.cascade li').allInnerTexts()).resolves.toEqual(['pat1 moved here from Tue 10 Mar, 09:00, Dr One; that slot is offered next']);
  await expect(first.locator('li[data-link="released"]').getAttribute('data-next-instance-id')).resolves.toBe(`backfill-${LATER}`);
  const second = page.locator(`article[data-instance-id="backfill-${LATER}"]`);
  await expect(second.locator('ul.cascade li').allInnerTexts()).resolves.toEqual(['Freed by a move-up (link 2 of a cascade)']);

  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`)).toEqual([]);
  // No PHI in any URL the page asked for.
  for (const url of requested) for (const phi of SEEDED_PHI) expect(decodeURIComponent(url)).not.toContain(phi);
});
