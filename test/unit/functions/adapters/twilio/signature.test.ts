import { createHmac } from 'node:crypto';
import twilio from 'twilio';
import { isValidTwilioSignature, parseTwilioForm, twilioSignature } from '../../../../../functions/adapters/twilio/signature';

/**
 * Vectors computed here, independently of the adapter: Twilio's documented algorithm spelled out
 * by hand (URL, then each sorted key immediately followed by its value, HMAC-SHA1, base64).
 */
const token = '12345';
const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675310', Digits: '1234', From: '+14158675310', To: '+18005551212' };
const independent = (u: string, data: string) =>
  createHmac('sha1', token)
    .update(u + data)
    .digest('base64');
const signed = independent(url, 'CallSidCA1234567890ABCDECaller+14158675310Digits1234From+14158675310To+18005551212');

describe('X-Twilio-Signature', () => {
  it("matches Twilio's documented example", () => {
    // The vector published in Twilio's signature-validation snippets (TwilioDevEd/api-snippets).
    expect(signed).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
    expect(twilioSignature(token, url, params)).toBe(signed);
  });

  it('accepts the valid signature and agrees with the twilio SDK', () => {
    expect(isValidTwilioSignature(token, signed, url, params)).toBe(true);
    expect(twilio.validateRequest(token, signed, url, params)).toBe(true);
  });

  it('rejects a tampered body', () => {
    expect(isValidTwilioSignature(token, signed, url, { ...params, Digits: '1235' })).toBe(false);
    expect(isValidTwilioSignature(token, signed, url, { ...params, Extra: 'x' })).toBe(false);
  });

  it('rejects a wrong URL (path, query or host)', () => {
    expect(isValidTwilioSignature(token, signed, 'https://mycompany.com/myapp.php?foo=1&bar=3', params)).toBe(false);
    expect(isValidTwilioSignature(token, signed, 'https://evil.example/myapp.php?foo=1&bar=2', params)).toBe(false);
    expect(isValidTwilioSignature(token, signed, 'http://mycompany.com/myapp.php?foo=1&bar=2', params)).toBe(false);
  });

  it('rejects a wrong token, a missing header and garbage', () => {
    expect(isValidTwilioSignature('54321', signed, url, params)).toBe(false);
    expect(isValidTwilioSignature(token, undefined, url, params)).toBe(false);
    expect(isValidTwilioSignature(token, '', url, params)).toBe(false);
    expect(isValidTwilioSignature(token, 'not-base64!', url, params)).toBe(false);
  });

  it('accepts the URL with or without the default port, as Twilio may sign either', () => {
    const withPort = 'https://mycompany.com:443/myapp.php?foo=1&bar=2';
    const sigWithPort = createHmac('sha1', token)
      .update(withPort + 'CallSidCA1234567890ABCDECaller+14158675310Digits1234From+14158675310To+18005551212')
      .digest('base64');
    expect(isValidTwilioSignature(token, sigWithPort, url, params)).toBe(true);
    expect(isValidTwilioSignature(token, signed, withPort, params)).toBe(true);
  });

  it('signs repeated keys with each value, sorted', () => {
    const form = parseTwilioForm('b=2&a=z&a=y&Body=Hi+there%21');
    expect(form).toEqual({ b: '2', a: ['z', 'y'], Body: 'Hi there!' });
    const sig = independent('https://x.example/hook', 'BodyHi there!ayazb2');
    expect(isValidTwilioSignature(token, sig, 'https://x.example/hook', form)).toBe(true);
  });
});
