/**
 * A host crash in the middle of a move-up (issue 15), the kill-and-restart pattern of
 * test/e2e/localhost-crash.test.ts (testkit/chaos.ts): patient A holds an appointment in 10 days
 * and waits to move earlier; B cancels tomorrow's slot; A's YES (signed webhook, acknowledged with
 * 200) starts the move, and the host is SIGKILLed a few milliseconds later, at a different point of
 * the move each round. Started again on the same DATA_DIR, the workflow resumes and A ends with
 * exactly one booked appointment (the same one, moved); no read after the restart ever shows two.
 */
import { DateTime } from 'luxon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient, eventually, outbox, sendInboundSms, ALL_DAY_HOURS, putAroundTheClockClinic } from '../support/e2e-client';
import { startLocalHost, type LocalHostProcess } from '../support/localhost';

jest.setTimeout(240_000);

const TOKEN = 'e2e-move-crash-token';
const CLINIC = 'mc-clinic';
const TYPE = 'mc-visit';
/** Milliseconds between the YES being acknowledged and the SIGKILL, one round each: dense where the move runs on this machine (within about 25 ms of the YES). */
const KILL_AFTER_MS = [0, 2, 4, 6, 8, 11, 15, 25];

let dataDir: string;
let host: LocalHostProcess;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'slotflow-move-crash-'));
});
afterAll(async () => {
  await host?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const start = async () => (host = await startLocalHost({ dataDir, env: { TWILIO_AUTH_TOKEN: TOKEN } }));
const api = () => apiClient(host.baseUrl);

async function must<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await api()<T>(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
  return r.body;
}

async function booked(patientId: string): Promise<{ appointmentId: string; slotId: string }[]> {
  const now = DateTime.utc();
  const q = new URLSearchParams({ clinicId: CLINIC, patientId, from: now.minus({ days: 1 }).toISO()!, to: now.plus({ days: 30 }).toISO()! });
  const r = await must<{ appointments: { appointmentId: string; slotId: string; status: string }[] }>('GET', `/api/appointments?${q}`);
  return r.appointments.filter((a) => a.status === 'booked');
}

async function freeSlot(providerId: string, fromHours: number): Promise<string> {
  const now = DateTime.utc();
  const q = new URLSearchParams({
    clinicId: CLINIC,
    appointmentType: TYPE,
    providerId,
    from: now.plus({ hours: fromHours }).toISO()!,
    to: now.plus({ hours: fromHours + 4 }).toISO()!,
  });
  return (await must<{ slots: { slotId: string }[] }>('GET', `/api/slots?${q}`)).slots[0]!.slotId;
}

it('a SIGKILL during the move leaves exactly one booked appointment for the patient after the restart', async () => {
  await start();
  await putAroundTheClockClinic(must, { clinicId: CLINIC, name: 'Crash Clinic', type: TYPE, typeName: 'Visit' });
  const outcomes: string[] = [];

  for (const [round, killAfter] of KILL_AFTER_MS.entries()) {
    // Each round its own provider and patients, so no round's entry can take another's slot.
    const provider = `mc-dr-${round}`;
    const a = { patientId: `mc-a-${round}`, phone: `+1555880${String(1000 + round)}` };
    const b = { patientId: `mc-b-${round}`, phone: `+1555881${String(1000 + round)}` };
    await must('PUT', `/api/providers/${provider}`, {
      clinicId: CLINIC,
      name: 'Dr Crash',
      appointmentTypes: [TYPE],
      weeklyHours: ALL_DAY_HOURS,
      slotMinutes: 30,
    });
    for (const p of [a, b]) await must('PUT', `/api/patients/${p.patientId}`, { name: 'Crash Patient', phone: p.phone, smsConsent: true, clinicIds: [CLINIC] });
    const tomorrow = await freeSlot(provider, 24);
    const later = await freeSlot(provider, 240);
    const bAppt = await must<{ appointmentId: string }>('POST', '/api/appointments', { slotId: tomorrow, patientId: b.patientId, appointmentType: TYPE });
    const aAppt = await must<{ appointmentId: string }>('POST', '/api/appointments', { slotId: later, patientId: a.patientId, appointmentType: TYPE });
    await must('POST', '/api/waitlist', { appointmentId: aAppt.appointmentId, providerIds: [provider] });
    await must('POST', `/api/appointments/${bAppt.appointmentId}/cancel`, {});
    await eventually(async () => (await outbox(host.baseUrl, a.phone)).some((m) => /Reply YES/.test(m.body)), 15_000, `offer to A (round ${round})`);

    const yes = await sendInboundSms(host.baseUrl, TOKEN, a.phone, 'YES');
    expect(yes.status).toBe(200);
    if (killAfter > 0) await new Promise((r) => setTimeout(r, killAfter));
    await host.kill();
    await start();

    // From the first read after the restart on: never two, and eventually the one, moved.
    const first = await booked(a.patientId);
    const atRestart = first.length === 1 && first[0]!.slotId === tomorrow ? 'already moved' : first.length === 1 ? 'not moved yet' : `${first.length} booked`;
    let most = first.length;
    const settled = await eventually(
      async () => {
        const mine = await booked(a.patientId);
        most = Math.max(most, mine.length);
        return mine.length === 1 && mine[0]!.slotId === tomorrow ? mine : undefined;
      },
      30_000,
      `A moved after the restart (round ${round}, kill after ${killAfter} ms)`,
    );
    expect(most).toBe(1);
    expect(settled.map((x) => x.appointmentId)).toEqual([aAppt.appointmentId]);
    expect(await booked(b.patientId)).toEqual([]);
    // And it stays one (the resumed workflow, the released slot's backfill, the outbox relay all ran).
    const entry = await eventually(
      async () => {
        const list = await must<{ entries: { waitlistEntryId: string; status: string }[] }>('GET', `/api/waitlist?clinicId=${CLINIC}&limit=100`);
        return list.entries.find((e) => e.waitlistEntryId === `wl-up-${aAppt.appointmentId}` && e.status === 'booked');
      },
      30_000,
      'entry booked',
    );
    expect(entry.status).toBe('booked');
    expect((await booked(a.patientId)).map((x) => [x.appointmentId, x.slotId])).toEqual([[aAppt.appointmentId, tomorrow]]);
    outcomes.push(`kill ${killAfter} ms after the YES: ${atRestart} at the restart, then one appointment, moved`);
  }
  console.log(outcomes.join('\n'));
  expect(outcomes).toHaveLength(KILL_AFTER_MS.length);
});
