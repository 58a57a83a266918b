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
import { type AppSettings, settings as loadSettings } from './config';

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
    eligibility: { check: async () => ({ status: 'active' }) },
    publisher,
    ...overrides,
  };
}

let current: Promise<Services> | undefined;

/** The process-wide services; the first call builds them (and creates Cosmos containers locally). */
export function getServices(): Promise<Services> {
  current ??= buildServices(loadSettings());
  return current;
}

/** Tests: replace the process-wide services. */
export function setServices(services: Services | undefined): void {
  current = services ? Promise.resolve(services) : undefined;
}

async function buildServices(settings: AppSettings): Promise<Services> {
  return createInMemoryServices(settings);
}
