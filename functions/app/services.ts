import { DateTime } from 'luxon';
import { randomBytes } from 'node:crypto';
import type {
  AuditLog,
  Clock,
  EligibilityChecker,
  EventPublisher,
  IdempotencyStore,
  IdGenerator,
  OfferRepository,
  SchedulingDeps,
  SmsSender,
  WaitlistRepository,
} from '../../domain';
import { InMemorySmsMessages, type SmsMessageRepository } from '../../domain/sms';
import {
  DirectOutbox,
  InMemoryAppointments,
  InMemoryAudit,
  InMemoryConfig,
  InMemoryIdempotency,
  InMemoryOffers,
  InMemoryPatients,
  InMemoryWaitlist,
  RecordingPublisher,
  RecordingSms,
} from '../../domain/memory';
import { createCosmosServices, type CosmosServices } from '../adapters/cosmos';
import { FhirEligibilityChecker } from '../adapters/fhir/eligibility';
import { SimulatedEligibilityChecker } from '../adapters/fhir/eligibility-simulated';
import { ServiceBusEventPublisher } from '../adapters/servicebus/publisher';
import { smsOutbox } from '../adapters/twilio/outbox';
import { TwilioSmsSender } from '../adapters/twilio/sender';
import { InMemoryRiskModels, type RiskModelRepository } from '../../domain/risk';
import { type AppSettings, ConfigError, settings as loadSettings, publicUrl } from './config';

/** Everything the functions and activities use, built once per process from app settings. */
export interface Services extends SchedulingDeps {
  settings: AppSettings;
  waitlist: WaitlistRepository;
  offers: OfferRepository;
  idempotency: IdempotencyStore;
  audit: AuditLog;
  sms: SmsSender;
  eligibility: EligibilityChecker;
  publisher: EventPublisher;
  /** SMS message records (status callbacks, rate limit, late replies): Cosmos, or in memory per services instance. */
  smsMessages: SmsMessageRepository;
  /** Cosmos-only capabilities: erasure, SMS history, the outbox relay. Absent in memory. */
  cosmos?: CosmosServices;
  /** No-show models per clinic (domain/risk). */
  riskModels: RiskModelRepository;
}

export const systemClock: Clock = { now: () => DateTime.utc() };

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Random, FHIR-safe ids: prefix + '-' + 20 base-36 characters (~103 bits). */
export const randomIds: IdGenerator = {
  newId(prefix: string) {
    const bytes = randomBytes(20);
    let out = '';
    for (const b of bytes) out += ID_ALPHABET[b % 36];
    return `${prefix}-${out}`;
  },
};

/** In-memory services (unit tests of functions, and a fallback when no Cosmos endpoint is set). */
export function createInMemoryServices(settings: AppSettings, overrides: Partial<Services> = {}): Services {
  const publisher = overrides.publisher ?? new RecordingPublisher();
  return {
    settings,
    clock: systemClock,
    ids: randomIds,
    config: new InMemoryConfig(),
    patients: new InMemoryPatients(),
    appointments: new InMemoryAppointments(),
    outbox: new DirectOutbox(publisher),
    waitlist: new InMemoryWaitlist(),
    offers: new InMemoryOffers(),
    idempotency: new InMemoryIdempotency(),
    audit: new InMemoryAudit(),
    sms: new RecordingSms(),
    smsMessages: new InMemorySmsMessages(),
    eligibility: { check: async () => ({ status: 'active' }) },
    publisher,
    riskModels: new InMemoryRiskModels(),
    ...overrides,
  };
}

let current: Promise<Services> | undefined;

/** The process-wide services; the first call builds them (and creates Cosmos containers locally). */
export function getServices(): Promise<Services> {
  if (!current) {
    const building = buildServices(loadSettings());
    current = building;
    // A failed start (Cosmos unreachable at cold start) must not stick: the next call builds again.
    building.catch(() => {
      if (current === building) current = undefined;
    });
  }
  return current;
}

/** Tests: replace the process-wide services. */
export function setServices(services: Services | undefined): void {
  current = services ? Promise.resolve(services) : undefined;
}

/** The SmsSender for app settings: Twilio in `twilio` mode, the process-wide outbox otherwise. */
export function createSmsSender(settings: AppSettings): SmsSender {
  if (settings.SMS_MODE !== 'twilio') return smsOutbox;
  const { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_MESSAGING_SERVICE_SID, PUBLIC_BASE_URL } = settings;
  if (!TWILIO_ACCOUNT_SID || !TWILIO_AUTH_TOKEN || !TWILIO_MESSAGING_SERVICE_SID) {
    throw new Error('SMS_MODE=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID');
  }
  return new TwilioSmsSender({
    accountSid: TWILIO_ACCOUNT_SID,
    authToken: TWILIO_AUTH_TOKEN,
    messagingServiceSid: TWILIO_MESSAGING_SERVICE_SID,
    ...(PUBLIC_BASE_URL ? { statusCallbackUrl: publicUrl(settings, '/api/sms/status') } : {}),
  });
}

/** The eligibility port for app settings: a FHIR payer endpoint, or the simulated payer locally. */
export function createEligibilityChecker(settings: AppSettings): EligibilityChecker {
  if (settings.ELIGIBILITY_MODE === 'fhir') {
    if (!settings.ELIGIBILITY_FHIR_ENDPOINT) throw new ConfigError(['ELIGIBILITY_FHIR_ENDPOINT']);
    return new FhirEligibilityChecker(settings.ELIGIBILITY_FHIR_ENDPOINT);
  }
  return new SimulatedEligibilityChecker();
}

/**
 * Production wiring: Cosmos DB repositories (identity-based in Azure), the Service Bus publisher
 * behind the Cosmos outbox, Twilio or the local SMS outbox, and the eligibility adapter. Without a
 * Cosmos endpoint (unit tests of functions) everything is in memory.
 */
async function buildServices(settings: AppSettings): Promise<Services> {
  const hasBus = Boolean(settings.ServiceBusConnection || settings.ServiceBusConnection__fullyQualifiedNamespace);
  const publisher: EventPublisher = hasBus ? ServiceBusEventPublisher.fromSettings(settings) : new RecordingPublisher();
  const sms = createSmsSender(settings);
  const eligibility = createEligibilityChecker(settings);
  if (!settings.COSMOS_ENDPOINT) return createInMemoryServices(settings, { publisher, sms, eligibility });
  const cosmos = await createCosmosServices(settings, publisher);
  return {
    settings,
    clock: systemClock,
    ids: randomIds,
    config: cosmos.config,
    patients: cosmos.patients,
    appointments: cosmos.appointments,
    outbox: cosmos.outbox,
    waitlist: cosmos.waitlist,
    offers: cosmos.offers,
    idempotency: cosmos.idempotency,
    audit: cosmos.audit,
    sms,
    eligibility,
    publisher,
    cosmos,
    smsMessages: cosmos.smsMessages,
    riskModels: cosmos.riskModels,
  };
}
