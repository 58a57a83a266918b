import { cosmosContext, startCosmosTestServer, type CosmosTestServer } from '../../../../support/cosmos';
import type { SmsMessageRecord } from '../../../../../domain/sms';

/** SMS message records on the real local Cosmos server: create, monotonic status, lookup by MessageSid, erasure. */
let server: CosmosTestServer;
beforeAll(async () => (server = await startCosmosTestServer()));
afterAll(async () => server.stop());

const record = (messageId: string, patientId: string, sentAt: string): SmsMessageRecord => ({
  messageId,
  patientId,
  clinicId: 'c1',
  purpose: 'offer',
  template: 'offer',
  correlationId: 'backfill-x',
  offerId: 'ofr-1',
  status: 'queued',
  sentAt,
  updatedAt: sentAt,
});

it('records messages, advances status monotonically under concurrent callbacks, and lists by patient', async () => {
  const { services } = await cosmosContext(server.server.endpoint, 'sms-messages-1');
  const repo = services.smsMessages;
  await repo.create(record('SM0001', 'p1', '2026-03-02T12:00:00Z'));
  await repo.create(record('SM0001', 'p1', '2026-03-02T12:00:00Z')); // a retried create is harmless
  await repo.create(record('SM0002', 'p1', '2026-03-02T13:00:00Z'));
  await repo.create(record('SM0003', 'p2', '2026-03-02T13:00:00Z'));
  expect((await repo.get('SM0001'))?.offerId).toBe('ofr-1');
  expect(await repo.get('SM9999')).toBeUndefined();

  // Callbacks arrive out of order and twice, some at the same time.
  await Promise.all([
    repo.advance('SM0001', 'delivered', '2026-03-02T12:00:05Z'),
    repo.advance('SM0001', 'sent', '2026-03-02T12:00:03Z'),
    repo.advance('SM0001', 'sent', '2026-03-02T12:00:03Z'),
  ]);
  await repo.advance('SM0001', 'queued', '2026-03-02T12:00:06Z');
  expect((await repo.get('SM0001'))?.status).toBe('delivered');
  await repo.advance('SM0002', 'failed', '2026-03-02T13:00:02Z', '30003');
  await repo.advance('SM0002', 'delivered', '2026-03-02T13:00:04Z');
  expect(await repo.get('SM0002')).toMatchObject({ status: 'failed', errorCode: '30003' });

  expect((await repo.listForPatient('p1', '2026-03-02T12:30:00Z')).map((m) => m.messageId)).toEqual(['SM0002']);
  expect((await repo.listForPatient('p1', '2026-03-01T00:00:00Z')).map((m) => m.messageId)).toEqual(['SM0001', 'SM0002']);
});

it('are erased with the patient, pointers included', async () => {
  const { services } = await cosmosContext(server.server.endpoint, 'sms-messages-2');
  await services.patients.put({
    patientId: 'p9',
    name: 'Nora Quist',
    phone: '+15550009999',
    smsConsent: true,
    clinicIds: [],
    noShows: [],
    updatedAt: '2026-03-02T12:00:00Z',
  });
  await services.smsMessages.create(record('SM0009', 'p9', '2026-03-02T12:00:00Z'));
  await services.erasure.erasePatient('p9', { principalId: 'admin', correlationId: 'c' });
  expect(await services.smsMessages.get('SM0009')).toBeUndefined();
  for (const name of ['patients', 'idempotency']) {
    const { resources } = await services.database.container(name).items.query('SELECT * FROM c').fetchAll();
    expect(JSON.stringify(resources)).not.toContain('p9');
  }
});
