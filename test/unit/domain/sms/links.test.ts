import { createHmac } from 'node:crypto';
import { createLinkToken, verifyLinkToken, type LinkClaims } from '../../../../domain/sms';

const key = 'k'.repeat(40);
const claims: LinkClaims = {
  tokenId: 'Zm9vYmFyYmF6cXV4MTIz',
  patientId: 'pat-000001',
  scope: { kind: 'search', clinicId: 'c1', appointmentType: 'echo', from: '2026-03-03T00:00:00.000Z', to: '2026-03-10T00:00:00.000Z' },
  issuedAt: '2026-03-02T15:00:00.000Z',
  expiresAt: '2026-03-04T15:00:00.000Z',
};
const at = (iso: string) => Date.parse(iso);

describe('link tokens', () => {
  const token = createLinkToken(claims, key);

  it('round-trips and is URL-safe', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyLinkToken(token, key, at('2026-03-02T16:00:00Z'))).toEqual({ ok: true, claims });
  });

  it('signature is HMAC-SHA256 over the payload segment (checked independently)', () => {
    const [payload, sig] = token.split('.');
    expect(createHmac('sha256', key).update(payload!).digest('base64url')).toBe(sig);
  });

  it('carries ids and times only, no PHI', () => {
    const json = Buffer.from(token.split('.')[0]!, 'base64url').toString();
    expect(JSON.parse(json)).toEqual({
      v: 1,
      j: claims.tokenId,
      p: 'pat-000001',
      i: expect.any(Number),
      e: expect.any(Number),
      c: 'c1',
      t: 'echo',
      f: expect.any(Number),
      u: expect.any(Number),
    });
  });

  it('expires (injected clock)', () => {
    expect(verifyLinkToken(token, key, at('2026-03-04T14:59:59Z')).ok).toBe(true);
    expect(verifyLinkToken(token, key, at('2026-03-04T15:00:00Z'))).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('refuses tampering: payload, signature, key', () => {
    const [payload, sig] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), p: 'pat-000002' })).toString('base64url');
    expect(verifyLinkToken(`${forged}.${sig}`, key, at('2026-03-02T16:00:00Z'))).toEqual({ ok: false, reason: 'bad-signature' });
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
    expect(verifyLinkToken(`${payload}.${flipped}`, key, at('2026-03-02T16:00:00Z'))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyLinkToken(token, 'x'.repeat(40), at('2026-03-02T16:00:00Z'))).toEqual({ ok: false, reason: 'bad-signature' });
    // A re-signed extension of the expiry without the key is impossible; with the key it verifies.
    const later = createLinkToken({ ...claims, expiresAt: '2026-03-09T00:00:00.000Z' }, key);
    expect(verifyLinkToken(later, key, at('2026-03-05T00:00:00Z')).ok).toBe(true);
  });

  it('refuses malformed tokens', () => {
    for (const bad of ['', 'abc', 'a.b', `${token}x`, token.replace('.', ''), '../../etc/passwd']) {
      expect(verifyLinkToken(bad, key, at('2026-03-02T16:00:00Z'))).toMatchObject({ ok: false });
    }
    // Validly signed garbage is still malformed.
    const payload = Buffer.from('{"v":2}').toString('base64url');
    const sig = createHmac('sha256', key).update(payload).digest('base64url');
    expect(verifyLinkToken(`${payload}.${sig}`, key, at('2026-03-02T16:00:00Z'))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('offer links name the offer only', () => {
    const offerToken = createLinkToken({ ...claims, scope: { kind: 'offer', offerId: 'off-000001' } }, key);
    expect(verifyLinkToken(offerToken, key, at('2026-03-02T16:00:00Z'))).toMatchObject({
      ok: true,
      claims: { scope: { kind: 'offer', offerId: 'off-000001' } },
    });
  });

  it('reschedule links name the appointment only; a payload mixing scopes is malformed even when signed', () => {
    const r = createLinkToken({ ...claims, scope: { kind: 'reschedule', appointmentId: 'apt-000001' } }, key);
    expect(verifyLinkToken(r, key, at('2026-03-02T16:00:00Z'))).toEqual({
      ok: true,
      claims: { ...claims, scope: { kind: 'reschedule', appointmentId: 'apt-000001' } },
    });
    expect(JSON.parse(Buffer.from(r.split('.')[0]!, 'base64url').toString())).toEqual({
      v: 1,
      j: claims.tokenId,
      p: 'pat-000001',
      i: expect.any(Number),
      e: expect.any(Number),
      a: 'apt-000001',
    });
    const wire = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    for (const mixed of [
      { ...wire, a: 'apt-000001' },
      { v: 1, j: claims.tokenId, p: 'pat-000001', i: 1, e: 4102444800, a: 'apt-1', o: 'off-1' },
    ]) {
      const payload = Buffer.from(JSON.stringify(mixed)).toString('base64url');
      const sig = createHmac('sha256', key).update(payload).digest('base64url');
      expect(verifyLinkToken(`${payload}.${sig}`, key, at('2026-03-02T16:00:00Z'))).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});
