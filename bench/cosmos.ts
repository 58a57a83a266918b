import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { bookAppointment, cancelAppointment, type SchedulingDeps, searchFreeSlots } from '../domain';
import { FixedClock, RecordingPublisher } from '../domain/memory';
import type { AppointmentType, Clinic, Provider } from '../domain/model';
import type { IdGenerator } from '../domain/ports';
import { type CosmosServices, createCosmosServices } from '../functions/adapters/cosmos';
import { appSettingsSchema } from '../functions/app/config';
import { COSMOS_EMULATOR_KEY, startLocalCosmos } from '../local/host/cosmos';
import { type OpKind, startCountingProxy } from '../testkit/cosmos-proxy';

/**
 * Cosmos DB cost per use case and booking throughput against the in-process local server.
 * Requests are counted by a proxy in front of the server (document operations only; the SDK's
 * metadata reads of account, collections and partition key ranges are cached after the first use).
 * Run: npm run bench:cosmos  (writes bench/results/cosmos.json)
 */

const T0 = DateTime.fromISO('2026-03-02T12:00:00Z', { zone: 'utc' });
let n = 0;
const ids: IdGenerator = { newId: (prefix) => `${prefix}-${process.pid}-${++n}` };
const clinic: Clinic = {
  clinicId: 'c1',
  name: 'Bench Clinic',
  timeZone: 'America/New_York',
  bookingPolicy: { minNoticeMinutes: 60, maxHorizonDays: 90, cancellationWindowHours: 24, noShowWindowDays: 180, noShowThreshold: 2 },
  offerPolicy: {
    batchSize: 3,
    maxRounds: 5,
    expiryFraction: 0.1,
    minExpiryMinutes: 10,
    maxExpiryMinutes: 120,
    minLeadMinutes: 60,
    quietStart: '21:00',
    quietEnd: '08:00',
  },
  reminderHoursBefore: [48, 2],
  eligibilityLeadHours: 72,
};
const types: AppointmentType[] = [
  { code: 'consult', clinicId: 'c1', name: 'Consultation', durationMinutes: 30 },
  { code: 'brief', clinicId: 'c1', name: 'Brief', durationMinutes: 15 },
];
const weekly = (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, start: '09:00', end: '17:00' }));
const providers: Provider[] = Array.from({ length: 8 }, (_, i) => ({
  providerId: `dr-${i}`,
  clinicId: 'c1',
  name: `Dr ${i}`,
  appointmentTypes: ['consult', 'brief'],
  weeklyHours: weekly,
  exceptions: [],
}));
const staff = { kind: 'staff' as const, principalId: 'bench' };

/** Every bookable (provider, slot) on weekdays from 3 March, 16 per provider and day. */
function slotIds(count: number): string[] {
  const out: string[] = [];
  for (let day = DateTime.fromISO('2026-03-03', { zone: 'America/New_York' }); out.length < count; day = day.plus({ days: 1 })) {
    if (day.weekday > 5) continue;
    for (let s = 0; s < 16 && out.length < count; s++) {
      const start = day
        .set({ hour: 9 })
        .plus({ minutes: 30 * s })
        .toUTC();
      for (const p of providers) if (out.length < count) out.push(`${p.providerId}.${start.toFormat("yyyyMMdd'T'HHmm")}`);
    }
  }
  return out;
}

interface Measured {
  name: string;
  samples: number;
  perOp: Record<string, number>;
}

async function main(): Promise<void> {
  const server = await startLocalCosmos();
  const proxy = await startCountingProxy(server.endpoint);
  const settings = appSettingsSchema.parse({
    SLOTFLOW_ENV: 'local',
    COSMOS_ENDPOINT: proxy.endpoint,
    COSMOS_KEY: COSMOS_EMULATOR_KEY,
    COSMOS_DATABASE: 'bench',
  });
  const clock = new FixedClock(T0);
  const instance = async () => {
    const services = await createCosmosServices(settings, new RecordingPublisher(), { clock, ids, lookupKey: 'bench-lookup-key-0123456789' });
    const deps: SchedulingDeps = {
      clock,
      ids,
      config: services.config,
      patients: services.patients,
      appointments: services.appointments,
      outbox: services.outbox,
    };
    return { services, deps };
  };
  const main = await instance();
  await seed(main.services, 1200);

  const slots = slotIds(1400);
  let nextSlot = 0;
  let nextPatient = 1;
  const results: Measured[] = [];
  const measure = async (name: string, samples: number, op: (i: number) => Promise<void>) => {
    const totals: Record<string, number> = {};
    for (let i = 0; i < samples; i++) {
      proxy.reset();
      await op(i);
      const c = proxy.counts();
      for (const [k, v] of Object.entries(c)) if (k !== 'injected' && v) totals[k] = (totals[k] ?? 0) + v;
    }
    const perOp = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v / samples]));
    results.push({ name, samples, perOp });
  };
  const book = (deps: SchedulingDeps) =>
    bookAppointment(deps, { slotId: slots[nextSlot++]!, patientId: `pat-${nextPatient++}`, appointmentType: 'consult', channel: 'api', actor: staff });

  // Warm the SDK's metadata caches and the config cache (every provider once).
  for (let i = 0; i < providers.length; i++) await book(main.deps);

  await measure('booking (warm instance, config cached)', 20, async () => {
    await book(main.deps);
  });
  const cold = await instance();
  await measure('booking (cold instance: config not cached yet)', 1, async () => {
    await book(cold.deps);
  });
  const toCancel: string[] = [];
  for (let i = 0; i < 20; i++) toCancel.push((await book(main.deps)).appointmentId);
  await measure('cancellation (same instance that booked)', 10, async (i) => {
    await cancelAppointment(main.deps, { appointmentId: toCancel[i]!, actor: staff, reasonCode: 'bench' });
  });
  const other = await instance();
  await other.services.config.listClinics();
  await measure('cancellation (another instance: id not cached)', 10, async (i) => {
    await cancelAppointment(other.deps, { appointmentId: toCancel[10 + i]!, actor: staff, reasonCode: 'bench' });
  });
  await measure('slot search, one day, all providers', 10, async () => {
    await searchFreeSlots(main.deps, { clinicId: 'c1', appointmentType: 'consult', from: '2026-03-03T00:00:00-05:00', to: '2026-03-04T00:00:00-05:00' });
  });
  await measure('slot search, one week, one provider', 10, async () => {
    await searchFreeSlots(main.deps, {
      clinicId: 'c1',
      appointmentType: 'consult',
      from: '2026-03-03T00:00:00-05:00',
      to: '2026-03-10T00:00:00-05:00',
      providerId: 'dr-1',
    });
  });
  const contended = slots[nextSlot++]!;
  await measure('50 concurrent bookings of one slot (all 50 requests)', 1, async () => {
    await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        bookAppointment(main.deps, { slotId: contended, patientId: `pat-${nextPatient++}`, appointmentType: 'consult', channel: 'api', actor: staff }),
      ),
    );
  });

  // Throughput: distinct slots and patients, N requests in flight, one service instance talking to
  // the server directly (no counting proxy in between).
  const direct = await createCosmosServices({ ...settings, COSMOS_ENDPOINT: server.endpoint }, new RecordingPublisher(), {
    clock,
    ids,
    lookupKey: 'bench-lookup-key-0123456789',
  });
  const directDeps: SchedulingDeps = { clock, ids, config: direct.config, patients: direct.patients, appointments: direct.appointments, outbox: direct.outbox };
  for (let i = 0; i < providers.length; i++) await book(directDeps);
  const throughput: { concurrency: number; bookings: number; seconds: number; perSecond: number; p50ms: number; p99ms: number }[] = [];
  for (const concurrency of [1, 8, 32]) {
    const total = concurrency === 1 ? 100 : 300;
    const latencies: number[] = [];
    let issued = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (issued < total) {
          issued++;
          const t = performance.now();
          await book(directDeps);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 10) / 10;
    throughput.push({
      concurrency,
      bookings: total,
      seconds: Math.round(seconds * 100) / 100,
      perSecond: Math.round(total / seconds),
      p50ms: q(0.5),
      p99ms: q(0.99),
    });
  }

  const kinds: OpKind[] = ['read', 'create', 'upsert', 'replace', 'patch', 'delete', 'query', 'batch'];
  console.log('\nCosmos DB requests per operation (document operations; mean over samples)\n');
  console.log(`| operation | total | ${kinds.join(' | ')} |`);
  console.log(`|---|---:|${kinds.map(() => '---:').join('|')}|`);
  for (const r of results) console.log(`| ${r.name} | ${fmt(r.perOp.total)} | ${kinds.map((k) => fmt(r.perOp[k])).join(' | ')} |`);
  console.log('\nBooking throughput (local server, in-process, one service instance)\n');
  console.log('| in flight | bookings | seconds | bookings/s | p50 ms | p99 ms |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const t of throughput) console.log(`| ${t.concurrency} | ${t.bookings} | ${t.seconds} | ${t.perSecond} | ${t.p50ms} | ${t.p99ms} |`);

  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cosmos.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, requests: results, throughput }, null, 2));
  await proxy.close();
  await server.stop();
}

function fmt(v: number | undefined): string {
  return v ? String(Math.round(v * 100) / 100) : '0';
}

async function seed(services: CosmosServices, patients: number): Promise<void> {
  await services.config.putClinic(clinic);
  for (const t of types) await services.config.putAppointmentType(t);
  for (const p of providers) await services.config.putProvider(p);
  for (let i = 1; i <= patients; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, patients - i + 1) }, (_, j) =>
        services.patients.put({
          patientId: `pat-${i + j}`,
          name: `Bench Patient ${i + j}`,
          phone: `+1415${String(2000000 + i + j)}`,
          smsConsent: true,
          clinicIds: [],
          noShows: [],
          updatedAt: T0.toISO()!,
        }),
      ),
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
