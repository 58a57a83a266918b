import { clinicSchema, type Appointment } from '../../../../domain';
import { isFollowUpDue, planNoShowFollowUp } from '../../../../domain/sms';

const clinic = (extra: Record<string, unknown> = {}) => clinicSchema.parse({ clinicId: 'c1', name: 'C', timeZone: 'America/New_York', ...extra });

describe('planNoShowFollowUp', () => {
  it('60 minutes after the no-show by default', () => {
    expect(planNoShowFollowUp({ noShowAt: '2026-03-02T15:10:00Z', clinic: clinic() })).toEqual({ kind: 'send', at: '2026-03-02T16:10:00.000Z' });
  });
  it("the clinic's delay", () => {
    const c = clinic({ noShowFollowUp: { delayMinutes: 15 } });
    expect(c.noShowFollowUp).toEqual({ enabled: true, delayMinutes: 15 });
    expect(planNoShowFollowUp({ noShowAt: '2026-03-02T15:10:00Z', clinic: c })).toEqual({ kind: 'send', at: '2026-03-02T15:25:00.000Z' });
  });
  it('moved out of quiet hours (clinic zone), across a DST change too', () => {
    // 20:30 New York + 60 min = 21:30, quiet until 08:00 the next morning.
    expect(planNoShowFollowUp({ noShowAt: '2026-03-03T01:30:00Z', clinic: clinic() })).toEqual({ kind: 'send', at: '2026-03-03T13:00:00.000Z' });
    // Sat 7 Mar 20:30 EST + 60 = 21:30; the clocks spring forward overnight, so 08:00 on Sunday is EDT (12:00Z).
    expect(planNoShowFollowUp({ noShowAt: '2026-03-08T01:30:00Z', clinic: clinic() })).toEqual({ kind: 'send', at: '2026-03-08T12:00:00.000Z' });
    const late = clinic({ offerPolicy: { quietStart: '22:00', quietEnd: '07:00' } });
    expect(planNoShowFollowUp({ noShowAt: '2026-03-03T01:30:00Z', clinic: late })).toEqual({ kind: 'send', at: '2026-03-03T02:30:00.000Z' });
  });
  it('off for the clinic, or for the appointment type', () => {
    expect(planNoShowFollowUp({ noShowAt: '2026-03-02T15:10:00Z', clinic: clinic({ noShowFollowUp: { enabled: false } }) })).toEqual({
      kind: 'skip',
      reason: 'clinic-off',
    });
    expect(planNoShowFollowUp({ noShowAt: '2026-03-02T15:10:00Z', clinic: clinic(), appointmentType: { noShowFollowUp: false } })).toEqual({
      kind: 'skip',
      reason: 'type-off',
    });
    expect(planNoShowFollowUp({ noShowAt: '2026-03-02T15:10:00Z', clinic: clinic(), appointmentType: { noShowFollowUp: true } }).kind).toBe('send');
  });
  it('refuses delays beyond the timer limit', () => {
    expect(clinicSchema.safeParse({ clinicId: 'c1', name: 'C', timeZone: 'UTC', noShowFollowUp: { delayMinutes: 5 * 24 * 60 } }).success).toBe(false);
    expect(clinicSchema.safeParse({ clinicId: 'c1', name: 'C', timeZone: 'UTC', noShowFollowUp: { delayMinutes: -1 } }).success).toBe(false);
  });
});

describe('isFollowUpDue', () => {
  const apt = (status: Appointment['status'], start: string, clinicId = 'c1') => ({ status, start, clinicId }) as Appointment;
  const NOW = '2026-03-02T16:10:00Z';
  it('due for a no-show whose patient has not booked again at that clinic', () => {
    expect(
      isFollowUpDue(apt('noshow', '2026-03-02T15:00:00Z'), [apt('booked', '2026-03-09T15:00:00Z', 'c2'), apt('cancelled', '2026-03-09T15:00:00Z')], NOW),
    ).toEqual({
      due: true,
    });
  });
  it('not when staff corrected the no-show, or the patient booked again', () => {
    expect(isFollowUpDue(apt('fulfilled', '2026-03-02T15:00:00Z'), [], NOW)).toEqual({ due: false, reason: 'not-noshow' });
    expect(isFollowUpDue(apt('noshow', '2026-03-02T15:00:00Z'), [apt('pending', '2026-03-09T15:00:00Z')], NOW)).toEqual({ due: false, reason: 'rebooked' });
  });
});
