import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { entityIdSchema, fhirIdSchema } from '../ids';

/**
 * Self-scheduling link tokens: `<payload>.<signature>`, both base64url. The payload is compact JSON
 * of ids and epoch seconds (no PHI: no name, phone, type name or clinical text); the signature is
 * HMAC-SHA256 over the payload segment with the link-signing key. Tokens expire (`e`) and are
 * single-use: the booking page records the token id (`j`) create-only when it books.
 */

/** What the link lets the patient book. */
export type LinkScope =
  /** The slot of one waitlist offer. */
  | { kind: 'offer'; offerId: string }
  /** Free slots of a clinic and appointment type in [from, to), optionally one provider or a fixed set of slots. */
  | { kind: 'search'; clinicId: string; appointmentType: string; from: string; to: string; providerId?: string; slotIds?: string[] }
  /** Another time for one booked appointment (R): the page lists alternatives and moves it on pick. */
  | { kind: 'reschedule'; appointmentId: string };

export interface LinkClaims {
  /** Token id: the single-use key. */
  tokenId: string;
  patientId: string;
  scope: LinkScope;
  issuedAt: string;
  expiresAt: string;
}

export type LinkVerification = { ok: true; claims: LinkClaims } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired'; claims?: LinkClaims };

const epoch = z.number().int().min(0).max(4102444800);
const wireSchema = z
  .object({
    v: z.literal(1),
    j: z.string().regex(/^[A-Za-z0-9_-]{8,40}$/),
    p: entityIdSchema,
    i: epoch,
    e: epoch,
    o: fhirIdSchema.optional(),
    c: entityIdSchema.optional(),
    t: entityIdSchema.optional(),
    f: epoch.optional(),
    u: epoch.optional(),
    r: entityIdSchema.optional(),
    s: z.array(fhirIdSchema).min(1).max(10).optional(),
    a: fhirIdSchema.optional(),
  })
  .strict();
type Wire = z.infer<typeof wireSchema>;

const b64url = (b: Buffer) => b.toString('base64url');
const toEpoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const fromEpoch = (s: number) => new Date(s * 1000).toISOString();

function sign(payloadSegment: string, key: string): Buffer {
  return createHmac('sha256', key).update(payloadSegment, 'utf8').digest();
}

function toWire(c: LinkClaims): Wire {
  const base = { v: 1 as const, j: c.tokenId, p: c.patientId, i: toEpoch(c.issuedAt), e: toEpoch(c.expiresAt) };
  if (c.scope.kind === 'offer') return { ...base, o: c.scope.offerId };
  if (c.scope.kind === 'reschedule') return { ...base, a: c.scope.appointmentId };
  const s = c.scope;
  return {
    ...base,
    c: s.clinicId,
    t: s.appointmentType,
    f: toEpoch(s.from),
    u: toEpoch(s.to),
    ...(s.providerId ? { r: s.providerId } : {}),
    ...(s.slotIds?.length ? { s: s.slotIds } : {}),
  };
}

function fromWire(w: Wire): LinkClaims | undefined {
  const base = { tokenId: w.j, patientId: w.p, issuedAt: fromEpoch(w.i), expiresAt: fromEpoch(w.e) };
  const searchFields = w.c || w.t || w.f !== undefined || w.u !== undefined || w.r || w.s;
  if (w.o !== undefined) {
    if (searchFields || w.a !== undefined) return undefined;
    return { ...base, scope: { kind: 'offer', offerId: w.o } };
  }
  if (w.a !== undefined) {
    if (searchFields) return undefined;
    return { ...base, scope: { kind: 'reschedule', appointmentId: w.a } };
  }
  if (!w.c || !w.t || w.f === undefined || w.u === undefined || w.u <= w.f) return undefined;
  return {
    ...base,
    scope: {
      kind: 'search',
      clinicId: w.c,
      appointmentType: w.t,
      from: fromEpoch(w.f),
      to: fromEpoch(w.u),
      ...(w.r ? { providerId: w.r } : {}),
      ...(w.s ? { slotIds: w.s } : {}),
    },
  };
}

/** Signs link claims into a URL-safe token. */
export function createLinkToken(claims: LinkClaims, key: string): string {
  const wire = wireSchema.parse(toWire(claims));
  const payload = b64url(Buffer.from(JSON.stringify(wire), 'utf8'));
  return `${payload}.${b64url(sign(payload, key))}`;
}

/** Verifies signature first, then shape, then expiry against `now` (epoch ms from the caller's clock). */
export function verifyLinkToken(token: string, key: string, nowMs: number): LinkVerification {
  const m = /^([A-Za-z0-9_-]{10,1500})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const [, payload, signature] = m as unknown as [string, string, string];
  const given = Buffer.from(signature, 'base64url');
  const expected = sign(payload, key);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = wireSchema.safeParse(json);
  const claims = parsed.success ? fromWire(parsed.data) : undefined;
  if (!claims) return { ok: false, reason: 'malformed' };
  if (Date.parse(claims.expiresAt) <= nowMs) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims };
}

/** A link to issue: who it is for, what it lets them do, and how long it lives. */
export interface BookingLinkRequest {
  patientId: string;
  scope: LinkScope;
  /** Minutes until the link expires (an offer link should not outlive its offer). */
  ttlMinutes?: number;
}

export interface IssuedBookingLink {
  url: string;
  tokenId: string;
  expiresAt: string;
}

/** Port: issues signed, expiring, single-use self-scheduling links (adapter: functions/patient/links.ts). */
export interface BookingLinkIssuer {
  issue(req: BookingLinkRequest): IssuedBookingLink;
}
