/**
 * Workflow benchmark (`npm run bench:workflows`; not run by `npm test`): starts the built local
 * host (real app, no seed), then for N = 1, 10, 50 and 100 concurrent cancellations measures
 *   - time from each cancellation request to its first SMS offer in the outbox (p50, p99, max),
 *   - time until every slot has offers out, and until every slot is re-booked after signed YES
 *     replies (how many concurrent backfill orchestrations the host sustains).
 * Prints a table and writes bench/results/workflows.json.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DateTime } from 'luxon';

const ROOT = resolve(__dirname, '..', '..');
const START = join(ROOT, 'dist', 'local', 'start.js');
const TOKEN = 'bench-twilio-token';
const CLINIC = 'bench';
const principal = Buffer.from(
  JSON.stringify({ auth_typ: 'aad', userId: 'bench', claims: ['admin', 'scheduler'].map((val) => ({ typ: 'roles', val })) }),
).toString('base64');

async function startHost(): Promise<{ baseUrl: string; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slotflow-bench-wf-'));
  const child = spawn(process.execPath, [START, '--no-seed'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, TWILIO_AUTH_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const t0 = Date.now();
  for (;;) {
    const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
    if (
      url &&
      (await fetch(`${url}/api/health`).then(
        (r) => r.status === 200,
        () => false,
      ))
    ) {
      return {
        baseUrl: url,
        stop: async () => {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    }
    if (child.exitCode !== null || Date.now() - t0 > 120_000) throw new Error(`host did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function client(baseUrl: string) {
  return async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'x-ms-client-principal': principal, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

interface Row {
  concurrent: number;
  firstOfferP50Ms: number;
  firstOfferP99Ms: number;
  firstOfferMaxMs: number;
  allOffersOutMs: number;
  allRebookedMs: number;
}

async function run(baseUrl: string, n: number, round: number): Promise<Row> {
  const api = client(baseUrl);
  const allDay = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));
  const providers = Array.from({ length: n }, (_, i) => `b${round}-dr-${i}`);
  const cases: { providerId: string; appointmentId: string; slotId: string; phones: string[] }[] = [];
  for (const [i, providerId] of providers.entries()) {
    await api('PUT', `/api/providers/${providerId}`, { clinicId: CLINIC, name: providerId, appointmentTypes: ['visit'], weeklyHours: allDay, slotMinutes: 30 });
    const ids = [0, 1, 2].map((k) => `b${round}-p${i}-${k}`);
    const phones = ids.map((_, k) => `+1555${String(round).padStart(2, '0')}${String(i).padStart(3, '0')}${k}0`);
    for (const [k, patientId] of ids.entries()) await api('PUT', `/api/patients/${patientId}`, { name: 'Bench Patient', phone: phones[k], smsConsent: true });
    const now = DateTime.utc();
    const q = new URLSearchParams({
      clinicId: CLINIC,
      appointmentType: 'visit',
      providerId,
      from: now.plus({ hours: 6 }).toISO()!,
      to: now.plus({ hours: 12 }).toISO()!,
    });
    const slot = ((await api('GET', `/api/slots?${q}`)).slots as { slotId: string }[])[0]!;
    const booked = await api('POST', '/api/appointments', { slotId: slot.slotId, patientId: ids[0], appointmentType: 'visit' });
    for (const patientId of ids.slice(1))
      await api('POST', '/api/waitlist', { patientId, clinicId: CLINIC, appointmentType: 'visit', providerIds: [providerId] });
    cases.push({ providerId, appointmentId: String(booked.appointmentId), slotId: slot.slotId, phones: phones.slice(1) });
  }
  const firstOffer = new Map<string, number>();
  const cancelAt = new Map<string, number>();
  const t0 = Date.now();
  await Promise.all(
    cases.map(async (c) => {
      cancelAt.set(c.slotId, Date.now());
      await api('POST', `/api/appointments/${c.appointmentId}/cancel`, {});
    }),
  );
  const byPhone = new Map(cases.flatMap((c) => c.phones.map((p) => [p, c.slotId] as const)));
  while (firstOffer.size < n) {
    const { messages } = (await (await fetch(`${baseUrl}/api/dev/sms/outbox`)).json()) as { messages: { to: string; body: string; sentAt: string }[] };
    for (const m of messages) {
      const slotId = byPhone.get(m.to);
      if (slotId && /YES/.test(m.body) && !firstOffer.has(slotId)) firstOffer.set(slotId, Date.parse(m.sentAt) - cancelAt.get(slotId)!);
    }
    if (Date.now() - t0 > 120_000) throw new Error(`only ${firstOffer.size}/${n} backfills sent offers in 120 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const allOffersOutMs = Date.now() - t0;
  // Everyone's first waitlisted patient says YES, correctly signed.
  await Promise.all(
    cases.map(async (c, i) => {
      const url = `${baseUrl}/api/sms/inbound`;
      const params: Record<string, string> = {
        MessageSid: `SM${String(round).padStart(4, '0')}${String(i).padStart(28, '0')}`,
        From: c.phones[0]!,
        To: '+15005550006',
        Body: 'YES',
      };
      const data = Object.keys(params)
        .sort()
        .reduce((acc, k) => acc + k + params[k], url);
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': createHmac('sha1', TOKEN).update(data).digest('base64') },
        body: new URLSearchParams(params).toString(),
      });
    }),
  );
  const pendingSlots = new Set(cases.map((c) => c.slotId));
  while (pendingSlots.size > 0) {
    for (const c of cases.filter((x) => pendingSlots.has(x.slotId))) {
      const now = DateTime.utc();
      const q = new URLSearchParams({ clinicId: CLINIC, providerId: c.providerId, status: 'booked', from: now.toISO()!, to: now.plus({ days: 1 }).toISO()! });
      const list = (await api('GET', `/api/appointments?${q}`)).appointments as { slotId: string }[];
      if (list.some((a) => a.slotId === c.slotId)) pendingSlots.delete(c.slotId);
    }
    if (Date.now() - t0 > 180_000) throw new Error(`${pendingSlots.size}/${n} slots not re-booked in 180 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const latencies = [...firstOffer.values()];
  return {
    concurrent: n,
    firstOfferP50Ms: percentile(latencies, 50),
    firstOfferP99Ms: percentile(latencies, 99),
    firstOfferMaxMs: Math.max(...latencies),
    allOffersOutMs,
    allRebookedMs: Date.now() - t0,
  };
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '1,10,50,100').split(',').map(Number);
  const host = await startHost();
  const rows: Row[] = [];
  try {
    const api = client(host.baseUrl);
    await api('PUT', `/api/clinics/${CLINIC}`, {
      name: 'Bench',
      timeZone: 'UTC',
      offerPolicy: { batchSize: 2, minLeadMinutes: 5, quietStart: '00:00', quietEnd: '00:00' },
    });
    await api('PUT', '/api/appointment-types/visit', { clinicId: CLINIC, name: 'Visit', durationMinutes: 30 });
    for (const [round, n] of sizes.entries()) rows.push(await run(host.baseUrl, n, round));
  } finally {
    await host.stop();
  }
  console.table(rows);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench', 'results', 'workflows.json'),
    JSON.stringify({ machine: { cpus: (await import('node:os')).cpus().length, node: process.version, at: new Date().toISOString() }, rows }, null, 2),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
