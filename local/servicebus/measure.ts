/**
 * Measures the local Service Bus (not a test): publisher adapter -> broker -> in-process trigger
 * latency, burst throughput to the session consumers, and SDK receive/complete throughput over AMQP.
 * Prints a table (and writes JSON with `--json <file>`). Run: `npm run bench:servicebus`.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { ServiceBusEventPublisher, type PublishableEvent } from '../../functions/adapters/servicebus/publisher';
import { LocalServiceBus, SCHEDULING_EVENTS_TOPIC, EHR_INBOUND_QUEUE } from './index';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

let n = 0;
function event(appointmentId: string): PublishableEvent {
  const id = `bench-${++n}`;
  return {
    specversion: '1.0',
    id,
    source: '/slotflow/scheduling',
    type: 'health.scheduling.appointment.cancelled.v1',
    subject: appointmentId,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: { appointmentId, slotId: `slot-${appointmentId}`, clinicId: 'c1', providerId: 'p1', patientId: 'pt1', appointmentType: 'checkup' },
  };
}

async function main(): Promise<void> {
  const bus = await LocalServiceBus.start();
  const publisher = ServiceBusEventPublisher.fromSettings({ ServiceBusConnection: bus.connectionString, SCHEDULING_EVENTS_TOPIC });
  const results: Record<string, number | string> = {};

  // 1. publish one event through the adapter and time until the backfill trigger runs.
  const waiting = new Map<string, (t: number) => void>();
  const consumer = bus.consume({ topicName: SCHEDULING_EVENTS_TOPIC, subscriptionName: 'backfill' }, (m) => {
    waiting.get(m.messageId!)?.(performance.now());
  });
  await publisher.publish([event('warmup')]);
  const latencies: number[] = [];
  for (let i = 0; i < 300; i++) {
    const e = event(`appt-${i % 20}`);
    const done = new Promise<number>((resolve) => waiting.set(e.id, resolve));
    const t0 = performance.now();
    await publisher.publish([e]);
    latencies.push((await done) - t0);
    waiting.delete(e.id);
  }
  latencies.sort((a, b) => a - b);
  results.publishToTriggerP50Ms = +percentile(latencies, 50).toFixed(2);
  results.publishToTriggerP99Ms = +percentile(latencies, 99).toFixed(2);

  // 2. burst: 5,000 events over 500 sessions, batches of 100, until the backfill trigger saw each one.
  const burst = Array.from({ length: 5000 }, (_, i) => event(`burst-${i % 500}`));
  let seen = 0;
  const allSeen = new Promise<void>((resolve) => {
    const ids = new Set(burst.map((e) => e.id));
    waiting.clear();
    for (const id of ids) waiting.set(id, () => ++seen === ids.size && resolve());
  });
  const tb = performance.now();
  for (let i = 0; i < burst.length; i += 100) await publisher.publish(burst.slice(i, i + 100));
  const publishedMs = performance.now() - tb;
  await allSeen;
  const burstMs = performance.now() - tb;
  results.burstEvents = burst.length;
  results.burstPublishPerSec = Math.round(burst.length / (publishedMs / 1000));
  results.burstEndToEndPerSec = Math.round(burst.length / (burstMs / 1000));
  await consumer.close();
  bus.admin.purgeAll();

  // 3. SDK over AMQP: send 2,000 to the queue in batches, receive 100 at a time and complete each.
  const client = new ServiceBusClient(bus.connectionString);
  const sender = client.createSender(EHR_INBOUND_QUEUE);
  const receiver = client.createReceiver(EHR_INBOUND_QUEUE);
  const count = 2000;
  const ts = performance.now();
  for (let i = 0; i < count; i += 200) {
    const batch = await sender.createMessageBatch();
    for (let j = i; j < i + 200; j++) batch.tryAddMessage({ body: { j }, messageId: `q-${j}` });
    await sender.sendMessages(batch);
  }
  const sentMs = performance.now() - ts;
  let received = 0;
  const tr = performance.now();
  while (received < count) {
    const got = await receiver.receiveMessages(100, { maxWaitTimeInMs: 2000 });
    if (!got.length) break;
    await Promise.all(got.map((m) => receiver.completeMessage(m)));
    received += got.length;
  }
  const receivedMs = performance.now() - tr;
  results.sdkSendPerSec = Math.round(count / (sentMs / 1000));
  results.sdkReceiveCompletePerSec = Math.round(received / (receivedMs / 1000));
  results.sdkReceived = received;

  await Promise.all([receiver.close(), sender.close()]);
  await client.close();
  await publisher.close();
  await bus.close();

  results.node = process.version;
  results.measuredAt = new Date().toISOString();
  console.table(results);
  const at = process.argv.indexOf('--json');
  const out = at > 0 ? process.argv[at + 1] : undefined;
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(results, null, 2));
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
