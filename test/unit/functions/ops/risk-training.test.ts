import { InvocationContext, type Timer } from '@azure/functions';
import { DateTime } from 'luxon';
import { clinicSchema } from '../../../../domain/model';
import { InMemoryAppointments, InMemoryConfig } from '../../../../domain/memory';
import { loadSettings } from '../../../../functions/app/config';
import { createInMemoryServices, setServices } from '../../../../functions/app/services';
import { trainRiskModels } from '../../../../functions/ops/risk-training';
import { generateHistory, toAppointments } from '../../../../testkit/risk-history';

afterEach(() => setServices(undefined));

describe('nightly risk model timer', () => {
  it('trains every clinic, logs ids and metrics only, and fails loudly if a clinic failed after trying the rest', async () => {
    const config = new InMemoryConfig();
    for (const id of ['c1', 'c2']) config.clinics.set(id, clinicSchema.parse({ clinicId: id, name: `Clinic ${id}`, timeZone: 'America/New_York' }));
    const appointments = new InMemoryAppointments();
    const { rows } = generateHistory({ appointments: 4000, seed: 9, firstDay: '2025-01-01' });
    for (const a of toAppointments(rows, 'c1')) appointments.byId.set(a.appointmentId, a);
    const services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' }), {
      config,
      appointments,
      clock: { now: () => DateTime.fromISO('2025-06-01T02:30:00Z', { zone: 'utc' }) },
    });
    setServices(services);
    const logs: string[] = [];
    const context = new InvocationContext({ functionName: 'riskModelTraining', logHandler: (_level, ...args) => logs.push(args.join(' ')) });
    await trainRiskModels({} as Timer, context);
    expect((await services.riskModels.current('c1'))?.kind).toBe('logistic');
    expect((await services.riskModels.current('c2'))?.kind).toBe('clinic-rate');
    expect(logs.join('\n')).toMatch(/risk model c1: v1 logistic lr-\d{8}-[0-9a-f]{8}, \d+ visits, test AUC 0\.\d{3}/);
    expect(logs.join('\n')).toMatch(/risk model c2: v1 clinic-rate/);

    services.riskModels.add = async () => {
      throw new Error('store down for patient p-1');
    };
    logs.length = 0;
    await expect(trainRiskModels({} as Timer, context)).rejects.toThrow('failed for 2 clinic(s)');
    expect(logs.join('\n')).toMatch(/risk model c1: training failed \(Error\)/);
    expect(logs.join('\n')).not.toMatch(/p-1/);
  });
});
