/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories */
jest.mock('@azure/functions-core', () => require('../../../../local/host/core').functionsCore, { virtual: true });
jest.mock('durable-functions', () => ({ ...jest.requireActual('durable-functions'), getClient: () => ({}) }));

/**
 * Outbound EHR sync on subscription ehr-outbound: pushes the current FHIR Appointment for changes made in
 * Slotflow, does not echo the EHR's own changes, dead-letters rejections and retries transient failures.
 */
import { InvocationContext } from '@azure/functions';
import { bookAppointment, cancelAppointment, TransientError, type SchedulingEvent } from '../../../../domain';
import { parseSiu } from '../../../../domain/ehr';
import { addMoveUpEntry } from '../../../../domain/waitlist/move-up';
import { acceptOffer, createOffer } from '../../../../domain/waitlist/offers';
import { EhrPushRejected, RecordingEhrPush, type EhrAppointmentPush } from '../../../../functions/adapters/fhir/ehr-push';
import { isDeadLetterError } from '../../../../functions/adapters/servicebus/errors';
import { setEhrPush } from '../../../../functions/app/ehr-push';
import { capturedFunctions } from '../../../../local/host/core';
import { P1_TUE_0900, seed, type Seeded } from '../../../support/api-harness';

require('../../../../functions/ehr/outbound-sync');

let env: Seeded;
let recorder: RecordingEhrPush;
const handler = () => capturedFunctions.get('ehrOutboundSync')!.handler as (message: unknown, context: InvocationContext) => Promise<void>;
const ctx = () =>
  new InvocationContext({
    functionName: 'ehrOutboundSync',
    invocationId: 'inv-1',
    triggerMetadata: { messageId: 'm-1', deliveryCount: 1 },
    logHandler: () => undefined,
  });

beforeEach(async () => {
  env = await seed();
  recorder = new RecordingEhrPush();
  setEhrPush(recorder);
});
afterAll(() => setEhrPush(undefined));

async function bookedEvent(): Promise<SchedulingEvent> {
  await bookAppointment(env.services, {
    slotId: P1_TUE_0900,
    patientId: 'pat1',
    appointmentType: 'checkup',
    channel: 'api',
    actor: { kind: 'staff', principalId: 's' },
  });
  return env.publisher.published.at(-1)!;
}

test('subscribes to ehr-outbound of scheduling-events', () => {
  const fn = capturedFunctions.get('ehrOutboundSync')!;
  expect(JSON.stringify(fn)).toContain('ehr-outbound');
});

test('a front-desk booking is pushed as the current FHIR Appointment; a redelivery is skipped', async () => {
  const event = await bookedEvent();
  await handler()(event, ctx());
  await handler()(event, ctx());
  expect(recorder.pushed).toHaveLength(1);
  expect(recorder.pushed[0]).toMatchObject({
    resourceType: 'Appointment',
    id: event.subject,
    status: 'booked',
    participant: expect.arrayContaining([{ actor: { reference: 'Patient/pat1' }, required: 'required', status: 'accepted' }]),
  });
  expect(JSON.stringify(recorder.pushed[0])).not.toContain('Ada Lovelace');
});

test("the EHR's own bookings and cancellations are not echoed", async () => {
  await bookAppointment(env.services, {
    slotId: 'p1.20260303T1430',
    patientId: 'pat2',
    appointmentType: 'checkup',
    channel: 'ehr',
    actor: { kind: 'ehr', principalId: 'e' },
  });
  await handler()(env.publisher.published.at(-1)!, ctx());
  const [booked] = env.publisher.published;
  await cancelAppointment(env.services, { appointmentId: booked!.subject, actor: { kind: 'ehr', principalId: 'e' }, reasonCode: 'ehr-cancelled' });
  await handler()(
    env.publisher.published.find((e) => e.type.endsWith('cancelled.v1'))!,
    ctx(),
  );
  expect(recorder.pushed).toHaveLength(0);
});

test('a rejection dead-letters; a transient failure is retried (thrown)', async () => {
  const event = await bookedEvent();
  const failing = (error: Error): EhrAppointmentPush => ({ putAppointment: async () => Promise.reject(error) });
  setEhrPush(failing(new EhrPushRejected(422)));
  const rejected = await handler()(event, ctx()).catch((e: unknown) => e);
  expect(isDeadLetterError(rejected) && rejected.deadLetterReason).toBe('EHR.PUSH_REJECTED');
  setEhrPush(failing(new TransientError('down')));
  const transient = await handler()({ ...event, id: 'evt-other' }, ctx()).catch((e: unknown) => e);
  expect(transient).toBeInstanceOf(TransientError);
});

test('a move-up (a reschedule) goes out as the FHIR Appointment update and as SIU S13, same id, new time, no PHI', async () => {
  const later = await bookAppointment(env.services, {
    slotId: 'p1.20260310T1300',
    patientId: 'pat1',
    appointmentType: 'checkup',
    channel: 'api',
    actor: { kind: 'staff', principalId: 's' },
  });
  const { entry } = await addMoveUpEntry(env.services, { appointmentId: later.appointmentId });
  const offer = await createOffer(env.services, {
    slotId: P1_TUE_0900,
    clinicId: 'c1',
    waitlistEntryId: entry.waitlistEntryId,
    workflowInstanceId: `backfill-${P1_TUE_0900}`,
    round: 1,
    expiresAt: '2026-03-02T15:00:00Z',
  });
  expect((await acceptOffer(env.services, { offerId: offer!.offerId, channel: 'backfill' })).outcome).toBe('accepted');
  const rescheduled = env.publisher.published.find((e) => e.type.endsWith('appointment.rescheduled.v1'))!;
  await handler()(rescheduled, ctx());

  expect(recorder.pushed).toHaveLength(1);
  expect(recorder.pushed[0]).toMatchObject({
    resourceType: 'Appointment',
    id: later.appointmentId,
    meta: { versionId: '2' },
    status: 'booked',
    start: '2026-03-03T09:00:00-05:00',
    end: '2026-03-03T09:30:00-05:00',
    slot: [{ reference: `Slot/${P1_TUE_0900}` }],
  });
  expect(recorder.siu.map((m) => [m.trigger, m.appointmentId])).toEqual([['S13', later.appointmentId]]);
  const parsed = parseSiu(recorder.siu[0]!.message);
  expect(parsed.ok && parsed.command).toMatchObject({
    trigger: 'S13',
    placerId: later.appointmentId,
    patientIds: ['pat1'],
    providerIds: ['p1'],
    appointmentType: 'checkup',
    clinicId: 'c1',
    start: { local: { year: 2026, month: 3, day: 3, hour: 9, minute: 0 }, offsetMinutes: -300 },
    durationMinutes: 30,
  });
  expect(recorder.siu[0]!.message).toContain('Previous start 20260310090000-0400 slot p1.20260310T1300');
  for (const out of [JSON.stringify(recorder.pushed[0]), recorder.siu[0]!.message]) {
    expect(out).not.toContain('Ada Lovelace');
    expect(out).not.toContain('+14155550101');
  }
});
