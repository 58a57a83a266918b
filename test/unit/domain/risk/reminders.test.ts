import { clinicSchema } from '../../../../domain/model';
import { reminderHoursFor } from '../../../../domain/risk';

const clinic = clinicSchema.parse({ clinicId: 'c1', name: 'Riverside', timeZone: 'America/New_York' });

describe('reminder cadence by no-show risk band', () => {
  it("derives the bands from the clinic's cadence (48 h and 2 h by default)", () => {
    expect(reminderHoursFor(clinic, 'low')).toEqual([48]);
    expect(reminderHoursFor(clinic, 'medium')).toEqual([48, 2]);
    expect(reminderHoursFor(clinic, 'high')).toEqual([48, 24, 2]);
    expect(reminderHoursFor(clinic, undefined)).toEqual([48, 2]);
  });

  it('a clinic setting per band wins', () => {
    const custom = clinicSchema.parse({ ...clinic, reminderHoursByRiskBand: { high: [2, 72, 24, 6] } });
    expect(reminderHoursFor(custom, 'high')).toEqual([72, 24, 6, 2]);
    expect(reminderHoursFor(custom, 'low')).toEqual([48]);
  });

  it('the setting is validated like reminderHoursBefore', () => {
    expect(clinicSchema.safeParse({ ...clinic, reminderHoursByRiskBand: { high: [0] } }).success).toBe(false);
    expect(clinicSchema.safeParse({ ...clinic, reminderHoursByRiskBand: { urgent: [24] } }).success).toBe(false);
  });
});
