// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * The console's language edit (PUT /api/patients/{id}/preferred-language) and what the console reads
 * back: the patient card's preferred and SMS language, the language each SMS on a timeline went out in.
 * In-process over in-memory services; every response is checked against the OpenAPI document.
 */
import { bookAppointment } from '../../../../domain';
import { InMemorySmsMessages, sendPatientSms } from '../../../../domain/sms';
import { P1_TUE_0930, principal, seed, type InvokeOptions, type Seeded } from '../../../support/api-harness';
import { createCheckedCall } from '../../../support/api-spec';

import '../../../../functions/api/patient-lookup';
import '../../../../functions/api/patient-language';
import '../../../../functions/api/appointment-timeline';
import '../../../../functions/ops/openapi';

let env: Seeded;
beforeEach(async () => {
  env = await seed();
});
const call = createCheckedCall();
const scheduler = principal(['scheduler'], ['c1'], 'staff-c1');
const put = (patientId: string, body: unknown, options: InvokeOptions = {}) =>
  call('PUT', `/api/patients/${patientId}/preferred-language?clinicId=c1`, { principal: scheduler, body, ...options });

test('the front desk sets, changes and clears the language; the rest of the record stays', async () => {
  const before = (await env.services.patients.get('pat1'))!;
  expect(await put('pat1', { preferredLanguage: 'ES-mx' })).toMatchObject({
    status: 200,
    body: { patientId: 'pat1', preferredLanguage: 'es-MX', smsLanguage: 'es' },
  });
  const after = (await env.services.patients.get('pat1'))!;
  expect({ ...after, updatedAt: before.updatedAt }).toEqual({ ...before, preferredLanguage: 'es-MX' });
  const card = await call('GET', '/api/patients/pat1?clinicId=c1', { principal: scheduler });
  expect(card.body).toMatchObject({ preferredLanguage: 'es-MX', smsLanguage: 'es' });
  // A language without texts is kept; texts fall back (here to English, the clinic sets no default).
  expect((await put('pat1', { preferredLanguage: 'fr' })).body).toEqual({ patientId: 'pat1', preferredLanguage: 'fr', smsLanguage: 'en' });
  expect((await put('pat1', { preferredLanguage: null })).body).toEqual({ patientId: 'pat1', smsLanguage: 'en' });
  expect((await env.services.patients.get('pat1'))?.preferredLanguage).toBeUndefined();
  expect(env.audit.entries.filter((e) => e.action === 'update' && e.resourceId === 'pat1')).toHaveLength(3);
});

test('bad tags are 400 naming the field; unknown patients 404; other clinics 403; EHR 403', async () => {
  const bad = await put('pat1', { preferredLanguage: 'spanish please' });
  expect(bad.status).toBe(400);
  expect((bad.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['body.preferredLanguage']);
  expect((await put('pat1', { preferredLanguage: 'es', extra: 1 })).status).toBe(400);
  expect((await put('pat-nobody', { preferredLanguage: 'es' })).status).toBe(404);
  expect((await call('PUT', '/api/patients/pat3/preferred-language', { principal: scheduler, body: { preferredLanguage: 'es' } })).status).toBe(403);
  expect((await put('pat1', { preferredLanguage: 'es' }, { principal: principal(['ehr']) })).status).toBe(403);
  expect((await env.services.patients.get('pat1'))?.preferredLanguage).toBeUndefined();
});

test('the timeline shows the language each SMS went out in', async () => {
  const smsMessages = new InMemorySmsMessages();
  Object.assign(env.services, { smsMessages });
  await put('pat1', { preferredLanguage: 'es' });
  const a = await bookAppointment(env.services, {
    slotId: P1_TUE_0930,
    patientId: 'pat1',
    appointmentType: 'checkup',
    channel: 'api',
    actor: { kind: 'staff', principalId: 'x' },
  });
  await sendPatientSms(env.services, {
    patientId: 'pat1',
    clinicId: 'c1',
    template: 'booked',
    params: { start: a.start },
    purpose: 'confirmation',
    correlationId: a.appointmentId,
  });
  const t = await call('GET', `/api/appointments/${a.appointmentId}/timeline`, { principal: scheduler });
  expect((t.body as { sms: unknown[] }).sms).toEqual([expect.objectContaining({ template: 'booked', language: 'es' })]);
});
