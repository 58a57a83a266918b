/**
 * The in-process consumer the local functions host uses for Service Bus triggers, fed by the
 * production publisher adapter over AMQP: completion, retry with delivery count, dead-letter after
 * max delivery or on DeadLetterError, per-session ordering with exclusive session locks, scheduled
 * enqueue, TTL and lock expiry.
 */
import { EventType, makeEvent, type SchedulingEvent } from '../../../domain/events';
import { DeadLetterError } from '../../../functions/adapters/servicebus/errors';
import { ServiceBusEventPublisher } from '../../../functions/adapters/servicebus/publisher';
import {
  LocalServiceBus,
  SCHEDULING_EVENTS_TOPIC,
  serviceBusTriggerMetadata,
  slotflowTopology,
  type Clock,
  type LocalServiceBusMessage,
  type Topology,
} from '../../../local/servicebus';

class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const backfill = { topicName: SCHEDULING_EVENTS_TOPIC, subscriptionName: 'backfill' } as const;
let n = 0;
function cancelled(appointmentId: string): SchedulingEvent {
  return makeEvent(
    EventType.appointmentCancelled,
    {
      appointmentId,
      slotId: `slot-${appointmentId}`,
      clinicId: 'clinic-1',
      providerId: 'prov-1',
      patientId: 'pat-1',
      appointmentType: 'checkup',
      start: '2026-03-02T15:00:00.000Z',
      end: '2026-03-02T15:30:00.000Z',
      reasonCode: 'patient-request',
      cancelledBy: 'patient',
      late: false,
    },
    { id: `evt-${++n}`, time: '2026-03-01T09:00:00.000Z', subject: appointmentId },
  );
}
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('with the Slotflow topology and a manual clock', () => {
  let bus: LocalServiceBus;
  let clock: ManualClock;
  let publisher: ServiceBusEventPublisher;

  beforeAll(async () => {
    clock = new ManualClock(T0);
    bus = await LocalServiceBus.start({ clock, tickIntervalMs: 0 });
    publisher = ServiceBusEventPublisher.fromSettings({ ServiceBusConnection: bus.connectionString, SCHEDULING_EVENTS_TOPIC });
  });
  afterEach(() => bus.admin.purgeAll());
  afterAll(async () => {
    await publisher.close();
    await bus.close();
  });

  test('a resolved handler completes the message; the message carries what triggerMetadata needs', async () => {
    const event = cancelled('appt-1');
    await publisher.publish([event]);
    const seen: LocalServiceBusMessage[] = [];
    const consumer = bus.consume(backfill, (m) => void seen.push(m));
    await consumer.whenIdle();
    await consumer.close();
    expect(seen).toHaveLength(1);
    const m = seen[0]!;
    expect(m.body).toEqual(event);
    expect(m).toMatchObject({ messageId: event.id, sessionId: 'appt-1', deliveryCount: 1, contentType: 'application/cloudevents+json', subject: event.type });
    expect(m.applicationProperties).toMatchObject({ type: event.type, subject: 'appt-1' });
    expect(m.enqueuedTimeUtc.getTime()).toBe(T0);
    expect(serviceBusTriggerMetadata(m)).toMatchObject({
      messageId: event.id,
      deliveryCount: 1,
      sessionId: 'appt-1',
      enqueuedTimeUtc: '2026-03-01T09:00:00.000Z',
    });
    expect(bus.admin.counts().find((c) => c.entityPath.endsWith('/backfill'))).toMatchObject({ active: 0, locked: 0, deadLettered: 0 });
  });

  test('a throwing handler: redelivered with deliveryCount 2, ... then dead-lettered after 10 with MaxDeliveryCountExceeded', async () => {
    await publisher.publish([cancelled('appt-2')]);
    const counts: number[] = [];
    const consumer = bus.consume(backfill, (m) => {
      counts.push(m.deliveryCount);
      throw new Error('transient');
    });
    await consumer.whenIdle();
    await consumer.close();
    expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(bus.admin.deadLetters(backfill)).toMatchObject([{ sessionId: 'appt-2', deadLetterReason: 'MaxDeliveryCountExceeded', deliveryCount: 10 }]);
  });

  test('DeadLetterError dead-letters at once with its reason and description; message.deadLetter() too', async () => {
    const [bad, alsoBad, good] = [cancelled('appt-3'), cancelled('appt-4'), cancelled('appt-5')];
    await publisher.publish([bad, alsoBad, good]);
    const calls: string[] = [];
    const consumer = bus.consume(backfill, (m) => {
      calls.push(m.messageId!);
      if (m.messageId === bad.id) throw new DeadLetterError('EVENT.INVALID', 'data.slotId: required');
      if (m.messageId === alsoBad.id) m.deadLetter('EVENT.UNKNOWN_TYPE', 'type not handled here');
    });
    await consumer.whenIdle();
    await consumer.close();
    expect(calls.sort()).toEqual([bad.id, alsoBad.id, good.id].sort());
    const dead = bus.admin.deadLetters(backfill).sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    expect(dead.map((d) => [d.messageId, d.deadLetterReason, d.deadLetterErrorDescription, d.deliveryCount])).toEqual([
      [bad.id, 'EVENT.INVALID', 'data.slotId: required', 1],
      [alsoBad.id, 'EVENT.UNKNOWN_TYPE', 'type not handled here', 1],
    ]);
  });

  test('per-session ordering: one message at a time per session, sessions in parallel, exclusive across consumers', async () => {
    const sessions = ['appt-a', 'appt-b', 'appt-c'];
    const events = Array.from({ length: 15 }, (_, i) => cancelled(sessions[i % 3]!));
    await publisher.publish(events);
    const order = new Map<string, string[]>();
    const running = new Map<string, number>();
    let overlapInSession = false;
    let maxParallel = 0;
    let parallel = 0;
    const handler = async (m: LocalServiceBusMessage) => {
      const s = m.sessionId!;
      running.set(s, (running.get(s) ?? 0) + 1);
      if (running.get(s)! > 1) overlapInSession = true;
      maxParallel = Math.max(maxParallel, ++parallel);
      await delay(2 + (m.sequenceNumber % 3));
      order.set(s, [...(order.get(s) ?? []), m.messageId!]);
      parallel--;
      running.set(s, running.get(s)! - 1);
    };
    const one = bus.consume(backfill, handler, { maxConcurrentSessions: 2 });
    const two = bus.consume(backfill, handler, { maxConcurrentSessions: 2 });
    await one.whenIdle();
    await two.whenIdle();
    await Promise.all([one.close(), two.close()]);
    expect(overlapInSession).toBe(false);
    expect(maxParallel).toBeGreaterThan(1);
    for (const s of sessions) expect(order.get(s)).toEqual(events.filter((e) => e.subject === s).map((e) => e.id));
  });

  test('a failing message keeps its session blocked behind it: later messages of the session wait', async () => {
    const [first, second] = [cancelled('appt-z'), cancelled('appt-z')];
    await publisher.publish([first, second]);
    const seen: [string, number][] = [];
    const consumer = bus.consume(backfill, (m) => {
      seen.push([m.messageId!, m.deliveryCount]);
      if (m.messageId === first.id && m.deliveryCount < 3) throw new Error('retry me');
    });
    await consumer.whenIdle();
    await consumer.close();
    expect(seen).toEqual([
      [first.id, 1],
      [first.id, 2],
      [first.id, 3],
      [second.id, 1],
    ]);
  });

  test('scheduled enqueue is delivered at its time, not before; TTL-expired messages are never delivered', async () => {
    const seen: string[] = [];
    const consumer = bus.consume({ queueName: 'ehr-inbound' }, (m) => void seen.push(m.messageId!));
    // Synchronous up to the first await: the consumer first pumps after the clock has moved on.
    bus.send('ehr-inbound', [
      { body: { x: 1 }, messageId: 'later', scheduledEnqueueTimeUtc: new Date(T0 + 3_600_000) },
      { body: { x: 2 }, messageId: 'expired', timeToLiveMs: 1_000 },
    ]);
    clock.advance(1_000);
    bus.tick();
    await consumer.whenIdle();
    expect(seen).toEqual([]);
    expect(bus.admin.scheduledCount('ehr-inbound')).toBe(1);
    clock.advance(3_600_000 - 1_001);
    bus.tick();
    await consumer.whenIdle();
    expect(seen).toEqual([]);
    clock.advance(1);
    bus.tick();
    await consumer.whenIdle();
    await consumer.close();
    expect(seen).toEqual(['later']);
    expect(bus.admin.scheduledCount()).toBe(0);
  });

  test('an expired session lock frees the session for another receiver; the stale holder can no longer settle', async () => {
    await publisher.publish([cancelled('appt-lock')]);
    const entity = bus.namespace.entity('scheduling-events/Subscriptions/backfill');
    const [a, b] = [{}, {}];
    expect(entity.acceptSession(a)?.sessionId).toBe('appt-lock');
    const first = entity.receiveNext(a, { sessionId: 'appt-lock', mode: 'peekLock' })!;
    expect(entity.acceptSession(b)).toBeUndefined();
    clock.advance(60_000);
    bus.tick();
    expect(entity.acceptSession(b)?.sessionId).toBe('appt-lock');
    const second = entity.receiveNext(b, { sessionId: 'appt-lock', mode: 'peekLock' })!;
    expect([second.stored.amqp.message_id, second.stored.deliveries]).toEqual([first.stored.amqp.message_id, 2]);
    expect(() => entity.settle(first.lockToken!, { kind: 'complete' })).toThrow(/session lock/i);
    entity.settle(second.lockToken!, { kind: 'complete' });
    entity.releaseSession(b, 'appt-lock');
    expect(entity.counts()).toMatchObject({ active: 0, locked: 0, lockedSessions: 0 });
  });

  test('subscription filters are the documented SQL rules', () => {
    const subs = slotflowTopology.topics[0]!.subscriptions;
    expect(Object.fromEntries(subs.map((s) => [s.name, s.filter?.sqlFilter]))).toEqual({
      backfill:
        "type IN ('health.scheduling.appointment.cancelled.v1', 'health.scheduling.appointment.noshow.v1', 'health.scheduling.slot.released.v1', 'health.scheduling.waitlist.offer.expired.v1')",
      eligibility:
        "type IN ('health.scheduling.appointment.booked.v1', 'health.scheduling.appointment.rescheduled.v1', 'health.scheduling.appointment.cancelled.v1')",
      reminders:
        "type IN ('health.scheduling.appointment.booked.v1', 'health.scheduling.appointment.rescheduled.v1', 'health.scheduling.appointment.cancelled.v1')",
      'provider-absence': "type IN ('health.scheduling.provider.absence.v1')",
      'ehr-outbound': "type LIKE 'health.scheduling.appointment.%'",
      'no-show-follow-up': "type IN ('health.scheduling.appointment.noshow.v1')",
    });
    expect(subs.every((s) => s.requiresSession && s.maxDeliveryCount === 10)).toBe(true);
  });
});

describe('with real timers and a short lock', () => {
  const topology: Topology = {
    topics: [],
    queues: [
      { name: 'work', requiresSession: false, maxDeliveryCount: 3, lockDurationMs: 150, requiresDuplicateDetection: true, duplicateDetectionWindowMs: 60_000 },
    ],
  };
  let bus: LocalServiceBus;
  beforeEach(async () => {
    bus = await LocalServiceBus.start({ topology, tickIntervalMs: 10 });
  });
  afterEach(() => bus.close());

  test('a handler outliving its lock without renewal: the lock is lost and the message redelivered', async () => {
    bus.send('work', { body: 'slow', messageId: 'w-1' });
    const deliveries: number[] = [];
    const consumer = bus.consume(
      { queueName: 'work' },
      async (m) => {
        deliveries.push(m.deliveryCount);
        if (m.deliveryCount === 1) await delay(400);
      },
      { autoRenewLocks: false },
    );
    await delay(450);
    await consumer.whenIdle();
    await consumer.close();
    expect(deliveries).toEqual([1, 2]);
    expect(bus.admin.counts()[0]).toMatchObject({ active: 0, locked: 0, deadLettered: 0 });
  });

  test('with lock renewal (the default) a slow handler completes on its first delivery', async () => {
    bus.send('work', { body: 'slow', messageId: 'w-2' });
    const deliveries: number[] = [];
    const consumer = bus.consume({ queueName: 'work' }, async (m) => {
      deliveries.push(m.deliveryCount);
      await delay(400);
    });
    await delay(50);
    await consumer.whenIdle();
    await consumer.close();
    expect(deliveries).toEqual([1]);
  });

  test('maxConcurrentCalls bounds parallel handlers on a queue', async () => {
    bus.send(
      'work',
      Array.from({ length: 12 }, (_, i) => ({ body: i, messageId: `c-${i}` })),
    );
    let parallel = 0;
    let max = 0;
    const consumer = bus.consume(
      { queueName: 'work' },
      async () => {
        max = Math.max(max, ++parallel);
        await delay(5);
        parallel--;
      },
      { maxConcurrentCalls: 3 },
    );
    await consumer.whenIdle();
    await consumer.close();
    expect(max).toBe(3);
    expect(bus.admin.counts()[0]).toMatchObject({ active: 0, locked: 0 });
  });
});
