// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

import type { Appointment } from '../../../../domain';
import { InMemoryAppointments } from '../../../../domain/memory';
import { fromHistoryRow, trainRiskModel } from '../../../../domain/risk';
import { invoke, P1_TUE_0900, principal, seed, SEEDED_PHI, type InvokeOptions, type Seeded } from '../../../support/api-harness';
import { createSpecChecker } from '../../../support/api-spec';
import { generateHistory } from '../../../../testkit/risk-history';

import '../../../../functions/api/appointments';
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
  { clinicId: 'c1', trainedAt: '2026-03-01T02:30:00Z' },
);

/** A past appointment of pat1 at c1 that ended as `status`. */
function past(id: string, start: string, status: Appointment['status']): Appointment {
  return {
    appointmentId: id,
    slotId: `old-${id}`,
    clinicId: 'c1',
    providerId: 'p1',
    patientId: 'pat1',
    appointmentType: 'checkup',
    status,
    start,
    end: start.replace(':00:00', ':30:00'),
    source: 'api',
    createdAt: '2025-05-01T10:00:00-04:00',
    updatedAt: start,
    version: 2,
    externalIds: [],
  };
}

beforeEach(async () => {
  env = await seed();
});

type Risk = { score: number; band: string; factors: { code: string; text: string; effect: string }[]; modelVersion: string };

describe('noShowRisk on appointments', () => {
  test('before any training: the assumed clinic-wide rate, saying so', async () => {
    const booked = await call('POST', '/api/appointments', { body: { slotId: P1_TUE_0900, patientId: 'pat1', appointmentType: 'checkup' } });
    expect(booked.status).toBe(201);
    const r = await call('GET', `/api/appointments/${(booked.body as { appointmentId: string }).appointmentId}`);
    const risk = (r.body as { noShowRisk: Risk }).noShowRisk;
    expect(risk).toMatchObject({ score: 0.23, band: 'medium', modelVersion: 'untrained' });
    expect(risk.factors).toEqual([expect.objectContaining({ code: 'clinic-rate' })]);
  });

  test("with the clinic's model: the patient's own no-shows show in the score and the factors; the list carries it for upcoming ones only", async () => {
    await env.services.riskModels.add(model);
    const appointments = env.services.appointments as InMemoryAppointments;
    for (const [i, start] of ['2025-06-02T09:00:00-04:00', '2025-09-01T09:00:00-04:00', '2026-01-05T09:00:00-05:00'].entries()) {
      appointments.byId.set(`old${i}`, past(`old${i}`, start, 'noshow'));
    }
    appointments.byId.set('old9', past('old9', '2024-01-08T09:00:00-05:00', 'noshow')); // outside the year
    const booked = await call('POST', '/api/appointments', { body: { slotId: P1_TUE_0900, patientId: 'pat1', appointmentType: 'checkup' } });
    const id = (booked.body as { appointmentId: string }).appointmentId;
    const r = await call('GET', `/api/appointments/${id}`);
    const risk = (r.body as { noShowRisk: Risk }).noShowRisk;
    expect(risk.modelVersion).toBe(model.modelVersion);
    expect(risk.band).toBe('high');
    expect(risk.factors.map((f) => f.text)).toContain('3 no-shows in the last year');
    for (const phi of SEEDED_PHI) expect(r.text).not.toContain(phi);

    const list = await call('GET', '/api/appointments?clinicId=c1&from=2025-06-01T00:00:00Z&to=2026-03-31T00:00:00Z');
    const items = (list.body as { appointments: { appointmentId: string; status: string; noShowRisk?: Risk }[] }).appointments;
    expect(items.find((a) => a.appointmentId === id)?.noShowRisk).toEqual(risk);
    expect(items.filter((a) => a.status === 'noshow').every((a) => a.noShowRisk === undefined)).toBe(true);
  });

  test('a failing model store leaves the risk out instead of failing the read', async () => {
    const booked = await call('POST', '/api/appointments', { body: { slotId: P1_TUE_0900, patientId: 'pat1', appointmentType: 'checkup' } });
    env.services.riskModels.current = async () => {
      throw new Error('store down');
    };
    const r = await call('GET', `/api/appointments/${(booked.body as { appointmentId: string }).appointmentId}`);
    expect(r.status).toBe(200);
    expect(r.body).not.toHaveProperty('noShowRisk');
  });
});
