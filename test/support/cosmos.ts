import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import type { SchedulingDeps } from '../../domain';
import { FixedClock, RecordingPublisher } from '../../domain/memory';
import type { AppointmentType, Clinic, Provider } from '../../domain/model';
import type { IdGenerator, PatientRecord } from '../../domain/ports';
import { type CosmosServices, type CosmosServicesOptions, createCosmosServices } from '../../functions/adapters/cosmos';
import { appSettingsSchema, type AppSettings } from '../../functions/app/config';
import { COSMOS_EMULATOR_KEY, startLocalCosmos, type LocalCosmos } from '../../local/host/cosmos';
import { type CountingProxy, startCountingProxy } from './cosmos-proxy';

/** A local Cosmos server (in-process, loopback) with a counting / fault-injecting proxy in front. */
export interface CosmosTestServer {
  server: LocalCosmos;
  proxy: CountingProxy;
  stop(): Promise<void>;
}

export async function startCosmosTestServer(): Promise<CosmosTestServer> {
  const server = await startLocalCosmos();
  const proxy = await startCountingProxy(server.endpoint);
  return {
    server,
    proxy,
    stop: async () => {
      await proxy.close();
      await server.stop();
    },
  };
}

export function cosmosSettings(endpoint: string, database: string): AppSettings {
  return appSettingsSchema.parse({ SLOTFLOW_ENV: 'local', COSMOS_ENDPOINT: endpoint, COSMOS_KEY: COSMOS_EMULATOR_KEY, COSMOS_DATABASE: database });
}

/** Random FHIR-safe ids (concurrent tests must not collide). */
export const testIds: IdGenerator = { newId: (prefix) => `${prefix}-${randomBytes(10).toString('hex')}` };

/** Monday 2 March 2026, 12:00 UTC (07:00 in New York). */
export const T0 = DateTime.fromISO('2026-03-02T12:00:00Z', { zone: 'utc' });

export interface CosmosTestContext {
  services: CosmosServices;
  clock: FixedClock;
  publisher: RecordingPublisher;
  deps: SchedulingDeps;
}

export async function cosmosContext(endpoint: string, database: string, options: CosmosServicesOptions = {}): Promise<CosmosTestContext> {
  const clock = new FixedClock(T0);
  const publisher = new RecordingPublisher();
  const services = await createCosmosServices(cosmosSettings(endpoint, database), publisher, {
    clock,
    ids: testIds,
    lookupKey: 'test-lookup-key-0123456789',
    ...options,
  });
  const deps: SchedulingDeps = {
    clock,
    ids: testIds,
    config: services.config,
    patients: services.patients,
    appointments: services.appointments,
    outbox: services.outbox,
  };
  return { services, clock, publisher, deps };
}

export const clinic: Clinic = {
  clinicId: 'c1',
  name: 'Harbor Family Practice',
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
export const consult: AppointmentType = { code: 'consult', clinicId: 'c1', name: 'Consultation', durationMinutes: 30 };
export const brief: AppointmentType = { code: 'brief', clinicId: 'c1', name: 'Brief visit', durationMinutes: 15 };
const weekdays = (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, start: '09:00', end: '17:00' }));
export const providerA: Provider = {
  providerId: 'dr-a',
  clinicId: 'c1',
  name: 'Dr A',
  appointmentTypes: ['consult', 'brief'],
  weeklyHours: weekdays,
  exceptions: [],
};
export const providerB: Provider = {
  providerId: 'dr-b',
  clinicId: 'c1',
  name: 'Dr B',
  appointmentTypes: ['consult', 'brief'],
  weeklyHours: weekdays,
  exceptions: [],
};

export function patient(n: number): PatientRecord {
  return {
    patientId: `pat-${n}`,
    name: `Ada Testpatient${n}`,
    phone: `+1415555${String(1000 + n).padStart(4, '0')}`,
    smsConsent: true,
    clinicIds: [],
    noShows: [],
    updatedAt: T0.toISO()!,
  };
}

export async function seedClinic(services: CosmosServices, patients = 0): Promise<void> {
  await services.config.putClinic(clinic);
  await services.config.putAppointmentType(consult);
  await services.config.putAppointmentType(brief);
  await services.config.putProvider(providerA);
  await services.config.putProvider(providerB);
  for (let i = 1; i <= patients; i++) await services.patients.put(patient(i));
}

/** Slot id of a provider's slot on a New York wall-clock time, e.g. ("dr-a", "2026-03-03T10:00"). */
export function slotAt(providerId: string, nyLocal: string): string {
  const utc = DateTime.fromISO(nyLocal, { zone: 'America/New_York' }).toUTC();
  return `${providerId}.${utc.toFormat("yyyyMMdd'T'HHmm")}`;
}

let dbCounter = 0;
/** A database name unique to this test file and run. */
export function databaseName(prefix: string): string {
  dbCounter++;
  return `${prefix}-${process.pid}-${dbCounter}`;
}
