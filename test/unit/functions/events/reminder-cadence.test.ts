import { clinicSchema, type Appointment } from '../../../../domain/model';
import { InMemoryAppointments, InMemoryConfig } from '../../../../domain/memory';
import { fromHistoryRow, trainRiskModel } from '../../../../domain/risk';
import { loadSettings } from '../../../../functions/app/config';
import { createInMemoryServices, setServices } from '../../../../functions/app/services';
import { remindersWorkflow } from '../../../../functions/events/follow-appointment';
import { generateHistory } from '../../../../testkit/risk-history';
import { DateTime } from 'luxon';

afterEach(() => setServices(undefined));

const appointment = (id: string, patientId: string, status: Appointment['status'], start: string, createdAt: string): Appointment => ({
  appointmentId: id,
  slotId: `s-${id}`,
  clinicId: 'c1',
  providerId: 'p1',
  patientId,
  appointmentType: 'FU',
  status,
  start,
  end: start,
  source: 'api',
  createdAt,
  updatedAt: createdAt,
  version: 1,
  externalIds: [],
});

describe('reminders follow the no-show band', () => {
  it('a high-risk booking gets the extra confirm request, a low-risk one only the first reminder; untrained clinics keep their cadence', async () => {
    const config = new InMemoryConfig();
    config.clinics.set('c1', clinicSchema.parse({ clinicId: 'c1', name: 'Riverside', timeZone: 'America/New_York' }));
    const appointments = new InMemoryAppointments();
    const services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' }), {
      config,
      appointments,
      clock: { now: () => DateTime.fromISO('2026-03-02T13:00:00Z', { zone: 'utc' }) },
    });
    setServices(services);
    // Booked 45 days ahead by a patient with 3 no-shows this year; booked the day before by a confirmed regular.
    const risky = appointment('a-risky', 'pat-absent', 'booked', '2026-03-04T09:00:00-05:00', '2026-01-18T10:00:00-05:00');
    const safe = {
      ...appointment('a-safe', 'pat-regular', 'booked', '2026-03-03T10:00:00-05:00', '2026-03-02T08:00:00-05:00'),
      appointmentType: 'PROC',
      confirmedAt: '2026-03-02T09:00:00-05:00',
    };
    for (const a of [risky, safe]) appointments.byId.set(a.appointmentId, a);
    for (const [i, start] of ['2025-06-02T09:00:00-04:00', '2025-10-06T09:00:00-04:00', '2026-01-12T09:00:00-05:00'].entries()) {
      appointments.byId.set(`old-a${i}`, appointment(`old-a${i}`, 'pat-absent', 'noshow', start, '2025-05-01T10:00:00-04:00'));
    }
    for (const [i, start] of ['2025-05-05T09:00:00-04:00', '2025-08-04T09:00:00-04:00', '2025-11-03T09:00:00-05:00', '2026-02-02T09:00:00-05:00'].entries()) {
      appointments.byId.set(`old-r${i}`, appointment(`old-r${i}`, 'pat-regular', 'fulfilled', start, '2025-04-01T10:00:00-04:00'));
    }
    const untrained = await remindersWorkflow.input('a-risky', risky.start, 'c1');
    expect(untrained.hoursBefore).toEqual([48, 2]);

    const { rows } = generateHistory({ appointments: 8000, seed: 17, firstDay: '2025-01-01' });
    await services.riskModels.add(
      trainRiskModel(
        rows.map((r) => fromHistoryRow(r, 24)),
        { clinicId: 'c1', trainedAt: '2026-03-01T02:30:00Z', timeZone: 'America/New_York' },
      ),
    );
    expect((await remindersWorkflow.input('a-risky', risky.start, 'c1')).hoursBefore).toEqual([48, 24, 2]);
    expect((await remindersWorkflow.input('a-safe', safe.start, 'c1')).hoursBefore).toEqual([48]);
  });
});
