/** GDPR erasure through the local host (real Cosmos adapter): DELETE /api/patients/{id}. */
import { DateTime } from 'luxon';
import { apiClient } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

jest.setTimeout(90_000);
let host: LocalHostProcess;
beforeAll(async () => (host = await startLocalHost()));
afterAll(async () => host?.stop());

it('erases a patient: PHI gone, appointments kept as de-identified stubs, repeat is 410, scheduler cannot', async () => {
  const api = apiClient(host.baseUrl, ['admin', 'scheduler']);
  const must = async (method: string, path: string, body?: unknown) => {
    const r = await api(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
    return r.body;
  };
  await must('PUT', '/api/clinics/er', { name: 'Erasure Clinic', timeZone: 'UTC' });
  await must('PUT', '/api/appointment-types/er-visit', { clinicId: 'er', name: 'Visit', durationMinutes: 30 });
  const allDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  await must('PUT', '/api/providers/er-dr', { clinicId: 'er', name: 'Dr', appointmentTypes: ['er-visit'], weeklyHours: allDay, slotMinutes: 30 });
  await must('PUT', '/api/patients/er-p1', { name: 'Zelda Erasable', phone: '+15555559876', smsConsent: true, clinicIds: ['er'] });
  const now = DateTime.utc();
  const slots = (await must(
    'GET',
    `/api/slots?${new URLSearchParams({ clinicId: 'er', appointmentType: 'er-visit', from: now.plus({ hours: 5 }).toISO()!, to: now.plus({ hours: 8 }).toISO()! })}`,
  )) as {
    slots: { slotId: string }[];
  };
  const booked = await must('POST', '/api/appointments', { slotId: slots.slots[0]!.slotId, patientId: 'er-p1', appointmentType: 'er-visit' });
  await must('POST', '/api/waitlist', { patientId: 'er-p1', clinicId: 'er', appointmentType: 'er-visit' });

  expect((await apiClient(host.baseUrl, ['scheduler'])('DELETE', '/api/patients/er-p1')).status).toBe(403);
  const erased = await api('DELETE', '/api/patients/er-p1');
  expect(erased.status).toBe(200);
  expect(erased.body).toMatchObject({ patientId: 'er-p1', appointmentsDeidentified: 1, waitlistEntriesDeleted: 1 });
  expect(erased.text).not.toContain('Zelda');

  const stub = await must('GET', `/api/appointments/${String(booked.appointmentId)}`);
  expect(stub.patientId).not.toBe('er-p1');
  const waitlist = await api('GET', '/api/waitlist?clinicId=er');
  expect(waitlist.text).not.toContain('er-p1');
  const again = await api('DELETE', '/api/patients/er-p1');
  expect(again.status).toBe(410);
  expect(again.body.code).toBe('PATIENT.ERASED');
});
