/**
 * Crash safety, bounded form of `npm run bench:chaos` (testkit/chaos.ts, bench/chaos.ts): mixed traffic against the
 * real app on the built host, SIGKILL at random points (at a random moment, within 50 ms after a
 * 201 booking, within 50 ms after a 200 cancellation), restart on the same data folder, and check
 * everything acknowledged: bookings, cancellations, waitlist entries, Idempotency-Key and MessageSid
 * replays, reminder workflows that agree with the appointments, no double booking.
 */
import { runChaos } from '../../testkit/chaos';
import { startLocalHost } from '../support/localhost';

jest.setTimeout(180_000);

it('loses nothing acknowledged across 10 hard kills, and workflows agree with the state', async () => {
  const lines: string[] = [];
  const report = await runChaos({
    kills: 10,
    workers: 6,
    seed: process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined,
    log: (l) => lines.push(l),
    startHost: async (dataDir, env) => {
      const host = await startLocalHost({ dataDir, env });
      return { baseUrl: host.baseUrl, kill: () => host.kill(), stop: () => host.stop(), output: () => host.output() };
    },
  });
  const problems = [...report.lost, ...report.divergent, ...report.replayMismatches, ...report.doubleBooked];
  if (problems.length) console.error(`seed ${report.seed}\n${lines.join('\n')}\n${problems.slice(0, 30).join('\n')}`);
  expect(report.kills).toBe(10);
  expect(report.acknowledged.bookings).toBeGreaterThan(0);
  expect(report.acknowledged.cancellations).toBeGreaterThan(0);
  expect(problems).toEqual([]);
});
