import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { durableClientOf } from '../../../../functions/app/event-trigger';
import { durableClientBindingData } from '../../../../local/host/durable/client-api';
import { deepFreeze } from '../../../../domain/frozen';

/** An invocation whose durable client input holds `data`, as a host hands it over. */
function invocationWith(data: unknown): InvocationContext {
  const input = df.input.durableClient();
  const context = new InvocationContext({
    functionName: 'on-event',
    invocationId: 'i-1',
    options: { trigger: { type: 'serviceBusTrigger', name: 'message' }, extraInputs: [input], extraOutputs: [] },
  });
  context.extraInputs.set(input, data);
  return context;
}

const baseUrlOf = (client: df.DurableClient) => (client as unknown as { clientData: { baseUrl?: string; rpcBaseUrl?: string } }).clientData;

describe('durableClientOf (one durable client per distinct binding data)', () => {
  const saved = process.env.WEBSITE_HOSTNAME;
  afterEach(() => {
    if (saved === undefined) delete process.env.WEBSITE_HOSTNAME;
    else process.env.WEBSITE_HOSTNAME = saved;
  });

  it('shares a client between invocations with equal data, whether or not it is the same object', () => {
    const a = durableClientOf(invocationWith(durableClientBindingData('http://127.0.0.1:7071/')));
    const b = durableClientOf(invocationWith(durableClientBindingData('http://127.0.0.1:7071/')));
    expect(b).toBe(a);
    const other = durableClientOf(invocationWith(durableClientBindingData('http://127.0.0.1:7072/')));
    expect(other).not.toBe(a);
  });

  it('keys a deeply frozen data object by identity, still per WEBSITE_HOSTNAME', () => {
    const data = deepFreeze(durableClientBindingData('http://127.0.0.1:7073/'));
    delete process.env.WEBSITE_HOSTNAME;
    const first = durableClientOf(invocationWith(data));
    expect(durableClientOf(invocationWith(data))).toBe(first);
    process.env.WEBSITE_HOSTNAME = 'elsewhere.example';
    const moved = durableClientOf(invocationWith(data));
    expect(moved).not.toBe(first);
    delete process.env.WEBSITE_HOSTNAME;
    expect(durableClientOf(invocationWith(data))).toBe(first);
  });

  it('never reuses a client for a mutable object whose contents changed', () => {
    const data = durableClientBindingData('http://127.0.0.1:7074/');
    const first = durableClientOf(invocationWith(data));
    Object.assign(data, durableClientBindingData('http://127.0.0.1:7075/'));
    const after = durableClientOf(invocationWith(data));
    expect(after).not.toBe(first);
    expect(JSON.stringify(baseUrlOf(after))).toContain('7075');
  });
});
