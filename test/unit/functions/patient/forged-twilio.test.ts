// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * Forged Twilio webhooks (docs/patient-channels.md): 403 with an empty body on both routes, signed by the twilio
 * library's own helper with a wrong token, with none, or over another URL; the same helper with the right token
 * gets through (so the test can tell the difference).
 */
import twilio from 'twilio';
import { invoke, seed } from '../../../support/api-harness';

import '../../../../functions/patient/sms-inbound';
import '../../../../functions/patient/sms-status';

const TOKEN = 'forged-test-token-0123456789abcdef';
beforeEach(async () => {
  process.env.TWILIO_AUTH_TOKEN = TOKEN;
  await seed();
});
afterEach(() => {
  delete process.env.TWILIO_AUTH_TOKEN;
});

const BASE = 'http://127.0.0.1:7071';
async function post(path: string, params: Record<string, string>, signature: string | undefined) {
  return invoke('POST', path, {
    principal: null,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== undefined ? { 'x-twilio-signature': signature } : {}) },
    rawBody: new URLSearchParams(params).toString(),
  });
}

const inbound = { MessageSid: 'SM00000000000000000000000000000001', From: '+14155550101', To: '+15005550006', Body: 'YES' };
const status = { MessageSid: 'SM00000000000000000000000000000002', MessageStatus: 'delivered' };

test.each([
  ['/api/sms/inbound', inbound],
  ['/api/sms/status', status],
])('%s: every forged request is 403 with an empty body', async (path, params) => {
  const forgeries = [
    twilio.getExpectedTwilioSignature('not-the-token', `${BASE}${path}`, params),
    twilio.getExpectedTwilioSignature(TOKEN, `${BASE}/api/sms/elsewhere`, params),
    twilio.getExpectedTwilioSignature(TOKEN, `${BASE}${path}`, { ...params, Body: 'NO' }),
    'AAAA',
    undefined,
  ];
  for (const signature of forgeries) {
    const r = await post(path, params, signature);
    expect([signature, r.status, r.text]).toEqual([signature, 403, '']);
  }
});

test('a request the twilio library signs with the right token is not refused', async () => {
  const signature = twilio.getExpectedTwilioSignature(TOKEN, `${BASE}/api/sms/status`, status);
  expect((await post('/api/sms/status', status, signature)).status).not.toBe(403);
});
