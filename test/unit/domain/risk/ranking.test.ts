import { DateTime } from 'luxon';
import { InMemoryAppointments, InMemoryConfig } from '../../../../domain/memory';
import { clinicSchema, type Appointment, type Slot, type WaitlistEntry } from '../../../../domain/model';
import { fromHistoryRow, InMemoryRiskModels, trainRiskModel } from '../../../../domain/risk';
import type { GLPK } from 'glpk.js/node';
import { provideGlpk } from '../../../../domain/optimizer';
import { rankCandidatesForSlot } from '../../../../domain/waitlist/ranking';
import { generateHistory } from '../../../../testkit/risk-history';

const now = DateTime.fromISO('2026-03-02T13:00:00Z', { zone: 'utc' });
const slot: Slot = {
  slotId: 'p1.20260304T1400',
  clinicId: 'c1',
  providerId: 'p1',
  start: '2026-03-04T09:00:00-05:00',
  end: '2026-03-04T09:30:00-05:00',
  appointmentTypes: ['FU'],
};
const entry = (id: string, patientId: string): WaitlistEntry => ({
  waitlistEntryId: id,
  clinicId: 'c1',
  patientId,
  appointmentType: 'FU',
  providerIds: [],
  urgency: 'routine',
  timeOfDay: 'any',
  status: 'active',
  createdAt: '2026-02-01T10:00:00Z',
  updatedAt: '2026-02-01T10:00:00Z',
  version: 1,
});
const noShow = (id: string, patientId: string, start: string): Appointment => ({
  appointmentId: id,
  slotId: `s-${id}`,
  clinicId: 'c1',
  providerId: 'p1',
  patientId,
  appointmentType: 'FU',
  status: 'noshow',
  start,
  end: start,
  source: 'api',
  createdAt: '2025-01-02T10:00:00-05:00',
  updatedAt: start,
  version: 2,
  externalIds: [],
});

async function services(withModel: boolean) {
  const config = new InMemoryConfig();
  config.clinics.set('c1', clinicSchema.parse({ clinicId: 'c1', name: 'Riverside', timeZone: 'America/New_York' }));
  const appointments = new InMemoryAppointments();
  for (const [i, start] of ['2025-06-02T09:00:00-04:00', '2025-10-06T09:00:00-04:00', '2026-01-12T09:00:00-05:00'].entries()) {
    const a = noShow(`old${i}`, 'pat-often-absent', start);
    appointments.byId.set(a.appointmentId, a);
  }
  const riskModels = new InMemoryRiskModels();
  if (withModel) {
    const { rows } = generateHistory({ appointments: 8000, seed: 17, firstDay: '2025-01-01' });
    await riskModels.add(
      trainRiskModel(
        rows.map((r) => fromHistoryRow(r, 24)),
        { clinicId: 'c1', trainedAt: now.toISO()!, timeZone: 'America/New_York' },
      ),
    );
  }
  return { config, clock: { now: () => now }, appointments, riskModels };
}

/** jest cannot load the ESM-only glpk.js; Node's own require can (as in test/unit/optimizer.test.ts). */
beforeAll(async () => {
  const NodeFunction = Object.getPrototypeOf(process.hrtime).constructor as FunctionConstructor;
  const nodeRequire = new NodeFunction('file', "return process.getBuiltinModule('node:module').createRequire(file)")(__filename) as NodeJS.Require;
  provideGlpk(await (nodeRequire('glpk.js/node') as { default: () => Promise<GLPK> }).default());
});

describe('backfill ranking with no-show risk', () => {
  // The absent patient's entry is older (waited longer), so without risk it comes first.
  const entries = [
    { ...entry('wl-absent', 'pat-often-absent'), createdAt: '2026-02-15T10:00:00Z' },
    { ...entry('wl-reliable', 'pat-reliable'), createdAt: '2026-02-20T10:00:00Z' },
  ];

  it("without a trained model each patient's own history rate feeds the noShowRisk term: the patient with 3 no-shows goes last", async () => {
    const ranked = await rankCandidatesForSlot(await services(false), slot, 'FU', entries);
    expect(ranked.map((e) => e.waitlistEntryId)).toEqual(['wl-reliable', 'wl-absent']);
  });

  it("with the clinic's model, the optimizer's noShowRisk term puts the patient with 3 no-shows last", async () => {
    const s = await services(true);
    const ranked = await rankCandidatesForSlot(s, slot, 'FU', entries);
    expect(ranked.map((e) => e.waitlistEntryId)).toEqual(['wl-reliable', 'wl-absent']);
  });

  it('a failing model store falls back to ranking without risk', async () => {
    const s = await services(true);
    s.riskModels.current = async () => {
      throw new Error('down');
    };
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const ranked = await rankCandidatesForSlot(s, slot, 'FU', entries);
    expect(ranked.map((e) => e.waitlistEntryId)).toEqual(['wl-absent', 'wl-reliable']);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/no-show risk unavailable/));
    warn.mockRestore();
  });
});
