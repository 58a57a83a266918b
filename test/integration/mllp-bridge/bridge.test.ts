/**
 * The MLLP bridge end to end: a third-party MLLP client (node-hl7-client) sends SIU over TCP to the bridge,
 * which forwards it to the SIU route of the local host (in process, in-memory services) and returns the ACK in
 * an MLLP frame. Also: a peer outside the allow-list is disconnected, an oversized frame gets AR, and an
 * unreachable Slotflow gets AE (the sender keeps the message and retries).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories and CommonJS app modules */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { connect, type Socket } from 'node:net';
import { DateTime } from 'luxon';
import Client, { Message } from 'node-hl7-client';
import { LocalHost } from '../../../local/host/host';
import { encodePrincipal } from '../../../functions/http/auth';
import { startMllpBridge, type MllpBridge } from '../../../mllp-bridge/bridge';
import { frame, MllpDecoder } from '../../../mllp-bridge/framing';
import { httpForwarder, localPrincipalAuth } from '../../../mllp-bridge/forward';

jest.setTimeout(60_000);

const ADMIN = encodePrincipal({ roles: ['admin'], principalId: 'admin-1' });
const ZONE = 'America/New_York';
let day = DateTime.now().setZone(ZONE).plus({ days: 7 }).startOf('day');
while (day.weekday > 5) day = day.plus({ days: 1 });
const hl7Ts = (hour: number) => day.set({ hour }).toFormat('yyyyMMddHHmmssZZZ');

const siuS12 = (control: string, hour: number) =>
  [
    `MSH|^~\\&|ENGINE|HOSP|SLOTFLOW|MLLPC|${hl7Ts(8)}||SIU^S12^SIU_S12|${control}|P|2.5`,
    `SCH||F-${control}^ENGINE||||ROUTINE^Routine^L|||30|MIN|^^30^${hl7Ts(hour)}`,
    'PID|1||mllp-pat^^^SLOTFLOW^PI||Doe^Jane',
    'RGS|1',
    `AIS|1||visit^Visit|${hl7Ts(hour)}|||30|MIN`,
    'AIL|1||mllp-clinic',
    'AIP|1||mllp-doc^Doc',
  ].join('\r');

let host: LocalHost;
const bridges: MllpBridge[] = [];
const logs: string[] = [];

async function bridgeTo(url: string, extra: Partial<Parameters<typeof startMllpBridge>[0]> = {}): Promise<MllpBridge> {
  const bridge = await startMllpBridge({
    port: 0,
    host: '127.0.0.1',
    allowedPeers: ['127.0.0.1', '::1'],
    maxMessageBytes: 4096,
    forward: httpForwarder({ url, auth: localPrincipalAuth() }),
    log: (line) => logs.push(line),
    ...extra,
  });
  bridges.push(bridge);
  return bridge;
}

/** Sends one framed payload over a raw socket and resolves with the first decoded reply (or 'closed'). */
function rawExchange(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const decoder = new MllpDecoder(1 << 20);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk) => {
      const [reply] = decoder.push(chunk);
      if (reply) {
        resolve(reply.toString('utf8'));
        socket.destroy();
      }
    });
    socket.on('close', () => resolve('closed'));
    socket.on('error', (e) => (String(e).includes('ECONNRESET') ? resolve('closed') : reject(e)));
  });
}

beforeAll(async () => {
  host = await LocalHost.start({
    port: 0,
    dataDir: null,
    servicesModule: null,
    logger: () => undefined,
    loadApp: () => {
      for (const m of ['api/config', 'api/appointments', 'ehr/hl7v2']) require(`../../../functions/${m}`);
    },
  });
  const put = async (path: string, body: unknown) => {
    const res = await fetch(`${host.baseUrl}${path}`, {
      method: 'PUT',
      headers: { 'x-ms-client-principal': ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
  };
  await put('/api/clinics/mllp-clinic', { name: 'MLLP Clinic', timeZone: ZONE });
  await put('/api/appointment-types/visit', { clinicId: 'mllp-clinic', name: 'Visit', durationMinutes: 30 });
  const weeklyHours = (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((d) => ({ day: d, start: '09:00', end: '17:00' }));
  await put('/api/providers/mllp-doc', { clinicId: 'mllp-clinic', name: 'Dr Doc', appointmentTypes: ['visit'], weeklyHours });
  await put('/api/patients/mllp-pat', { name: 'Jane Doe', phone: '+12125550101', smsConsent: true });
});

afterAll(async () => {
  for (const b of bridges) await b.close();
  await host?.stop();
});

test('a third-party MLLP client sends SIU S12 through the bridge, gets AA, and the appointment exists', async () => {
  const bridge = await bridgeTo(`${host.baseUrl}/api/ehr/hl7v2`);
  const acks: string[] = [];
  const client = new Client({ host: '127.0.0.1', version: '2.5' });
  // node-hl7-client queues a second send made before the first ACK and then never flushes it: send the
  // repeat from the ACK callback, as an engine waiting for each ACK does.
  const received = new Promise<void>((resolve) => {
    const connection = client.createConnection({ port: bridge.port, waitAck: true, version: '2.5' }, async (res) => {
      acks.push(res.getMessage().toString());
      if (acks.length === 1) {
        // The same message again (an engine resend after a lost ACK): the stored ACK is replayed.
        await connection.sendMessage(new Message({ text: siuS12('MLLP0001', 10) }));
      } else {
        await connection.close();
        resolve();
      }
    });
    void connection.sendMessage(new Message({ text: siuS12('MLLP0001', 10) }));
  });
  await received;
  for (const ack of acks) expect(ack).toMatch(/MSA\|AA\|MLLP0001/);
  const list = await fetch(
    `${host.baseUrl}/api/appointments?clinicId=mllp-clinic&from=${encodeURIComponent(day.toISO()!)}&to=${encodeURIComponent(day.plus({ days: 1 }).toISO()!)}`,
    { headers: { 'x-ms-client-principal': encodePrincipal({ roles: ['scheduler'] }) } },
  );
  const appointments = ((await list.json()) as { appointments: { patientId: string; status: string }[] }).appointments;
  expect(appointments.filter((a) => a.patientId === 'mllp-pat' && a.status === 'booked')).toHaveLength(1);
  expect(logs.join('\n')).not.toMatch(/Doe|Jane/);
});

test('a peer outside the allow-list is disconnected without an answer', async () => {
  const bridge = await bridgeTo(`${host.baseUrl}/api/ehr/hl7v2`, { allowedPeers: ['10.9.9.9'] });
  expect(await rawExchange(bridge.port, frame(siuS12('MLLP0002', 11)))).toBe('closed');
  expect(logs.some((l) => l.startsWith('mllp.refused'))).toBe(true);
});

test('an oversized frame is answered AR and the connection closed; nothing is applied', async () => {
  const bridge = await bridgeTo(`${host.baseUrl}/api/ehr/hl7v2`, { maxMessageBytes: 256 });
  const reply = await rawExchange(bridge.port, frame(siuS12('MLLP0003', 12) + '\rNTE|1||' + 'x'.repeat(400)));
  expect(reply).toMatch(/\rMSA\|AR\|/);
  expect(reply).toContain('HL7.MESSAGE_TOO_LARGE');
});

test('when Slotflow cannot be reached the bridge answers AE for the sender to retry', async () => {
  const bridge = await bridgeTo('http://127.0.0.1:9/api/ehr/hl7v2');
  const reply = await rawExchange(bridge.port, frame(siuS12('MLLP0004', 13)));
  expect(reply).toMatch(/\rMSA\|AE\|MLLP0004\|/);
  expect(reply).toContain('MLLP.UPSTREAM_UNAVAILABLE');
});

test('a principal without the ehr role is refused: AR with the route problem code', async () => {
  const bridge = await startMllpBridge({
    port: 0,
    host: '127.0.0.1',
    allowedPeers: ['127.0.0.1'],
    maxMessageBytes: 4096,
    forward: httpForwarder({ url: `${host.baseUrl}/api/ehr/hl7v2`, auth: async () => ({ 'x-ms-client-principal': ADMIN }) }),
  });
  bridges.push(bridge);
  const reply = await rawExchange(bridge.port, frame(siuS12('MLLP0005', 14)));
  expect(reply).toMatch(/\rMSA\|AR\|MLLP0005\|/);
  expect(reply).toMatch(/AUTH\.[A-Z_]+/);
});
