/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { DateTime } from 'luxon';
import { bookAppointment, cancelAppointment, clinicSchema, TransientError, type OutboundSms, type WaitlistEntry } from '../../../domain';
import { FixedClock, InMemoryAppointments, RecordingSms } from '../../../domain/memory';
import { loadSettings } from '../../../functions/app/config';
import { createInMemoryServices, setServices, type Services } from '../../../functions/app/services';
import { capturedFunctions } from '../../../local/host/core';
import { putAllDayVisitProvider } from '../../support/all-day-clinic';
import { capturedOrchestrator, simulateOrchestration, type ActivityStub } from '../../../local/host/durable/simulate';
import { Activities, BACKFILL_ORCHESTRATOR, bookForOffer, closeOffers, loadCandidates, sendOffer, type BackfillOutput } from '../../../orchestrations/backfill';

/**
 * Fault injection: the real backfill activities against in-memory adapters that fail the way
 * production dependencies do (SMS provider 5xx, Cosmos 429 surfacing after the SDK's own retries).
 * The workflow retries and finishes; nobody is texted twice and the slot is booked once.
 */

class FlakySms extends RecordingSms {
  failuresLeft = new Map<string, number>();
  override async send(m: OutboundSms) {
    const left = this.failuresLeft.get(m.to) ?? 1; // every number fails once first
    if (left > 0) {
      this.failuresLeft.set(m.to, left - 1);
      throw new TransientError('SMS provider answered 503');
    }
    return super.send(m);
  }
}

class ThrottledAppointments extends InMemoryAppointments {
  throttles = 2;
  override async create(...args: Parameters<InMemoryAppointments['create']>) {
    if (this.throttles-- > 0) throw new TransientError('Cosmos DB 429: request rate is large');
    return super.create(...args);
  }
}

const T0 = DateTime.fromISO('2026-03-02T14:00:00Z', { zone: 'utc' });
let services: Services;
let clock: FixedClock;
let sms: FlakySms;
let slotId: string;

beforeEach(async () => {
  clock = new FixedClock(T0);
  sms = new FlakySms();
  services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' }), { clock, sms, appointments: new ThrottledAppointments() });
  setServices(services);
  await services.config.putClinic(
    clinicSchema.parse({ clinicId: 'c1', name: 'Clinic', timeZone: 'UTC', offerPolicy: { batchSize: 2, quietStart: '00:00', quietEnd: '00:00' } }),
  );
  await putAllDayVisitProvider(services);
  for (const n of [1, 2, 3]) {
    await services.patients.put({
      patientId: `p${n}`,
      name: `Patient ${n}`,
      phone: `+1555000000${n}`,
      smsConsent: true,
      clinicIds: [],
      noShows: [],
      updatedAt: T0.toISO()!,
    });
  }
  slotId = 'dr-a.20260303T1500';
  (services.appointments as ThrottledAppointments).throttles = 0;
  const booked = await bookAppointment(services, {
    slotId,
    patientId: 'p1',
    appointmentType: 'visit',
    channel: 'api',
    actor: { kind: 'staff', principalId: 's' },
  });
  await cancelAppointment(services, { appointmentId: booked.appointmentId, actor: { kind: 'staff', principalId: 's' }, reasonCode: 'x' });
  (services.appointments as ThrottledAppointments).throttles = 2;
  for (const n of [2, 3]) {
    const entry: WaitlistEntry = {
      waitlistEntryId: `wl-${n}`,
      clinicId: 'c1',
      patientId: `p${n}`,
      appointmentType: 'visit',
      providerIds: [],
      urgency: n === 2 ? 'urgent' : 'routine',
      timeOfDay: 'any',
      status: 'active',
      createdAt: T0.minus({ days: 10 }).toISO()!,
      updatedAt: T0.toISO()!,
      version: 1,
    };
    await services.waitlist.add(entry);
  }
});

/** Real activity bodies; the service clock follows the simulation's virtual clock. */
const real =
  (fn: (input: never) => Promise<unknown>): ActivityStub =>
  async (input, at) => {
    clock.set(DateTime.fromJSDate(at, { zone: 'utc' }));
    return fn(input as never);
  };

it('retries through SMS 5xx and Cosmos 429, books once, texts each patient one offer', async () => {
  const orchestrator = capturedOrchestrator(BACKFILL_ORCHESTRATOR, capturedFunctions);
  const r = await simulateOrchestration(
    orchestrator,
    { slotId, appointmentType: 'visit', reason: 'cancelled' },
    {
      start: T0.toJSDate(),
      activities: {
        [Activities.loadCandidates]: real(loadCandidates),
        [Activities.sendOffer]: real(sendOffer),
        [Activities.book]: real(bookForOffer),
        [Activities.closeOffers]: real(closeOffers),
      },
      events: [{ name: 'OfferReply', data: { offerId: 'ofr-dr-a-20260303T1500-wl-2', patientId: 'p2', reply: 'yes', messageSid: 'SM1' }, at: 5 * 60_000 }],
    },
  );
  expect(r.status).toBe('completed');
  expect((r.output as BackfillOutput).outcome).toBe('booked');
  // Each offer activity failed once on the SMS provider and was retried.
  expect(
    r.activityCalls
      .filter((c) => c.name === Activities.sendOffer)
      .map((c) => c.attempt)
      .sort(),
  ).toEqual([1, 1, 2, 2]);
  // The booking hit two 429s and then went through.
  expect(r.activityCalls.filter((c) => c.name === Activities.book).map((c) => c.attempt)).toEqual([1, 2, 3]);
  const offers = sms.sent.filter((m) => m.purpose === 'offer');
  expect(offers.map((m) => m.patientId).sort()).toEqual(['p2', 'p3']);
  const booked = (await services.appointments.list({ clinicId: 'c1', from: '2026-03-01T00:00:00Z', to: '2026-03-05T00:00:00Z' })).items.filter(
    (a) => a.status === 'booked',
  );
  expect(booked.map((a) => a.patientId)).toEqual(['p2']);
  expect((await services.offers.get('ofr-dr-a-20260303T1500-wl-3'))?.status).toBe('unavailable');
  expect((await services.waitlist.get('wl-2'))?.status).toBe('booked');
  expect((await services.waitlist.get('wl-3'))?.status).toBe('active');
});
