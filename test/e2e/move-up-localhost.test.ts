/**
 * Move-up and its cascade end to end through the local host, over HTTP only (issue 15): patient A is
 * booked in 10 days and on the waitlist to move earlier; patient B cancels tomorrow's slot; A is
 * offered it, says YES by a signed Twilio webhook and is moved (same appointment, new time); the
 * move releases A's old slot, whose backfill (the next cascade link) offers it to patient C, who
 * takes it. Throughout, a sampler reads every patient's appointments and records the most booked
 * at once: nobody may ever hold two. Every SMS sent is checked for PHI.
 */
import { DateTime } from 'luxon';
import { apiClient, eventually, outbox, sendInboundSms, type OutboxMessage, ALL_DAY_HOURS, putAroundTheClockClinic } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

jest.setTimeout(180_000);

const TOKEN = 'e2e-move-up-token';
const CLINIC = 'mu-clinic';
const TYPE = 'mu-consult';
const PROVIDER = 'mu-dr-a';
const PROVIDER_NAME = 'Dr Quentin Moveup';
const people = {
  a: { patientId: 'mu-pat-a', name: 'Alma Earlybird', phone: '+15557770101' },
  b: { patientId: 'mu-pat-b', name: 'Boris Canceller', phone: '+15557770102' },
  c: { patientId: 'mu-pat-c', name: 'Cleo Waitlister', phone: '+15557770103' },
};
type Who = keyof typeof people;

let host: LocalHostProcess;
let api: ReturnType<typeof apiClient>;

async function must<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await api<T>(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
  return r.body;
}

interface ApptView {
  appointmentId: string;
  slotId: string;
  status: string;
  start: string;
}

/** Every appointment of a patient in the clinic from yesterday to 30 days out (one list over all the days involved). */
async function appointmentsOf(who: Who): Promise<ApptView[]> {
  const now = DateTime.utc();
  const q = new URLSearchParams({
    clinicId: CLINIC,
    patientId: people[who].patientId,
    from: now.minus({ days: 1 }).toISO()!,
    to: now.plus({ days: 30 }).toISO()!,
  });
  return (await must<{ appointments: ApptView[] }>('GET', `/api/appointments?${q}`)).appointments;
}
const bookedOf = async (who: Who) => (await appointmentsOf(who)).filter((a) => a.status === 'booked');

async function freeSlot(fromHours: number): Promise<{ slotId: string; start: string }> {
  const now = DateTime.utc();
  const q = new URLSearchParams({
    clinicId: CLINIC,
    appointmentType: TYPE,
    providerId: PROVIDER,
    from: now.plus({ hours: fromHours }).toISO()!,
    to: now.plus({ hours: fromHours + 4 }).toISO()!,
  });
  const slots = (await must<{ slots: { slotId: string; start: string }[] }>('GET', `/api/slots?${q}`)).slots;
  if (!slots[0]) throw new Error(`no free slot ${fromHours} h out`);
  return slots[0];
}

const smsTo = async (who: Who): Promise<OutboxMessage[]> => outbox(host.baseUrl, people[who].phone);

/** What no SMS may carry: names, ids, phone numbers, the appointment type, the provider. */
function expectPhiFree(messages: OutboxMessage[]): void {
  const forbidden = [
    ...Object.values(people).flatMap((p) => [p.name, ...p.name.split(' '), p.patientId, p.phone, p.phone.slice(2)]),
    TYPE,
    'Consultation',
    PROVIDER,
    PROVIDER_NAME,
    'Quentin',
  ];
  for (const m of messages)
    for (const f of forbidden) expect({ body: m.body, contains: m.body.includes(f) ? f : null }).toEqual({ body: m.body, contains: null });
}

beforeAll(async () => {
  host = await startLocalHost({ env: { TWILIO_AUTH_TOKEN: TOKEN } });
  api = apiClient(host.baseUrl);
  await putAroundTheClockClinic(must, { clinicId: CLINIC, name: 'Move Clinic', type: TYPE, typeName: 'Consultation' });
  await must('PUT', `/api/providers/${PROVIDER}`, {
    clinicId: CLINIC,
    name: PROVIDER_NAME,
    appointmentTypes: [TYPE],
    weeklyHours: ALL_DAY_HOURS,
    slotMinutes: 30,
  });
  for (const p of Object.values(people)) {
    await must('PUT', `/api/patients/${p.patientId}`, { name: p.name, phone: p.phone, smsConsent: true, clinicIds: [CLINIC] });
  }
});

afterAll(async () => {
  await host?.stop();
});

it('B cancels tomorrow: A (booked in 10 days) moves up by SMS YES, and C takes the slot A gave up', async () => {
  // The sampler: every patient's booked appointments, read over and over while the story runs.
  const most: Record<Who, number> = { a: 0, b: 0, c: 0 };
  let sampling = true;
  let samples = 0;
  const sampler = (async () => {
    while (sampling) {
      for (const who of Object.keys(people) as Who[]) most[who] = Math.max(most[who], (await bookedOf(who)).length);
      samples += 1;
    }
  })();

  try {
    const tomorrow = await freeSlot(24);
    const inTenDays = await freeSlot(24 * 10);
    const b = await must<ApptView>('POST', '/api/appointments', { slotId: tomorrow.slotId, patientId: people.b.patientId, appointmentType: TYPE });
    const a = await must<ApptView>('POST', '/api/appointments', { slotId: inTenDays.slotId, patientId: people.a.patientId, appointmentType: TYPE });

    // A asks to move earlier: clinic, type and patient come from the appointment.
    const entryA = await api('POST', '/api/waitlist', { appointmentId: a.appointmentId });
    expect(entryA.status).toBe(201);
    expect(entryA.body).toMatchObject({ waitlistEntryId: `wl-up-${a.appointmentId}`, patientId: people.a.patientId, appointmentType: TYPE });
    // C has no appointment and cannot come before day 5, so tomorrow's slot is not theirs; A's old slot is.
    const entryC = await must('POST', '/api/waitlist', {
      patientId: people.c.patientId,
      clinicId: CLINIC,
      appointmentType: TYPE,
      earliest: DateTime.utc().plus({ days: 5 }).toISO(),
    });
    const listed = await must<{ entries: { waitlistEntryId: string; moveUp?: { appointmentId: string } }[] }>('GET', `/api/waitlist?clinicId=${CLINIC}`);
    expect(listed.entries.find((e) => e.waitlistEntryId === entryA.body.waitlistEntryId)?.moveUp?.appointmentId).toBe(a.appointmentId);

    // B cancels: the slot goes to A as a move-up offer naming both times.
    const cancelledAt = new Date().toISOString();
    expect((await api('POST', `/api/appointments/${b.appointmentId}/cancel`, { reason: 'patient-request' })).status).toBe(200);
    const offerA = await eventually(async () => (await smsTo('a')).find((m) => m.sentAt >= cancelledAt && /Reply YES/.test(m.body)), 15_000, 'offer to A');
    expect(offerA.body).toMatch(/instead of your .* visit/);
    expect((await smsTo('c')).filter((m) => /Reply YES/.test(m.body))).toEqual([]);

    const yesA = await sendInboundSms(host.baseUrl, TOKEN, people.a.phone, 'YES');
    expect(yesA.status).toBe(200);
    const moved = await eventually(
      async () => {
        const mine = await bookedOf('a');
        return mine.length === 1 && mine[0]!.slotId === tomorrow.slotId ? mine[0] : undefined;
      },
      15_000,
      'A moved to tomorrow',
    );
    // The same appointment, moved (not a second booking).
    expect(moved.appointmentId).toBe(a.appointmentId);
    const confirmation = await eventually(async () => (await smsTo('a')).find((m) => /you're moved to/.test(m.body)), 15_000, 'move confirmation');
    expect(confirmation.body).toMatch(/time is released/);

    // The released slot's backfill (the next link) offers it to C, who takes it.
    const offerC = await eventually(async () => (await smsTo('c')).find((m) => /Reply YES/.test(m.body)), 15_000, 'offer to C');
    expect(offerC.body).not.toMatch(/instead of your/);
    expect((await sendInboundSms(host.baseUrl, TOKEN, people.c.phone, 'YES')).status).toBe(200);
    const cBooked = await eventually(
      async () => {
        const mine = await bookedOf('c');
        return mine.length === 1 ? mine[0] : undefined;
      },
      15_000,
      'C booked',
    );
    expect(cBooked.slotId).toBe(inTenDays.slotId);
    await eventually(async () => (await smsTo('c')).some((m) => m.sentAt >= offerC.sentAt && /you're booked/.test(m.body)), 15_000, 'C confirmation');

    // The waitlist: both entries done (the YES is answered at once with "we're checking"; the entry
    // is marked in the acceptance step, so read until it is).
    await eventually(
      async () => {
        const after = await must<{ entries: { waitlistEntryId: string; status: string }[] }>('GET', `/api/waitlist?clinicId=${CLINIC}`);
        const status = (id: unknown) => after.entries.find((e) => e.waitlistEntryId === id)?.status;
        return status(entryA.body.waitlistEntryId) === 'booked' && status(entryC.waitlistEntryId) === 'booked' ? true : undefined;
      },
      15_000,
      'both waitlist entries booked',
    );

    // The cascade as the workflow API shows it, from either link: B's slot moved A, A's slot booked C.
    const first = `backfill-${tomorrow.slotId}`;
    const second = `backfill-${inTenDays.slotId}`;
    const chainOf = async (instanceId: string) =>
      eventually(
        async () => {
          const s = await must<{ runtimeStatus: string; cascade?: { instanceId: string; depth: number; outcome?: string; releasedSlotId?: string }[] }>(
            'GET',
            `/api/workflows/${encodeURIComponent(instanceId)}`,
          );
          return s.cascade?.length === 2 && s.cascade.every((l) => l.outcome === 'booked') ? s.cascade : undefined;
        },
        15_000,
        `cascade of ${instanceId}`,
      );
    for (const id of [first, second]) {
      expect((await chainOf(id)).map((l) => [l.instanceId, l.depth, l.releasedSlotId ?? null])).toEqual([
        [first, 0, inTenDays.slotId],
        [second, 1, null],
      ]);
    }
  } finally {
    sampling = false;
    await sampler;
  }

  // Nobody ever held two appointments; at the end A, C hold one each and B none.
  expect(samples).toBeGreaterThan(5);
  expect(most).toEqual({ a: 1, b: 1, c: 1 });
  expect([(await bookedOf('a')).length, (await bookedOf('b')).length, (await bookedOf('c')).length]).toEqual([1, 0, 1]);
  // Every SMS the system sent in this story is free of PHI.
  const all = (await outbox(host.baseUrl)).filter((m) => Object.values(people).some((p) => p.phone === m.to));
  expect(all.length).toBeGreaterThanOrEqual(4);
  expectPhiFree(all);
});
