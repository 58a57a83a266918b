/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

/** A fake durable client: records starts and raised events; instance status is scripted. */
const fake = {
  statuses: new Map<string, string>(),
  started: [] as { name: string; instanceId: string; input: unknown }[],
  raised: [] as { instanceId: string; eventName: string; data: unknown }[],
  async getStatus(instanceId: string) {
    const runtimeStatus = fake.statuses.get(instanceId);
    if (!runtimeStatus) throw new Error('404');
    return { runtimeStatus };
  },
  async startNew(name: string, options: { instanceId: string; input: unknown }) {
    fake.started.push({ name, instanceId: options.instanceId, input: options.input });
    fake.statuses.set(options.instanceId, 'Running');
    return options.instanceId;
  },
  async raiseEvent(instanceId: string, eventName: string, data: unknown) {
    fake.raised.push({ instanceId, eventName, data });
  },
};
jest.mock('durable-functions', () => ({ ...jest.requireActual('durable-functions'), getClient: () => fake }));

import { InvocationContext } from '@azure/functions';
import { EventType, makeEvent } from '../../../domain';
import { isDeadLetterError } from '../../../functions/adapters/servicebus/errors';
import { loadSettings } from '../../../functions/app/config';
import { createInMemoryServices, setServices } from '../../../functions/app/services';
import { capturedFunctions } from '../../../local/host/core';

require('../../../functions/events/backfill');
require('../../../functions/events/eligibility');

const handler = (name: string) => capturedFunctions.get(name)!.handler as (message: unknown, context: InvocationContext) => Promise<void>;
const ctx = (name: string) =>
  new InvocationContext({ functionName: name, invocationId: 'inv-1', triggerMetadata: { messageId: 'm-1', deliveryCount: 1 }, logHandler: () => undefined });

const released = (id: string) =>
  makeEvent(
    EventType.slotReleased,
    {
      slotId: 'dr-a.20260303T1500',
      clinicId: 'c1',
      providerId: 'dr-a',
      appointmentType: 'checkup',
      start: '2026-03-03T10:00:00-05:00',
      end: '2026-03-03T10:30:00-05:00',
      reason: 'cancelled',
      appointmentId: 'apt-1',
    },
    { id, time: '2026-03-02T14:00:00Z', subject: 'dr-a.20260303T1500' },
  );

beforeEach(() => {
  setServices(createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' })));
  fake.statuses.clear();
  fake.started.length = 0;
  fake.raised.length = 0;
});

describe('events triggers', () => {
  it('starts one backfill per slot with a deterministic instance id; a duplicate delivery changes nothing', async () => {
    const event = released('evt-1');
    await handler('eventsBackfill')(event, ctx('eventsBackfill'));
    await handler('eventsBackfill')(event, ctx('eventsBackfill')); // the same event redelivered
    expect(fake.started).toEqual([
      {
        name: 'backfillOrchestrator',
        instanceId: 'backfill-dr-a.20260303T1500',
        input: { slotId: 'dr-a.20260303T1500', appointmentType: 'checkup', reason: 'cancelled' },
      },
    ]);
  });

  it('does not start a second copy while the slot’s backfill is running, even for a new event', async () => {
    await handler('eventsBackfill')(released('evt-1'), ctx('eventsBackfill'));
    await handler('eventsBackfill')(released('evt-2'), ctx('eventsBackfill'));
    expect(fake.started).toHaveLength(1);
  });

  it('accepts the event as a JSON string (as Service Bus delivers bodies) too', async () => {
    await handler('eventsBackfill')(JSON.stringify(released('evt-3')), ctx('eventsBackfill'));
    expect(fake.started).toHaveLength(1);
  });

  it.each([
    ['not JSON', '{oops', 'EVENT.INVALID'],
    ['not a CloudEvent', { hello: 'world' }, 'EVENT.INVALID'],
    ['an unknown type', { ...released('evt-4'), type: 'health.scheduling.unknown.v1' }, 'EVENT.UNKNOWN_TYPE'],
    ['data breaking its schema', { ...released('evt-5'), data: { slotId: 'x' } }, 'EVENT.INVALID'],
    ['PHI smuggled into the payload', { ...released('evt-6'), data: { ...released('evt-6').data, patientName: 'Jane Doe' } }, 'EVENT.INVALID'],
  ])('dead-letters %s with a reason, without retrying', async (_what, message, reason) => {
    const error = await handler('eventsBackfill')(message, ctx('eventsBackfill')).catch((e: unknown) => e);
    expect(isDeadLetterError(error)).toBe(true);
    expect((error as { deadLetterReason: string }).deadLetterReason).toBe(reason);
    expect(String((error as Error).message)).not.toContain('Jane Doe');
    expect(fake.started).toHaveLength(0);
  });

  it('eligibility: a booking starts the check, a cancellation signals it', async () => {
    const ref = {
      appointmentId: 'apt-9',
      slotId: 'dr-a.20260303T1500',
      clinicId: 'c1',
      providerId: 'dr-a',
      patientId: 'p1',
      appointmentType: 'checkup',
      start: '2026-03-03T10:00:00-05:00',
      end: '2026-03-03T10:30:00-05:00',
    };
    const meta = (id: string) => ({ id, time: '2026-03-02T14:00:00Z', subject: 'apt-9' });
    await handler('eventsEligibility')(
      makeEvent(EventType.appointmentBooked, { ...ref, status: 'booked', channel: 'api' }, meta('e1')),
      ctx('eventsEligibility'),
    );
    expect(fake.started.map((s) => s.instanceId)).toEqual(['eligibility-apt-9']);
    await handler('eventsEligibility')(
      makeEvent(EventType.appointmentCancelled, { ...ref, reasonCode: 'x', cancelledBy: 'staff', late: false }, meta('e2')),
      ctx('eventsEligibility'),
    );
    expect(fake.raised).toEqual([{ instanceId: 'eligibility-apt-9', eventName: 'AppointmentChanged', data: { status: 'cancelled' } }]);
  });
});

describe('lapsed offers', () => {
  const expired = (id: string) =>
    makeEvent(
      EventType.offerExpired,
      { offerId: 'ofr-1', waitlistEntryId: 'wl-1', patientId: 'p1', slotId: 'dr-a.20260303T1500', clinicId: 'c1', appointmentType: 'checkup' },
      { id, time: '2026-03-02T14:00:00Z', subject: 'ofr-1' },
    );

  it('starts a backfill for a lapsed offer made outside one', async () => {
    await handler('eventsBackfill')(expired('x1'), ctx('eventsBackfill'));
    expect(fake.started.map((s) => [s.instanceId, (s.input as { reason: string }).reason])).toEqual([['backfill-dr-a.20260303T1500', 'offer-lapsed']]);
  });

  it('does not restart a finished backfill for its own expired offers (no re-offer loop)', async () => {
    fake.statuses.set('backfill-dr-a.20260303T1500', 'Completed');
    await handler('eventsBackfill')(expired('x2'), ctx('eventsBackfill'));
    expect(fake.started).toHaveLength(0);
    // A new release of the slot does start a fresh backfill.
    await handler('eventsBackfill')(released('x3'), ctx('eventsBackfill'));
    expect(fake.started).toHaveLength(1);
  });
});

describe('malformed events in Azure', () => {
  it('are parked with their reason and completed instead of being retried ten times', async () => {
    const services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' }));
    setServices({ ...services, settings: { ...services.settings, SLOTFLOW_ENV: 'azure' } });
    await expect(handler('eventsBackfill')({ hello: 'world' }, ctx('eventsBackfill'))).resolves.toBeUndefined();
    const parked = await services.idempotency.get('event', 'poison:backfill:m-1');
    expect(parked?.response?.body).toMatchObject({ reason: 'EVENT.INVALID', body: '{"hello":"world"}' });
    expect(fake.started).toHaveLength(0);
  });
});
