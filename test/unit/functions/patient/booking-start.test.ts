// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * The SMART Scheduling Links deep link target /book/slot/{slotId}: shows the time, texts a signed single-use
 * booking link to a known patient's phone, answers the same for unknown numbers, refuses cross-site posts.
 */
import type { RecordingSms } from '../../../../domain/memory';
import { verifyLinkToken } from '../../../../domain/sms';
import { linkSigningKey } from '../../../../functions/app/config';
import { invoke, P1_TUE_0900, P1_TUE_0930, principal, seed, type Seeded } from '../../../support/api-harness';

import '../../../../functions/api/appointments';
import '../../../../functions/patient/booking-start';

let env: Seeded;
beforeEach(async () => {
  env = await seed();
});
const sms = () => (env.services.sms as RecordingSms).sent;
const post = (slotId: string, phone: string, headers: Record<string, string> = {}) =>
  invoke('POST', `/book/slot/${slotId}`, {
    principal: null,
    rawBody: new URLSearchParams({ phone }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });

test('GET shows the clinic-local time and a phone form; taken, past and unknown slots do not', async () => {
  const r = await invoke('GET', `/book/slot/${P1_TUE_0930}`, { principal: null });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/html/);
  expect(r.text).toContain('Tuesday 3 March at 9:30 AM');
  expect(r.text).toContain('Main Street Clinic');
  expect(r.text).toContain('name="phone"');
  await invoke('POST', '/api/appointments', {
    principal: principal(['scheduler']),
    body: { slotId: P1_TUE_0900, patientId: 'pat2', appointmentType: 'checkup' },
  });
  expect((await invoke('GET', `/book/slot/${P1_TUE_0900}`, { principal: null })).status).toBe(410);
  expect((await invoke('GET', '/book/slot/p1.20260227T1400', { principal: null })).status).toBe(410);
  expect((await invoke('GET', '/book/slot/p1.20260303T1410', { principal: null })).status).toBe(404);
  expect((await invoke('GET', '/book/slot/nonsense', { principal: null })).status).toBe(404);
});

test('POST texts a known patient a link that opens on this slot; an unknown number gets the same answer and no SMS', async () => {
  const unknown = await post(P1_TUE_0930, '+14155550999');
  expect(unknown.status).toBe(200);
  expect(sms()).toHaveLength(0);
  const known = await post(P1_TUE_0930, '+1 (415) 555-0101');
  expect(known.status).toBe(200);
  expect(known.text).toBe(unknown.text);
  expect(sms()).toHaveLength(1);
  expect(sms()[0]).toMatchObject({ to: '+14155550101', patientId: 'pat1', purpose: 'booking-link' });
  const url = /(https?:\/\/\S+\/book\/[A-Za-z0-9._~-]+)/.exec(sms()[0]!.body)![1]!;
  const token = new URL(url).pathname.split('/').at(-1)!;
  const verified = verifyLinkToken(token, linkSigningKey(env.services.settings), env.clock.now().toMillis());
  expect(verified.ok && verified.claims).toMatchObject({
    patientId: 'pat1',
    scope: { kind: 'search', clinicId: 'c1', providerId: 'p1', slotIds: [P1_TUE_0930] },
    expiresAt: '2026-03-02T14:00:00.000Z',
  });
});

test('bad numbers are 400, cross-site posts 403, taken slots 410', async () => {
  expect((await post(P1_TUE_0930, '415-555')).status).toBe(400);
  expect((await post(P1_TUE_0930, '+14155550101', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  expect((await post(P1_TUE_0930, '+14155550101', { origin: 'https://evil.example' })).status).toBe(403);
  await invoke('POST', '/api/appointments', {
    principal: principal(['scheduler']),
    body: { slotId: P1_TUE_0930, patientId: 'pat2', appointmentType: 'checkup' },
  });
  expect((await post(P1_TUE_0930, '+14155550101')).status).toBe(410);
  expect(sms()).toHaveLength(0);
});

test("in the browser's language, else the clinic's default; the answer reveals nothing in any language", async () => {
  const es = await invoke('GET', `/book/slot/${P1_TUE_0930}`, { principal: null, headers: { 'accept-language': 'es-MX,es;q=0.9,en;q=0.5' } });
  expect(es.status).toBe(200);
  expect(es.text).toContain('<html lang="es">');
  expect(es.text).toContain('<h1>martes, 3 de marzo a las 9:30 a.m.</h1>');
  expect(es.text).toContain('Envíenme un enlace de reserva');
  const bad = await post(P1_TUE_0930, '415-555', { 'accept-language': 'es' });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('Escriba el número con el código de país');
  const unknown = await post(P1_TUE_0930, '+14155550999', { 'accept-language': 'es' });
  const known = await post(P1_TUE_0930, '+14155550101', { 'accept-language': 'es' });
  expect([unknown.status, known.text]).toEqual([200, unknown.text]);
  expect(known.text).toContain('Revise su teléfono');
  // No supported language in the header: the clinic's default.
  const clinic = (await env.services.config.getClinic('c1'))!;
  await env.services.config.putClinic({ ...clinic, defaultLanguage: 'vi' });
  const fr = await invoke('GET', `/book/slot/${P1_TUE_0930}`, { principal: null, headers: { 'accept-language': 'fr-FR' } });
  expect(fr.text).toContain('Nhắn cho tôi đường dẫn đặt lịch');
  const en = await invoke('GET', `/book/slot/${P1_TUE_0930}`, { principal: null, headers: { 'accept-language': 'en-US' } });
  expect(en.text).toContain('Tuesday 3 March at 9:30 AM');
});
