import { DateTime } from 'luxon';
import { trainClinicRiskModel, trainRiskModel, fromHistoryRow, type RiskModel } from '../../../../../domain/risk';
import { generateHistory, toAppointments } from '../../../../../testkit/risk-history';
import {
  clinic,
  cosmosContext,
  type CosmosTestContext,
  type CosmosTestServer,
  databaseName,
  seedClinic,
  startCosmosTestServer,
} from '../../../../support/cosmos';

let env: CosmosTestServer;
let ctx: CosmosTestContext;

beforeAll(async () => {
  env = await startCosmosTestServer();
  ctx = await cosmosContext(env.proxy.endpoint, databaseName('risk'));
  await seedClinic(ctx.services, 0);
});
afterAll(async () => {
  await env.stop();
});

const { rows } = generateHistory({ appointments: 3000, seed: 4, firstDay: '2025-06-01' });
const fitted = trainRiskModel(
  rows.map((r) => fromHistoryRow(r, 24)),
  { clinicId: 'c1', trainedAt: '2026-01-01T00:00:00Z', minimum: { labelled: 100, noShows: 10, attended: 10 } },
);

describe('Cosmos risk model repository', () => {
  it('stores numbered versions; the newest is current; the document round-trips', async () => {
    const repo = ctx.services.riskModels;
    expect(await repo.current('c1')).toBeUndefined();
    const v1 = await repo.add(fitted);
    const v2 = await repo.add({ ...fitted, trainedAt: '2026-01-02T00:00:00Z' });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    const current = (await repo.current('c1')) as RiskModel;
    expect(current).toEqual(v2);
    expect((await repo.versions('c1')).map((m) => [m.version, m.trainedAt])).toEqual([
      [2, '2026-01-02T00:00:00Z'],
      [1, '2026-01-01T00:00:00Z'],
    ]);
    expect(await repo.current('other-clinic')).toBeUndefined();
  });

  it("nightly training reads the clinic's finished appointments through the appointment port", async () => {
    const appointments = toAppointments(rows.slice(0, 120), 'c1').map((a) => ({ ...a, providerId: 'dr-a' }));
    let stored = 0;
    for (const a of appointments) {
      try {
        await ctx.services.appointments.create(a, []);
        stored++;
      } catch {
        // The synthetic history may overlap one patient's or provider's times; the store refuses those.
      }
    }
    expect(stored).toBeGreaterThan(50);
    const deps = { ...ctx.services, clock: { now: () => DateTime.fromISO('2026-06-01T00:00:00Z', { zone: 'utc' }) } };
    const model = await trainClinicRiskModel(deps, clinic.clinicId);
    expect(model).toMatchObject({ kind: 'clinic-rate', version: 3 });
    expect(model.training.appointments).toBe(stored);
  });
});
