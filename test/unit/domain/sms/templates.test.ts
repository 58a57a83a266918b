import { renderSms, SMS_TEMPLATES, formatSmsTime, type SmsTemplate } from '../../../../domain/sms';

const clinic = { displayName: 'Riverside Clinic', timeZone: 'America/New_York' };
// PHI a careless caller might pass along: none of it may reach an SMS.
const phi = {
  patientName: 'Maria Lopez',
  name: 'Maria Lopez',
  appointmentType: 'Echocardiogram follow-up',
  appointmentTypeName: 'Echocardiogram follow-up',
  providerName: 'Dr. Jane Heart',
  specialty: 'Cardiology',
  diagnosis: 'atrial fibrillation',
  planName: 'Gold PPO Plus',
  memberId: 'MBR-99812',
  notes: 'post-surgical check',
};
const PHI_STRINGS = ['Maria', 'Lopez', 'Echocardiogram', 'Heart', 'Cardio', 'fibrillation', 'Gold PPO', 'MBR-99812', 'surgical', 'Dr.'];

const realistic: { [T in SmsTemplate]: Record<string, unknown> } = {
  offer: { clinic, start: '2026-03-03T14:30:00Z', expiresAt: '2026-03-02T16:00:00Z' },
  'offer-taken': { clinic },
  'offer-expired': { clinic },
  'offer-checking': { clinic, start: '2026-03-03T14:30:00Z' },
  'offer-declined': { clinic },
  'no-open-offer': { clinic },
  booked: { clinic, start: '2026-03-03T14:30:00Z' },
  reminder: { clinic, start: '2026-03-03T14:30:00Z' },
  confirmed: { clinic, start: '2026-03-03T14:30:00Z' },
  cancelled: { clinic, start: '2026-03-03T14:30:00Z' },
  'cancel-too-late': { clinic, start: '2026-03-03T14:30:00Z' },
  'no-upcoming-appointment': { clinic },
  eligibility: { clinic, start: '2026-03-03T14:30:00Z' },
  rehomed: { clinic, previousStart: '2026-03-03T14:30:00Z', start: '2026-03-05T15:00:00Z' },
  'booking-link': { clinic, url: 'https://slotflow.example.org/book/eyJ2IjoxfQ.sig', expiresAt: '2026-03-04T14:30:00Z' },
  help: { clinic },
  'opted-out': { clinic },
  'opted-in': { clinic },
  'book-list': { clinic, starts: ['2026-03-03T14:30:00Z', '2026-03-03T15:00:00Z', '2026-03-04T14:00:00Z'] },
  'book-none': { clinic },
  'book-pick-invalid': { clinic, count: 3 },
  'book-slot-gone': { clinic },
  'book-failed': { clinic },
  'offer-move-up': { clinic, start: '2026-03-03T14:30:00Z', currentStart: '2026-03-13T14:30:00Z', expiresAt: '2026-03-02T16:30:00Z' },
  'offer-replacement': { clinic, start: '2026-03-03T14:30:00Z', replacedStart: '2026-03-05T14:30:00Z', expiresAt: '2026-03-02T16:30:00Z' },
  'offer-move-up-replacement': {
    clinic,
    start: '2026-03-03T14:30:00Z',
    currentStart: '2026-03-13T14:30:00Z',
    replacedStart: '2026-03-05T14:30:00Z',
    expiresAt: '2026-03-02T16:30:00Z',
  },
  moved: { clinic, start: '2026-03-03T14:30:00Z', previousStart: '2026-03-13T14:30:00Z' },
  'already-moved': { clinic },
  'offer-withdrawn': { clinic },
  'earlier-added': { clinic, start: '2026-03-13T14:30:00Z' },
  'reschedule-link': { clinic, start: '2026-03-13T14:30:00Z', url: 'https://slotflow.example.org/book/eyJ2IjoxfQ.sig', expiresAt: '2026-03-04T14:30:00Z' },
  'reschedule-too-late': { clinic, start: '2026-03-03T14:30:00Z' },
  'noshow-follow-up': { clinic, url: 'https://slotflow.example.org/book/eyJ2IjoxfQ.sig', expiresAt: '2026-03-04T14:30:00Z' },
};

describe('SMS templates', () => {
  it.each(SMS_TEMPLATES.map((t) => [t]))('%s renders without PHI, names the clinic and fits in two segments', (template) => {
    const body = renderSms(template, { ...realistic[template], ...phi } as never);
    for (const s of PHI_STRINGS) expect(body).not.toContain(s);
    expect(body).toContain('Riverside Clinic');
    expect(body.length).toBeLessThanOrEqual(306);
  });

  it('covers every template', () => {
    expect(Object.keys(realistic).sort()).toEqual([...SMS_TEMPLATES].sort());
  });

  it('shows times in the clinic zone, e.g. "Tue 3 Mar 9:30 AM"', () => {
    expect(formatSmsTime('2026-03-03T14:30:00Z', 'America/New_York')).toBe('Tue 3 Mar 9:30 AM');
    // After the US spring-forward (8 Mar 2026) the same UTC clock time is an hour later locally.
    expect(formatSmsTime('2026-03-10T14:30:00Z', 'America/New_York')).toBe('Tue 10 Mar 10:30 AM');
    expect(renderSms('reminder', { clinic, start: '2026-03-03T14:30:00Z' })).toBe(
      'Riverside Clinic: reminder of your appointment on Tue 3 Mar 9:30 AM. Reply C to confirm, X to cancel or R to pick another time. Want an earlier time? Reply EARLIER.',
    );
  });

  it('numbers the BOOK list and tells the patient how to answer', () => {
    const body = renderSms('book-list', { clinic, starts: ['2026-03-03T14:30:00Z', '2026-03-04T14:00:00Z'] });
    expect(body).toContain('1) Tue 3 Mar 9:30 AM, 2) Wed 4 Mar 9:00 AM');
    expect(body).toContain('Reply with a number');
  });

  it('never tells the patient to text CANCEL (a carrier opt-out word)', () => {
    for (const t of SMS_TEMPLATES) expect(renderSms(t, realistic[t] as never)).not.toMatch(/\bCANCEL\b/);
  });
});
