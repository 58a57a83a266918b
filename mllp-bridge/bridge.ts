/**
 * The MLLP bridge: interface engines and EHRs send SIU over MLLP/TCP (optionally TLS); each message is
 * forwarded to Slotflow's SIU handling (POST /api/ehr/hl7v2, the same path HTTP senders use) and the ACK
 * comes back in an MLLP frame. Only allow-listed peers may connect; frames are bounded in size. The bridge
 * applies nothing itself: when Slotflow cannot be reached it answers AE, so the sender keeps the message
 * and retries, as MLLP senders do.
 */
import { isUtf8 } from 'node:buffer';
import { BlockList, isIP, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { DateTime } from 'luxon';
import { buildAck, type AckCode } from '../domain/ehr/ack';
import { Hl7ErrorCondition, messageHeaderOf } from '../domain/ehr/siu';
import { frame, FrameTooLargeError, MllpDecoder } from './framing';

/** What the bridge hands a message to: Slotflow's SIU handling. Returns the ACK text. */
export type ForwardMessage = (message: string) => Promise<string>;

/** Thrown by a forwarder when Slotflow answered but refused the message (e.g. 401/403/413): answered AR. */
export class ForwardRejected extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'ForwardRejected';
  }
}

export interface MllpBridgeOptions {
  port: number;
  host?: string;
  /** Peers allowed to connect: IPv4/IPv6 addresses or CIDR ranges. Empty: none (every connection is closed). */
  allowedPeers: readonly string[];
  /** Largest accepted message in bytes (Slotflow accepts at most 256 KiB). */
  maxMessageBytes: number;
  forward: ForwardMessage;
  /** TLS server options (key, cert, optionally ca + requestCert for mutual TLS); plain TCP when absent. */
  tls?: TlsOptions;
  /** Ids and codes only: never message content. */
  log?: (line: string) => void;
  /** Idle connections are closed after this long (default 5 minutes). */
  idleTimeoutMs?: number;
}

export interface MllpBridge {
  readonly port: number;
  close(): Promise<void>;
}

/** Parses an allow-list ("10.0.0.0/8, 127.0.0.1, ::1") into a BlockList; throws naming the bad entry. */
export function allowListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const [address, prefix] = entry.split('/');
    const family = isIP(address ?? '');
    if (!family) throw new Error(`MLLP_ALLOWED_PEERS: not an IP address or CIDR range: ${entry}`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address!, type);
    else {
      const bits = Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) throw new Error(`MLLP_ALLOWED_PEERS: bad prefix length: ${entry}`);
      list.addSubnet(address!, bits, type);
    }
  }
  return list;
}

function peerAllowed(list: BlockList, socket: Socket): boolean {
  const address = socket.remoteAddress;
  if (!address) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return list.check(mapped[1]!, 'ipv4') || list.check(address, 'ipv6');
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

let ackCounter = 0;

/** An ACK made by the bridge itself (the message could not be handed to Slotflow, or was refused). */
export function bridgeAck(message: string, ackCode: AckCode, code: string): string {
  const header = messageHeaderOf(message);
  const condition = ackCode === 'AR' ? Hl7ErrorCondition.UNSUPPORTED_MESSAGE_TYPE : Hl7ErrorCondition.INTERNAL;
  return buildAck({
    ...(header ? { header } : {}),
    ackCode,
    ackControlId: `MLLP${Date.now().toString(36)}${(ackCounter++).toString(36)}`.toUpperCase().slice(0, 20),
    now: DateTime.utc(),
    error: { condition, code, text: ackCode === 'AR' ? 'Message refused by Slotflow' : 'Slotflow is unavailable, retry later' },
  });
}

/** Starts the bridge; resolves once it listens. */
export async function startMllpBridge(options: MllpBridgeOptions): Promise<MllpBridge> {
  const allow = allowListOf(options.allowedPeers);
  const log = options.log ?? (() => undefined);
  const sockets = new Set<Socket>();

  const onConnection = (socket: Socket) => {
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (!peerAllowed(allow, socket)) {
      log(`mllp.refused peer=${peer}`);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // a reset by the peer: the close handler cleans up
    socket.setTimeout(options.idleTimeoutMs ?? 5 * 60_000, () => socket.destroy());
    const decoder = new MllpDecoder(options.maxMessageBytes);
    // One message at a time per connection: MLLP senders wait for the ACK before the next message.
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = decoder.push(chunk);
      } catch (error) {
        if (!(error instanceof FrameTooLargeError)) throw error;
        log(`mllp.too-large peer=${peer} limit=${options.maxMessageBytes}`);
        queue = queue.then(() => new Promise<void>((resolve) => socket.end(frame(bridgeAck('', 'AR', 'HL7.MESSAGE_TOO_LARGE')), () => resolve())));
        return;
      }
      for (const bytes of messages) {
        queue = queue.then(async () => {
          // Like the HTTP route: bytes that are not UTF-8 are read as Latin-1 (MSH-18 8859/1).
          const text = isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
          const ack = await answer(text, options.forward, log, peer);
          if (!socket.destroyed) socket.write(frame(ack));
        });
      }
    });
  };

  const server: Server = options.tls ? createTlsServer(options.tls, onConnection) : createTcpServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log(`mllp.listening port=${port} tls=${options.tls ? 'on' : 'off'}`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function answer(text: string, forward: ForwardMessage, log: (line: string) => void, peer: string): Promise<string> {
  const control = (messageHeaderOf(text)?.controlId ?? '').slice(0, 40);
  try {
    const ack = await forward(text);
    log(`mllp.forwarded peer=${peer} control=${control} ack=${/\rMSA\|(A[AER])/.exec(ack)?.[1] ?? '?'}`);
    return ack;
  } catch (error) {
    if (error instanceof ForwardRejected) {
      log(`mllp.rejected peer=${peer} control=${control} code=${error.code}`);
      return bridgeAck(text, 'AR', error.code);
    }
    log(`mllp.unavailable peer=${peer} control=${control} error=${error instanceof Error ? error.name : 'unknown'}`);
    return bridgeAck(text, 'AE', 'MLLP.UPSTREAM_UNAVAILABLE');
  }
}
