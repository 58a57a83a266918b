import { createHash, createHmac, hkdfSync } from 'node:crypto';

/** Container names; bicep creates exactly these, all partitioned on /pk. */
export const CONTAINERS = {
  config: 'config',
  schedule: 'schedule',
  patients: 'patients',
  waitlist: 'waitlist',
  idempotency: 'idempotency',
  audit: 'audit',
} as const;
export type ContainerName = (typeof CONTAINERS)[keyof typeof CONTAINERS];
/** Containers with TTL enabled and no default expiry (items carry their own `ttl`). */
export const TTL_CONTAINERS: ReadonlySet<ContainerName> = new Set(['schedule', 'idempotency']);

/** Stand-in for an erased patient's id in the de-identified stubs that stay in the schedule. */
export const ERASED_PATIENT_ID = 'erased';

/** The clinic-local date of an ISO instant written in the clinic's offset (Appointment.start is). */
export function localDateOf(isoWithClinicOffset: string): string {
  return isoWithClinicOffset.slice(0, 10);
}

/** Schedule partition: one clinic's local day, so a booking's claim, appointment and events share it. */
export function schedulePk(clinicId: string, localDate: string): string {
  return `${clinicId}|${localDate}`;
}

export const slotClaimId = (slotId: string) => `claim|${slotId}`;

/**
 * Keyed hashes (HMAC-SHA256) for lookups that must not store the raw value: phone numbers (an
 * unkeyed hash of a phone number is reversed by enumerating the number space) and patient ids in
 * the audit log and erasure tombstones. The key is derived from a secret that does not live in
 * Cosmos DB, so a copy of the database alone does not link hashes to people.
 */
export class KeyedHasher {
  private readonly key: Buffer;
  constructor(secret: string) {
    if (secret.length < 16) throw new Error('lookup key must be at least 16 characters');
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.from('slotflow'), Buffer.from('cosmos-lookup-v1'), 32));
  }
  /** base64url HMAC of `value` in a named domain (so a phone hash never equals an id hash). */
  hash(domain: 'phone' | 'patient', value: string): string {
    return createHmac('sha256', this.key).update(`${domain}\n${value}`).digest('base64url');
  }
}

/** sha256 base64url: for turning arbitrary keys into valid document ids (not for secrets). */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Cosmos ids may not contain / \ ? #; keys that could are replaced by their digest. */
export function safeIdPart(value: string): string {
  return /^[A-Za-z0-9._:@=+-]{1,200}$/.test(value) ? value : `~${digest(value)}`;
}

export const E164 = /^\+[1-9]\d{6,14}$/;
