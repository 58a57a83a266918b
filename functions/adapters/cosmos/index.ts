import { randomBytes } from 'node:crypto';
import type { CosmosClient, Database } from '@azure/cosmos';
import { DateTime } from 'luxon';
import type {
  AuditLog,
  Clock,
  ConfigRepository,
  EventPublisher,
  IdempotencyStore,
  IdGenerator,
  OfferRepository,
  PatientRepository,
  WaitlistRepository,
} from '../../../domain/ports';
import { type AppSettings, ConfigError } from '../../app/config';
import { CosmosAppointmentRepository } from './appointment-repository';
import { CosmosAuditLog } from './audit-log';
import { createCosmosClient, ensureSchema } from './client';
import { CosmosConfigRepository } from './config-repository';
import { PatientErasure } from './erasure';
import { CosmosIdempotencyStore } from './idempotency-store';
import { CONTAINERS, KeyedHasher } from './keys';
import { CosmosOutbox, PendingEventIndex } from './outbox';
import { PatientLedger } from './patient-ledger';
import { CosmosPatientRepository } from './patient-repository';
import { CosmosRiskModelRepository } from './risk-model-repository';
import { CosmosSmsLog } from './sms-log';
import { CosmosSmsMessages } from './sms-messages';
import { DEFAULT_RETRY, type RetryPolicy, Store } from './store';
import { CosmosOfferRepository, CosmosWaitlistRepository } from './waitlist-repository';

export { createCosmosClient, ensureSchema } from './client';
export { CONTAINERS, ERASED_PATIENT_ID } from './keys';
export type { ErasureContext, ErasureReport } from './erasure';
export type { SmsMessageRecord } from './sms-log';
export { CosmosOutbox } from './outbox';

export interface CosmosServicesOptions {
  /** Time source for stored timestamps, TTL checks and staleness rules (tests pass a fixed clock). */
  clock?: Clock;
  /** Ids for events the adapter makes itself (the erasure tombstone). */
  ids?: IdGenerator;
  /**
   * Secret for keyed hashes (phone lookups, audit and tombstone refs). Defaults to LINK_SIGNING_KEY
   * (domain-separated with HKDF); locally a fixed development key if neither is set.
   */
  lookupKey?: string;
  /** A client to use instead of building one from settings (tests, the counting proxy). */
  client?: CosmosClient;
  /** Configuration cache lifetime (default 30 s). */
  configCacheTtlMs?: number;
  /** Adapter-level retry of 503/timeouts (on top of the SDK's 429 retries). */
  retry?: RetryPolicy;
}

/** What the adapter provides: the domain ports plus erasure, SMS history and the outbox relay. */
export interface CosmosServices {
  config: ConfigRepository & { invalidate(): void };
  patients: PatientRepository;
  appointments: CosmosAppointmentRepository;
  waitlist: WaitlistRepository;
  offers: OfferRepository;
  idempotency: IdempotencyStore;
  audit: AuditLog & Pick<CosmosAuditLog, 'listForPatient' | 'patientRef'>;
  outbox: CosmosOutbox;
  /** GDPR erasure: `erasePatient(patientId, {principalId, correlationId})`, and `erasedAt(patientId)`. */
  erasure: PatientErasure;
  smsLog: CosmosSmsLog;
  /** SMS message records and delivery status (the SMS module's SmsMessageRepository port). */
  smsMessages: CosmosSmsMessages;
  /** No-show model versions per clinic (domain/risk). */
  riskModels: CosmosRiskModelRepository;
  /** For a timer: publishes events a crash or broker outage left pending. Returns how many. */
  relayPending(opts?: { minAgeMs?: number }): Promise<number>;
  client: CosmosClient;
  database: Database;
}

const systemClock: Clock = { now: () => DateTime.utc() };
const LOCAL_DEV_LOOKUP_KEY = 'slotflow-local-development-lookup-key';
const eventIds: IdGenerator = { newId: (prefix) => `${prefix}-${randomBytes(12).toString('hex')}` };

function lookupKeyOf(settings: AppSettings, explicit?: string): string {
  if (explicit) return explicit;
  if (settings.LINK_SIGNING_KEY) return settings.LINK_SIGNING_KEY;
  if (settings.SLOTFLOW_ENV === 'azure') throw new ConfigError(['LINK_SIGNING_KEY']);
  return LOCAL_DEV_LOOKUP_KEY;
}

/**
 * Builds every Cosmos-backed repository over one client. Locally it creates the database and
 * containers first (ensureSchema); in Azure bicep has created them.
 */
export async function createCosmosServices(settings: AppSettings, publisher: EventPublisher, options: CosmosServicesOptions = {}): Promise<CosmosServices> {
  const clock = options.clock ?? systemClock;
  const client = options.client ?? createCosmosClient(settings);
  const database = await ensureSchema(client, settings);
  const retry = options.retry ?? DEFAULT_RETRY;
  const store = (name: string) => new Store(database.container(name), retry);
  const stores = {
    config: store(CONTAINERS.config),
    schedule: store(CONTAINERS.schedule),
    patients: store(CONTAINERS.patients),
    waitlist: store(CONTAINERS.waitlist),
    idempotency: store(CONTAINERS.idempotency),
    audit: store(CONTAINERS.audit),
  };
  const hasher = new KeyedHasher(lookupKeyOf(settings, options.lookupKey));
  const pending = new PendingEventIndex();
  const ledger = new PatientLedger(stores.patients, clock);
  const appointments = new CosmosAppointmentRepository(stores.schedule, ledger, pending, clock);
  const outbox = new CosmosOutbox(publisher, pending, [stores.schedule, stores.patients], clock, (s, doc, etag) => {
    if (s === stores.schedule && doc.type === 'appointment') appointments.noteWritten(doc as Parameters<typeof appointments.noteWritten>[0], etag);
  });
  const audit = new CosmosAuditLog(stores.audit, hasher);
  const erasure = new PatientErasure(stores, hasher, audit, publisher, outbox, pending, clock, options.ids ?? eventIds);
  return {
    config: new CosmosConfigRepository(stores.config, options.configCacheTtlMs),
    patients: new CosmosPatientRepository(stores.patients, hasher),
    appointments,
    waitlist: new CosmosWaitlistRepository(stores.waitlist),
    offers: new CosmosOfferRepository(stores.patients),
    idempotency: new CosmosIdempotencyStore(stores.idempotency, clock),
    audit,
    outbox,
    erasure,
    smsLog: new CosmosSmsLog(stores.patients),
    smsMessages: new CosmosSmsMessages(stores.patients, stores.idempotency),
    riskModels: new CosmosRiskModelRepository(stores.config),
    relayPending: (opts) => outbox.relayPending(opts),
    client,
    database,
  };
}
