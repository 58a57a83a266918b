/**
 * `npm run demo`: drives a full backfill story against a running local host (`npm start`) through
 * its public interface only, and prints a readable timeline:
 *   a patient cancels -> waitlisted patients get SMS offers -> one replies YES (a correctly signed
 *   Twilio webhook call) -> the slot is booked -> the others are told it is gone.
 * Then a move-up cascade on a clinic of its own (`demo-cascade`, set up through the admin API):
 *   A holds a visit in 10 days and asks to move earlier; B cancels tomorrow's visit; A is offered it,
 *   says YES and is moved (same appointment); A's old slot is released and offered to C, who takes it.
 *
 * BASE_URL (default http://127.0.0.1:7071) and TWILIO_AUTH_TOKEN (default: the local host's dev
 * token) must match the host.
 */
import { createHmac } from 'node:crypto';
import { DateTime } from 'luxon';

const BASE_URL = (process.env.BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? '7071'}`).replace(/\/$/, '');
const TOKEN = process.env.TWILIO_AUTH_TOKEN ?? 'local-dev-twilio-auth-token';
const CLINIC = process.env.DEMO_CLINIC ?? 'riverside';
const principalFor = (roles: string[]) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', userId: 'demo', claims: roles.map((val) => ({ typ: 'roles', val })) })).toString('base64');
const principal = principalFor(['scheduler']);
/** The cascade part sets up its own clinic (PUTs need the admin role). */
const adminPrincipal = principalFor(['admin', 'scheduler']);

const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(2).padStart(6)} s`;
const say = (line: string) => console.log(`${stamp()}  ${line}`);

async function api<T>(method: string, path: string, body?: unknown, as = principal): Promise<{ status: number; body: T }> {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { 'x-ms-client-principal': as, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

interface Message {
  to: string;
  body: string;
  sentAt: string;
}
const outbox = async () => (await (await fetch(`${BASE_URL}/api/dev/sms/outbox`)).json()) as { messages: Message[] };

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Twilio's signature: base64 HMAC-SHA1 of the URL followed by the sorted POST parameters. */
function sign(url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', TOKEN).update(data).digest('base64');
}

let sidCounter = 0;
/** The patient's YES as Twilio would send it: a correctly signed webhook call. */
async function replyYes(from: string): Promise<void> {
  const url = `${BASE_URL}/api/sms/inbound`;
  const params = {
    MessageSid: `SM${(Date.now().toString(16) + String(++sidCounter).padStart(4, '0')).padStart(32, '0')}`,
    AccountSid: 'AC00000000000000000000000000000000',
    From: from,
    To: '+15005550006',
    Body: 'YES',
  };
  const reply = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign(url, params) },
    body: new URLSearchParams(params).toString(),
  });
  say(`${from} replies YES (signed webhook) -> ${reply.status} ${(await reply.text()).replace(/\s+/g, ' ')}`);
}

async function main(): Promise<void> {
  const health = await fetch(`${BASE_URL}/api/health`).catch(() => undefined);
  if (health?.status !== 200) throw new Error(`no healthy local host at ${BASE_URL}: run \`npm start\` first`);
  say(`local host healthy at ${BASE_URL}`);

  const now = DateTime.utc();
  const q = new URLSearchParams({ clinicId: CLINIC, status: 'booked', from: now.plus({ minutes: 90 }).toISO()!, to: now.plus({ days: 14 }).toISO()! });
  const list = await api<{ appointments: { appointmentId: string; patientId: string; providerId: string; start: string; slotId: string }[] }>(
    'GET',
    `/api/appointments?${q}`,
  );
  const victim = list.body.appointments?.[0];
  if (!victim) throw new Error('no booked appointment to cancel: start the host with the demo seed (npm start, without --no-seed)');
  say(`appointment ${victim.appointmentId}: ${victim.providerId}, ${victim.start} (patient ${victim.patientId})`);

  const before = new Date().toISOString();
  const cancelled = await api<{ status: string }>('POST', `/api/appointments/${victim.appointmentId}/cancel`, { reason: 'patient-request' });
  say(`front desk cancels it -> ${cancelled.status} ${cancelled.body.status}`);

  const offers = await until('SMS offers', async () => {
    const m = (await outbox()).messages.filter((x) => x.sentAt >= before && /YES/.test(x.body));
    return m.length > 0 ? m : undefined;
  });
  await new Promise((r) => setTimeout(r, 300));
  const allOffers = (await outbox()).messages.filter((x) => x.sentAt >= before && /YES/.test(x.body));
  for (const o of allOffers) say(`SMS to ${o.to}: "${o.body}"`);

  const winner = offers[0]!;
  await replyYes(winner.to);

  const booked = await until('the booking', async () => {
    const r = await api<{ appointments: { appointmentId: string; patientId: string; slotId: string; status: string }[] }>(
      'GET',
      `/api/appointments?${new URLSearchParams({ clinicId: CLINIC, providerId: victim.providerId, from: DateTime.fromISO(victim.start).minus({ minutes: 1 }).toISO()!, to: DateTime.fromISO(victim.start).plus({ minutes: 1 }).toISO()! })}`,
    );
    return r.body.appointments?.find((a) => a.slotId === victim.slotId && a.status === 'booked');
  });
  say(`slot ${victim.slotId} booked for ${booked.patientId} (${booked.appointmentId})`);

  const losers = allOffers.filter((o) => o.to !== winner.to).map((o) => o.to);
  if (losers.length) {
    const gone = await until('slot-gone messages', async () => {
      const m = (await outbox()).messages.filter((x) => x.sentAt >= before && losers.includes(x.to) && !/YES/.test(x.body));
      return m.length >= losers.length ? m : undefined;
    });
    for (const g of gone) say(`SMS to ${g.to}: "${g.body}"`);
  }
  const confirmation = (await outbox()).messages.filter((x) => x.sentAt >= before && x.to === winner.to && !/YES to take/.test(x.body)).at(-1);
  if (confirmation) say(`SMS to ${winner.to}: "${confirmation.body}"`);
  say('done: the freed slot was refilled from the waitlist');
  console.log('');
  await cascade();
}

const CASCADE_CLINIC = 'demo-cascade';
const CASCADE_TYPE = 'demo-cascade-visit';
const CASCADE_PROVIDER = 'demo-cascade-dr';

/** A move-up cascade: B's cancellation moves A earlier, and A's old slot goes to C. */
async function cascade(): Promise<void> {
  say('move-up cascade, on clinic demo-cascade:');
  const admin = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => {
    const r = await api<T>(method, path, body, adminPrincipal);
    if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await admin('PUT', `/api/clinics/${CASCADE_CLINIC}`, {
    name: 'Cascade Clinic',
    timeZone: 'UTC',
    offerPolicy: { batchSize: 1, maxRounds: 3, minExpiryMinutes: 30, maxExpiryMinutes: 30, minLeadMinutes: 5, quietStart: '00:00', quietEnd: '00:00' },
  });
  await admin('PUT', `/api/appointment-types/${CASCADE_TYPE}`, { clinicId: CASCADE_CLINIC, name: 'Visit', durationMinutes: 30 });
  const allDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  await admin('PUT', `/api/providers/${CASCADE_PROVIDER}`, {
    clinicId: CASCADE_CLINIC,
    name: 'Dr Cascade',
    appointmentTypes: [CASCADE_TYPE],
    weeklyHours: allDay,
  });
  // Fresh patients each run (ids and phones), so the demo can be run again on the same host.
  const run = Date.now().toString(36);
  const digits = String(Date.now() % 10_000).padStart(4, '0');
  const people = {
    A: { id: `cascade-a-${run}`, phone: `+1555020${digits}` },
    B: { id: `cascade-b-${run}`, phone: `+1555021${digits}` },
    C: { id: `cascade-c-${run}`, phone: `+1555022${digits}` },
  };
  for (const [who, p] of Object.entries(people))
    await admin('PUT', `/api/patients/${p.id}`, { name: `Demo ${who}`, phone: p.phone, smsConsent: true, clinicIds: [CASCADE_CLINIC] });
  const firstFree = async (fromHours: number) => {
    const now = DateTime.utc();
    const q = new URLSearchParams({
      clinicId: CASCADE_CLINIC,
      appointmentType: CASCADE_TYPE,
      from: now.plus({ hours: fromHours }).toISO()!,
      to: now.plus({ hours: fromHours + 6 }).toISO()!,
    });
    return (await admin<{ slots: { slotId: string; start: string }[] }>('GET', `/api/slots?${q}`)).slots[0]!;
  };
  const tomorrow = await firstFree(24);
  const inTenDays = await firstFree(240);
  const book = (slotId: string, patientId: string) =>
    admin<{ appointmentId: string; start: string }>('POST', '/api/appointments', { slotId, patientId, appointmentType: CASCADE_TYPE });
  const b = await book(tomorrow.slotId, people.B.id);
  const a = await book(inTenDays.slotId, people.A.id);
  say(`A (${people.A.id}) is booked ${a.start}; B (${people.B.id}) is booked ${b.start}`);
  const entry = await admin<{ waitlistEntryId: string }>('POST', '/api/waitlist', { appointmentId: a.appointmentId });
  say(`A asks to move earlier: waitlist entry ${entry.waitlistEntryId} names appointment ${a.appointmentId}`);
  await admin('POST', '/api/waitlist', {
    patientId: people.C.id,
    clinicId: CASCADE_CLINIC,
    appointmentType: CASCADE_TYPE,
    earliest: DateTime.utc().plus({ days: 5 }).toISO(),
  });
  say(`C (${people.C.id}) has no appointment and waits for anything from day 5 on`);

  const since = new Date().toISOString();
  await admin('POST', `/api/appointments/${b.appointmentId}/cancel`, { reason: 'patient-request' });
  say(`B cancels tomorrow's visit (slot ${tomorrow.slotId})`);
  const textTo = (phone: string, match: RegExp) =>
    until(`SMS to ${phone}`, async () => (await outbox()).messages.find((m) => m.to === phone && m.sentAt >= since && match.test(m.body)));
  say(`SMS to A: "${(await textTo(people.A.phone, /Reply YES/)).body}"`);
  await replyYes(people.A.phone);
  const moved = await until('the move', async () => {
    const r = await admin<{ slotId: string; start: string; status: string }>('GET', `/api/appointments/${a.appointmentId}`);
    return r.slotId === tomorrow.slotId ? r : undefined;
  });
  say(`A's appointment ${a.appointmentId} moved to ${moved.start} (${moved.status}); its old slot ${inTenDays.slotId} is released`);
  say(`SMS to A: "${(await textTo(people.A.phone, /moved to/)).body}"`);
  say(`SMS to C: "${(await textTo(people.C.phone, /Reply YES/)).body}"`);
  await replyYes(people.C.phone);
  const taken = await until('C booked', async () => {
    const q = new URLSearchParams({
      clinicId: CASCADE_CLINIC,
      patientId: people.C.id,
      status: 'booked',
      from: DateTime.utc().toISO()!,
      to: DateTime.utc().plus({ days: 30 }).toISO()!,
    });
    return (await admin<{ appointments: { appointmentId: string; slotId: string; start: string }[] }>('GET', `/api/appointments?${q}`)).appointments[0];
  });
  say(`C booked ${taken.start} (${taken.appointmentId}), the slot A gave up`);
  const chain = await until('the cascade', async () => {
    const s = await admin<{ cascade?: { instanceId: string; depth: number; outcome?: string }[] }>(
      'GET',
      `/api/workflows/${encodeURIComponent(`backfill-${tomorrow.slotId}`)}`,
    );
    return s.cascade && s.cascade.length >= 2 && s.cascade.every((l) => l.outcome) ? s.cascade : undefined;
  });
  for (const link of chain) say(`cascade link ${link.depth + 1}: ${link.instanceId} -> ${link.outcome}`);
  say('done: one cancellation moved A earlier and filled the slot A gave up');
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
