import { bookAppointment, rescheduleAppointment } from '../../../../../domain';
import type { Appointment } from '../../../../../domain/model';
import { CONTAINERS } from '../../../../../functions/adapters/cosmos/keys';
import {
  cosmosContext,
  type CosmosTestContext,
  type CosmosTestServer,
  databaseName,
  seedClinic,
  slotAt,
  startCosmosTestServer,
} from '../../../../support/cosmos';

/**
 * A reschedule to another day's partition is three writes (mark the old copy, write the new one,
 * stub the old one). A crash between the second and third leaves two copies; this test puts the
 * documents in exactly that state and checks that no read sees the appointment twice or not at
 * all, and that the read which finds the stale copy finishes the move (stub, old claim released).
 */

let env: CosmosTestServer;
let ctx: CosmosTestContext;
const staff = { kind: 'staff' as const, principalId: 'frontdesk-1' };
const WINDOW = { from: '2026-03-04T00:00:00-05:00', to: '2026-03-12T00:00:00-05:00' };

beforeAll(async () => {
  env = await startCosmosTestServer();
  ctx = await cosmosContext(env.proxy.endpoint, databaseName('crossday'));
  await seedClinic(ctx.services, 6);
});
afterAll(async () => {
  await env.stop();
});

const schedule = () => ctx.services.database.container(CONTAINERS.schedule);
type RawDoc = Record<string, unknown> & { id: string; pk: string; type: string; version: number };

/** Books `patientId` on the 10th, moves them to the 5th, and returns the moved appointment and the old copy as it was before the move. */
async function movedAcrossDays(patientId: string, laterSlot: string, earlierSlot: string): Promise<{ before: RawDoc; after: Appointment; oldPk: string }> {
  const booked = await bookAppointment(ctx.deps, { slotId: laterSlot, patientId, appointmentType: 'consult', channel: 'api', actor: staff });
  const found = await schedule()
    .items.query<RawDoc>({ query: "SELECT * FROM c WHERE c.id = @id AND c.type = 'appointment'", parameters: [{ name: '@id', value: booked.appointmentId }] })
    .fetchAll();
  const before = found.resources[0]!;
  const after = await rescheduleAppointment(ctx.deps, { appointmentId: booked.appointmentId, newSlotId: earlierSlot, actor: staff, channel: 'backfill' });
  return { before, after, oldPk: before.pk };
}

/** Puts the old copy back as a crash between "new copy written" and "old copy stubbed" leaves it (and its slot claim). */
async function leaveStaleCopy(before: RawDoc, marked: boolean, newPk: string, newVersion: number): Promise<void> {
  const { _etag, _rid, _self, _ts, _attachments, ...doc } = before;
  void [_etag, _rid, _self, _ts, _attachments];
  await schedule().items.upsert({ ...doc, ...(marked ? { movingTo: { pk: newPk, version: newVersion } } : {}) });
  await schedule().items.upsert({
    id: `claim|${String(before.slotId)}`,
    pk: before.pk,
    type: 'slot-claim',
    slotId: before.slotId,
    providerId: before.providerId,
    appointmentId: before.id,
    claimedAt: before.createdAt,
  });
}

async function rawAt(id: string, pk: string): Promise<RawDoc | undefined> {
  const { resource } = await schedule().item(id, pk).read<RawDoc>();
  return resource;
}

const newPkOf = async (id: string) =>
  (
    await schedule()
      .items.query<RawDoc>({ query: "SELECT * FROM c WHERE c.id = @id AND c.type = 'appointment'", parameters: [{ name: '@id', value: id }] })
      .fetchAll()
  ).resources.map((d) => d.pk);

it.each([
  ['marked (the move wrote its marker first)', true, 'pat-1', '09:00'],
  ['unmarked (a move from before markers)', false, 'pat-2', '10:00'],
])('a stale copy left by a move across days, %s: one appointment in every read, and the read repairs it', async (_, marked, patientId, time) => {
  const later = slotAt('dr-a', `2026-03-10T${time}`);
  const earlier = slotAt('dr-a', `2026-03-05T${time}`);
  const { before, after, oldPk } = await movedAcrossDays(patientId, later, earlier);
  const [newPk] = await newPkOf(after.appointmentId);
  expect(newPk).not.toBe(oldPk);
  await leaveStaleCopy(before, marked, newPk!, after.version);
  expect((await newPkOf(after.appointmentId)).sort()).toEqual([newPk, oldPk].sort());

  // A process with no cache: the patient's list over both days shows the appointment once, where it is now.
  const fresh = await cosmosContext(env.proxy.endpoint, ctx.services.database.id);
  const listed = await fresh.services.appointments.list({ clinicId: 'c1', patientId, ...WINDOW });
  expect(listed.items.map((a) => [a.appointmentId, a.slotId, a.version])).toEqual([[after.appointmentId, earlier, after.version]]);
  // get() finds the current copy and turns the stale one into the forwarding stub.
  expect(await fresh.services.appointments.get(after.appointmentId)).toEqual(after);
  expect(await rawAt(after.appointmentId, oldPk)).toMatchObject({ type: 'appointment-moved', movedToPk: newPk });
  expect(await newPkOf(after.appointmentId)).toEqual([newPk]);
  // The stale copy's claim is gone: the later slot can be booked by someone else.
  const other = await bookAppointment(fresh.deps, { slotId: later, patientId: 'pat-6', appointmentType: 'consult', channel: 'api', actor: staff });
  expect(other.slotId).toBe(later);
  const now = await fresh.services.appointments.list({ clinicId: 'c1', patientId, ...WINDOW });
  expect(now.items.map((a) => a.slotId)).toEqual([earlier]);
});

it('a marked old copy whose new copy was never written (crash after the marker) still is the appointment', async () => {
  const later = slotAt('dr-b', '2026-03-10T11:00');
  const booked = await bookAppointment(ctx.deps, { slotId: later, patientId: 'pat-3', appointmentType: 'consult', channel: 'api', actor: staff });
  const [pk] = await newPkOf(booked.appointmentId);
  const doc = (await rawAt(booked.appointmentId, pk!))!;
  await schedule().items.upsert({ ...doc, movingTo: { pk: 'c1|2026-03-05', version: booked.version + 1 } });
  const fresh = await cosmosContext(env.proxy.endpoint, ctx.services.database.id);
  expect(await fresh.services.appointments.get(booked.appointmentId)).toEqual(booked);
  expect((await fresh.services.appointments.list({ clinicId: 'c1', patientId: 'pat-3', ...WINDOW })).items.map((a) => a.appointmentId)).toEqual([
    booked.appointmentId,
  ]);
  // And it can still be moved (the marker is rewritten by the next move).
  const moved = await rescheduleAppointment(fresh.deps, {
    appointmentId: booked.appointmentId,
    newSlotId: slotAt('dr-b', '2026-03-05T11:00'),
    actor: staff,
    channel: 'api',
  });
  expect((await fresh.services.appointments.list({ clinicId: 'c1', patientId: 'pat-3', ...WINDOW })).items.map((a) => a.slotId)).toEqual([moved.slotId]);
});
