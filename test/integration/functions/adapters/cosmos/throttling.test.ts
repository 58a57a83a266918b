import { bookAppointment, cancelAppointment } from '../../../../../domain';
import { EventType } from '../../../../../domain/events';
import { TransientError } from '../../../../../domain/ports';
import {
  cosmosContext,
  type CosmosTestContext,
  type CosmosTestServer,
  databaseName,
  seedClinic,
  slotAt,
  startCosmosTestServer,
} from '../../../../support/cosmos';

/**
 * Throttling and brief unavailability, injected by a proxy in front of the local server (which
 * never throttles by itself): 429 with x-ms-retry-after-ms is retried by the SDK, 503 by the
 * adapter; every booking and cancellation lands exactly once and every event goes out once.
 */

let env: CosmosTestServer;
let ctx: CosmosTestContext;
const staff = { kind: 'staff' as const, principalId: 'frontdesk-1' };

beforeAll(async () => {
  env = await startCosmosTestServer();
  ctx = await cosmosContext(env.proxy.endpoint, databaseName('throttling'), { retry: { attempts: 6, baseDelayMs: 5, maxDelayMs: 50 } });
  await seedClinic(ctx.services, 40);
});
afterAll(async () => {
  await env.stop();
});

async function bookAndCancel(day: string, first: number, count: number): Promise<void> {
  const times = ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30', '12:00', '12:30', '13:00', '13:30'];
  const booked = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      bookAppointment(ctx.deps, {
        slotId: slotAt(i % 2 ? 'dr-a' : 'dr-b', `${day}T${times[Math.floor(i / 2)]}`),
        patientId: `pat-${first + i}`,
        appointmentType: 'consult',
        channel: 'api',
        actor: staff,
      }),
    ),
  );
  await Promise.all(
    booked.filter((_, i) => i % 4 === 0).map((a) => cancelAppointment(ctx.deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'r' })),
  );
  const stored = await ctx.services.appointments.list({ clinicId: 'c1', from: `${day}T00:00:00-05:00`, to: `${day}T23:00:00-05:00`, limit: 100 });
  expect(stored.items).toHaveLength(count);
  expect(stored.items.filter((a) => a.status === 'cancelled')).toHaveLength(Math.ceil(count / 4));
  const ids = new Set(booked.map((a) => a.appointmentId));
  const events = ctx.publisher.published.filter((e) => ids.has(e.subject));
  expect(events.filter((e) => e.type === EventType.appointmentBooked)).toHaveLength(count);
  expect(events.filter((e) => e.type === EventType.appointmentCancelled)).toHaveLength(Math.ceil(count / 4));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  expect(await ctx.services.relayPending()).toBe(0);
}

describe('Cosmos throttling and unavailability', () => {
  it('429 with x-ms-retry-after-ms on every third request: all bookings and cancellations land once', async () => {
    env.proxy.inject({ status: 429, every: 3, limit: 10_000, retryAfterMs: 5 });
    try {
      await bookAndCancel('2026-03-03', 1, 20);
      expect(env.proxy.counts().injected).toBeGreaterThan(20);
    } finally {
      env.proxy.inject(undefined);
    }
  });

  it('503 on every fourth request: retried by the adapter, nothing lost', async () => {
    env.proxy.inject({ status: 503, every: 4, limit: 10_000, retryAfterMs: 1 });
    try {
      await bookAndCancel('2026-03-04', 21, 20);
      expect(env.proxy.counts().injected).toBeGreaterThan(15);
    } finally {
      env.proxy.inject(undefined);
    }
  });

  it('an outage longer than the retry budget surfaces as TransientError and leaves the slot bookable', async () => {
    const slotId = slotAt('dr-a', '2026-03-05T09:00');
    await ctx.services.patients.get('pat-1'); // warm the SDK's metadata caches
    env.proxy.inject({ status: 503, every: 1, limit: 10_000, retryAfterMs: 1 });
    let caught: unknown;
    try {
      await bookAppointment(ctx.deps, { slotId, patientId: 'pat-1', appointmentType: 'consult', channel: 'api', actor: staff });
    } catch (e) {
      caught = e;
    } finally {
      env.proxy.inject(undefined);
    }
    expect(caught).toBeInstanceOf(TransientError);
    await expect(bookAppointment(ctx.deps, { slotId, patientId: 'pat-2', appointmentType: 'consult', channel: 'api', actor: staff })).resolves.toMatchObject({
      status: 'booked',
    });
  });
});
