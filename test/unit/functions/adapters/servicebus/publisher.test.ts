/**
 * The Service Bus publisher built from settings creates its client on the first publish, not at
 * start (a cold instance's services do not load the SDK or open a connection before an event exists),
 * but still rejects missing settings at start.
 */
import type { ServiceBusClient } from '@azure/service-bus';
import { ServiceBusEventPublisher, type PublishableEvent } from '../../../../../functions/adapters/servicebus/publisher';

function fakeClient() {
  const sent: unknown[] = [];
  const batch = {
    count: 0,
    tryAddMessage(m: unknown) {
      sent.push(m);
      batch.count++;
      return true;
    },
  };
  const sender = {
    createMessageBatch: jest.fn(async () => batch),
    sendMessages: jest.fn(async () => undefined),
    close: jest.fn(async () => undefined),
  };
  const client = { createSender: jest.fn(() => sender), close: jest.fn(async () => undefined) };
  return { client: client as unknown as ServiceBusClient, raw: client, sender, sent };
}

const event: PublishableEvent = {
  specversion: '1.0',
  id: 'evt-1',
  source: '/slotflow',
  type: 'health.scheduling.appointment.booked.v1',
  subject: 'appointments/apt-1',
  time: '2026-12-02T10:00:00Z',
  datacontenttype: 'application/json',
  data: { appointmentId: 'apt-1' },
};

describe('ServiceBusEventPublisher: client on first publish', () => {
  it('makes the client and sender once, on the first publish', async () => {
    const fake = fakeClient();
    const connect = jest.fn(() => fake.client);
    const publisher = new ServiceBusEventPublisher(connect, 'scheduling-events', true);
    expect(connect).not.toHaveBeenCalled();
    await publisher.publish([]);
    expect(connect).not.toHaveBeenCalled();
    await publisher.publish([event]);
    await publisher.publish([event]);
    expect(connect).toHaveBeenCalledTimes(1);
    expect(fake.raw.createSender).toHaveBeenCalledTimes(1);
    expect(fake.raw.createSender).toHaveBeenCalledWith('scheduling-events');
    expect(fake.sender.sendMessages).toHaveBeenCalledTimes(2);
    await publisher.close();
    expect(fake.sender.close).toHaveBeenCalledTimes(1);
    expect(fake.raw.close).toHaveBeenCalledTimes(1);
  });

  it('closes nothing when nothing was sent', async () => {
    const connect = jest.fn(() => fakeClient().client);
    await new ServiceBusEventPublisher(connect, 't', true).close();
    expect(connect).not.toHaveBeenCalled();
  });

  it('a client passed in is used as before (sender at construction, not closed unless owned)', async () => {
    const fake = fakeClient();
    const publisher = new ServiceBusEventPublisher(fake.client, 't');
    expect(fake.raw.createSender).toHaveBeenCalledTimes(1);
    await publisher.publish([event]);
    await publisher.close();
    expect(fake.raw.close).not.toHaveBeenCalled();
  });

  it('fromSettings rejects missing connection settings at start, without making a client', () => {
    expect(() => ServiceBusEventPublisher.fromSettings({ SCHEDULING_EVENTS_TOPIC: 't' } as never)).toThrow(/ServiceBusConnection/);
    // A connection string is enough to build it; nothing connects until a publish.
    expect(() =>
      ServiceBusEventPublisher.fromSettings({
        ServiceBusConnection: 'Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=k;SharedAccessKey=x',
        SCHEDULING_EVENTS_TOPIC: 't',
      } as never),
    ).not.toThrow();
  });
});
