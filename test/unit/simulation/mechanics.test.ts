/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { DateTime } from 'luxon';
import { bookAppointment, cancelAppointment, offerPolicySchema, rescheduleAppointment } from '../../../domain';
import { addMoveUpEntry } from '../../../domain/waitlist/move-up';
import { capturedFunctions } from '../../../local/host/core';
import {
  BACKFILL_ORCHESTRATOR,
  backfillInstanceId,
  PROVIDER_ABSENCE_ORCHESTRATOR,
  REMINDERS_ORCHESTRATOR,
  remindersInstanceId,
} from '../../../orchestrations/names';
import { loadSimulatedApp, SIMULATED_ORCHESTRATORS } from '../../../simulation/app';
import { computeMetrics, type PolicyMetrics } from '../../../simulation/metrics';
import { policySetups } from '../../../simulation/simulate';
import { SimulatedWorld, type PolicySetup } from '../../../simulation/world';
import { loadGlpkForJest, quietScenario } from './support';

/**
 * Each policy's mechanics on a one-provider clinic with hand-computed outcomes. Monday 2026-03-02
 * (New York): P1 holds Tuesday 10:00, P3 (urgent) holds Friday 09:00 and asks to move earlier, W
 * waits without an appointment. P1 cancels on Monday at 12:00 (or 18:00). Replies take exactly 10
 * minutes; every patient says YES (or nobody answers), so each run's outcome follows from the rules.
 */

const ZONE = 'America/New_York';
const local = (iso: string) => DateTime.fromISO(iso, { zone: ZONE });
const TUE_10 = local('2026-03-03T10:00');
const FRI_09 = local('2026-03-06T09:00');
const staff = { kind: 'staff' as const, principalId: 'test' };

beforeAll(() => loadGlpkForJest(__filename));

const backfill = (offerPolicy: Record<string, unknown>, label = 'test'): PolicySetup => ({
  key: 'slotflow',
  label,
  kind: 'backfill',
  offerPolicy: offerPolicySchema.parse({ quietStart: '21:00', quietEnd: '08:00', ...offerPolicy }),
});

async function runTiny(
  setup: PolicySetup,
  offer: { acceptance: number; neverReply: number },
  cancelAt = local('2026-03-02T12:00'),
): Promise<{ metrics: PolicyMetrics; world: SimulatedWorld }> {
  const scenario = quietScenario(offer);
  const world = new SimulatedWorld(scenario, setup, { registry: loadSimulatedApp(), seed: 1, weeks: 1 });
  await world.setUp();
  const s = world.services;
  for (const id of ['p1', 'p3', 'pw']) await world.newPatient(id, 'c1', id === 'p3');
  const slot = (at: DateTime) => `dr.${at.toUTC().toFormat("yyyyLLdd'T'HHmm")}`;
  const p1 = await bookAppointment(s, { slotId: slot(TUE_10), patientId: 'p1', appointmentType: 'visit', channel: 'api', actor: staff });
  const p3 = await bookAppointment(s, { slotId: slot(FRI_09), patientId: 'p3', appointmentType: 'visit', channel: 'api', actor: staff });
  const t0 = s.clock.now().toUTC().toISO()!;
  await s.waitlist.add({
    waitlistEntryId: 'wl-pw',
    clinicId: 'c1',
    patientId: 'pw',
    appointmentType: 'visit',
    providerIds: [],
    urgency: 'routine',
    timeOfDay: 'any',
    status: 'active',
    createdAt: t0,
    updatedAt: t0,
    version: 1,
  });
  await addMoveUpEntry(s, { appointmentId: p3.appointmentId, urgency: 'urgent' });
  world.runtime.at(cancelAt.toMillis(), async () => {
    await cancelAppointment(s, { appointmentId: p1.appointmentId, actor: staff, reasonCode: 'patient-request' });
  });
  const result = await world.finish();
  const metrics = computeMetrics({ key: setup.key, label: setup.label, ...result });
  return { metrics, world };
}

describe('simulator mechanics (hand-computed)', () => {
  it('Slotflow: the urgent move-up takes the cancelled slot, the slot it frees cascades to the waitlist', async () => {
    const { metrics } = await runTiny(backfill({ batchSize: 1, maxRounds: 3, cascadeDepth: 5 }), { acceptance: 1, neverReply: 0 });
    expect(metrics.freedByReason).toEqual({ cancelled: 1, rescheduled: 1 });
    expect(metrics.refilledBeforeStart).toBe(2);
    expect(metrics.refillRate).toBe(1);
    expect(metrics.moveUps).toBe(1);
    // Friday 09:00 to Tuesday 10:00: 2 days 23 hours.
    expect(metrics.daysSoonerMedian).toBe(3);
    expect(metrics.offers).toBe(2);
    expect(metrics.offersAccepted).toBe(2);
    // Each fill: the bus hop (1 s), the offer, the 10-minute reply: 10 min 1 s = 0.17 h.
    expect(metrics.timeToFillHours).toEqual({ median: 0.17, p90: 0.17 });
    expect(metrics.backfillOutcomes).toEqual({ booked: 2 });
  });

  it('cascade depth 0: move-ups are left out, the patient without an appointment takes the slot and nothing cascades', async () => {
    const { metrics } = await runTiny(backfill({ batchSize: 1, maxRounds: 3, cascadeDepth: 0 }), { acceptance: 1, neverReply: 0 });
    expect(metrics.freedByReason).toEqual({ cancelled: 1 });
    expect(metrics.refilledBeforeStart).toBe(1);
    expect(metrics.moveUps).toBe(0);
    expect(metrics.offers).toBe(1);
  });

  it('one batch with a fixed expiry and nobody answering: one offer, expired, the workflow ends at max rounds', async () => {
    const { metrics } = await runTiny(
      backfill({ batchSize: 1, maxRounds: 1, expiryFraction: 1, minExpiryMinutes: 60, maxExpiryMinutes: 60, cascadeDepth: 1 }),
      { acceptance: 0, neverReply: 1 },
    );
    expect(metrics.offers).toBe(1);
    expect(metrics.refilledBeforeStart).toBe(0);
    expect(metrics.backfillOutcomes).toEqual({ 'max-rounds': 1 });
  });

  it('rounds: with nobody answering, each round offers the next candidate until none is left', async () => {
    const { metrics } = await runTiny(backfill({ batchSize: 1, maxRounds: 3, cascadeDepth: 5 }), { acceptance: 0, neverReply: 1 });
    expect(metrics.offers).toBe(2);
    expect(metrics.refilledBeforeStart).toBe(0);
    expect(metrics.backfillOutcomes).toEqual({ 'no-candidates': 1 });
  });

  const manual = (minLeadMinutes = 120): PolicySetup => {
    const setup = policySetups(
      quietScenario({ acceptance: 1, neverReply: 0 }, { manualCallback: { enabled: true, answerProbability: 1, callMinutes: 5, minLeadMinutes } }),
    ).find((p) => p.key === 'manualCallback')!;
    expect(setup.kind).toBe('manual');
    return setup;
  };

  it('manual callback: staff call the first patient on the list during office hours; a yes is booked when the call ends', async () => {
    const { metrics, world } = await runTiny(manual(), { acceptance: 1, neverReply: 0 });
    expect(metrics.freedByReason).toEqual({ cancelled: 1 });
    expect(metrics.offers).toBe(1); // one call
    expect(metrics.offerSms).toBe(0);
    expect(metrics.refilledBeforeStart).toBe(1);
    expect(metrics.moveUps).toBe(0); // first come, first served: W joined the list before P3's move-up request
    expect(metrics.timeToFillHours.median).toBe(0.08); // the 5-minute call
    const booked = [...(await world.services.appointments.listByPatient('pw', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'))];
    expect(booked.map((a) => [a.start, a.source])).toEqual([['2026-03-03T10:00:00-05:00', 'console']]);
  });

  it('manual callback: a slot freed after hours is worked next morning, and one starting within the lead is left', async () => {
    const { metrics } = await runTiny(manual(), { acceptance: 1, neverReply: 0 }, local('2026-03-02T18:00'));
    expect(metrics.freedSlots).toBe(1);
    // Tuesday 09:00 is the next opening; the slot starts at 10:00, inside the 120-minute lead: no call.
    expect(metrics.offers).toBe(0);
    expect(metrics.refilledBeforeStart).toBe(0);
  });

  it('manual callback: with a 30-minute lead the after-hours slot is called at 09:00 and booked when the call ends', async () => {
    const { metrics } = await runTiny(manual(30), { acceptance: 1, neverReply: 0 }, local('2026-03-02T18:00'));
    expect(metrics.offers).toBe(1);
    expect(metrics.refilledBeforeStart).toBe(1);
    // Monday 18:00 to Tuesday 09:05.
    expect(metrics.timeToFillHours.median).toBe(15.08);
  });
});

describe('reminders inside the simulated period', () => {
  it('a visit whose reminders all fall after the period starts no workflow; a reschedule into reach starts one, and every reminder inside is sent', async () => {
    const scenario = quietScenario({ acceptance: 0, neverReply: 1 });
    scenario.clinics[0]!.reminderHoursBefore = [48];
    const world = new SimulatedWorld(scenario, backfill({ batchSize: 1 }), { registry: loadSimulatedApp(), seed: 1, weeks: 1 });
    await world.setUp();
    const s = world.services;
    for (const id of ['pa', 'pb', 'pc', 'pd']) await world.newPatient(id, 'c1', false);
    const slot = (at: DateTime) => `dr.${at.toUTC().toFormat("yyyyLLdd'T'HHmm")}`;
    const book = (patientId: string, at: string) =>
      bookAppointment(s, { slotId: slot(local(at)), patientId, appointmentType: 'visit', channel: 'api', actor: staff });
    // The period ends Monday 2026-03-09 00:00: a reminder 48 hours before Wednesday 10:00 is after it.
    const inside = await book('pa', '2026-03-05T10:00');
    const beyond = await book('pb', '2026-03-11T10:00');
    const movedIn = await book('pc', '2026-03-13T10:00');
    const cancelled = await book('pd', '2026-03-12T10:00');
    world.runtime.at(local('2026-03-03T08:00').toMillis(), async () => {
      await rescheduleAppointment(s, { appointmentId: movedIn.appointmentId, newSlotId: slot(local('2026-03-06T10:00')), actor: staff, channel: 'api' });
      await rescheduleAppointment(s, { appointmentId: beyond.appointmentId, newSlotId: slot(local('2026-03-10T15:00')), actor: staff, channel: 'api' });
      await cancelAppointment(s, { appointmentId: cancelled.appointmentId, actor: staff, reasonCode: 'patient-request' });
    });
    const result = await world.finish();
    const reminders = (a: { appointmentId: string }) => world.runtime.status(remindersInstanceId(a.appointmentId));
    expect(reminders(inside)).toMatchObject({ runtimeStatus: 'Completed', output: { outcome: 'done', sent: expect.arrayContaining([48]) } });
    expect(reminders(movedIn)).toMatchObject({ runtimeStatus: 'Completed', output: { outcome: 'done', sent: expect.arrayContaining([48]) } });
    // Tuesday 2026-03-10 15:00 less 48 hours is Sunday 15:00, inside: the reschedule into reach started it.
    expect(reminders(beyond)).toMatchObject({ runtimeStatus: 'Completed', output: { outcome: 'done', sent: expect.arrayContaining([48]) } });
    expect(reminders(cancelled)).toBeUndefined();
    const metrics = computeMetrics({ key: 'slotflow', label: 'test', ...result });
    expect(metrics.smsByPurpose.reminder).toBe(
      [inside, movedIn, beyond].map((a) => (reminders(a)!.output as { sent: number[] }).sent.length).reduce((x, y) => x + y),
    );
  });
});

describe('the simulator runs the registered code (no copy)', () => {
  it('runs each orchestration with the handler the app registered in the local host’s registry', async () => {
    const registry = loadSimulatedApp();
    // LocalHost serves capturedFunctions unless given another registry (local/host/host.ts).
    expect(registry).toBe(capturedFunctions);
    expect([...SIMULATED_ORCHESTRATORS].sort()).toEqual([BACKFILL_ORCHESTRATOR, PROVIDER_ABSENCE_ORCHESTRATOR, REMINDERS_ORCHESTRATOR].sort());
    const { world } = await runTiny(backfill({ batchSize: 1, maxRounds: 3 }), { acceptance: 1, neverReply: 0 });
    for (const name of SIMULATED_ORCHESTRATORS) expect(world.runtime.handlerFor(name)).toBe(capturedFunctions.get(name)!.handler);
    const ran = world.runtime.handlerOfInstance(backfillInstanceId(`dr.${TUE_10.toUTC().toFormat("yyyyLLdd'T'HHmm")}`));
    expect(ran).toBe(capturedFunctions.get(BACKFILL_ORCHESTRATOR)!.handler);
    // The event triggers delivered to are the registered Service Bus functions of those subscriptions.
    expect(world.runtime.subscriptionNames.sort()).toEqual(['backfill', 'provider-absence', 'reminders']);
  });
});
