/**
 * AMQP 1.0 front of the local broker, speaking the dialect `@azure/service-bus` 7.x expects:
 * CBS put-token, `$management` request/response, peek-lock and receive-and-delete receivers,
 * session receivers (session filter + `com.microsoft:locked-until-utc`), batched sends
 * (message format 0x80013700) and dispositions (accept, modified, rejected with
 * `com.microsoft:dead-letter`). Plain AMQP on loopback; any token is accepted.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import {
  create_container,
  message as rheaMessage,
  types as rheaTypes,
  type Connection,
  type Container,
  type Delivery,
  type EventContext,
  type Message as AmqpMessage,
  type Receiver,
  type Sender,
} from 'rhea';
import { BrokerError, Condition, type DispositionOutcome, type MessageEntity, type Namespace, type ReceivedMessage, type StoredMessage } from './engine';

/** Message format of a batch: each data section holds one encoded message. */
const BATCH_FORMAT = 0x80013700;
const MAX_MESSAGE_SIZE = 256 * 1024;
const SESSION_FILTER = 'com.microsoft:session-filter';
const LOCKED_UNTIL_PROPERTY = 'com.microsoft:locked-until-utc';
const DEAD_LETTER_CONDITION = 'com.microsoft:dead-letter';
const TIMEOUT_PROPERTY = 'com.microsoft:timeout';
const TICKS_AT_EPOCH = 621355968000000000n;

interface LinkInternals {
  local: { attach: { properties?: unknown; max_message_size?: number } };
  remote: { attach?: { source?: { address?: string; filter?: Record<string, unknown> }; target?: { address?: string }; properties?: unknown } };
  state: { local_open: boolean; open_requests: number };
  _draining?: boolean;
}
const internals = (link: Sender | Receiver): LinkInternals => link as unknown as LinkInternals;

/** rhea answers an attach as soon as the handler returns; this takes the answer back until `open()`. */
function holdAttach(link: Sender): void {
  const state = internals(link).state;
  state.local_open = false;
  state.open_requests = Math.max(0, state.open_requests - 1);
}

/** Lock token bytes as Service Bus puts them in a delivery tag (.NET GUID byte order). */
export function lockTokenToDeliveryTag(lockToken: string): Buffer {
  const b = Buffer.from(lockToken.replace(/-/g, ''), 'hex');
  return Buffer.from([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)]);
}

function uuidToString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function uuidToBuffer(u: string): Buffer {
  return Buffer.from(u.replace(/-/g, ''), 'hex');
}

function lockTokenOf(v: unknown): string {
  if (Buffer.isBuffer(v)) return uuidToString(v);
  if (typeof v === 'string') return v;
  throw new BrokerError(Condition.invalidField, 'Invalid lock token.');
}

function longOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v) && v.length === 8) return Number(v.readBigInt64BE(0));
  throw new BrokerError(Condition.invalidField, 'Invalid sequence number.');
}

function ticksOf(ms: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(ms) * 10000n + TICKS_AT_EPOCH);
  return b;
}

function asArray(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v === undefined || v === null ? [] : [v];
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Buffer.isBuffer(v) ? (v as Record<string, unknown>) : {};
}

/** The message as a receiver sees it: broker annotations added, AMQP delivery-count = DeliveryCount - 1. */
export function toWireMessage(entity: MessageEntity, stored: StoredMessage, lockedUntil?: number): AmqpMessage {
  const annotations: Record<string, unknown> = { ...asRecord(stored.amqp.message_annotations) };
  annotations['x-opt-sequence-number'] = rheaTypes.wrap_long(stored.sequenceNumber);
  annotations['x-opt-enqueued-time'] = new Date(stored.enqueuedAt);
  if (lockedUntil !== undefined) annotations['x-opt-locked-until'] = new Date(lockedUntil);
  if (stored.state === 'deferred') annotations['x-opt-message-state'] = 1;
  if (entity.isDeadLetterQueue) annotations['x-opt-deadletter-source'] = entity.path.replace(/\/\$DeadLetterQueue$/i, '');
  const wire: AmqpMessage = { ...stored.amqp, message_annotations: annotations, delivery_count: Math.max(0, stored.deliveries - 1) };
  if (stored.expiresAt !== undefined) wire.ttl = stored.expiresAt - stored.enqueuedAt;
  return wire;
}

function decodeIncoming(delivery: Delivery, message: AmqpMessage | Buffer): AmqpMessage[] {
  if (delivery.format !== BATCH_FORMAT) return [message as AmqpMessage];
  // rhea hands over a non-zero format undecoded: an envelope whose data sections are the messages.
  const envelope = Buffer.isBuffer(message) ? (rheaMessage.decode(message) as unknown as AmqpMessage) : message;
  const body = envelope.body as { typecode?: number; content?: unknown; multiple?: boolean } | undefined;
  const sections = body?.multiple ? asArray(body.content) : [body?.content];
  return sections.filter(Buffer.isBuffer).map((b) => rheaMessage.decode(b) as unknown as AmqpMessage);
}

type OutcomeFactory = (fields?: unknown) => { described(): unknown };
const outcomes = rheaMessage as unknown as { accepted: OutcomeFactory; rejected: OutcomeFactory; modified: OutcomeFactory };

function errorState(condition: string, description: string): unknown {
  return outcomes.rejected({ error: { condition, description } }).described();
}

/** Answers sent after the journal wait: the client's link or connection may be gone by then. */
function settleQuietly(fn: () => void): void {
  try {
    fn();
  } catch {
    /* the client went away; it sends again or the message is redelivered */
  }
}

/** The settled state echoed to the client: its own outcome, without an error. */
function settledState(kind: DispositionOutcome['kind']): unknown {
  if (kind === 'complete') return outcomes.accepted().described();
  if (kind === 'deadLetter') return outcomes.rejected({}).described();
  return outcomes.modified({ undeliverable_here: kind === 'defer' }).described();
}

/** A broker-side sender: delivers an entity's messages to one client receiver link. */
class DeliveringLink {
  private readonly lockTokens = new Map<number, string>();
  private unsent: Delivery[] = [];
  private closed = false;
  private readonly onAvailable = () => this.pump();

  constructor(
    readonly owner: object,
    readonly sender: Sender,
    readonly entity: MessageEntity,
    readonly mode: 'peekLock' | 'receiveAndDelete',
    readonly sessionId: string | undefined,
  ) {
    entity.events.on('available', this.onAvailable);
    for (const outcome of ['accepted', 'rejected', 'modified', 'released'] as const) {
      sender.on(outcome, (ctx: EventContext) => this.onDisposition(outcome, ctx));
    }
  }

  private credit(): number {
    return (this.sender as unknown as { credit: number }).credit;
  }

  private nextToWrite(): number {
    return (this.sender.session as unknown as { outgoing: { next_pending_delivery: number } }).outgoing.next_pending_delivery;
  }

  private unwritten(): number {
    const next = this.nextToWrite();
    this.unsent = this.unsent.filter((d) => d.id >= next);
    return this.unsent.length;
  }

  pump(): void {
    if (this.closed) return;
    try {
      // rhea spends credit only when it writes a transfer, so count deliveries not yet written.
      while (this.sender.sendable() && this.credit() > this.unwritten()) {
        const next = this.entity.receiveNext(this.owner, { sessionId: this.sessionId, mode: this.mode });
        if (!next) break;
        this.deliver(next);
      }
    } catch (err) {
      // pump runs from rhea events and from the entity's 'available' signal (a microtask): a throw
      // here would end the host process. The link is closed with the error instead; the SDK reattaches.
      const e = err instanceof BrokerError ? err : new BrokerError('amqp:internal-error', String(err));
      this.close({ condition: e.condition, description: e.message });
      return;
    }
    if (internals(this.sender)._draining) this.sender.set_drained(true);
  }

  private deliver(next: ReceivedMessage): void {
    const wire = toWireMessage(this.entity, next.stored, next.lockedUntil);
    const tag = next.lockToken ? lockTokenToDeliveryTag(next.lockToken) : uuidToBuffer(randomUUID());
    const delivery = this.sender.send(wire, tag);
    this.unsent.push(delivery);
    this.unsent = this.unsent.filter((d) => d.id >= this.nextToWrite());
    if (next.lockToken) this.lockTokens.set(delivery.id, next.lockToken);
  }

  private onDisposition(kind: 'accepted' | 'rejected' | 'modified' | 'released', ctx: EventContext): void {
    const delivery = ctx.delivery;
    if (!delivery) return;
    const lockToken = this.lockTokens.get(delivery.id);
    if (lockToken === undefined) return;
    this.lockTokens.delete(delivery.id);
    const state = asRecord(delivery.remote_state);
    let outcome: DispositionOutcome;
    if (kind === 'accepted') outcome = { kind: 'complete' };
    else if (kind === 'rejected') {
      const error = asRecord(state.error);
      const info = { ...asRecord(error.info) };
      const reason = info.DeadLetterReason as string | undefined;
      const description = info.DeadLetterErrorDescription as string | undefined;
      delete info.DeadLetterReason;
      delete info.DeadLetterErrorDescription;
      outcome =
        error.condition === DEAD_LETTER_CONDITION || error.condition === undefined
          ? { kind: 'deadLetter', reason, description, propertiesToModify: info }
          : { kind: 'abandon' };
    } else if (kind === 'modified' || state.undeliverable_here !== undefined) {
      const props = asRecord(state.message_annotations);
      outcome = state.undeliverable_here ? { kind: 'defer', propertiesToModify: props } : { kind: 'abandon', propertiesToModify: props };
    } else {
      outcome = { kind: 'abandon' };
    }
    try {
      this.entity.settle(lockToken, outcome);
      // Answered once the settlement is on disk (durable broker): a completed message stays completed.
      const durable = this.entity.whenDurable();
      if (durable) {
        durable.then(
          () => settleQuietly(() => delivery.update(true, settledState(outcome.kind))),
          (err: Error) => settleQuietly(() => delivery.update(true, errorState('amqp:internal-error', err.message))),
        );
      } else delivery.update(true, settledState(outcome.kind));
    } catch (err) {
      const e = err instanceof BrokerError ? err : new BrokerError('amqp:internal-error', String(err));
      delivery.update(true, errorState(e.condition, e.message));
    }
  }

  close(error?: { condition: string; description: string }): void {
    this.detach();
    try {
      this.sender.close(error);
    } catch {
      /* connection already gone */
    }
  }

  /** Forget the link: a session receiver's session is released; peek-locked messages keep their locks until expiry. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    this.entity.events.off('available', this.onAvailable);
    if (this.sessionId !== undefined) this.entity.releaseSession(this.owner, this.sessionId);
  }
}

interface ConnectionState {
  replyLinks: Map<string, Sender>;
  delivering: Map<Sender, DeliveringLink>;
  /** Attaches held until a session frees up: cancel functions. */
  pendingAttach: Map<Sender, () => void>;
}

export interface AmqpFrontOptions {
  host?: string;
  port?: number;
}

/** Listens on loopback and maps AMQP links onto a Namespace. */
export class AmqpFront {
  private readonly container: Container;
  private server?: Server;
  private readonly connections = new Map<Connection, ConnectionState>();
  private readonly sockets = new Set<Socket>();

  constructor(private readonly ns: Namespace) {
    this.container = create_container({ id: 'slotflow-local-servicebus', autoaccept: false });
    this.container.on('connection_open', (ctx: EventContext) => this.state(ctx.connection));
    this.container.on('sender_open', (ctx: EventContext) => this.guard(ctx, () => this.onSenderOpen(ctx)));
    this.container.on('receiver_open', (ctx: EventContext) => this.guard(ctx, () => this.onReceiverOpen(ctx)));
    this.container.on('message', (ctx: EventContext) => this.onMessage(ctx));
    this.container.on('sendable', (ctx: EventContext) => this.delivering(ctx)?.pump());
    this.container.on('sender_draining', (ctx: EventContext) => this.delivering(ctx)?.pump());
    this.container.on('sender_close', (ctx: EventContext) => this.onSenderClose(ctx));
    this.container.on('connection_close', (ctx: EventContext) => this.dropConnection(ctx.connection));
    this.container.on('disconnected', (ctx: EventContext) => this.dropConnection(ctx.connection));
    // Link and connection errors are the client's business; never crash the host over them.
    this.container.on('error', () => undefined);
  }

  async listen(opts: AmqpFrontOptions = {}): Promise<number> {
    const server = this.container.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 }) as Server;
    this.server = server;
    server.on('connection', (socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const state of this.connections.values()) {
      for (const link of state.delivering.values()) link.detach();
      for (const cancel of [...state.pendingAttach.values()]) cancel();
    }
    for (const conn of this.connections.keys()) {
      try {
        conn.close();
      } catch {
        /* already closed */
      }
    }
    this.connections.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private state(conn: Connection): ConnectionState {
    let s = this.connections.get(conn);
    if (!s) {
      s = { replyLinks: new Map(), delivering: new Map(), pendingAttach: new Map() };
      this.connections.set(conn, s);
    }
    return s;
  }

  private dropConnection(conn: Connection): void {
    const s = this.connections.get(conn);
    if (!s) return;
    for (const link of s.delivering.values()) link.detach();
    for (const cancel of [...s.pendingAttach.values()]) cancel();
    this.connections.delete(conn);
  }

  private guard(ctx: EventContext, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const e = err instanceof BrokerError ? err : new BrokerError('amqp:internal-error', String(err));
      const link = ctx.sender ?? ctx.receiver;
      link?.close({ condition: e.condition, description: e.message });
    }
  }

  private delivering(ctx: EventContext): DeliveringLink | undefined {
    return ctx.sender ? this.connections.get(ctx.connection)?.delivering.get(ctx.sender) : undefined;
  }

  /** Client receiver attached: a reply link ($cbs, $management) or a message receiver on an entity. */
  private onSenderOpen(ctx: EventContext): void {
    const sender = ctx.sender!;
    const remote = internals(sender).remote.attach ?? {};
    const address = remote.source?.address ?? '';
    sender.set_source({ address, ...(remote.source?.filter ? { filter: remote.source.filter } : {}) } as never);
    if (remote.target) sender.set_target({ address: remote.target.address } as never);
    const state = this.state(ctx.connection);
    if (address === '$cbs' || address.toLowerCase().endsWith('/$management')) {
      state.replyLinks.set(sender.name, sender);
      return;
    }
    const entity = this.ns.entity(address);
    const mode = sender.snd_settle_mode === 1 ? 'receiveAndDelete' : 'peekLock';
    if (!entity.settings.requiresSession) {
      state.delivering.set(sender, new DeliveringLink({}, sender, entity, mode, undefined));
      return;
    }
    const filter = remote.source?.filter;
    const requested = filter && SESSION_FILTER in filter ? filter[SESSION_FILTER] : undefined;
    const owner = {};
    let accepted: { sessionId: string; lockedUntil: number } | undefined;
    try {
      accepted = entity.acceptSession(owner, typeof requested === 'string' ? requested : undefined);
    } catch (err) {
      sender.set_source({ address } as never);
      throw err;
    }
    if (accepted) {
      this.openSessionLink(state, sender, entity, mode, owner, accepted);
      return;
    }
    // Like Service Bus, hold the attach of "next available session" until one frees up or the
    // client's timeout (link property com.microsoft:timeout) passes.
    const requestedTimeout = Number(asRecord(remote.properties)[TIMEOUT_PROPERTY] ?? 60_000);
    const waitMs = Math.max(0, Math.min(Number.isFinite(requestedTimeout) ? requestedTimeout : 60_000, 65_000));
    holdAttach(sender);
    const cancel = () => {
      clearTimeout(timer);
      entity.events.off('available', onAvailable);
      state.pendingAttach.delete(sender);
    };
    const onAvailable = () => {
      const next = entity.acceptSession(owner);
      if (!next) return;
      cancel();
      this.openSessionLink(state, sender, entity, mode, owner, next);
      sender.open();
    };
    const timer = setTimeout(() => {
      cancel();
      sender.set_source({ address } as never);
      sender.open();
      sender.close({ condition: Condition.timeout, description: 'No unlocked session became available before the timeout.' });
    }, waitMs);
    timer.unref();
    entity.events.on('available', onAvailable);
    state.pendingAttach.set(sender, cancel);
  }

  private openSessionLink(
    state: ConnectionState,
    sender: Sender,
    entity: MessageEntity,
    mode: 'peekLock' | 'receiveAndDelete',
    owner: object,
    accepted: { sessionId: string; lockedUntil: number },
  ): void {
    const address = internals(sender).remote.attach?.source?.address ?? entity.path;
    sender.set_source({ address, filter: { [SESSION_FILTER]: accepted.sessionId } } as never);
    internals(sender).local.attach.properties = { [LOCKED_UNTIL_PROPERTY]: rheaTypes.wrap_long(ticksOf(accepted.lockedUntil)) };
    state.delivering.set(sender, new DeliveringLink(owner, sender, entity, mode, accepted.sessionId));
  }

  /** Client sender attached: $cbs, $management, or a queue/topic. */
  private onReceiverOpen(ctx: EventContext): void {
    const receiver = ctx.receiver!;
    const remote = internals(receiver).remote.attach ?? {};
    const address = remote.target?.address ?? '';
    receiver.set_target({ address } as never);
    if (remote.source) receiver.set_source({ address: remote.source.address } as never);
    internals(receiver).local.attach.max_message_size = MAX_MESSAGE_SIZE;
    if (address === '$cbs' || address.toLowerCase().endsWith('/$management')) return;
    if (!this.ns.isSendable(address)) throw new BrokerError(Condition.entityNotFound, `The messaging entity '${address}' could not be found.`);
  }

  private onSenderClose(ctx: EventContext): void {
    const s = this.connections.get(ctx.connection);
    if (!s || !ctx.sender) return;
    s.delivering.get(ctx.sender)?.detach();
    s.delivering.delete(ctx.sender);
    s.pendingAttach.get(ctx.sender)?.();
    s.replyLinks.delete(ctx.sender.name);
  }

  private onMessage(ctx: EventContext): void {
    const receiver = ctx.receiver!;
    const delivery = ctx.delivery!;
    const message = (ctx.message ?? (ctx as unknown as { message: Buffer }).message) as AmqpMessage | Buffer;
    const address = internals(receiver).remote.attach?.target?.address ?? '';
    try {
      if (address === '$cbs') {
        this.reply(ctx, message as AmqpMessage, 202, 'Accepted');
      } else if (address.toLowerCase().endsWith('/$management')) {
        this.manage(ctx, address.slice(0, -'/$management'.length), message as AmqpMessage);
      } else {
        this.ns.send(address, decodeIncoming(delivery, message));
        // Accepted once the message is on disk (durable broker): what the sender was told it sent survives a crash.
        const durable = this.ns.whenDurable();
        if (durable) {
          durable.then(
            () => settleQuietly(() => delivery.accept()),
            (err: Error) => settleQuietly(() => delivery.reject({ condition: 'amqp:internal-error', description: err.message })),
          );
          return;
        }
      }
      delivery.accept();
    } catch (err) {
      const e = err instanceof BrokerError ? err : new BrokerError('amqp:internal-error', String(err));
      delivery.reject({ condition: e.condition, description: e.message });
    }
  }

  private reply(ctx: EventContext, request: AmqpMessage, status: number, description: string, body?: unknown, errorCondition?: string): void {
    const replyTo = String(request.reply_to ?? '');
    const link = this.connections.get(ctx.connection)?.replyLinks.get(replyTo);
    if (!link) return;
    const props: Record<string, unknown> = { 'status-code': status, 'status-description': description };
    if (errorCondition) props['error-condition'] = errorCondition;
    link.send({ correlation_id: request.message_id, to: replyTo, application_properties: props, body: body ?? {} });
  }

  private manage(ctx: EventContext, entityPath: string, request: AmqpMessage): void {
    const op = String(asRecord(request.application_properties).operation ?? '');
    const body = asRecord(request.body);
    try {
      const result = this.operation(op, entityPath, body, ctx);
      const answer = () => (result === 'no-content' ? this.reply(ctx, request, 204, 'No Content') : this.reply(ctx, request, 200, 'OK', result));
      // Schedules, cancellations and dispositions are answered once on disk (durable broker).
      const durable = this.ns.whenDurable();
      if (durable)
        durable.then(
          () => settleQuietly(answer),
          (err: Error) => settleQuietly(() => this.reply(ctx, request, 500, err.message, undefined, 'amqp:internal-error')),
        );
      else answer();
    } catch (err) {
      const e = err instanceof BrokerError ? err : new BrokerError('amqp:internal-error', String(err));
      const status =
        e.condition === Condition.entityNotFound || e.condition === Condition.messageNotFound ? 404 : e.condition === Condition.notImplemented ? 501 : 410;
      this.reply(ctx, request, e.condition === Condition.invalidField ? 400 : status, e.message, undefined, e.condition);
    }
  }

  private operation(op: string, entityPath: string, body: Record<string, unknown>, ctx: EventContext): Record<string, unknown> | 'no-content' {
    const sessionId = typeof body['session-id'] === 'string' ? body['session-id'] : undefined;
    switch (op) {
      case 'com.microsoft:renew-lock': {
        const entity = this.ns.entity(entityPath);
        const expirations = asArray(body['lock-tokens']).map((t) => entity.renewLock(lockTokenOf(t)));
        return { expirations: rheaTypes.wrap_array(expirations, 0x83, undefined) };
      }
      case 'com.microsoft:update-disposition': {
        const entity = this.ns.entity(entityPath);
        const status = String(body['disposition-status']);
        const props = asRecord(body['properties-to-modify']);
        const outcome: DispositionOutcome =
          status === 'completed'
            ? { kind: 'complete' }
            : status === 'abandoned'
              ? { kind: 'abandon', propertiesToModify: props }
              : status === 'defered'
                ? { kind: 'defer', propertiesToModify: props }
                : {
                    kind: 'deadLetter',
                    reason: body['deadletter-reason'] as string | undefined,
                    description: body['deadletter-description'] as string | undefined,
                    propertiesToModify: props,
                  };
        for (const t of asArray(body['lock-tokens'])) entity.settle(lockTokenOf(t), outcome);
        return {};
      }
      case 'com.microsoft:schedule-message': {
        const messages = asArray(body.messages).map((entry) => {
          const amqp = rheaMessage.decode(asRecord(entry).message as Buffer) as unknown as AmqpMessage;
          const at = asRecord(amqp.message_annotations)['x-opt-scheduled-enqueue-time'];
          return { amqp, enqueueAt: at instanceof Date ? at.getTime() : typeof at === 'number' ? at : this.ns.clock.now() };
        });
        const seqs = this.ns.schedule(entityPath, messages);
        return { 'sequence-numbers': rheaTypes.wrap_array(seqs, 0x81, undefined) };
      }
      case 'com.microsoft:cancel-scheduled-message':
        this.ns.cancelScheduled(entityPath, asArray(body['sequence-numbers']).map(longOf));
        return {};
      case 'com.microsoft:peek-message': {
        const entity = this.ns.entity(entityPath);
        const found = entity.peek(longOf(body['from-sequence-number']), Number(body['message-count'] ?? 1), sessionId);
        if (!found.length) return 'no-content';
        return { messages: found.map((m) => ({ message: rheaMessage.encode(toWireMessage(entity, m, m.lockedUntil)) })) };
      }
      case 'com.microsoft:receive-by-sequence-number': {
        const entity = this.ns.entity(entityPath);
        const mode = Number(body['receiver-settle-mode'] ?? 1) === 0 ? 'receiveAndDelete' : 'peekLock';
        const owner = this.ownerFor(ctx, entityPath, sessionId);
        const got = entity.receiveDeferred(owner, asArray(body['sequence-numbers']).map(longOf), mode, sessionId);
        return {
          messages: got.map((r) => ({
            message: rheaMessage.encode(toWireMessage(entity, r.stored, r.lockedUntil)),
            'lock-token': rheaTypes.wrap_uuid(uuidToBuffer(r.lockToken ?? randomUUID())),
          })),
        };
      }
      case 'com.microsoft:renew-session-lock': {
        const entity = this.ns.entity(entityPath);
        return { expiration: new Date(entity.renewSessionLock(this.ownerFor(ctx, entityPath, sessionId), sessionId!)) };
      }
      case 'com.microsoft:get-session-state': {
        const state = this.ns.entity(entityPath).getSessionState(sessionId!);
        return state ? { 'session-state': state } : {};
      }
      case 'com.microsoft:set-session-state': {
        const entity = this.ns.entity(entityPath);
        const state = body['session-state'];
        entity.setSessionState(this.ownerFor(ctx, entityPath, sessionId), sessionId!, Buffer.isBuffer(state) ? state : undefined);
        return {};
      }
      default:
        throw new BrokerError(Condition.notImplemented, `The operation '${op}' is not supported by the local broker.`);
    }
  }

  /** The owner of a session lock on this connection (management calls carry no link), or undefined. */
  private ownerFor(ctx: EventContext, entityPath: string, sessionId: string | undefined): object {
    const s = this.connections.get(ctx.connection);
    if (s && sessionId !== undefined) {
      for (const link of s.delivering.values()) {
        if (link.sessionId === sessionId && link.entity.path.toLowerCase() === entityPath.toLowerCase()) return link.owner;
      }
    }
    return {};
  }
}
