/**
 * The outbound EHR push adapter against a real HTTP server on loopback: PUT {endpoint}/Appointment/{id} with
 * FHIR JSON and a bearer token; 2xx succeeds, 408/429/5xx and timeouts are TransientError, other 4xx reject.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransientError } from '../../../../../domain';
import { EhrPushRejected, HttpEhrPush } from '../../../../../functions/adapters/fhir/ehr-push';

let server: Server;
let endpoint: string;
let reply: { status: number; delayMs?: number; headers?: Record<string, string> } = { status: 200 };
const received: { method?: string; url?: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      setTimeout(() => {
        res.writeHead(reply.status, { 'content-type': 'application/fhir+json', ...reply.headers });
        res.end('{"resourceType":"OperationOutcome","issue":[]}');
      }, reply.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir/r4/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  received.length = 0;
  reply = { status: 200 };
});

const resource = { resourceType: 'Appointment', id: 'apt-1', status: 'booked' };

test('PUTs the appointment as FHIR JSON with the bearer token', async () => {
  await new HttpEhrPush(endpoint, { getToken: async () => 'tok-123' }).putAppointment(resource);
  expect(received).toHaveLength(1);
  expect(received[0]).toMatchObject({
    method: 'PUT',
    url: '/fhir/r4/Appointment/apt-1',
    headers: { 'content-type': 'application/fhir+json', authorization: 'Bearer tok-123' },
  });
  expect(JSON.parse(received[0]!.body)).toEqual(resource);
});

test.each([500, 503, 429, 408])('HTTP %i is a TransientError', async (status) => {
  reply = { status, headers: { 'retry-after': '7' } };
  const error = await new HttpEhrPush(endpoint).putAppointment(resource).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransientError);
  expect((error as TransientError).retryAfterMs).toBe(7000);
});

test.each([400, 404, 409, 422])('HTTP %i is a rejection (dead-lettered by the subscriber)', async (status) => {
  reply = { status };
  const error = await new HttpEhrPush(endpoint).putAppointment(resource).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(EhrPushRejected);
  expect((error as EhrPushRejected).status).toBe(status);
});

test('a timeout or a closed port is a TransientError', async () => {
  reply = { status: 200, delayMs: 500 };
  await expect(new HttpEhrPush(endpoint, { timeoutMs: 50 }).putAppointment(resource)).rejects.toBeInstanceOf(TransientError);
  await expect(new HttpEhrPush('http://127.0.0.1:1/fhir').putAppointment(resource)).rejects.toBeInstanceOf(TransientError);
});
