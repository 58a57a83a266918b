/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factories */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

/** The no-show-follow-up subscription's trigger: a no-show starts one follow-up workflow; repeats start none. */
const fake = {
  statuses: new Map<string, string>(),
  started: [] as { name: string; instanceId: string; input: unknown }[],
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
};
jest.mock('durable-functions', () => ({ ...jest.requireActual('durable-functions'), getClient: () => fake }));

import { InvocationContext } from '@azure/functions';
import { EventType, makeEvent } from '../../../domain';
import { slotflowTopology, Subscriptions } from '../../../functions/adapters/servicebus/topology';
import { loadSettings } from '../../../functions/app/config';
import { createInMemoryServices, setServices } from '../../../functions/app/services';
import { capturedFunctions } from '../../../local/host/core';
import { NO_SHOW_FOLLOW_UP_ORCHESTRATOR } from '../../../orchestrations/names';

require('../../../functions/events/no-show-follow-up');

const handler = capturedFunctions.get('eventsNoShowFollowUp')!.handler as (message: unknown, context: InvocationContext) => Promise<void>;
const ctx = () =>
  new InvocationContext({
    functionName: 'eventsNoShowFollowUp',
    invocationId: 'inv-1',
    triggerMetadata: { messageId: 'm-1', deliveryCount: 1 },
    logHandler: () => undefined,
  });
const ref = {
  appointmentId: 'apt-1',
  slotId: 'dr-a.20260302T1400',
  clinicId: 'c1',
  providerId: 'dr-a',
  patientId: 'pat-1',
  appointmentType: 'checkup',
  start: '2026-03-02T09:00:00-05:00',
  end: '2026-03-02T09:30:00-05:00',
};
const noShow = (id: string) => makeEvent(EventType.appointmentNoShow, ref, { id, time: '2026-03-02T15:10:00Z', subject: 'apt-1' });

beforeEach(() => {
  setServices(createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local' })));
  fake.statuses.clear();
  fake.started.length = 0;
});
afterAll(() => setServices(undefined));

it('the subscription takes no-show events only', () => {
  const sub = slotflowTopology.topics[0]!.subscriptions.find((s) => s.name === Subscriptions.noShowFollowUp)!;
  expect(sub.filter!.matches({ applicationProperties: { type: EventType.appointmentNoShow } })).toBe(true);
  expect(sub.filter!.matches({ applicationProperties: { type: EventType.appointmentCancelled } })).toBe(false);
});

it('a no-show starts its follow-up once: a redelivery and a second mark start nothing more', async () => {
  await handler(JSON.parse(JSON.stringify(noShow('evt-1'))), ctx());
  await handler(JSON.parse(JSON.stringify(noShow('evt-1'))), ctx());
  await handler(JSON.parse(JSON.stringify(noShow('evt-2'))), ctx());
  expect(fake.started).toEqual([
    { name: NO_SHOW_FOLLOW_UP_ORCHESTRATOR, instanceId: 'noshow-follow-up-apt-1', input: { appointmentId: 'apt-1', noShowAt: '2026-03-02T15:10:00Z' } },
  ]);
});

it('a malformed message is dead-lettered, nothing started', async () => {
  await expect(handler({ type: EventType.appointmentNoShow, data: { appointmentId: 'apt-1' } }, ctx())).rejects.toThrow();
  expect(fake.started).toEqual([]);
});
