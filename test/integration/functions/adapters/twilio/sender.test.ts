/** The Twilio adapter (real `twilio` SDK) against a loopback stand-in for the Messages API. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransientError } from '../../../../../domain';
import { SmsRejectedError, TwilioSmsSender } from '../../../../../functions/adapters/twilio/sender';

const ACCOUNT = 'AC' + 'a'.repeat(32);
const TOKEN = 'twilio-auth-token-for-tests';
const SERVICE = 'MG' + 'b'.repeat(32);

interface Seen {
  method: string;
  path: string;
  authorization: string;
  form: Record<string, string>;
}
let server: Server;
let base: string;
const seen: Seen[] = [];
let reply: { status: number; body: unknown } = { status: 201, body: {} };

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await read(req);
    seen.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization ?? '',
      form: Object.fromEntries(new URLSearchParams(body)),
    });
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));
beforeEach(() => {
  seen.length = 0;
});

const sender = () =>
  new TwilioSmsSender({
    accountSid: ACCOUNT,
    authToken: TOKEN,
    messagingServiceSid: SERVICE,
    statusCallbackUrl: 'https://sched.example.org/api/sms/status',
    apiBaseUrl: base,
  });
const message = { to: '+15551230001', body: 'Riverside Clinic: reminder', patientId: 'pat1', purpose: 'reminder' as const, correlationId: 'c1' };

describe('TwilioSmsSender', () => {
  it('creates a message through the Messaging Service with a status callback', async () => {
    reply = { status: 201, body: { sid: 'SM' + 'c'.repeat(32), status: 'accepted', account_sid: ACCOUNT } };
    await expect(sender().send(message)).resolves.toEqual({ messageId: 'SM' + 'c'.repeat(32) });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${ACCOUNT}/Messages.json` });
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}`);
    expect(seen[0]!.form).toEqual({
      To: '+15551230001',
      Body: 'Riverside Clinic: reminder',
      MessagingServiceSid: SERVICE,
      StatusCallback: 'https://sched.example.org/api/sms/status',
    });
  });

  it.each([429, 500, 503])('%i is transient (retried by the workflow)', async (status) => {
    reply = { status, body: { code: 20429, message: 'Too many requests', status } };
    await expect(sender().send(message)).rejects.toBeInstanceOf(TransientError);
  });

  it('a 4xx is final, and the error never echoes the phone or body', async () => {
    reply = { status: 400, body: { code: 21211, message: "The 'To' number +15551230001 is not a valid phone number.", status: 400 } };
    const err = await sender()
      .send(message)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmsRejectedError);
    expect((err as SmsRejectedError).providerCode).toBe('21211');
    expect((err as Error).message).not.toContain('+1555');
  });

  it('an unreachable API is transient', async () => {
    const down = new TwilioSmsSender({ accountSid: ACCOUNT, authToken: TOKEN, messagingServiceSid: SERVICE, apiBaseUrl: 'http://127.0.0.1:1' });
    await expect(down.send(message)).rejects.toBeInstanceOf(TransientError);
  });
});
