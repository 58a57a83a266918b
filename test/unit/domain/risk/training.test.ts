import { DateTime } from 'luxon';
import { InMemoryAppointments, InMemoryConfig } from '../../../../domain/memory';
import { clinicSchema } from '../../../../domain/model';
import { InMemoryRiskModels, trainClinicRiskModel, TRAINING_HISTORY_DAYS, type RiskTrainingDeps } from '../../../../domain/risk';
import { generateHistory, toAppointments } from '../../../../testkit/risk-history';

function deps(appointmentCount: number, now: string): RiskTrainingDeps & { riskModels: InMemoryRiskModels } {
  const config = new InMemoryConfig();
  config.clinics.set('c1', clinicSchema.parse({ clinicId: 'c1', name: 'Riverside', timeZone: 'America/New_York' }));
  const appointments = new InMemoryAppointments();
  const { rows } = generateHistory({ appointments: appointmentCount, seed: 21, firstDay: '2025-01-01' });
  for (const a of toAppointments(rows, 'c1')) appointments.byId.set(a.appointmentId, a);
  // Still open: a past booked appointment (outcome unknown) and a future one are not history.
  const open = toAppointments(rows.slice(0, 2), 'c1').map((a, i) => ({ ...a, appointmentId: `open-${i}`, status: 'booked' as const }));
  for (const a of open) appointments.byId.set(a.appointmentId, a);
  return { clock: { now: () => DateTime.fromISO(now, { zone: 'utc' }) }, config, appointments, riskModels: new InMemoryRiskModels() };
}

describe('nightly risk training of one clinic', () => {
  it("fits a model on the clinic's finished appointments and stores numbered versions with metrics", async () => {
    const d = deps(8000, '2025-02-15T02:30:00Z');
    const first = await trainClinicRiskModel(d, 'c1');
    expect(first).toMatchObject({ kind: 'logistic', version: 1, clinicId: 'c1', trainedAt: '2025-02-15T02:30:00.000Z' });
    if (first.kind !== 'logistic') return;
    expect(first.features.timeZone).toBe('America/New_York');
    expect(first.metrics!.auc).toBeGreaterThan(0.65);
    // Only what had started by now and has an outcome: the generator's later appointments are not read.
    expect(first.training.appointments).toBeLessThan(8000);
    expect(first.training.appointments).toBeGreaterThan(3000);
    const second = await trainClinicRiskModel(d, 'c1');
    expect(second.version).toBe(2);
    expect((await d.riskModels.current('c1'))!.version).toBe(2);
    expect((await d.riskModels.versions('c1')).map((m) => m.version)).toEqual([2, 1]);
  });

  it('below the minimum history the clinic gets the clinic-wide rate, and the document says why', async () => {
    const d = deps(400, '2025-12-01T02:30:00Z');
    const model = await trainClinicRiskModel(d, 'c1');
    expect(model.kind).toBe('clinic-rate');
    if (model.kind === 'clinic-rate') expect(model.reason).toMatch(/too little history/);
  });

  it('reads two years back, in windows the Cosmos adapter can serve', async () => {
    const d = deps(100, '2025-03-15T02:30:00Z');
    const seen: { from: string; to: string }[] = [];
    const list = d.appointments.list.bind(d.appointments);
    d.appointments.list = async (q) => {
      seen.push({ from: q.from, to: q.to });
      return list(q);
    };
    await trainClinicRiskModel(d, 'c1');
    expect(Date.parse(seen[0]!.from)).toBe(Date.parse('2025-03-15T02:30:00Z') - TRAINING_HISTORY_DAYS * 86_400_000);
    expect(Date.parse(seen[seen.length - 1]!.to)).toBe(Date.parse('2025-03-15T02:30:00Z'));
    expect(seen.every((w) => Date.parse(w.to) - Date.parse(w.from) <= 120 * 86_400_000)).toBe(true);
  });

  it('an unknown clinic is CLINIC.NOT_FOUND', async () => {
    await expect(trainClinicRiskModel(deps(10, '2025-03-15T02:30:00Z'), 'nope')).rejects.toMatchObject({ code: 'CLINIC.NOT_FOUND' });
  });
});
