/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

/**
 * No-show follow-up through the real durable replay on the virtual clock (the captured orchestrator,
 * stubbed activities), and its send activity against in-memory services with the local SMS outbox.
 */
import { DateTime } from 'luxon';
import { appointmentTypeSchema, bookAppointment, clinicSchema, markNoShow, providerSchema } from '../../../domain';
import { FixedClock, SequentialIds } from '../../../domain/memory';
import { verifyLinkToken } from '../../../domain/sms';
import { LOCAL_SMS_FROM, SmsOutbox } from '../../../functions/adapters/twilio/outbox';
import { linkSigningKey, loadSettings } from '../../../functions/app/config';
import { createInMemoryServices, setServices, type Services } from '../../../functions/app/services';
import { capturedFunctions } from '../../../local/host/core';
import { capturedOrchestrator, simulateOrchestration } from '../../../local/host/durable/simulate';
import { FollowUpActivities, NO_SHOW_FOLLOW_UP_ORCHESTRATOR, planFollowUp, sendFollowUp } from '../../../orchestrations/no-show-follow-up';

const orch = () => capturedOrchestrator(NO_SHOW_FOLLOW_UP_ORCHESTRATOR, capturedFunctions);
const T0 = '2026-03-02T15:10:00.000Z';
const input = { appointmentId: 'apt-1', noShowAt: T0 };

describe('no-show follow-up orchestrator', () => {
  it('sleeps until the planned time, then sends once', async () => {
    const r = await simulateOrchestration(orch(), input, {
      start: T0,
      activities: {
        [FollowUpActivities.plan]: () => ({ kind: 'send', at: '2026-03-02T16:10:00.000Z' }),
        [FollowUpActivities.send]: () => ({ outcome: 'sent' }),
      },
    });
    expect(r.output).toEqual({ outcome: 'sent' });
    expect(r.activityCalls.map((c) => [c.name, c.at])).toEqual([
      [FollowUpActivities.plan, T0],
      [FollowUpActivities.send, '2026-03-02T16:10:00.000Z'],
    ]);
  });

  it('skips without a timer when the clinic or type turned it off', async () => {
    const r = await simulateOrchestration(orch(), input, {
      start: T0,
      activities: { [FollowUpActivities.plan]: () => ({ kind: 'skip', reason: 'type-off' }) },
    });
    expect(r.output).toEqual({ outcome: 'skipped', reason: 'type-off' });
    expect(r.activityCalls.map((c) => c.name)).toEqual([FollowUpActivities.plan]);
  });

  it('a deferred send waits until it is allowed, a bounded number of times', async () => {
    let sends = 0;
    const r = await simulateOrchestration(orch(), input, {
      start: T0,
      activities: {
        [FollowUpActivities.plan]: () => ({ kind: 'send', at: '2026-03-02T16:10:00.000Z' }),
        [FollowUpActivities.send]: () => (++sends === 1 ? { outcome: 'rate-limited', nextAllowedAt: '2026-03-03T13:00:00.000Z' } : { outcome: 'sent' }),
      },
    });
    expect(r.output).toEqual({ outcome: 'sent' });
    expect(r.activityCalls.filter((c) => c.name === FollowUpActivities.send).map((c) => c.at)).toEqual([
      '2026-03-02T16:10:00.000Z',
      '2026-03-03T13:00:00.000Z',
    ]);

    const never = await simulateOrchestration(orch(), input, {
      start: T0,
      activities: {
        [FollowUpActivities.plan]: () => ({ kind: 'send', at: T0 }),
        [FollowUpActivities.send]: (_i, at) => ({ outcome: 'quiet-hours', nextAllowedAt: DateTime.fromJSDate(at).plus({ hours: 10 }).toUTC().toISO() }),
      },
    });
    expect(never.output).toEqual({ outcome: 'gave-up', reason: 'quiet-hours' });
    expect(never.activityCalls.filter((c) => c.name === FollowUpActivities.send)).toHaveLength(3);
  });
});

describe('the follow-up activities', () => {
  const NOW = DateTime.fromISO('2026-03-02T15:10:00Z', { zone: 'utc' }); // Mon 10:10 New York
  let services: Services;
  let outbox: SmsOutbox;
  let clock: FixedClock;

  beforeEach(async () => {
    clock = new FixedClock(NOW.minus({ hours: 2 }));
    outbox = new SmsOutbox(LOCAL_SMS_FROM, () => clock.now().toUTC().toISO()!);
    services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local', PUBLIC_BASE_URL: 'https://slotflow.example.org' }), {
      clock,
      ids: new SequentialIds(),
      sms: outbox,
    });
    await services.config.putClinic(clinicSchema.parse({ clinicId: 'c1', name: 'Riverside', timeZone: 'America/New_York' }));
    await services.config.putAppointmentType(appointmentTypeSchema.parse({ code: 'echo', clinicId: 'c1', name: 'Echocardiogram', durationMinutes: 30 }));
    await services.config.putAppointmentType(
      appointmentTypeSchema.parse({ code: 'lab', clinicId: 'c1', name: 'Lab draw', durationMinutes: 30, noShowFollowUp: false }),
    );
    await services.config.putProvider(
      providerSchema.parse({
        providerId: 'p1',
        clinicId: 'c1',
        name: 'Dr. Heart',
        appointmentTypes: ['echo', 'lab'],
        weeklyHours: ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, start: '09:00', end: '17:00' })),
      }),
    );
    await services.patients.put({
      patientId: 'pat-es',
      name: 'Lucía Fernández',
      phone: '+15551230001',
      smsConsent: true,
      preferredLanguage: 'es',
      clinicIds: ['c1'],
      noShows: [],
      updatedAt: NOW.toISO()!,
    });
    setServices(services);
  });
  afterEach(() => setServices(undefined));

  const noShow = async (slotId: string, appointmentType = 'echo') => {
    clock.set(NOW.minus({ hours: 2 }));
    const a = await bookAppointment(services, { slotId, patientId: 'pat-es', appointmentType, channel: 'api', actor: { kind: 'staff', principalId: 'desk' } });
    clock.set(NOW);
    await markNoShow(services, { appointmentId: a.appointmentId, actor: { kind: 'staff', principalId: 'desk' } });
    return a;
  };

  it('texts a PHI-free rebooking link in the patient language, once', async () => {
    const a = await noShow('p1.20260302T1400'); // Mon 9:00, recorded 10:10
    expect(await planFollowUp({ appointmentId: a.appointmentId, noShowAt: NOW.toISO()! })).toEqual({ kind: 'send', at: '2026-03-02T16:10:00.000Z' });
    clock.set(NOW.plus({ hours: 1 }));
    expect(await sendFollowUp({ appointmentId: a.appointmentId })).toEqual({ outcome: 'sent' });
    const [sms] = outbox.list();
    expect(sms!.body).toMatch(
      /^Riverside: lamentamos no haberle atendido\. Elija un nuevo horario en https:\/\/slotflow\.example\.org\/book\/\S+ \(vence el jue, 5 mar, 11:10\)\.$/,
    );
    expect(sms!.body).not.toMatch(/Lucía|Fernández|Echo|Heart/);
    const token = /\/book\/(\S+) /.exec(sms!.body)![1]!;
    expect(verifyLinkToken(token, linkSigningKey(services.settings), clock.now().toMillis())).toMatchObject({
      ok: true,
      claims: { patientId: 'pat-es', scope: { kind: 'search', clinicId: 'c1', appointmentType: 'echo' } },
    });
    expect(await sendFollowUp({ appointmentId: a.appointmentId })).toEqual({ outcome: 'already-sent' });
    expect(outbox.list()).toHaveLength(1);
  });

  it('nothing when the type turned it off, or the patient booked again', async () => {
    const lab = await noShow('p1.20260302T1400', 'lab');
    expect(await planFollowUp({ appointmentId: lab.appointmentId, noShowAt: NOW.toISO()! })).toEqual({ kind: 'skip', reason: 'type-off' });
    const echo = await noShow('p1.20260302T1430');
    await bookAppointment(services, {
      slotId: 'p1.20260304T1500',
      patientId: 'pat-es',
      appointmentType: 'echo',
      channel: 'sms',
      actor: { kind: 'patient', principalId: 'pat-es' },
    });
    expect(await sendFollowUp({ appointmentId: echo.appointmentId })).toEqual({ outcome: 'rebooked' });
    expect(outbox.list()).toHaveLength(0);
  });
});
