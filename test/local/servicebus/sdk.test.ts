/**
 * The real @azure/service-bus SDK (and the production publisher adapter) against the local
 * broker over AMQP on loopback. A manual clock drives locks and scheduled messages; it starts at
 * the real time only because the SDK compares lock expiry with Date.now().
 */
import { isServiceBusError, ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { EventType, makeEvent, type SchedulingEvent } from '../../../domain/events';
import { ServiceBusEventPublisher, CLOUDEVENTS_CONTENT_TYPE, createServiceBusClient } from '../../../functions/adapters/servicebus/publisher';
import { LocalServiceBus, SCHEDULING_EVENTS_TOPIC, EHR_INBOUND_QUEUE, type Clock } from '../../../local/servicebus';

class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const START = '2026-03-02T15:00:00.000Z';
const appointment = (appointmentId: string) => ({
  appointmentId,
  slotId: `slot-${appointmentId}`,
  clinicId: 'clinic-1',
  providerId: 'prov-1',
  patientId: 'pat-1',
  appointmentType: 'checkup',
  start: START,
  end: '2026-03-02T15:30:00.000Z',
});
let seq = 0;
function cancelled(appointmentId: string, id = `evt-${++seq}`): SchedulingEvent {
  return makeEvent(
    EventType.appointmentCancelled,
    { ...appointment(appointmentId), reasonCode: 'patient-request', cancelledBy: 'patient', late: false },
    { id, time: '2026-03-01T09:00:00.000Z', subject: appointmentId },
  );
}
function booked(appointmentId: string, id = `evt-${++seq}`): SchedulingEvent {
  return makeEvent(
    EventType.appointmentBooked,
    { ...appointment(appointmentId), status: 'booked', channel: 'api' },
    { id, time: '2026-03-01T09:00:00.000Z', subject: appointmentId },
  );
}
function absence(providerId: string, id = `evt-${++seq}`): SchedulingEvent {
  return makeEvent(
    EventType.providerAbsence,
    { absenceId: `abs-${id}`, providerId, clinicId: 'clinic-1', from: START, to: '2026-03-03T15:00:00.000Z', reasonCode: 'sick' },
    { id, time: '2026-03-01T09:00:00.000Z', subject: providerId },
  );
}

const sub = (name: string) => ({ topic: SCHEDULING_EVENTS_TOPIC, name });
const noRenewal = { maxAutoLockRenewalDurationInMs: 0 };

let bus: LocalServiceBus;
let clock: ManualClock;
let client: ServiceBusClient;
let publisher: ServiceBusEventPublisher;

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  bus = await LocalServiceBus.start({ clock, tickIntervalMs: 0 });
  client = new ServiceBusClient(bus.connectionString);
  publisher = ServiceBusEventPublisher.fromSettings({
    ServiceBusConnection: bus.connectionString,
    SCHEDULING_EVENTS_TOPIC,
    AZURE_CLIENT_ID: undefined,
    ServiceBusConnection__fullyQualifiedNamespace: undefined,
  });
});
afterEach(() => {
  bus.admin.purgeAll();
});
afterAll(async () => {
  await publisher.close();
  await client.close();
  await bus.close();
});

async function receiveAll(
  receiver: { receiveMessages(n: number, o: { maxWaitTimeInMs: number }): Promise<ServiceBusReceivedMessage[]> },
  n: number,
): Promise<ServiceBusReceivedMessage[]> {
  const out: ServiceBusReceivedMessage[] = [];
  while (out.length < n) {
    const got = await receiver.receiveMessages(n - out.length, { maxWaitTimeInMs: 1000 });
    if (!got.length) break;
    out.push(...got);
  }
  return out;
}

test('publisher adapter: one structured CloudEvent per message, received through an SDK session receiver', async () => {
  const event = cancelled('appt-1');
  await publisher.publish([event]);
  const receiver = await client.acceptSession(sub('backfill').topic, 'backfill', 'appt-1', noRenewal);
  const [m] = await receiveAll(receiver, 1);
  expect(m).toBeDefined();
  expect(m!.body).toEqual(event);
  expect(m!.messageId).toBe(event.id);
  expect(m!.sessionId).toBe('appt-1');
  expect(m!.subject).toBe(EventType.appointmentCancelled);
  expect(m!.contentType).toBe(CLOUDEVENTS_CONTENT_TYPE);
  expect(m!.applicationProperties).toEqual({ type: event.type, source: event.source, subject: 'appt-1', specversion: '1.0' });
  expect(m!.deliveryCount).toBe(0); // AMQP delivery-count: Service Bus DeliveryCount 1 arrives as 0 in the JS SDK
  expect(m!.enqueuedTimeUtc?.getTime()).toBe(clock.now());
  await receiver.completeMessage(m!);
  await receiver.close();
  expect(bus.admin.counts().find((c) => c.entityPath.endsWith('/backfill'))).toMatchObject({ active: 0, locked: 0 });
});

test('subscription filters route each type to its subscriptions only', async () => {
  await publisher.publish([cancelled('appt-2'), booked('appt-3'), absence('prov-9')]);
  const byPath = Object.fromEntries(bus.admin.counts().map((c) => [c.entityPath.split('/').pop(), c.active]));
  expect(byPath).toEqual({ backfill: 1, eligibility: 2, reminders: 2, 'provider-absence': 1, 'ehr-outbound': 2, 'no-show-follow-up': 0, 'ehr-inbound': 0 });
  const receiver = await client.acceptNextSession(SCHEDULING_EVENTS_TOPIC, 'provider-absence', noRenewal);
  expect(receiver.sessionId).toBe('prov-9');
  const [m] = await receiveAll(receiver, 1);
  expect((m!.body as SchedulingEvent).type).toBe(EventType.providerAbsence);
  await receiver.completeMessage(m!);
  await receiver.close();
});

test('duplicate MessageId within the window is dropped; after the window it is accepted again', async () => {
  const event = booked('appt-4', 'evt-dup-1');
  await publisher.publish([event]);
  await publisher.publish([event]);
  expect(bus.admin.peek({ topicName: SCHEDULING_EVENTS_TOPIC, subscriptionName: 'eligibility' })).toHaveLength(1);
  clock.advance(10 * 60_000 + 1);
  await publisher.publish([event]);
  expect(bus.admin.peek({ topicName: SCHEDULING_EVENTS_TOPIC, subscriptionName: 'eligibility' })).toHaveLength(2);
});

test('per-session ordering and an exclusive session lock', async () => {
  const events = [booked('appt-A'), booked('appt-B'), cancelled('appt-A'), booked('appt-B'), cancelled('appt-A')];
  await publisher.publish(events);
  const a = await client.acceptSession(SCHEDULING_EVENTS_TOPIC, 'ehr-outbound', 'appt-A', noRenewal);
  await expect(client.acceptSession(SCHEDULING_EVENTS_TOPIC, 'ehr-outbound', 'appt-A', noRenewal)).rejects.toMatchObject({
    code: 'SessionCannotBeLocked',
  });
  const got = await receiveAll(a, 3);
  expect(got.map((m) => m.messageId)).toEqual([events[0]!.id, events[2]!.id, events[4]!.id]);
  for (const m of got) await a.completeMessage(m);
  const next = await client.acceptNextSession(SCHEDULING_EVENTS_TOPIC, 'ehr-outbound', noRenewal);
  expect(next.sessionId).toBe('appt-B');
  const b = await receiveAll(next, 2);
  expect(b.map((m) => m.messageId)).toEqual([events[1]!.id, events[3]!.id]);
  await next.close();
  await a.close();
});

test('abandon -> redelivered with the delivery count incremented; session lock renewal extends the lock', async () => {
  await publisher.publish([cancelled('appt-5')]);
  const receiver = await client.acceptSession(SCHEDULING_EVENTS_TOPIC, 'backfill', 'appt-5', noRenewal);
  const [first] = await receiveAll(receiver, 1);
  await receiver.abandonMessage(first!);
  const [again] = await receiveAll(receiver, 1);
  expect(again!.messageId).toBe(first!.messageId);
  expect(again!.deliveryCount).toBe(1); // Service Bus DeliveryCount 2
  const before = receiver.sessionLockedUntilUtc!.getTime();
  clock.advance(30_000);
  const renewed = await receiver.renewSessionLock();
  expect(renewed.getTime()).toBe(before + 30_000);
  clock.advance(45_000); // past the first lock, inside the renewed one
  bus.tick();
  await receiver.completeMessage(again!);
  await receiver.close();
});

test('max delivery count -> dead-letter with MaxDeliveryCountExceeded, readable through the SDK', async () => {
  const sender = client.createSender(EHR_INBOUND_QUEUE);
  await sender.sendMessages({ body: { hl7: 'x' }, messageId: 'poison-1' });
  const receiver = client.createReceiver(EHR_INBOUND_QUEUE);
  for (let i = 0; i < 10; i++) {
    const [m] = await receiveAll(receiver, 1);
    expect(m!.deliveryCount).toBe(i);
    await receiver.abandonMessage(m!);
  }
  expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toHaveLength(0);
  const dlq = client.createReceiver(EHR_INBOUND_QUEUE, { subQueueType: 'deadLetter' });
  const [dead] = await receiveAll(dlq, 1);
  expect(dead!.messageId).toBe('poison-1');
  expect(dead!.deadLetterReason).toBe('MaxDeliveryCountExceeded');
  expect(dead!.deadLetterErrorDescription).toMatch(/10 delivery attempts/);
  await dlq.completeMessage(dead!);
  await Promise.all([dlq.close(), receiver.close(), sender.close()]);
});

test('explicit dead-letter keeps reason and description; defer and receiveDeferredMessages', async () => {
  const sender = client.createSender(EHR_INBOUND_QUEUE);
  await sender.sendMessages([
    { body: 'bad', messageId: 'dl-1' },
    { body: 'later', messageId: 'defer-1' },
  ]);
  const receiver = client.createReceiver(EHR_INBOUND_QUEUE);
  const [bad, later] = await receiveAll(receiver, 2);
  await receiver.deadLetterMessage(bad!, { deadLetterReason: 'EVENT.INVALID', deadLetterErrorDescription: 'data.slotId is required' });
  await receiver.deferMessage(later!);
  const [deferred] = await receiver.receiveDeferredMessages(later!.sequenceNumber!);
  expect(deferred!.messageId).toBe('defer-1');
  await receiver.completeMessage(deferred!);
  expect(bus.admin.deadLetters({ queueName: EHR_INBOUND_QUEUE })).toMatchObject([
    { messageId: 'dl-1', deadLetterReason: 'EVENT.INVALID', deadLetterErrorDescription: 'data.slotId is required' },
  ]);
  const dlq = client.createReceiver(EHR_INBOUND_QUEUE, { subQueueType: 'deadLetter', receiveMode: 'receiveAndDelete' });
  const [dead] = await receiveAll(dlq, 1);
  expect([dead!.deadLetterReason, dead!.deadLetterErrorDescription]).toEqual(['EVENT.INVALID', 'data.slotId is required']);
  expect(bus.admin.counts().find((c) => c.entityPath === EHR_INBOUND_QUEUE)).toMatchObject({ active: 0, locked: 0, deferred: 0, deadLettered: 0 });
  await Promise.all([dlq.close(), receiver.close(), sender.close()]);
});

test('scheduled enqueue: delivered at its time and not before; cancel removes it', async () => {
  const sender = client.createSender(EHR_INBOUND_QUEUE);
  const at = new Date(clock.now() + 60_000);
  await sender.sendMessages({ body: 'via-annotation', messageId: 'sched-1', scheduledEnqueueTimeUtc: at });
  const [seq2] = await sender.scheduleMessages({ body: 'via-management', messageId: 'sched-2' }, at);
  const [seq3] = await sender.scheduleMessages({ body: 'cancelled', messageId: 'sched-3' }, at);
  await sender.cancelScheduledMessages(seq3!);
  expect(seq2!.toNumber()).toBeGreaterThan(0);
  const receiver = client.createReceiver(EHR_INBOUND_QUEUE);
  clock.advance(59_999);
  bus.tick();
  expect(await receiver.receiveMessages(5, { maxWaitTimeInMs: 200 })).toHaveLength(0);
  clock.advance(1);
  bus.tick();
  const got = await receiveAll(receiver, 2);
  expect(got.map((m) => m.messageId).sort()).toEqual(['sched-1', 'sched-2']);
  expect(got.every((m) => m.enqueuedTimeUtc?.getTime() === at.getTime())).toBe(true);
  expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toHaveLength(0);
  for (const m of got) await receiver.completeMessage(m);
  await Promise.all([receiver.close(), sender.close()]);
});

test('peek-lock: renewMessageLock keeps the message; an expired lock is lost and the message redelivered', async () => {
  const sender = client.createSender(EHR_INBOUND_QUEUE);
  await sender.sendMessages([
    { body: 1, messageId: 'lock-1' },
    { body: 2, messageId: 'lock-2' },
  ]);
  const receiver = client.createReceiver(EHR_INBOUND_QUEUE);
  const [kept, lost] = await receiveAll(receiver, 2);
  clock.advance(40_000);
  const until = await receiver.renewMessageLock(kept!);
  expect(until.getTime()).toBe(clock.now() + 60_000);
  clock.advance(40_000); // 80 s after receipt: lock-2 expired, lock-1 renewed
  bus.tick();
  await receiver.completeMessage(kept!);
  const failure = await receiver.completeMessage(lost!).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isServiceBusError(failure) && failure.code).toBe('MessageLockLost');
  const [redelivered] = await receiveAll(receiver, 1);
  expect([redelivered!.messageId, redelivered!.deliveryCount]).toEqual(['lock-2', 1]);
  await receiver.completeMessage(redelivered!);
  await Promise.all([receiver.close(), sender.close()]);
});

test('peek, receive-and-delete and a streaming subscribe()', async () => {
  const sender = client.createSender(EHR_INBOUND_QUEUE);
  await sender.sendMessages([1, 2, 3].map((n) => ({ body: { n }, messageId: `s-${n}` })));
  const receiver = client.createReceiver(EHR_INBOUND_QUEUE, { receiveMode: 'receiveAndDelete' });
  const peeked = await receiver.peekMessages(10);
  expect(peeked.map((m) => m.messageId)).toEqual(['s-1', 's-2', 's-3']);
  const [one] = await receiveAll(receiver, 1);
  expect(one!.body).toEqual({ n: 1 });
  await receiver.close();
  const streaming = client.createReceiver(EHR_INBOUND_QUEUE);
  const seen: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    const sub = streaming.subscribe(
      {
        processMessage: async (m) => {
          seen.push(m.body);
          if (seen.length === 2) void sub.close().then(resolve);
        },
        processError: async (args) => reject(args.error),
      },
      { autoCompleteMessages: true, maxConcurrentCalls: 1 },
    );
  });
  expect(seen).toEqual([{ n: 2 }, { n: 3 }]);
  await Promise.all([streaming.close(), sender.close()]);
});

test('acceptNextSession waits for a session (or the client timeout); a closed client releases its session; a message without MessageId gets one', async () => {
  const impatient = new ServiceBusClient(bus.connectionString, { retryOptions: { timeoutInMs: 400, maxRetries: 0 } });
  const none = await impatient.acceptNextSession(SCHEDULING_EVENTS_TOPIC, 'reminders', noRenewal).then(
    () => undefined,
    (e: unknown) => e,
  );
  await impatient.close();
  expect(isServiceBusError(none) && none.code).toBe('ServiceTimeout');
  const waiting = client.acceptNextSession(SCHEDULING_EVENTS_TOPIC, 'reminders', noRenewal);
  await new Promise((r) => setTimeout(r, 100));
  await publisher.publish([booked('appt-late')]);
  const late = await waiting;
  expect(late.sessionId).toBe('appt-late');
  await late.close();
  const other = new ServiceBusClient(bus.connectionString);
  await other.acceptSession(SCHEDULING_EVENTS_TOPIC, 'reminders', 'appt-held', noRenewal);
  await other.close();
  const again = await client.acceptSession(SCHEDULING_EVENTS_TOPIC, 'reminders', 'appt-held', noRenewal);
  expect(again.sessionId).toBe('appt-held');
  await again.close();
  const sender = client.createSender(EHR_INBOUND_QUEUE);
  await sender.sendMessages({ body: 'anonymous' });
  const receiver = client.createReceiver(EHR_INBOUND_QUEUE);
  const [m] = await receiveAll(receiver, 1);
  expect(m!.messageId).toMatch(/^[0-9a-f]{32}$/);
  await receiver.completeMessage(m!);
  await Promise.all([receiver.close(), sender.close()]);
});

test('publisher splits large publishes into several batches, keeps per-session order, and refuses an oversized event', async () => {
  const padding = 'x'.repeat(1500);
  const events = Array.from({ length: 400 }, (_, i) => {
    const e = booked(`appt-big-${i % 4}`);
    return { ...e, data: { ...e.data, channel: 'api' }, source: `/slotflow/scheduling#${padding}` } as SchedulingEvent;
  });
  await publisher.publish(events); // ~1.7 KB each: more than one 256 KB batch
  const peeked = bus.admin.peek({ topicName: SCHEDULING_EVENTS_TOPIC, subscriptionName: 'eligibility' });
  expect(peeked).toHaveLength(400);
  for (let s = 0; s < 4; s++) {
    const ids = peeked.filter((m) => m.sessionId === `appt-big-${s}`).map((m) => m.messageId);
    expect(ids).toEqual(events.filter((e) => e.subject === `appt-big-${s}`).map((e) => e.id));
  }
  const huge = { ...booked('appt-huge'), source: `/slotflow/${'y'.repeat(300 * 1024)}` } as SchedulingEvent;
  await expect(publisher.publish([huge])).rejects.toThrow(/larger than the maximum/);
});

test('session state round-trips; TTL shows as expiresAtUtc', async () => {
  await publisher.publish([booked('appt-state')]);
  const receiver = await client.acceptSession(SCHEDULING_EVENTS_TOPIC, 'eligibility', 'appt-state', noRenewal);
  expect(await receiver.getSessionState()).toBeFalsy();
  await receiver.setSessionState({ step: 2 });
  expect(await receiver.getSessionState()).toEqual({ step: 2 });
  await receiver.close();
  const sender = client.createSender(EHR_INBOUND_QUEUE);
  await sender.sendMessages({ body: 'ttl', messageId: 'ttl-1', timeToLive: 5_000 });
  const q = client.createReceiver(EHR_INBOUND_QUEUE);
  const [m] = await receiveAll(q, 1);
  expect(m!.expiresAtUtc?.getTime()).toBe(clock.now() + 5_000);
  await q.completeMessage(m!);
  await Promise.all([q.close(), sender.close()]);
});

test('client from settings: connection string locally, namespace with managed identity in Azure, neither is an error', async () => {
  const local = createServiceBusClient({ ServiceBusConnection: bus.connectionString });
  expect(local.fullyQualifiedNamespace).toBe('127.0.0.1');
  await local.close();
  const azure = createServiceBusClient({
    ServiceBusConnection__fullyQualifiedNamespace: 'sb-slotflow.servicebus.windows.net',
    AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
  });
  expect(azure.fullyQualifiedNamespace).toBe('sb-slotflow.servicebus.windows.net');
  await azure.close(); // never connected: no network
  expect(() => createServiceBusClient({})).toThrow(/fullyQualifiedNamespace/);
});

test('an unknown entity is MessagingEntityNotFound for senders and receivers', async () => {
  const strict = new ServiceBusClient(bus.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 2000 } });
  const codeOf = (e: unknown) => (isServiceBusError(e) ? e.code : String(e));
  await expect(strict.createReceiver('no-such-queue').receiveMessages(1, { maxWaitTimeInMs: 500 }).catch(codeOf)).resolves.toBe('MessagingEntityNotFound');
  await expect(strict.createSender('no-such-topic').sendMessages({ body: 1 }).catch(codeOf)).resolves.toBe('MessagingEntityNotFound');
  await strict.close();
});
