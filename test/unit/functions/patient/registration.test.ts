/**
 * The SMS and booking routes register as the Functions host expects: full paths (empty route
 * prefix), anonymous (the signature or token is the authentication), a durable client where
 * offer replies are raised; the dev outbox only when SLOTFLOW_ENV=local.
 */
interface Registered {
  name: string;
  bindings: Record<string, { type: string; direction: string; route?: string; methods?: string[]; authLevel?: string }>;
}
const registered: Registered[] = [];
jest.mock(
  '@azure/functions-core',
  () => ({
    version: '3.10.1',
    hostVersion: '4.1036.0',
    registerFunction: (metadata: Registered) => {
      registered.push(metadata);
      return { dispose: () => undefined };
    },
    registerHook: () => ({ dispose: () => undefined }),
    setProgrammingModel: () => undefined,
    getProgrammingModel: () => undefined,
    log: () => undefined,
  }),
  { virtual: true },
);

function load(env: string | undefined): Registered[] {
  registered.length = 0;
  const previous = process.env.SLOTFLOW_ENV;
  if (env === undefined) delete process.env.SLOTFLOW_ENV;
  else process.env.SLOTFLOW_ENV = env;
  // A fresh module registry per environment: each load re-runs the files' registrations.
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports -- isolateModules needs synchronous loads */
    require('../../../../functions/patient/sms-inbound');
    require('../../../../functions/patient/sms-status');
    require('../../../../functions/patient/sms-dev-outbox');
    require('../../../../functions/patient/book-link');
    /* eslint-enable @typescript-eslint/no-require-imports */
  });
  if (previous === undefined) delete process.env.SLOTFLOW_ENV;
  else process.env.SLOTFLOW_ENV = previous;
  return [...registered];
}

const http = (r: Registered) => Object.values(r.bindings).find((b) => b.type === 'httpTrigger')!;
const summary = (rs: Registered[]) =>
  rs
    .map((r) => ({
      name: r.name,
      route: http(r).route,
      methods: http(r).methods?.map((m) => m.toUpperCase()),
      authLevel: http(r).authLevel,
      durableClient: Object.values(r.bindings).some((b) => b.type === 'durableClient'),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));

describe('SMS and booking route registrations', () => {
  it('locally: full paths, anonymous, durable client where replies are raised, dev outbox present', () => {
    expect(summary(load('local'))).toEqual([
      { name: 'bookLinkConfirm', route: 'book/{token}', methods: ['POST'], authLevel: 'anonymous', durableClient: true },
      { name: 'bookLinkPage', route: 'book/{token}', methods: ['GET'], authLevel: 'anonymous', durableClient: false },
      { name: 'smsDevOutbox', route: 'api/dev/sms/outbox', methods: ['GET'], authLevel: 'anonymous', durableClient: false },
      { name: 'smsInbound', route: 'api/sms/inbound', methods: ['POST'], authLevel: 'anonymous', durableClient: true },
      { name: 'smsStatus', route: 'api/sms/status', methods: ['POST'], authLevel: 'anonymous', durableClient: false },
    ]);
  });

  it('in Azure the dev outbox is not registered', () => {
    expect(summary(load('azure')).map((r) => r.name)).toEqual(['bookLinkConfirm', 'bookLinkPage', 'smsInbound', 'smsStatus']);
  });
});
