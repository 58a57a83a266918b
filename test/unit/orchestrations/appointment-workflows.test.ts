/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { capturedFunctions } from '../../../local/host/core';
import { capturedOrchestrator, simulateOrchestration } from '../../../local/host/durable/simulate';
import { CHECK_ELIGIBILITY_ACTIVITY, ELIGIBILITY_ORCHESTRATOR } from '../../../orchestrations/eligibility';
import { AbsenceActivities, PROVIDER_ABSENCE_ORCHESTRATOR, type AbsenceOutput } from '../../../orchestrations/provider-absence';
import { REMINDERS_ORCHESTRATOR, SEND_REMINDER_ACTIVITY } from '../../../orchestrations/reminders';

const orch = (name: string) => capturedOrchestrator(name, capturedFunctions);
const T0 = '2026-03-02T14:00:00.000Z';
const VISIT = '2026-03-10T10:00:00-04:00'; // 14:00Z

describe('eligibility orchestrator', () => {
  it('waits until the lead time before the visit, then checks once', async () => {
    const r = await simulateOrchestration(
      orch(ELIGIBILITY_ORCHESTRATOR),
      { appointmentId: 'apt-1', start: VISIT, leadHours: 72 },
      {
        start: '2026-03-05T14:00:00.000Z',
        activities: { [CHECK_ELIGIBILITY_ACTIVITY]: () => ({ outcome: 'inactive' }) },
      },
    );
    expect(r.output).toEqual({ outcome: 'inactive' });
    expect(r.activityCalls.map((c) => c.at)).toEqual(['2026-03-07T14:00:00.000Z']);
  });

  it('retries transient payer failures with backoff, then records an error for the front desk', async () => {
    const r = await simulateOrchestration(
      orch(ELIGIBILITY_ORCHESTRATOR),
      { appointmentId: 'apt-1', start: VISIT, leadHours: 72 },
      {
        start: '2026-03-07T14:00:00.000Z',
        activities: {
          [CHECK_ELIGIBILITY_ACTIVITY]: (input) => {
            if ((input as { recordError?: boolean }).recordError) return { outcome: 'error' };
            throw new Error('payer timeout');
          },
        },
      },
    );
    expect(r.output).toEqual({ outcome: 'error' });
    const calls = r.activityCalls.map((c) => c.at);
    expect(calls).toHaveLength(7); // 6 attempts + the error record
    // Backoff doubles: 5 s, 10 s, 20 s ...
    expect(Date.parse(calls[2]!) - Date.parse(calls[1]!)).toBe(2 * (Date.parse(calls[1]!) - Date.parse(calls[0]!)));
  });

  it('stops when the appointment is cancelled before the check', async () => {
    const r = await simulateOrchestration(
      orch(ELIGIBILITY_ORCHESTRATOR),
      { appointmentId: 'apt-1', start: VISIT, leadHours: 72 },
      {
        start: '2026-03-05T14:00:00.000Z',
        activities: { [CHECK_ELIGIBILITY_ACTIVITY]: () => ({ outcome: 'active' }) },
        events: [{ name: 'AppointmentChanged', data: { status: 'cancelled' }, at: 60_000 }],
      },
    );
    expect(r.output).toEqual({ outcome: 'cancelled' });
    expect(r.activityCalls).toHaveLength(0);
  });

  it('continues as new for a reschedule and for waits beyond the timer limit', async () => {
    await expect(
      simulateOrchestration(
        orch(ELIGIBILITY_ORCHESTRATOR),
        { appointmentId: 'apt-1', start: VISIT, leadHours: 72 },
        {
          start: '2026-03-05T14:00:00.000Z',
          events: [{ name: 'AppointmentChanged', data: { status: 'rescheduled', start: '2026-03-12T10:00:00-04:00' }, at: 60_000 }],
        },
      ),
    ).rejects.toThrow(/continueAsNew/);
    await expect(
      simulateOrchestration(orch(ELIGIBILITY_ORCHESTRATOR), { appointmentId: 'apt-1', start: '2026-05-01T10:00:00-04:00', leadHours: 72 }, { start: T0 }),
    ).rejects.toThrow(/continueAsNew/);
  });
});

describe('reminders orchestrator', () => {
  it('sends one reminder per offset at the right times', async () => {
    const r = await simulateOrchestration(
      orch(REMINDERS_ORCHESTRATOR),
      { appointmentId: 'apt-1', start: VISIT, hoursBefore: [2, 48] },
      {
        start: '2026-03-07T14:00:00.000Z',
        activities: { [SEND_REMINDER_ACTIVITY]: () => 'sent' },
      },
    );
    expect(r.output).toEqual({ outcome: 'done', sent: [48, 2] });
    expect(r.activityCalls.map((c) => c.at)).toEqual(['2026-03-08T14:00:00.000Z', '2026-03-10T12:00:00.000Z']);
  });

  it('skips offsets already past and stops when the visit is no longer booked', async () => {
    const r = await simulateOrchestration(
      orch(REMINDERS_ORCHESTRATOR),
      { appointmentId: 'apt-1', start: VISIT, hoursBefore: [48, 2] },
      {
        start: '2026-03-09T14:00:00.000Z',
        activities: { [SEND_REMINDER_ACTIVITY]: () => 'not-booked' },
      },
    );
    expect(r.output).toEqual({ outcome: 'not-booked', sent: [] });
    expect(r.activityCalls).toHaveLength(1);
  });

  it('ends on cancellation', async () => {
    const r = await simulateOrchestration(
      orch(REMINDERS_ORCHESTRATOR),
      { appointmentId: 'apt-1', start: VISIT, hoursBefore: [48, 2] },
      {
        start: '2026-03-07T14:00:00.000Z',
        events: [{ name: 'AppointmentChanged', data: { status: 'cancelled' }, at: 1000 }],
      },
    );
    expect(r.output).toEqual({ outcome: 'cancelled', sent: [] });
  });
});

describe('provider absence orchestrator', () => {
  it('re-homes what the plan placed and reports the rest to the front desk', async () => {
    const displaced = ['a1', 'a2', 'a3'].map((id) => ({ appointmentId: id, patientId: `p-${id}`, appointmentType: 'checkup', start: VISIT }));
    const r = await simulateOrchestration(
      orch(PROVIDER_ABSENCE_ORCHESTRATOR),
      { providerId: 'dr-a', from: '2026-03-10T00:00:00Z', to: '2026-03-11T00:00:00Z' },
      {
        start: T0,
        activities: {
          [AbsenceActivities.record]: () => displaced,
          [AbsenceActivities.plan]: () => ({
            assignments: [
              { appointmentId: 'a1', slotId: 'dr-b.20260310T1400', reason: 'r' },
              { appointmentId: 'a2', slotId: 'dr-b.20260310T1500', reason: 'r' },
            ],
            unplaced: [{ appointmentId: 'a3', reason: 'no compatible slot' }],
            status: 'optimal',
            solveMs: 3,
          }),
          [AbsenceActivities.rehome]: (input) => {
            const i = input as { appointmentId: string; slotId: string };
            return i.appointmentId === 'a2'
              ? { appointmentId: 'a2', outcome: 'slot-taken' }
              : { appointmentId: i.appointmentId, outcome: 'rehomed', newAppointmentId: 'n1', slotId: i.slotId };
          },
        },
      },
    );
    const out = r.output as AbsenceOutput;
    expect(out.displaced).toBe(3);
    expect(out.rehomed).toEqual([{ appointmentId: 'a1', outcome: 'rehomed', newAppointmentId: 'n1', slotId: 'dr-b.20260310T1400' }]);
    expect(out.needsAttention.map((n) => n.appointmentId).sort()).toEqual(['a2', 'a3']);
    // The two re-homings run in parallel (fan-out): scheduled in the same episode.
    expect(new Set(r.activityCalls.filter((c) => c.name === AbsenceActivities.rehome).map((c) => c.at)).size).toBe(1);
  });

  it('finishes at once when nobody is booked in the window', async () => {
    const r = await simulateOrchestration(
      orch(PROVIDER_ABSENCE_ORCHESTRATOR),
      { providerId: 'dr-a', from: '2026-03-10T00:00:00Z', to: '2026-03-11T00:00:00Z' },
      {
        start: T0,
        activities: { [AbsenceActivities.record]: () => [] },
      },
    );
    expect((r.output as AbsenceOutput).displaced).toBe(0);
  });
});
