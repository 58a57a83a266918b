/**
 * Durable local Service Bus: what the broker accepted (sent through the real SDK, scheduled,
 * dead-lettered) is in its data folder the moment the sender is told; a crash copy of the folder
 * restores it with at-least-once semantics: a message completed by a consumer is gone, one whose
 * handler was still running comes back with a higher delivery count; duplicate detection and
 * session state survive.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { LocalServiceBus, type LocalServiceBusMessage, type Topology } from '../../../local/servicebus';

const topology: Topology = {
  topics: [
    {
      name: 'events',
      requiresDuplicateDetection: true,
      duplicateDetectionWindowMs: 10 * 60_000,
      subscriptions: [
        { name: 'all', requiresSession: false, maxDeliveryCount: 3, lockDurationMs: 60_000 },
        { name: 'sessions', requiresSession: true, maxDeliveryCount: 3, lockDurationMs: 60_000 },
      ],
    },
  ],
  queues: [
    { name: 'work', requiresSession: false, maxDeliveryCount: 3, lockDurationMs: 60_000, requiresDuplicateDetection: false, duplicateDetectionWindowMs: 0 },
  ],
};

const dirs: string[] = [];
const buses: LocalServiceBus[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'slotflow-sb-journal-'));
  dirs.push(d);
  return d;
};
const crashCopy = (dir: string) => {
  const copy = tempDir();
  cpSync(dir, copy, { recursive: true });
  return copy;
};
async function start(dir: string): Promise<LocalServiceBus> {
  const bus = await LocalServiceBus.start({ topology, dataDir: dir });
  buses.push(bus);
  return bus;
}
const ids = (bus: LocalServiceBus, source: Parameters<LocalServiceBus['admin']['peek']>[0]) => bus.admin.peek(source).map((m) => m.messageId);

afterAll(async () => {
  for (const b of buses) await b.close().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('durable local Service Bus', () => {
  it('a message the SDK was told it sent, or scheduled, is in the folder at that moment', async () => {
    const dir = tempDir();
    const bus = await start(dir);
    const client = new ServiceBusClient(bus.connectionString);
    try {
      const sender = client.createSender('events');
      await sender.sendMessages({ body: { n: 1 }, messageId: 'm1', sessionId: 's1' });
      await sender.sendMessages([
        { body: { n: 2 }, messageId: 'm2', sessionId: 's1' },
        { body: { n: 3 }, messageId: 'm3', sessionId: 's2' },
      ]);
      const [seq] = await sender.scheduleMessages({ body: { n: 4 }, messageId: 'm4', sessionId: 's3' }, new Date(Date.now() + 3_600_000));
      const [cancelled] = await sender.scheduleMessages({ body: { n: 5 }, messageId: 'm5' }, new Date(Date.now() + 3_600_000));
      await sender.cancelScheduledMessages(cancelled!);
      const restored = await start(crashCopy(dir));
      expect(ids(restored, { topicName: 'events', subscriptionName: 'all' })).toEqual(['m1', 'm2', 'm3']);
      expect(ids(restored, { topicName: 'events', subscriptionName: 'sessions' })).toEqual(['m1', 'm2', 'm3']);
      expect(restored.admin.scheduledCount('events')).toBe(1);
      expect(seq).toBeDefined();
      expect(restored.admin.peek({ topicName: 'events', subscriptionName: 'all' })[0]!.body).toEqual({ n: 1 });
      // Duplicate detection remembers m1 across the restart.
      restored.send('events', { body: { again: true }, messageId: 'm1' });
      expect(ids(restored, { topicName: 'events', subscriptionName: 'all' })).toEqual(['m1', 'm2', 'm3']);
    } finally {
      await client.close();
    }
  });

  it('completed messages stay completed; one in a running handler is redelivered; dead letters keep their reason', async () => {
    const dir = tempDir();
    const bus = await start(dir);
    for (const id of ['done', 'poison', 'running']) bus.send('work', { body: { id }, messageId: id });
    await bus.whenDurable();
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    const consumer = bus.consume(
      { queueName: 'work' },
      async (m: LocalServiceBusMessage) => {
        seen.push(m.messageId!);
        if (m.messageId === 'poison') m.deadLetter('BadInput', 'no such clinic');
        if (m.messageId === 'running') await stuck;
      },
      { maxConcurrentCalls: 4 },
    );
    const deadline = Date.now() + 10_000;
    while (bus.admin.counts().find((c) => c.entityPath === 'work')!.locked !== 1 || bus.admin.deadLetters({ queueName: 'work' }).length !== 1) {
      if (Date.now() > deadline) throw new Error('consumer did not settle done and poison');
      await new Promise((r) => setTimeout(r, 5));
    }
    await bus.whenDurable();
    const restored = await start(crashCopy(dir));
    release();
    await consumer.close();
    const left = restored.admin.peek({ queueName: 'work' });
    expect(left.map((m) => [m.messageId, m.deliveryCount])).toEqual([['running', 1]]);
    expect(restored.admin.deadLetters({ queueName: 'work' }).map((d) => [d.messageId, d.deadLetterReason, d.deadLetterErrorDescription])).toEqual([
      ['poison', 'BadInput', 'no such clinic'],
    ]);
    const again: number[] = [];
    const c2 = restored.consume({ queueName: 'work' }, (m) => void again.push(m.deliveryCount));
    await c2.whenIdle();
    await c2.close();
    expect(again).toEqual([2]);
  });

  it('a clean stop compacts the folder into one snapshot that restores the same state', async () => {
    const dir = tempDir();
    const bus = await LocalServiceBus.start({ topology, dataDir: dir });
    for (let i = 0; i < 20; i++) bus.send('events', { body: { i }, messageId: `e${i}`, sessionId: `s${i % 2}` });
    await bus.close();
    const restored = await start(dir);
    expect(ids(restored, { topicName: 'events', subscriptionName: 'all' })).toHaveLength(20);
    expect(ids(restored, { topicName: 'events', subscriptionName: 'sessions' })).toHaveLength(20);
  });
});
