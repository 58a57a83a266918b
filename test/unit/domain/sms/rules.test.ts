import { DateTime } from 'luxon';
import { advanceStatus, decideSend, InMemorySmsMessages, isE164, type SendCheck, type SmsMessageRecord } from '../../../../domain/sms';

const zone = 'America/New_York';
const quietHours = { quietStart: '21:00', quietEnd: '08:00' };
// Monday 2 March 2026, 10:00 in New York.
const now = DateTime.fromISO('2026-03-02T15:00:00Z');
const base: SendCheck = {
  patient: { phone: '+15551230001', smsConsent: true },
  purpose: 'offer',
  now,
  clinicZone: zone,
  quietHours,
  recentSends: [],
};

describe('decideSend', () => {
  it('sends with consent, a valid phone, outside quiet hours', () => {
    expect(decideSend(base)).toEqual({ outcome: 'send' });
  });
  it('opt-out wins over consent, even for confirmations', () => {
    expect(decideSend({ ...base, patient: { ...base.patient, smsOptedOutAt: '2026-03-01T10:00:00Z' } }).outcome).toBe('opted-out');
    expect(decideSend({ ...base, purpose: 'confirmation', patient: { ...base.patient, smsOptedOutAt: '2026-03-01T10:00:00Z' } }).outcome).toBe('opted-out');
  });
  it('no consent, no SMS', () => {
    expect(decideSend({ ...base, patient: { ...base.patient, smsConsent: false } }).outcome).toBe('no-consent');
  });
  it('validates E.164', () => {
    expect(isE164('+15551230001')).toBe(true);
    for (const bad of ['5551230001', '+0551230001', '+1 555 123 0001', '+1234567890123456']) expect(isE164(bad)).toBe(false);
    expect(decideSend({ ...base, patient: { ...base.patient, phone: '555-1234' } }).outcome).toBe('invalid-phone');
  });
  it('defers offers and reminders in quiet hours (clinic zone) to the end of quiet hours', () => {
    const late = DateTime.fromISO('2026-03-03T02:30:00Z'); // 21:30 in New York
    expect(decideSend({ ...base, now: late })).toEqual({ outcome: 'quiet-hours', nextAllowedAt: '2026-03-03T13:00:00.000Z' });
    expect(decideSend({ ...base, purpose: 'reminder', now: late }).outcome).toBe('quiet-hours');
    // Same UTC instant is 18:30 in Los Angeles: not quiet there.
    expect(decideSend({ ...base, now: late, clinicZone: 'America/Los_Angeles' }).outcome).toBe('send');
  });
  it('quiet hours end at local 08:00 across the spring-forward night', () => {
    const beforeDst = DateTime.fromISO('2026-03-08T04:00:00Z'); // Sat 7 Mar 23:00 EST
    expect(decideSend({ ...base, now: beforeDst })).toEqual({ outcome: 'quiet-hours', nextAllowedAt: '2026-03-08T12:00:00.000Z' }); // 08:00 EDT
  });
  it('answers to a patient action go out in quiet hours', () => {
    const late = DateTime.fromISO('2026-03-03T02:30:00Z');
    expect(decideSend({ ...base, now: late, purpose: 'confirmation' }).outcome).toBe('send');
    expect(decideSend({ ...base, now: late, purpose: 'offer-taken', inReplyToPatient: true }).outcome).toBe('send');
  });
  it('rate-limits per patient in a rolling window and says when it frees up', () => {
    const sends = Array.from({ length: 3 }, (_, i) => now.minus({ minutes: 50 - i * 10 }).toISO()!);
    const limit = { maxMessages: 3, windowMinutes: 60 };
    expect(decideSend({ ...base, recentSends: sends, rateLimit: limit })).toEqual({
      outcome: 'rate-limited',
      retryAfter: now.plus({ minutes: 10 }).toUTC().toISO(),
    });
    expect(decideSend({ ...base, recentSends: sends.slice(1), rateLimit: limit }).outcome).toBe('send');
    const old = [now.minus({ minutes: 61 }).toISO()!, ...sends.slice(1)];
    expect(decideSend({ ...base, recentSends: old, rateLimit: limit }).outcome).toBe('send');
  });
});

describe('delivery status is monotonic', () => {
  const record: SmsMessageRecord = {
    messageId: 'SM00000000000000000000000000000001',
    patientId: 'pat1',
    purpose: 'offer',
    template: 'offer',
    correlationId: 'c',
    status: 'queued',
    sentAt: '2026-03-02T15:00:00Z',
    updatedAt: '2026-03-02T15:00:00Z',
  };
  it('moves forward only', () => {
    expect(advanceStatus(record, 'sent', 't1')?.status).toBe('sent');
    expect(advanceStatus({ ...record, status: 'delivered' }, 'sent', 't1')).toBeUndefined();
    expect(advanceStatus({ ...record, status: 'sent' }, 'queued', 't1')).toBeUndefined();
    expect(advanceStatus({ ...record, status: 'sent' }, 'sent', 't1')).toBeUndefined();
  });
  it('failed and undelivered are terminal', () => {
    expect(advanceStatus({ ...record, status: 'failed' }, 'delivered', 't1')).toBeUndefined();
    expect(advanceStatus({ ...record, status: 'undelivered' }, 'sent', 't1')).toBeUndefined();
    expect(advanceStatus({ ...record, status: 'delivered' }, 'failed', 't1')).toBeUndefined();
    expect(advanceStatus(record, 'undelivered', 't1', '30003')).toMatchObject({ status: 'undelivered', errorCode: '30003' });
  });
  it('any order of callbacks ends in the furthest status', async () => {
    const orders: string[][] = [
      ['queued', 'sent', 'delivered'],
      ['delivered', 'sent', 'queued'],
      ['sent', 'delivered', 'sent', 'delivered', 'queued'],
    ];
    for (const order of orders) {
      const repo = new InMemorySmsMessages();
      await repo.create(record);
      for (const s of order) await repo.advance(record.messageId, s as SmsMessageRecord['status'], 't');
      expect((await repo.get(record.messageId))?.status).toBe('delivered');
    }
  });
});
