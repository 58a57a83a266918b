/**
 * Edge plumbing shared by the SMS webhook, the status callback, the booking page and the send
 * helper: message records, the SMS sender choice, the link key, single-use claims and the
 * durable-client seam.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { Clinic, IdempotencyRecord, IdempotencyScope, IdempotencyStore, SmsSender } from '../../domain';
import { InMemorySmsMessages, type SmsClinic, type SmsMessageRepository } from '../../domain/sms';
import { smsOutbox } from '../adapters/twilio/outbox';
import { TwilioSmsSender } from '../adapters/twilio/sender';
import type { AppSettings } from '../app/config';

/**
 * Services may carry a message repository (`smsMessages`); otherwise each services instance gets an
 * in-memory one. Typed structurally so this module does not import services.ts (which imports it).
 */
type WithMessages = { smsMessages?: SmsMessageRepository };
const fallbackMessages = new WeakMap<object, SmsMessageRepository>();

/** The SMS message records of these services. */
export function smsMessagesOf(services: object): SmsMessageRepository {
  const own = (services as WithMessages).smsMessages;
  if (own) return own;
  let repo = fallbackMessages.get(services);
  if (!repo) {
    repo = new InMemorySmsMessages();
    fallbackMessages.set(services, repo);
  }
  return repo;
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

/** Fixed key for local links only; never accepted when SLOTFLOW_ENV=azure. */
export const LOCAL_DEV_LINK_KEY = 'slotflow-local-dev-link-signing-key-not-a-secret';

/** The key self-scheduling links are signed with. */
export function linkSigningKey(settings: AppSettings): string {
  if (settings.LINK_SIGNING_KEY) return settings.LINK_SIGNING_KEY;
  if (settings.SLOTFLOW_ENV === 'local') return LOCAL_DEV_LINK_KEY;
  throw new Error('LINK_SIGNING_KEY is not set');
}

/**
 * The Twilio auth token. App settings are parsed once per process, but the token is read from the
 * environment first so a test or the local host can set it late (env wins over local.settings.json,
 * which the host loads into the environment anyway).
 */
export function twilioAuthToken(settings: AppSettings): string | undefined {
  const token = process.env.TWILIO_AUTH_TOKEN || settings.TWILIO_AUTH_TOKEN;
  // Locally, with no token configured, a fixed development token lets `npm run demo` and manual
  // curl calls sign webhooks. Never in Azure, where an unset token rejects every webhook.
  if (!token && settings.SLOTFLOW_ENV === 'local') return LOCAL_DEV_TWILIO_AUTH_TOKEN;
  return token;
}

/** The webhook signing token the local host uses when TWILIO_AUTH_TOKEN is not set (not a secret). */
export const LOCAL_DEV_TWILIO_AUTH_TOKEN = 'local-dev-twilio-auth-token';

/** PUBLIC_BASE_URL + path, or the local host's URL when none is configured. */
export function publicUrl(settings: AppSettings, pathAndQuery: string): string {
  const base = (settings.PUBLIC_BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? '7071'}`).replace(/\/+$/, '');
  return `${base}${pathAndQuery}`;
}

/** How a clinic is named and timed in an SMS. */
export function smsClinicOf(clinic: Clinic): SmsClinic {
  return { displayName: clinic.smsDisplayName ?? clinic.name, timeZone: clinic.timeZone };
}

export type Claim = { kind: 'claimed'; record: IdempotencyRecord } | { kind: 'done'; record: IdempotencyRecord } | { kind: 'in-progress' };

/** Attempts after a failed one (e.g. the chosen slot was taken) before a key is spent for good. */
const MAX_CLAIM_ATTEMPTS = 5;

/**
 * Create-only claim of `key` in `scope`. A finished record ends the chain (a repeat); a record
 * completed with `{failed: true}` lets the next attempt claim `key#n`, so a failure that changed
 * nothing does not burn a single-use key, while two concurrent attempts still get one winner.
 */
export async function claimOnce(store: IdempotencyStore, scope: IdempotencyScope, key: string, createdAt: string, ttlSeconds: number): Promise<Claim> {
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    const record: IdempotencyRecord = { scope, key: attempt === 0 ? key : `${key}#${attempt}`, createdAt };
    if (await store.putIfAbsent(record, ttlSeconds)) return { kind: 'claimed', record };
    const existing = await store.get(scope, record.key);
    if (!existing) return { kind: 'in-progress' }; // expired between the two calls: treat as busy
    if (!existing.response) return { kind: 'in-progress' };
    if (!isFailed(existing)) return { kind: 'done', record: existing };
  }
  return { kind: 'done', record: { scope, key, createdAt, response: { status: 410, body: { failed: true, exhausted: true } } } };
}

/** The finished record of `key`'s chain, if any (for GET pages that only look). */
export async function findClaim(store: IdempotencyStore, scope: IdempotencyScope, key: string): Promise<Claim | undefined> {
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    const existing = await store.get(scope, attempt === 0 ? key : `${key}#${attempt}`);
    if (!existing) return undefined;
    if (!existing.response) return { kind: 'in-progress' };
    if (!isFailed(existing)) return { kind: 'done', record: existing };
  }
  return { kind: 'done', record: { scope, key, createdAt: '', response: { status: 410, body: { failed: true, exhausted: true } } } };
}

function isFailed(r: IdempotencyRecord): boolean {
  const body = r.response?.body;
  return typeof body === 'object' && body !== null && (body as { failed?: unknown }).failed === true;
}

/** What the SMS and booking handlers need from a durable client. */
export interface OfferReplyRaiser {
  raiseEvent(instanceId: string, eventName: string, eventData: unknown): Promise<void>;
}

/** The extra input every handler that raises offer replies registers. */
export const durableClientInput = df.input.durableClient();

/**
 * The durable client of this invocation. Tests may bind an object with `raiseEvent` as the
 * durable client input (a fake); otherwise the binding data builds the real client.
 */
export function durableClientOf(context: InvocationContext): OfferReplyRaiser {
  const bound = context.extraInputs.get(durableClientInput) as unknown;
  if (bound && typeof (bound as OfferReplyRaiser).raiseEvent === 'function') return bound as OfferReplyRaiser;
  return df.getClient(context);
}
