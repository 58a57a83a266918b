// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

import type { Appointment } from '../../../../domain';
import { InMemoryAppointments } from '../../../../domain/memory';
import { fromHistoryRow, trainRiskModel } from '../../../../domain/risk';
import { invoke, principal, seed, type InvokeOptions, type Seeded } from '../../../support/api-harness';
import { createSpecChecker } from '../../../support/api-spec';
import { generateHistory } from '../../../../testkit/risk-history';

import '../../../../functions/api/overbooking';
import '../../../../functions/ops/openapi';

const checkSpec = createSpecChecker();
const scheduler = principal(['scheduler']);
let env: Seeded;

async function call(method: string, path: string, options: InvokeOptions = {}) {
  const result = await invoke(method, path, { principal: scheduler, ...options });
  expect(checkSpec(method, result)).toEqual([]);
  return result;
}

const { rows } = generateHistory({ appointments: 8000, seed: 13, firstDay: '2025-01-01' });
const model = trainRiskModel(
  rows.map((r) => fromHistoryRow(r, 24)),
  { clinicId: 'c1', trainedAt: '2026-03-01T02:30:00Z', timeZone: 'America/New_York' },
);

function appointment(id: string, patientId: string, status: Appointment['status'], start: string, createdAt: string, providerId = 'p1'): Appointment {
  return {
    appointmentId: id,
    slotId: `${providerId}.${id}`,
    clinicId: 'c1',
    providerId,
    patientId,
    appointmentType: 'checkup',
    status,
    start,
    end: start.replace(':00:00', ':30:00'),
    source: 'api',
    createdAt,
    updatedAt: createdAt,
    version: 1,
    externalIds: [],
  };
}

beforeEach(async () => {
  env = await seed();
  await env.services.riskModels.add(model);
  const appointments = env.services.appointments as InMemoryAppointments;
  const put = (a: Appointment) => appointments.byId.set(a.appointmentId, a);
  // p1 on Friday 6 March: six visits booked two months ahead by patients with several no-shows this year.
  for (let i = 0; i < 6; i++) {
    const patientId = `pat-absent-${i}`;
    put(appointment(`fri-${i}`, patientId, 'booked', `2026-03-06T${String(9 + i).padStart(2, '0')}:00:00-05:00`, '2026-01-05T10:00:00-05:00'));
    for (const [k, start] of ['2025-06-02T09:00:00-04:00', '2025-10-06T09:00:00-04:00', '2026-01-12T09:00:00-05:00'].entries()) {
      put(appointment(`old-${i}-${k}`, patientId, 'noshow', start, '2025-05-01T10:00:00-04:00'));
    }
  }
  // p2 the same day: one visit of a regular, confirmed.
  put({
    ...appointment('p2-fri', 'pat-regular', 'booked', '2026-03-06T09:00:00-05:00', '2026-03-01T10:00:00-05:00', 'p2'),
    confirmedAt: '2026-03-02T09:00:00-05:00',
  });
});

describe('overbooking suggestions', () => {
  test('lists the provider-days whose expected no-shows reach the threshold, with the riskiest slots; books nothing', async () => {
    const before = JSON.stringify([...(env.services.appointments as InMemoryAppointments).byId.values()]);
    const r = await call('GET', '/api/overbooking-suggestions?clinicId=c1&from=2026-03-02T00:00:00Z&to=2026-03-09T00:00:00Z');
    expect(r.status).toBe(200);
    const { suggestions } = r.body as {
      suggestions: {
        providerId: string;
        date: string;
        expectedNoShows: number;
        threshold: number;
        slots: { slotId: string; noShowRisk: { score: number } }[];
      }[];
    };
    expect(suggestions.map((s) => [s.providerId, s.date])).toEqual([['p1', '2026-03-06']]);
    const [day] = suggestions;
    expect(day!.threshold).toBe(1);
    expect(day!.expectedNoShows).toBeGreaterThanOrEqual(1);
    expect(day!.slots).toHaveLength(Math.floor(day!.expectedNoShows));
    const scores = day!.slots.map((s) => s.noShowRisk.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(JSON.stringify([...(env.services.appointments as InMemoryAppointments).byId.values()])).toBe(before);
  });

  test("a clinic's own threshold applies", async () => {
    const clinic = (await env.services.config.getClinic('c1'))!;
    await env.services.config.putClinic({ ...clinic, overbookingMinExpectedNoShows: 50 });
    const r = await call('GET', '/api/overbooking-suggestions?clinicId=c1&from=2026-03-02T00:00:00Z&to=2026-03-09T00:00:00Z');
    expect((r.body as { suggestions: unknown[] }).suggestions).toEqual([]);
  });

  test('a decision is audited, with the suggestion in ids only', async () => {
    const r = await call('POST', '/api/overbooking-suggestions/decisions', {
      body: { clinicId: 'c1', providerId: 'p1', date: '2026-03-06', slotId: 'p1.fri-0', decision: 'accepted' },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ suggestionId: 'c1|p1|2026-03-06|p1.fri-0', decision: 'accepted' });
    expect(env.audit.entries).toContainEqual(
      expect.objectContaining({ action: 'accept', resourceType: 'OverbookingSuggestion', resourceId: 'c1|p1|2026-03-06|p1.fri-0', principalId: 'staff-1' }),
    );
  });

  test('bad input and other clinics are refused', async () => {
    expect((await call('GET', '/api/overbooking-suggestions?clinicId=c1&from=2026-03-02T00:00:00Z&to=2026-05-09T00:00:00Z')).status).toBe(400);
    expect((await call('GET', '/api/overbooking-suggestions?clinicId=c1&from=2026-03-02T00:00:00Z')).status).toBe(400);
    const other = principal(['scheduler'], ['c2'], 'staff-c2');
    expect((await call('GET', '/api/overbooking-suggestions?clinicId=c1&from=2026-03-02T00:00:00Z&to=2026-03-09T00:00:00Z', { principal: other })).status).toBe(
      403,
    );
    const bad = await call('POST', '/api/overbooking-suggestions/decisions', {
      body: { clinicId: 'c1', providerId: 'p1', date: '2026-03-06', slotId: 'x', decision: 'maybe' },
    });
    expect(bad.status).toBe(400);
  });
});
