/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

/**
 * Long waits (orchestrations/timers.ts waitForTimeOrChange): several timer steps of at most
 * MAX_TIMER_STEP_DAYS inside one generation, up to MAX_TIMER_STEPS_PER_GENERATION, then
 * continueAsNew; histories written when a wait took one step per generation still replay.
 */
import { capturedFunctions } from '../../../local/host/core';
import { EventType, HistoryBuilder, type HistoryEvent } from '../../../local/host/durable/history';
import { runEpisode } from '../../../local/host/durable/replay';
import { capturedOrchestrator, simulateOrchestration, type SimulationOptions } from '../../../local/host/durable/simulate';
import { CHECK_ELIGIBILITY_ACTIVITY, ELIGIBILITY_ORCHESTRATOR } from '../../../orchestrations/eligibility';
import { REMINDERS_ORCHESTRATOR, SEND_REMINDER_ACTIVITY } from '../../../orchestrations/reminders';
import { MAX_TIMER_STEP_DAYS, MAX_TIMER_STEPS_PER_GENERATION } from '../../../orchestrations/timers';

const orch = (name: string) => capturedOrchestrator(name, capturedFunctions);
const T0 = '2026-03-02T14:00:00.000Z';
const DAY = 24 * 3600_000;
const plusDays = (days: number, from = T0) => new Date(Date.parse(from) + days * DAY).toISOString();
const timersOf = (history: HistoryEvent[]) => history.filter((e) => e.EventType === EventType.TimerCreated).map((e) => e.FireAt);
const firedOf = (history: HistoryEvent[]) => history.filter((e) => e.EventType === EventType.TimerFired).map((e) => e.TimerId);

/** Visit 22 days after T0 (14:00Z): the 48 h reminder is due 20 days after T0. */
const VISIT_22D = '2026-03-24T10:00:00-04:00';

/** Reminders (48 h and 2 h) for the visit 22 days after T0, every send succeeding, generations followed, with these events. */
const remindVisit22d = (events: SimulationOptions['events'] = []) =>
  simulateOrchestration(
    orch(REMINDERS_ORCHESTRATOR),
    { appointmentId: 'apt-1', start: VISIT_22D, hoursBefore: [48, 2] },
    { start: T0, activities: { [SEND_REMINDER_ACTIVITY]: () => 'sent' }, events, followContinueAsNew: true },
  );

describe('long waits take several timer steps in one generation', () => {
  it('uses the expected constants', () => {
    expect(MAX_TIMER_STEP_DAYS).toBe(5);
    expect(MAX_TIMER_STEPS_PER_GENERATION).toBe(8);
  });

  it('a 20-day wait takes four 5-day steps in one generation, then sends', async () => {
    const r = await remindVisit22d();
    expect(r.output).toEqual({ outcome: 'done', sent: [48, 2] });
    expect(r.pastGenerations).toHaveLength(0);
    // Each step is timed from the instant the previous one fired, as the one-step-per-generation code did.
    expect(timersOf(r.history)).toEqual([plusDays(5), plusDays(10), plusDays(15), plusDays(20), '2026-03-24T12:00:00.000Z']);
    expect(r.activityCalls.map((c) => c.at)).toEqual([plusDays(20), '2026-03-24T12:00:00.000Z']);
    // Start, 4 step timers, the 48 h send, the 2 h timer, the 2 h send: one episode per step.
    expect(r.episodes).toBe(8);
  });

  it('an AppointmentChanged during a later step still cancels', async () => {
    const r = await remindVisit22d([{ name: 'AppointmentChanged', data: { status: 'cancelled' }, at: plusDays(12) }]);
    expect(r.output).toEqual({ outcome: 'cancelled', sent: [] });
    expect(r.activityCalls).toHaveLength(0);
    expect(timersOf(r.history)).toEqual([plusDays(5), plusDays(10), plusDays(15)]);
    expect(firedOf(r.history)).toEqual([0, 1]); // the third step's timer never fired (cancelled)
    expect(r.now).toBe(plusDays(12));
  });

  it('an AppointmentChanged during a later step reschedules: the next generation waits for the new time', async () => {
    const moved = '2026-03-20T10:00:00-04:00'; // 14:00Z: 48 h reminder on 03-18, 2 h on 03-20 12:00Z
    const r = await remindVisit22d([{ name: 'AppointmentChanged', data: { status: 'rescheduled', start: moved }, at: plusDays(12) }]);
    expect(r.output).toEqual({ outcome: 'done', sent: [48, 2] });
    expect(r.pastGenerations).toHaveLength(1);
    expect(timersOf(r.pastGenerations[0]!.history)).toEqual([plusDays(5), plusDays(10), plusDays(15)]);
    expect(r.pastGenerations[0]!.endedAt).toBe(plusDays(12));
    expect(timersOf(r.history)).toEqual(['2026-03-18T14:00:00.000Z', '2026-03-20T12:00:00.000Z']);
    expect(r.activityCalls.map((c) => [c.at, (c.input as { start: string }).start])).toEqual([
      ['2026-03-18T14:00:00.000Z', moved],
      ['2026-03-20T12:00:00.000Z', moved],
    ]);
  });

  it('the wait for the next offset still hears a cancellation after a reminder went out', async () => {
    const r = await remindVisit22d([{ name: 'AppointmentChanged', data: { status: 'cancelled' }, at: plusDays(21) }]);
    expect(r.output).toEqual({ outcome: 'cancelled', sent: [48] });
    expect(r.activityCalls).toHaveLength(1);
  });

  it('continues as new after the step cap, and the next generation goes on from the same instant', async () => {
    // 48 h reminder 58 days after T0: 8 steps (40 days), continueAsNew, then 45, 50, 55, 58.
    const visit = plusDays(60);
    const r = await simulateOrchestration(
      orch(REMINDERS_ORCHESTRATOR),
      { appointmentId: 'apt-1', start: visit, hoursBefore: [48] },
      { start: T0, activities: { [SEND_REMINDER_ACTIVITY]: () => 'sent' }, followContinueAsNew: true },
    );
    expect(r.output).toEqual({ outcome: 'done', sent: [48] });
    expect(r.pastGenerations).toHaveLength(1);
    const first = r.pastGenerations[0]!;
    expect(timersOf(first.history)).toEqual([5, 10, 15, 20, 25, 30, 35, 40].map((d) => plusDays(d)));
    expect(first.episodes).toBe(1 + MAX_TIMER_STEPS_PER_GENERATION);
    expect(first.endedAt).toBe(plusDays(40));
    expect(r.history.find((e) => e.EventType === EventType.ExecutionStarted)?.Input).toBe(
      JSON.stringify({ appointmentId: 'apt-1', start: visit, hoursBefore: [48], done: [] }),
    );
    expect(timersOf(r.history)).toEqual([plusDays(45), plusDays(50), plusDays(55), plusDays(58)]);
    expect(r.activityCalls.map((c) => c.at)).toEqual([plusDays(58)]);
  });

  it('eligibility waits the same way (8 steps, continueAsNew, then on to the check)', async () => {
    // Check 72 h before a visit 60 days after T0: 57 days.
    const r = await simulateOrchestration(
      orch(ELIGIBILITY_ORCHESTRATOR),
      { appointmentId: 'apt-1', start: plusDays(60), leadHours: 72 },
      { start: T0, activities: { [CHECK_ELIGIBILITY_ACTIVITY]: () => ({ outcome: 'active' }) }, followContinueAsNew: true },
    );
    expect(r.output).toEqual({ outcome: 'active' });
    expect(r.pastGenerations.map((g) => timersOf(g.history).length)).toEqual([8]);
    expect(timersOf(r.history)).toEqual([plusDays(45), plusDays(50), plusDays(55), plusDays(57)]);
    expect(r.activityCalls.map((c) => c.at)).toEqual([plusDays(57)]);
  });
});

describe('in-flight instances written by the one-step-per-generation code', () => {
  const input = { appointmentId: 'apt-1', start: VISIT_22D, hoursBefore: [48, 2] };

  /** The generation as the earlier code wrote it: started at T0, one 5-day step (timer 0) pending. */
  const oldGeneration = () => new HistoryBuilder(T0).start(REMINDERS_ORCHESTRATOR, input).timerCreated(0, plusDays(5)).orchestratorCompleted();

  /**
   * Drives an instance on from `builder`'s history (whose last episode is recorded): delivers what
   * comes next (an activity's completion `sent`, the next of `events`, or the pending timer) and
   * runs an episode, until the instance ends. Returns the timers and sends the new code added.
   */
  async function drive(builder: HistoryBuilder, events: { at: string; data: unknown }[] = []) {
    const timers: string[] = [];
    const sends: string[] = [];
    const due = [...events];
    let activity: number | undefined;
    for (let i = 0; i < 50; i++) {
      if (activity !== undefined) {
        builder.orchestratorStarted().taskCompleted(activity, 'sent');
        activity = undefined;
      } else {
        const timer = openTimer(builder.events);
        const next = due[0];
        if (next && (!timer || Date.parse(next.at) < Date.parse(timer.fireAt))) {
          due.shift();
          builder.at(next.at).orchestratorStarted().eventRaised('AppointmentChanged', next.data);
        } else if (timer) {
          builder.at(timer.fireAt).orchestratorStarted().timerFired(timer.id, timer.fireAt);
        } else throw new Error('nothing to wait for');
      }
      const r = await runEpisode(orch(REMINDERS_ORCHESTRATOR), { instanceId: 'reminders-apt-1', history: builder.events, input });
      if (r.status !== 'running') return { result: r, timers, sends };
      for (const w of r.newWork) {
        if (w.kind === 'timer') {
          builder.timerCreated(w.id, w.fireAt);
          timers.push(w.fireAt);
        } else if (w.kind === 'activity') {
          builder.taskScheduled(w.id, w.name, w.input);
          sends.push(builder.currentTime.toISOString());
          activity = w.id;
        } else throw new Error(`unexpected work ${w.kind}`);
      }
      builder.orchestratorCompleted();
    }
    throw new Error('did not finish');
  }

  /** The last created timer that has not fired (the one the old history left pending). */
  function openTimer(history: HistoryEvent[]): { id: number; fireAt: string } | undefined {
    const fired = new Set(firedOf(history));
    const open = history.filter((e) => e.EventType === EventType.TimerCreated && !fired.has(e.EventId)).pop();
    return open ? { id: open.EventId, fireAt: open.FireAt! } : undefined;
  }

  it("the new code's first episode writes the same step the old history holds", async () => {
    const r = await runEpisode(orch(REMINDERS_ORCHESTRATOR), {
      instanceId: 'reminders-apt-1',
      history: new HistoryBuilder(T0).start(REMINDERS_ORCHESTRATOR, input).events,
      input,
    });
    expect(r.status).toBe('running');
    expect(r.newWork).toEqual([{ kind: 'timer', id: 0, fireAt: plusDays(5) }]);
    expect(r.waitingForEvents).toEqual(['AppointmentChanged']);
    expect(r.customStatus).toEqual({ state: 'waiting', nextAt: plusDays(20), hoursBefore: 48 });
  });

  it('replays a history with one step pending and takes the next steps in the same generation', async () => {
    const builder = oldGeneration().at(plusDays(5)).orchestratorStarted().timerFired(0, plusDays(5));
    const first = await runEpisode(orch(REMINDERS_ORCHESTRATOR), { instanceId: 'reminders-apt-1', history: builder.events, input });
    // The old code continued as new here; the new code replays its first step and goes on.
    expect(first.status).toBe('running');
    expect(first.newWork).toEqual([{ kind: 'timer', id: 1, fireAt: plusDays(10) }]);

    const { result, timers, sends } = await drive(oldGeneration());
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ outcome: 'done', sent: [48, 2] });
    expect(timers).toEqual([plusDays(10), plusDays(15), plusDays(20), '2026-03-24T12:00:00.000Z']);
    expect(sends).toEqual([plusDays(20), '2026-03-24T12:00:00.000Z']);
  });

  it('a change raised while the old step is pending cancels it, and one in a later step still counts', async () => {
    const now = await drive(oldGeneration(), [{ at: plusDays(2), data: { status: 'cancelled' } }]);
    expect(now.result.status).toBe('completed');
    expect(now.result.output).toEqual({ outcome: 'cancelled', sent: [] });
    expect(now.timers).toEqual([]);

    const later = await drive(oldGeneration(), [{ at: plusDays(13), data: { status: 'cancelled' } }]);
    expect(later.result.output).toEqual({ outcome: 'cancelled', sent: [] });
    expect(later.timers).toEqual([plusDays(10), plusDays(15)]);
  });
});
