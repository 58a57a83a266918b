import { createHmac, timingSafeEqual } from 'node:crypto';

/** Form parameters as Twilio posts them; a repeated key carries several values. */
export type TwilioParams = Record<string, string | string[]>;

/**
 * X-Twilio-Signature: base64(HMAC-SHA1(authToken, url + for each key in sorted order: key + value)),
 * repeated keys contributing each of their values in sorted order (Twilio's documented algorithm).
 */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key]!;
    for (const v of Array.isArray(value) ? [...value].sort() : [value]) data += key + v;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** The URL as Twilio may have signed it: exactly as configured, and with/without the scheme's default port. */
function urlVariants(url: string): string[] {
  const variants = [url];
  try {
    const u = new URL(url);
    const defaultPort = u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '';
    if (!defaultPort) return variants;
    // URL normalises an explicit default port away, so rebuild both spellings by hand.
    const authority = `${u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : ''}${u.hostname}`;
    const rest = url.slice(url.indexOf('/', url.indexOf('//') + 2) === -1 ? url.length : url.indexOf('/', url.indexOf('//') + 2));
    variants.push(`${u.protocol}//${authority}${rest}`, `${u.protocol}//${authority}:${defaultPort}${rest}`);
  } catch {
    // Not a URL: only the exact string can match.
  }
  return [...new Set(variants)];
}

/** Constant-time check of an X-Twilio-Signature header against the public URL and the form params. */
export function isValidTwilioSignature(authToken: string, header: string | null | undefined, url: string, params: TwilioParams): boolean {
  if (!header || !authToken) return false;
  const given = Buffer.from(header, 'utf8');
  return urlVariants(url).some((candidate) => {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params), 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** Parses an application/x-www-form-urlencoded body into Twilio params (repeated keys kept). */
export function parseTwilioForm(body: string): TwilioParams {
  const out: TwilioParams = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** First value of a param. */
export function paramOf(params: TwilioParams, key: string): string | undefined {
  const v = params[key];
  return Array.isArray(v) ? v[0] : v;
}
