/**
 * Patient languages and reschedule by SMS end to end through the local host, over HTTP only (issue 22):
 * a Spanish-preferring patient gets a Spanish offer, answers "Sí" (signed webhook), is booked and gets
 * a Spanish confirmation; another gets a reminder, replies R, opens the signed link, picks a time and is
 * moved, and the time they gave up is offered to the waitlist like any freed slot.
 */
import { DateTime } from 'luxon';
import { apiClient, eventually, outbox, sendInboundSms } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

jest.setTimeout(180_000);

const TOKEN = 'e2e-twilio-auth-token';
const CLINIC = 'lang-clinic';
const TYPE = 'lang-visit';
let host: LocalHostProcess;
let api: ReturnType<typeof apiClient>;

async function must(method: string, path: string, body?: unknown) {
  const r = await api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
  return r.body;
}

const PATIENTS = {
  lucia: { patientId: 'lang-p1', name: 'Lucía Fernández', phone: '+15557770001', preferredLanguage: 'es-US' },
  ana: { patientId: 'lang-p2', name: 'Ana Other', phone: '+15557770002' },
  ben: { patientId: 'lang-p3', name: 'Ben Mover', phone: '+15557770003' },
  cleo: { patientId: 'lang-p4', name: 'Cleo Waiting', phone: '+15557770004' },
};
const PHI = ['Lucía', 'Fernández', 'Ana', 'Ben', 'Mover', 'Cleo', 'Visit'];

beforeAll(async () => {
  host = await startLocalHost({ env: { TWILIO_AUTH_TOKEN: TOKEN } });
  api = apiClient(host.baseUrl);
  // Open around the clock in UTC, no quiet hours, short offers; a reminder 72 h before (so one is due now).
  await must('PUT', `/api/clinics/${CLINIC}`, {
    name: 'Language Clinic',
    timeZone: 'UTC',
    bookingPolicy: { minNoticeMinutes: 0, cancellationWindowHours: 1 },
    offerPolicy: {
      batchSize: 1,
      maxRounds: 3,
      expiryFraction: 0.01,
      minExpiryMinutes: 2,
      maxExpiryMinutes: 2,
      minLeadMinutes: 5,
      quietStart: '00:00',
      quietEnd: '00:00',
    },
    reminderHoursBefore: [72],
  });
  await must('PUT', `/api/appointment-types/${TYPE}`, { clinicId: CLINIC, name: 'Visit', durationMinutes: 30 });
  const allDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  for (const providerId of ['lang-dr-a', 'lang-dr-b']) {
    await must('PUT', `/api/providers/${providerId}`, { clinicId: CLINIC, name: providerId, appointmentTypes: [TYPE], weeklyHours: allDay, slotMinutes: 30 });
  }
  for (const p of Object.values(PATIENTS)) {
    const { patientId, ...body } = p;
    await must('PUT', `/api/patients/${patientId}`, { ...body, smsConsent: true, clinicIds: [CLINIC] });
  }
});

afterAll(async () => {
  await host?.stop();
});

async function freeSlots(providerId: string, from: DateTime, to: DateTime): Promise<{ slotId: string; start: string }[]> {
  const q = new URLSearchParams({ clinicId: CLINIC, appointmentType: TYPE, providerId, from: from.toISO()!, to: to.toISO()! });
  return ((await must('GET', `/api/slots?${q}`)) as { slots: { slotId: string; start: string }[] }).slots;
}
const book = async (slotId: string, patientId: string) =>
  String((await must('POST', '/api/appointments', { slotId, patientId, appointmentType: TYPE })).appointmentId);
const textsTo = async (phone: string, since: string) => (await outbox(host.baseUrl, phone)).filter((m) => m.sentAt >= since);
const answerOf = (twiml: string) =>
  (/<Message>([\s\S]*)<\/Message>/.exec(twiml)?.[1] ?? '')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"');

it('a Spanish-preferring patient: Spanish offer, "Sí", booked, Spanish confirmation', async () => {
  const { lucia, ana } = PATIENTS;
  const now = DateTime.utc();
  const slot = (await freeSlots('lang-dr-a', now.plus({ hours: 6 }), now.plus({ hours: 30 })))[0]!;
  const taken = await book(slot.slotId, ana.patientId);
  await must('POST', '/api/waitlist', { patientId: lucia.patientId, clinicId: CLINIC, appointmentType: TYPE, providerIds: ['lang-dr-a'] });
  const since = new Date().toISOString();
  await must('POST', `/api/appointments/${taken}/cancel`, { reason: 'patient-request' });

  const offer = await eventually(async () => (await textsTo(lucia.phone, since)).find((m) => /Responda SÍ/.test(m.body)), 30_000, 'a Spanish offer');
  expect(offer.body).toMatch(/^Language Clinic: se abrió una cita más temprano el .+\. Responda SÍ para tomarla o NO para dejarla\./);
  const reply = await sendInboundSms(host.baseUrl, TOKEN, lucia.phone, 'Sí');
  expect(reply.status).toBe(200);
  expect(answerOf(reply.twiml)).toMatch(/^Language Clinic: ¡gracias! Estamos revisando el .+ para usted y le escribiremos en breve\.$/);

  const confirmation = await eventually(
    async () => (await textsTo(lucia.phone, since)).find((m) => /su cita quedó reservada/.test(m.body)),
    30_000,
    'a Spanish confirmation',
  );
  expect(confirmation.body).toMatch(/^Language Clinic: su cita quedó reservada para el .+\. Responda X para cancelarla\.$/);
  const q = new URLSearchParams({ clinicId: CLINIC, patientId: lucia.patientId, from: now.toISO()!, to: now.plus({ days: 3 }).toISO()! });
  const mine = (await must('GET', `/api/appointments?${q}`)) as { appointments: { slotId: string; status: string }[] };
  expect(mine.appointments.map((a) => [a.slotId, a.status])).toEqual([[slot.slotId, 'booked']]);
  for (const m of await textsTo(lucia.phone, since)) for (const phi of PHI) expect(m.body).not.toContain(phi);
});

it('R to a reminder: a signed link, a pick, the appointment moved; the time given up goes to the waitlist', async () => {
  const { ben, cleo } = PATIENTS;
  const now = DateTime.utc();
  // A slot whose 72-hour reminder is due when it is booked and not nearly 30 minutes late. Slots start every
  // 30 minutes, so the first one starting more than 71.5 h + 1 min from now starts at most 30 minutes later;
  // if its reminder is not due yet (the last minute of a half hour), wait the seconds until it is.
  const [slot] = await freeSlots('lang-dr-b', now.plus({ hours: 71.5, minutes: 1 }), now.plus({ hours: 72, minutes: 1 }));
  if (!slot) throw new Error('no free lang-dr-b slot starting in the next 30 minutes, 72 hours from now');
  const dueInMs = DateTime.fromISO(slot.start).minus({ hours: 72 }).toMillis() - Date.now();
  if (dueInMs > 0) await new Promise((resolve) => setTimeout(resolve, dueInMs + 1_000));
  const since = new Date().toISOString();
  const appointmentId = await book(slot.slotId, ben.patientId);
  const reminder = await eventually(
    async () => (await textsTo(ben.phone, since)).find((m) => /reminder of your appointment/.test(m.body)),
    30_000,
    'the reminder',
  );
  expect(reminder.body).toMatch(/Reply C to confirm, X to cancel or R to pick another time\. Want an earlier time\? Reply EARLIER\.$/);
  await must('POST', '/api/waitlist', { patientId: cleo.patientId, clinicId: CLINIC, appointmentType: TYPE, providerIds: ['lang-dr-b'] });

  const r = await sendInboundSms(host.baseUrl, TOKEN, ben.phone, 'R');
  const answer = answerOf(r.twiml);
  expect(answer).toMatch(
    /^Language Clinic: to move your .+ visit, pick a new time here: http\S+\/book\/\S+ \(link valid until .+\)\. Your visit stays booked until you pick\.$/,
  );
  const linkPath = new URL(/(http\S+\/book\/\S+) \(/.exec(answer)![1]!).pathname;

  const page = await fetch(`${host.baseUrl}${linkPath}`);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('Move my appointment');
  for (const phi of PHI) expect(html).not.toContain(phi);
  const offered = [...html.matchAll(/name="slotId" value="([^"]+)"/g)].map((m) => m[1]!);
  expect(offered).not.toContain(slot.slotId);
  // Same provider first: with this many free times the page lists only lang-dr-b's.
  expect(offered.length).toBeGreaterThan(0);
  expect(offered.every((id) => id.startsWith('lang-dr-b.'))).toBe(true);
  const pick = offered[0]!;

  const moved = await fetch(`${host.baseUrl}${linkPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: host.baseUrl },
    body: new URLSearchParams({ slotId: pick }).toString(),
  });
  expect(moved.status).toBe(200);
  expect(await moved.text()).toContain('<title>Appointment moved</title>');
  const after = (await must('GET', `/api/appointments/${appointmentId}`)) as { slotId: string; status: string };
  expect(after).toMatchObject({ slotId: pick, status: 'booked' });
  // Single use.
  expect((await fetch(`${host.baseUrl}${linkPath}`)).status).toBe(410);
  const confirmation = await eventually(
    async () => (await textsTo(ben.phone, since)).find((m) => /you're moved to/.test(m.body)),
    30_000,
    'the move confirmation',
  );
  expect(confirmation.body).toMatch(/^Language Clinic: you're moved to .+\. Your .+ time is released\. Reply X to cancel\.$/);

  // The released time is backfilled as usual: the waitlisted patient is offered exactly it.
  const offer = await eventually(async () => (await textsTo(cleo.phone, since)).find((m) => /Reply YES/.test(m.body)), 30_000, 'an offer of the released slot');
  expect(offer.body).toMatch(/an earlier appointment opened up on/);
  expect((await freeSlots('lang-dr-b', DateTime.fromISO(slot.start), DateTime.fromISO(slot.start).plus({ minutes: 30 }))).map((s) => s.slotId)).toEqual([
    slot.slotId,
  ]);
});
