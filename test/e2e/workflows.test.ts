/**
 * Workflows end to end through the local host, over HTTP only: cancellation -> Service Bus ->
 * backfill orchestration -> SMS offers -> signed YES webhook -> booking; expiry and next round;
 * concurrent YES; duplicate webhook; provider absence; eligibility failure.
 */
import { DateTime } from 'luxon';
import { apiClient, eventually, outbox, sendInboundSms, type OutboxMessage } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

jest.setTimeout(180_000);

const TOKEN = 'e2e-twilio-auth-token';
const CLINIC = 'e2e-clinic';
let host: LocalHostProcess;
let api: ReturnType<typeof apiClient>;

const patients = Array.from({ length: 12 }, (_, i) => ({
  patientId: `e2e-p${i + 1}`,
  name: `Test Patient ${i + 1}`,
  phone: `+1555555${String(1000 + i)}`,
  memberId: i === 11 ? 'INACTIVE-9' : `M${i}`,
}));

async function must(method: string, path: string, body?: unknown) {
  const r = await api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
  return r.body;
}

beforeAll(async () => {
  host = await startLocalHost({ env: { TWILIO_AUTH_TOKEN: TOKEN } });
  api = apiClient(host.baseUrl);
  // Open around the clock in UTC so tests find future slots at any hour; no quiet hours; one-minute offers.
  await must('PUT', `/api/clinics/${CLINIC}`, {
    name: 'E2E Clinic',
    timeZone: 'UTC',
    offerPolicy: {
      batchSize: 2,
      maxRounds: 4,
      expiryFraction: 0.01,
      minExpiryMinutes: 1,
      maxExpiryMinutes: 1,
      minLeadMinutes: 5,
      quietStart: '00:00',
      quietEnd: '00:00',
    },
    eligibilityLeadHours: 72,
  });
  await must('PUT', '/api/appointment-types/e2e-visit', { clinicId: CLINIC, name: 'Visit', durationMinutes: 30 });
  const allDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  for (const providerId of ['e2e-dr-a', 'e2e-dr-b', 'e2e-dr-c']) {
    await must('PUT', `/api/providers/${providerId}`, {
      clinicId: CLINIC,
      name: providerId,
      appointmentTypes: ['e2e-visit'],
      weeklyHours: allDay,
      slotMinutes: 30,
    });
  }
  for (const p of patients) {
    await must('PUT', `/api/patients/${p.patientId}`, {
      name: p.name,
      phone: p.phone,
      smsConsent: true,
      coverage: { payerId: 'payer', memberId: p.memberId },
      clinicIds: [CLINIC],
    });
  }
});

afterAll(async () => {
  await host?.stop();
});

/** Free slots of a provider between `fromHours` and `toHours` from now. */
async function freeSlots(providerId: string, fromHours: number, toHours: number): Promise<{ slotId: string; start: string }[]> {
  const now = DateTime.utc();
  const q = new URLSearchParams({
    clinicId: CLINIC,
    appointmentType: 'e2e-visit',
    providerId,
    from: now.plus({ hours: fromHours }).toISO()!,
    to: now.plus({ hours: toHours }).toISO()!,
  });
  return ((await must('GET', `/api/slots?${q}`)) as { slots: { slotId: string; start: string }[] }).slots;
}

async function book(slotId: string, patientId: string): Promise<string> {
  const r = await must('POST', '/api/appointments', { slotId, patientId, appointmentType: 'e2e-visit' });
  return String(r.appointmentId);
}

async function waitlist(patientId: string, providerId: string, urgency = 'routine'): Promise<string> {
  const r = await must('POST', '/api/waitlist', { patientId, clinicId: CLINIC, appointmentType: 'e2e-visit', providerIds: [providerId], urgency });
  return String(r.waitlistEntryId);
}

const offersTo = async (phones: string[], since: string): Promise<OutboxMessage[]> =>
  (await outbox(host.baseUrl)).filter((m) => phones.includes(m.to) && m.sentAt >= since && /Reply YES/i.test(m.body));

async function appointmentsOf(patientId: string, providerId: string) {
  const now = DateTime.utc();
  const q = new URLSearchParams({ clinicId: CLINIC, providerId, patientId, from: now.minus({ days: 1 }).toISO()!, to: now.plus({ days: 20 }).toISO()! });
  return ((await must('GET', `/api/appointments?${q}`)) as { appointments: { appointmentId: string; status: string; slotId: string }[] }).appointments;
}

describe('backfill through the local host', () => {
  it('cancellation -> SMS offers within a second -> signed YES books the slot -> the others hear it is gone', async () => {
    const [p1, p2, p3, p4] = patients;
    const slot = (await freeSlots('e2e-dr-a', 6, 30))[0]!;
    const appointmentId = await book(slot.slotId, p1!.patientId);
    await waitlist(p2!.patientId, 'e2e-dr-a', 'urgent');
    await waitlist(p3!.patientId, 'e2e-dr-a');
    await waitlist(p4!.patientId, 'e2e-dr-a');

    const cancelledAt = new Date().toISOString();
    const t0 = Date.now();
    expect((await api('POST', `/api/appointments/${appointmentId}/cancel`, { reason: 'patient-request' })).status).toBe(200);
    const offers = await eventually(
      async () => {
        const o = await offersTo([p2!.phone, p3!.phone, p4!.phone], cancelledAt);
        return o.length >= 2 ? o : undefined;
      },
      10_000,
      'two offers',
    );
    const firstOfferMs = Date.now() - t0;
    expect(firstOfferMs).toBeLessThan(5000);
    expect(offers.map((o) => o.to).sort()).toContain(p2!.phone); // the urgent one is in the first round
    for (const o of offers) expect(o.body).not.toMatch(/Test Patient|e2e-visit|Visit/); // no name or appointment type in SMS

    const winner = offers.find((o) => o.to === p2!.phone)!;
    const loser = offers.find((o) => o.to !== p2!.phone)!;
    const yes = await sendInboundSms(host.baseUrl, TOKEN, winner.to, 'YES');
    expect(yes.status).toBe(200);
    expect(yes.twiml).toContain('<Response>');

    const booked = await eventually(
      async () => (await appointmentsOf(p2!.patientId, 'e2e-dr-a')).find((a) => a.slotId === slot.slotId && a.status === 'booked'),
      15_000,
      'backfill booking',
    );
    expect(booked.slotId).toBe(slot.slotId);
    await eventually(
      async () => (await outbox(host.baseUrl, loser.to)).some((m) => m.sentAt >= cancelledAt && /filled|gone|taken|no longer/i.test(m.body)),
      15_000,
      'slot-gone notice',
    );

    // A later YES from the other patient is told politely the slot is gone, and books nothing.
    const late = await sendInboundSms(host.baseUrl, TOKEN, loser.to, 'YES');
    expect(late.twiml).toMatch(/filled|gone|taken|no longer|no open offer|not available/i);
    const loserId = patients.find((p) => p.phone === loser.to)!.patientId;
    expect((await appointmentsOf(loserId, 'e2e-dr-a')).filter((a) => a.status === 'booked')).toHaveLength(0);
    console.log(`cancellation -> first SMS offer: ${firstOfferMs} ms`);
  });

  it('two patients reply YES at the same moment: exactly one gets the slot', async () => {
    const [p5, p6, p7] = patients.slice(4);
    const slot = (await freeSlots('e2e-dr-b', 6, 30))[0]!;
    const appointmentId = await book(slot.slotId, p5!.patientId);
    await waitlist(p6!.patientId, 'e2e-dr-b');
    await waitlist(p7!.patientId, 'e2e-dr-b');
    const since = new Date().toISOString();
    await api('POST', `/api/appointments/${appointmentId}/cancel`, {});
    await eventually(async () => ((await offersTo([p6!.phone, p7!.phone], since)).length === 2 ? true : undefined), 10_000, 'offers');
    const [a, b] = await Promise.all([sendInboundSms(host.baseUrl, TOKEN, p6!.phone, 'yes'), sendInboundSms(host.baseUrl, TOKEN, p7!.phone, 'Y')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await eventually(
      async () => {
        const booked = [...(await appointmentsOf(p6!.patientId, 'e2e-dr-b')), ...(await appointmentsOf(p7!.patientId, 'e2e-dr-b'))].filter(
          (x) => x.status === 'booked' && x.slotId === slot.slotId,
        );
        return booked.length === 1 ? booked : undefined;
      },
      15_000,
      'one booking',
    );
    // And it stays one.
    await new Promise((r) => setTimeout(r, 1500));
    const all = [...(await appointmentsOf(p6!.patientId, 'e2e-dr-b')), ...(await appointmentsOf(p7!.patientId, 'e2e-dr-b'))].filter(
      (x) => x.status === 'booked',
    );
    expect(all).toHaveLength(1);
  });

  it('a duplicate Twilio webhook (same MessageSid) changes nothing and replays the answer', async () => {
    const p = patients[7]!;
    const first = await sendInboundSms(host.baseUrl, TOKEN, p.phone, 'HELP', 'SM0123456789abcdef0123456789abcdef');
    const again = await sendInboundSms(host.baseUrl, TOKEN, p.phone, 'STOP', 'SM0123456789abcdef0123456789abcdef');
    expect(again.twiml).toBe(first.twiml);
    // STOP in the replay was not applied: the patient can still be texted (HELP answer, not an opt-out).
    const bad = await fetch(`${host.baseUrl}/api/sms/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bogus' },
      body: 'From=%2B1&Body=YES&MessageSid=SM1',
    });
    expect(bad.status).toBe(403);
  });

  it('nobody replies: offers expire on the durable timer and the next candidates are offered', async () => {
    const [p9, p10, p11] = patients.slice(8);
    const slot = (await freeSlots('e2e-dr-c', 6, 30))[0]!;
    const appointmentId = await book(slot.slotId, p9!.patientId);
    await waitlist(p10!.patientId, 'e2e-dr-c', 'urgent');
    await waitlist(p11!.patientId, 'e2e-dr-c', 'urgent');
    await waitlist(patients[0]!.patientId, 'e2e-dr-c');
    const since = new Date().toISOString();
    await api('POST', `/api/appointments/${appointmentId}/cancel`, {});
    const round1 = await eventually(
      async () => {
        const o = await offersTo([p10!.phone, p11!.phone, patients[0]!.phone], since);
        return o.length >= 2 ? o : undefined;
      },
      10_000,
      'round 1',
    );
    expect(round1.map((o) => o.to).sort()).toEqual([p10!.phone, p11!.phone].sort());
    const round2 = await eventually(
      async () => {
        const o = await offersTo([patients[0]!.phone], since);
        return o.length >= 1 ? o : undefined;
      },
      90_000,
      'round 2 after expiry',
    );
    expect(Date.parse(round2[0]!.sentAt) - Date.parse(round1[0]!.sentAt)).toBeGreaterThanOrEqual(55_000);
  });
});

describe('provider absence and eligibility through the local host', () => {
  it('re-homes a provider’s booked patients outside the absence and reports the result', async () => {
    const slots = await freeSlots('e2e-dr-a', 30, 34);
    const ids = [await book(slots[0]!.slotId, patients[5]!.patientId), await book(slots[2]!.slotId, patients[6]!.patientId)];
    const from = DateTime.utc().plus({ hours: 29 }).toISO()!;
    const to = DateTime.utc().plus({ hours: 35 }).toISO()!;
    const started = await api('POST', '/api/providers/e2e-dr-a/absences', { from, to, reason: 'sick' });
    expect(started.status).toBe(202);
    const instanceId = String(started.body.instanceId);
    const done = await eventually(
      async () => {
        const s = await api('GET', `/api/workflows/${encodeURIComponent(instanceId)}`);
        return s.body.runtimeStatus === 'Completed' || s.body.runtimeStatus === 'Failed' ? s.body : undefined;
      },
      30_000,
      'absence workflow',
    );
    expect(done.runtimeStatus).toBe('Completed');
    const output = done.output as { displaced: number; rehomed: { appointmentId: string; newAppointmentId: string }[]; needsAttention: unknown[] };
    expect(output.displaced).toBe(2);
    expect(output.rehomed).toHaveLength(2);
    for (const id of ids) {
      const original = await must('GET', `/api/appointments/${id}`);
      expect(original.status).toBe('cancelled');
      expect((original.cancellation as { reasonCode: string }).reasonCode).toBe('provider-absence');
    }
    for (const r of output.rehomed) {
      const moved = await must('GET', `/api/appointments/${r.newAppointmentId}`);
      expect(moved.status).toBe('booked');
      // Another provider, or the same one (continuity) outside the absence window.
      const inWindow = Date.parse(String(moved.start)) < Date.parse(to) && Date.parse(String(moved.end)) > Date.parse(from);
      expect(moved.providerId !== 'e2e-dr-a' || !inWindow).toBe(true);
    }
  });

  it('an inactive coverage reaches the front desk on the appointment', async () => {
    const p = patients[11]!;
    const slot = (await freeSlots('e2e-dr-b', 40, 48))[0]!;
    const appointmentId = await book(slot.slotId, p.patientId);
    const checked = await eventually(
      async () => {
        const a = await must('GET', `/api/appointments/${appointmentId}`);
        return a.eligibility ? a : undefined;
      },
      20_000,
      'eligibility result',
    );
    expect(checked.eligibility).toMatchObject({ status: 'inactive', reasonCode: 'NOT_IN_FORCE' });
  });
});
