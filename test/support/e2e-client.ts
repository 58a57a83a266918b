import { createHmac } from 'node:crypto';

/** Small HTTP client for e2e tests: the public interface only, with principals and signed Twilio webhooks. */

export function principalHeader(roles: string[], clinics: string[] = []): string {
  const claims = [...roles.map((val) => ({ typ: 'roles', val })), ...clinics.map((val) => ({ typ: 'clinic', val }))];
  return Buffer.from(JSON.stringify({ auth_typ: 'aad', userId: 'e2e', claims })).toString('base64');
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
}

export function apiClient(baseUrl: string, roles: string[] = ['admin', 'scheduler', 'ehr']) {
  const principal = principalHeader(roles);
  return async function api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'x-ms-client-principal': principal, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = {};
    }
    return { status: res.status, body: parsed as T, text };
  };
}

/**
 * Twilio's request signature, computed here independently of the app: base64 HMAC-SHA1 over the
 * URL followed by every POST parameter name and value, sorted by name.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

let sidCounter = 0;
export function newMessageSid(): string {
  sidCounter += 1;
  return `SM${(Date.now().toString(16) + sidCounter.toString(16).padStart(8, '0')).padStart(32, '0').slice(-32)}`;
}

/** Sends an inbound SMS to the webhook as Twilio would, correctly signed; returns the TwiML. */
export async function sendInboundSms(
  baseUrl: string,
  authToken: string,
  from: string,
  body: string,
  messageSid = newMessageSid(),
): Promise<{ status: number; twiml: string; messageSid: string }> {
  const url = `${baseUrl}/api/sms/inbound`;
  const params = { MessageSid: messageSid, AccountSid: 'AC00000000000000000000000000000000', From: from, To: '+15005550006', Body: body, NumMedia: '0' };
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(authToken, url, params) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, twiml: await res.text(), messageSid };
}

export interface OutboxMessage {
  to: string;
  body: string;
  sentAt: string;
  purpose?: string;
  patientId?: string;
}

export async function outbox(baseUrl: string, to?: string): Promise<OutboxMessage[]> {
  const res = await fetch(`${baseUrl}/api/dev/sms/outbox${to ? `?to=${encodeURIComponent(to)}` : ''}`);
  return ((await res.json()) as { messages: OutboxMessage[] }).messages;
}

/** Polls until `probe` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Week hours of a provider who works around the clock. */
export const ALL_DAY_HOURS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => ({ day, start: '00:00', end: '24:00' }));

/**
 * Puts a clinic open around the clock in UTC with no quiet hours, one offer at a time and offers open
 * 30 minutes (nothing expires during a test), and its 30-minute appointment type, through the admin API.
 */
export async function putAroundTheClockClinic(
  must: (method: string, path: string, body?: unknown) => Promise<unknown>,
  clinic: { clinicId: string; name: string; type: string; typeName: string },
): Promise<void> {
  await must('PUT', `/api/clinics/${clinic.clinicId}`, {
    name: clinic.name,
    timeZone: 'UTC',
    offerPolicy: {
      batchSize: 1,
      maxRounds: 3,
      expiryFraction: 1,
      minExpiryMinutes: 30,
      maxExpiryMinutes: 30,
      minLeadMinutes: 5,
      quietStart: '00:00',
      quietEnd: '00:00',
    },
  });
  await must('PUT', `/api/appointment-types/${clinic.type}`, { clinicId: clinic.clinicId, name: clinic.typeName, durationMinutes: 30 });
}
