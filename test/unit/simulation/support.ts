import type { GLPK } from 'glpk.js/node';
import { provideGlpk } from '../../../domain/optimizer';
import { parseScenario, type Scenario } from '../../../simulation/scenario';

/** Jest's loader cannot require the ESM-only glpk.js; Node's own require can (as in the orchestration tests). */
export async function loadGlpkForJest(filename: string): Promise<void> {
  const NodeFunction = Object.getPrototypeOf(process.hrtime).constructor as FunctionConstructor;
  const nodeRequire = new NodeFunction('file', "return process.getBuiltinModule('node:module').createRequire(file)")(filename) as NodeJS.Require;
  provideGlpk(await (nodeRequire('glpk.js/node') as { default: () => Promise<GLPK> }).default());
}

/**
 * A one-provider clinic with nothing random left: no demand, no cancellations or no-shows, no
 * reminders, 60-minute visits Monday to Friday 09:00-17:00 (New York). Tests add patients,
 * bookings and cancellations themselves; `offer` sets how patients answer.
 */
export function quietScenario(offer: { acceptance: number; neverReply: number }, policies: Record<string, unknown> = {}): Scenario {
  return parseScenario({
    name: 'tiny',
    start: '2026-03-02',
    weeks: 1,
    horizonDays: 14,
    clinics: [
      {
        clinicId: 'c1',
        timeZone: 'America/New_York',
        appointmentTypes: [{ code: 'visit', durationMinutes: 60 }],
        providers: [
          {
            idPrefix: 'dr',
            count: 1,
            appointmentTypes: ['visit'],
            slotMinutes: 60,
            hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }],
          },
        ],
        demand: { initialFill: 0, requestsPerProviderDay: 0, moveUpShare: 0, urgentShare: 0 },
        reminderHoursBefore: [],
      },
    ],
    behaviour: {
      cancellation: { base: 0, perWeekLead: 0, max: 0, lateShare: 0 },
      noShow: { base: 0, perWeekLead: 0, max: 0, priorNoShowShare: 0, priorNoShowMultiplier: 1 },
      offer: { ...offer, acceptancePerWeekSooner: 0, declineReplyShare: 0, replyDelayMinutes: { median: 10, p90: 10 } },
    },
    policies,
  });
}

/** A small random world: one clinic, two providers, one week. */
export function smallScenario(seed: number): Scenario {
  return parseScenario({
    name: 'small',
    start: '2026-03-02',
    weeks: 1,
    seed,
    horizonDays: 14,
    clinics: [
      {
        clinicId: 'c1',
        timeZone: 'America/New_York',
        appointmentTypes: [{ code: 'visit', durationMinutes: 30 }],
        providers: [
          { idPrefix: 'dr', count: 2, appointmentTypes: ['visit'], hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '13:00' }] },
        ],
        demand: { initialFill: 0.85, requestsPerProviderDay: 7, moveUpShare: 0.6, sameProviderShare: 0.5, urgentShare: 0.1, waitlistArrivalsPerDay: 1 },
      },
    ],
    behaviour: {
      cancellation: { base: 0.15, perWeekLead: 0.05, max: 0.4, lateShare: 0.4 },
      offer: { acceptance: 0.5, neverReply: 0.3, replyDelayMinutes: { median: 15, p90: 120 } },
    },
    policies: { manualCallback: { enabled: true } },
  });
}
