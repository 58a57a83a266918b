import { bookAppointment, cancelAppointment } from '../../../../../domain';
import { EventType } from '../../../../../domain/events';
import type { PatientRecord } from '../../../../../domain/ports';
import { CONTAINERS, ERASED_PATIENT_ID } from '../../../../../functions/adapters/cosmos';
import {
  cosmosContext,
  type CosmosTestContext,
  type CosmosTestServer,
  databaseName,
  patient,
  seedClinic,
  slotAt,
  startCosmosTestServer,
  T0,
} from '../../../../support/cosmos';

let env: CosmosTestServer;
let ctx: CosmosTestContext;
const staff = { kind: 'staff' as const, principalId: 'frontdesk-1' };
const target: PatientRecord = {
  ...patient(0),
  patientId: 'pat-erase-me',
  name: 'Zelda Erasuretest',
  phone: '+14155557777',
  coverage: { payerId: 'payer-1', memberId: 'MEM-777' },
};
const bystander: PatientRecord = { ...patient(0), patientId: 'pat-stays', name: 'Ulla Bystander', phone: '+14155558888' };

beforeAll(async () => {
  env = await startCosmosTestServer();
  ctx = await cosmosContext(env.proxy.endpoint, databaseName('erasure'));
  await seedClinic(ctx.services);
  await ctx.services.patients.put(target);
  await ctx.services.patients.put(bystander);
});
afterAll(async () => {
  await env.stop();
});

async function rawDocuments(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const name of Object.values(CONTAINERS)) {
    out[name] = (await ctx.services.database.container(name).items.readAll().fetchAll()).resources;
  }
  return out;
}

async function giveHistory(p: PatientRecord, day: string, tag: string): Promise<string[]> {
  const s = ctx.services;
  const a1 = await bookAppointment(ctx.deps, {
    slotId: slotAt('dr-a', `${day}T09:00`),
    patientId: p.patientId,
    appointmentType: 'consult',
    channel: 'api',
    actor: staff,
  });
  const a2 = await bookAppointment(ctx.deps, {
    slotId: slotAt('dr-b', `${day}T11:00`),
    patientId: p.patientId,
    appointmentType: 'brief',
    channel: 'sms',
    actor: { kind: 'patient', principalId: p.patientId },
  });
  await cancelAppointment(ctx.deps, { appointmentId: a2.appointmentId, actor: staff, reasonCode: 'patient-request' });
  for (const n of [1, 2]) {
    await s.waitlist.add({
      waitlistEntryId: `wl-${tag}-${n}`,
      clinicId: 'c1',
      patientId: p.patientId,
      appointmentType: 'consult',
      providerIds: [],
      urgency: 'soon',
      timeOfDay: 'morning',
      status: 'active',
      createdAt: T0.toISO()!,
      updatedAt: T0.toISO()!,
      version: 1,
    });
    await s.offers.create({
      offerId: `off-${tag}-${n}`,
      clinicId: 'c1',
      slotId: slotAt('dr-a', `${day}T15:00`),
      waitlistEntryId: `wl-${tag}-${n}`,
      patientId: p.patientId,
      workflowInstanceId: `bf-${tag}`,
      round: n,
      status: 'sent',
      sentAt: T0.toISO()!,
      expiresAt: T0.plus({ minutes: 30 }).toISO()!,
      version: 1,
    });
    await s.smsLog.record({
      messageId: `SM${tag}${n}`,
      patientId: p.patientId,
      direction: n === 1 ? 'outbound' : 'inbound',
      to: n === 1 ? p.phone : '+15550001111',
      from: n === 1 ? '+15550001111' : p.phone,
      body: `Hi ${p.name}, reply YES`,
      at: T0.toISO()!,
    });
  }
  await s.idempotency.putIfAbsent({ scope: 'api', key: `idem-${tag}`, createdAt: T0.toISO()! }, 3600);
  await s.idempotency.complete(
    { scope: 'api', key: `idem-${tag}`, createdAt: T0.toISO()!, response: { status: 201, body: { appointmentId: a1.appointmentId, patientId: p.patientId } } },
    3600,
  );
  await s.idempotency.complete(
    {
      scope: 'sms-inbound',
      key: `SMin${tag}`,
      createdAt: T0.toISO()!,
      response: { status: 200, body: `<Response><Message to="${p.phone}">Thanks ${p.name}</Message></Response>` },
    },
    3600,
  );
  await s.audit.record({
    principalId: 'frontdesk-1',
    action: 'read',
    resourceType: 'Patient',
    resourceId: p.patientId,
    patientId: p.patientId,
    correlationId: `corr-${tag}`,
    at: T0.toISO()!,
    outcome: 'success',
  });
  return [a1.appointmentId, a2.appointmentId];
}

describe('GDPR erasure over Cosmos DB', () => {
  it("removes or de-identifies every document with the patient's id, name or phone, and leaves others intact", async () => {
    const [booked, cancelled] = await giveHistory(target, '2026-03-04', 'z');
    await giveHistory(bystander, '2026-03-05', 'u');
    await ctx.services.idempotency.complete({ scope: 'event', key: 'evt-unrelated', createdAt: T0.toISO()!, response: { status: 200, body: 'ok' } }, 3600);

    // A booking whose event is still pending (broker down) carries the patient id in the outbox.
    const publish = ctx.publisher.publish.bind(ctx.publisher);
    ctx.publisher.publish = async () => {
      throw new Error('broker down');
    };
    const pendingOne = await bookAppointment(ctx.deps, {
      slotId: slotAt('dr-a', '2026-03-06T09:00'),
      patientId: target.patientId,
      appointmentType: 'consult',
      channel: 'api',
      actor: staff,
    });
    ctx.publisher.publish = publish;

    const before = JSON.stringify(await rawDocuments());
    for (const needle of [target.patientId, target.name, target.phone]) expect(before).toContain(needle);

    const report = await ctx.services.erasure.erasePatient(target.patientId, { principalId: 'privacy-officer', correlationId: 'corr-erase' });
    expect(report).toMatchObject({ appointmentsDeidentified: 3, waitlistEntriesDeleted: 2, idempotencyRecordsDeleted: 2 });

    const after = await rawDocuments();
    const text = JSON.stringify(after);
    for (const needle of [target.patientId, target.name, target.phone, target.phone.slice(2), 'MEM-777']) expect(text).not.toContain(needle);

    // The schedule keeps de-identified stubs: the booked one still holds its slot.
    for (const id of [booked!, cancelled!, pendingOne.appointmentId]) {
      expect((await ctx.services.appointments.get(id))?.patientId).toBe(ERASED_PATIENT_ID);
    }
    expect((await ctx.services.appointments.get(booked!))?.status).toBe('booked');
    await expect(
      bookAppointment(ctx.deps, {
        slotId: slotAt('dr-a', '2026-03-04T09:00'),
        patientId: bystander.patientId,
        appointmentType: 'consult',
        channel: 'api',
        actor: staff,
      }),
    ).rejects.toMatchObject({
      code: 'APPOINTMENT.SLOT_TAKEN',
    });

    // Lookups find nothing; the tombstone tells "erased" from "never existed".
    expect(await ctx.services.patients.get(target.patientId)).toBeUndefined();
    expect(await ctx.services.patients.findByPhone(target.phone)).toBeUndefined();
    expect(await ctx.services.offers.listOpenForPatient(target.patientId)).toEqual([]);
    expect(await ctx.services.erasure.erasedAt(target.patientId)).toBe(T0.toISO());
    expect(await ctx.services.erasure.erasedAt('pat-never')).toBeUndefined();

    // Published: the pending booking event (before de-identification) and the tombstone event; nothing pending.
    const types = ctx.publisher.published.map((e) => e.type);
    expect(types).toContain(EventType.patientErased);
    expect(ctx.publisher.published.find((e) => e.type === EventType.patientErased)?.data).toEqual({ patientId: target.patientId, erasedAt: T0.toISO() });
    expect(ctx.publisher.published.some((e) => e.subject === pendingOne.appointmentId)).toBe(true);
    expect(await ctx.services.relayPending()).toBe(0);

    // The audit trail keeps the erasure, pseudonymously.
    const trail = await ctx.services.audit.listForPatient(target.patientId);
    expect(trail.map((e) => e.action)).toEqual(['read', 'erase']);

    // The bystander is untouched.
    expect(await ctx.services.patients.get(bystander.patientId)).toEqual(bystander);
    expect((await ctx.services.patients.findByPhone(bystander.phone))?.patientId).toBe(bystander.patientId);
    expect(await ctx.services.offers.listOpenForPatient(bystander.patientId)).toHaveLength(2);
    expect(await ctx.services.smsLog.listForPatient(bystander.patientId)).toHaveLength(2);
    expect(await ctx.services.waitlist.get('wl-u-1')).toBeDefined();
    expect(await ctx.services.idempotency.get('api', 'idem-u')).toBeDefined();
    expect(await ctx.services.idempotency.get('event', 'evt-unrelated')).toBeDefined();
    expect((await ctx.services.appointments.listByPatient(bystander.patientId, '2026-03-05T00:00:00Z', '2026-03-06T00:00:00Z')).length).toBe(2);
  });

  it('is repeatable: erasing again finds nothing more to remove and still records the request', async () => {
    const report = await ctx.services.erasure.erasePatient(target.patientId, { principalId: 'privacy-officer', correlationId: 'corr-erase-2' });
    expect(report).toMatchObject({ appointmentsDeidentified: 0, waitlistEntriesDeleted: 0, patientDocumentsDeleted: 0, idempotencyRecordsDeleted: 0 });
    expect((await ctx.services.audit.listForPatient(target.patientId)).map((e) => e.action)).toEqual(['read', 'erase', 'erase']);
  });
});
