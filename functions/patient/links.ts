import { randomBytes } from 'node:crypto';
import { createLinkToken, type BookingLinkIssuer, type BookingLinkRequest } from '../../domain/sms';
import type { Services } from '../app/services';
import { linkSigningKey, publicUrl } from '../app/config';

/** Default life of a self-scheduling link. */
export const DEFAULT_LINK_TTL_MINUTES = 48 * 60;

export type { BookingLinkRequest } from '../../domain/sms';

export interface BookingLink {
  url: string;
  token: string;
  tokenId: string;
  expiresAt: string;
}

/** Issues a signed, expiring, single-use self-scheduling link (GET /book/{token}). Ids only in the URL. */
export function createBookingLink(services: Services, req: BookingLinkRequest): BookingLink {
  const now = services.clock.now().toUTC().startOf('second');
  const expiresAt = now.plus({ minutes: req.ttlMinutes ?? DEFAULT_LINK_TTL_MINUTES }).toISO({ suppressMilliseconds: true })!;
  const tokenId = randomBytes(16).toString('base64url');
  const token = createLinkToken(
    { tokenId, patientId: req.patientId, scope: req.scope, issuedAt: now.toISO({ suppressMilliseconds: true })!, expiresAt },
    linkSigningKey(services.settings),
  );
  return { url: publicUrl(services.settings, `/book/${token}`), token, tokenId, expiresAt };
}

/** The BookingLinkIssuer port (domain/sms/links.ts) over this deployment's signing key and public URL. */
export function bookingLinkIssuerOf(services: Services): BookingLinkIssuer {
  return { issue: (req) => createBookingLink(services, req) };
}
