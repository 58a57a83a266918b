/**
 * `npm run demo`: drives a full backfill story against a running local host (`npm start`) through
 * its public interface only, and prints a readable timeline:
 *   a patient cancels -> waitlisted patients get SMS offers -> one replies YES (a correctly signed
 *   Twilio webhook call) -> the slot is booked -> the others are told it is gone.
 *
 * BASE_URL (default http://127.0.0.1:7071) and TWILIO_AUTH_TOKEN (default: the local host's dev
 * token) must match the host.
 */
import { createHmac } from 'node:crypto';
import { DateTime } from 'luxon';

const BASE_URL = (process.env.BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? '7071'}`).replace(/\/$/, '');
const TOKEN = process.env.TWILIO_AUTH_TOKEN ?? 'local-dev-twilio-auth-token';
const CLINIC = process.env.DEMO_CLINIC ?? 'riverside';
const principal = Buffer.from(JSON.stringify({ auth_typ: 'aad', userId: 'demo', claims: [{ typ: 'roles', val: 'scheduler' }] })).toString('base64');

const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(2).padStart(6)} s`;
const say = (line: string) => console.log(`${stamp()}  ${line}`);

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { 'x-ms-client-principal': principal, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
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
  const url = `${BASE_URL}/api/sms/inbound`;
  const params = {
    MessageSid: `SM${Date.now().toString(16).padStart(32, '0')}`,
    AccountSid: 'AC00000000000000000000000000000000',
    From: winner.to,
    To: '+15005550006',
    Body: 'YES',
  };
  const reply = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign(url, params) },
    body: new URLSearchParams(params).toString(),
  });
  say(`${winner.to} replies YES (signed webhook) -> ${reply.status} ${(await reply.text()).replace(/\s+/g, ' ')}`);

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
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
