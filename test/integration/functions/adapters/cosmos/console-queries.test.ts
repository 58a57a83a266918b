import type { PatientRecord, WaitlistOffer } from '../../../../../domain';
import { cosmosContext, startCosmosTestServer, type CosmosTestServer } from '../../../../support/cosmos';

/** The console's two cross-partition reads on the real local Cosmos server: patients by name, a clinic's offers by sending time. */
let server: CosmosTestServer;
beforeAll(async () => (server = await startCosmosTestServer()));
afterAll(async () => server.stop());

const patient = (patientId: string, name: string): PatientRecord => ({
  patientId,
  name,
  phone: `+1555000${patientId.slice(-4)}`,
  smsConsent: true,
  clinicIds: [],
  noShows: [],
  updatedAt: '2026-03-02T12:00:00Z',
});
const offer = (offerId: string, patientId: string, clinicId: string, sentAt: string, status: WaitlistOffer['status'] = 'sent'): WaitlistOffer => ({
  offerId,
  clinicId,
  slotId: 'dr-a.20260303T1400',
  waitlistEntryId: `wl-${offerId}`,
  patientId,
  workflowInstanceId: 'backfill-dr-a.20260303T1400',
  round: 1,
  status,
  sentAt,
  expiresAt: '2026-03-02T14:00:00.000Z',
  version: 1,
});

it('finds patients whose name contains every word, case-insensitively, by name, up to the limit', async () => {
  const { services } = await cosmosContext(server.server.endpoint, 'console-names');
  for (const [id, name] of [
    ['pt-0001', 'Ada Lovelace'],
    ['pt-0002', 'Ada King'],
    ['pt-0003', 'Grace Hopper'],
    ['pt-0004', 'Augusta Ada Byron'],
  ] as const) {
    await services.patients.put(patient(id, name));
  }
  expect((await services.patients.searchByName('ada', 10)).map((p) => p.name)).toEqual(['Ada King', 'Ada Lovelace', 'Augusta Ada Byron']);
  expect((await services.patients.searchByName('  LOVE  ada ', 10)).map((p) => p.patientId)).toEqual(['pt-0001']);
  expect(await services.patients.searchByName('ada', 1)).toHaveLength(1);
  expect(await services.patients.searchByName('nobody', 10)).toEqual([]);
  expect(await services.patients.searchByName('   ', 10)).toEqual([]);
  // Quotes and SQL-looking input are parameters, never query text.
  expect(await services.patients.searchByName("' OR 1=1 --", 10)).toEqual([]);
});

it("lists a clinic's offers sent in a window, optionally of one status, oldest first", async () => {
  const { services } = await cosmosContext(server.server.endpoint, 'console-offers');
  await services.offers.create(offer('o1', 'pt-1', 'c1', '2026-03-02T12:00:00.000Z', 'expired'));
  await services.offers.create(offer('o2', 'pt-2', 'c1', '2026-03-02T13:00:00.000Z'));
  await services.offers.create(offer('o3', 'pt-3', 'c2', '2026-03-02T13:00:00.000Z'));
  await services.offers.create(offer('o4', 'pt-4', 'c1', '2026-03-02T15:00:00.000Z'));
  const window = { sentFrom: '2026-03-02T07:00:00-05:00', sentTo: '2026-03-02T14:00:00Z' };
  expect((await services.offers.listByClinic('c1', window)).map((o) => o.offerId)).toEqual(['o1', 'o2']);
  expect((await services.offers.listByClinic('c1', { ...window, status: 'sent' })).map((o) => o.offerId)).toEqual(['o2']);
  expect(await services.offers.listByClinic('c9', window)).toEqual([]);
});
