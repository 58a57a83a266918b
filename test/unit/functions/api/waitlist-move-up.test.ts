// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

import { FakeDurableClient, NOW, P1_TUE_0900, P3_TUE_0900, principal, seed, type InvokeResult, type Seeded } from '../../../support/api-harness';
import { createCheckedCall } from '../../../support/api-spec';

// Registers the routes through the stub above.
import '../../../../functions/api/appointments';
import '../../../../functions/api/waitlist';
import '../../../../functions/api/workflows';

/**
 * POST /api/waitlist with `appointmentId` (a move-up entry) and the cascade in GET
 * /api/workflows/{instanceId}, through the registered handlers on in-memory services; every
 * response is checked against the OpenAPI document, every error is problem+json without PHI.
 */

let env: Seeded;

/** Invokes a route; checks the response against the OpenAPI document and errors for problem+json without PHI. */
const call = createCheckedCall();
const code = (r: InvokeResult) => (r.body as { code?: string }).code;
const schedulerC2 = principal(['scheduler'], ['c2'], 'staff-c2');

beforeEach(async () => {
  env = await seed();
});

async function booked(slotId = P1_TUE_0900, patientId = 'pat1', appointmentType = 'checkup'): Promise<string> {
  const r = await call('POST', '/api/appointments', { body: { slotId, patientId, appointmentType } });
  expect(r.status).toBe(201);
  return (r.body as { appointmentId: string }).appointmentId;
}

/** Nothing written: no waitlist entry in either clinic, no create audited. */
async function expectNothingWritten(): Promise<void> {
  expect((await env.services.waitlist.list('c1', { limit: 50 })).items).toEqual([]);
  expect((await env.services.waitlist.list('c2', { limit: 50 })).items).toEqual([]);
  expect(env.audit.entries.filter((e) => e.resourceType === 'WaitlistEntry' && e.action === 'create' && e.outcome !== 'denied')).toEqual([]);
}

describe('POST /api/waitlist with appointmentId', () => {
  test('201: clinic, type and patient come from the appointment; the entry names it; a second request is a 409', async () => {
    const appointmentId = await booked();
    const r = await call('POST', '/api/waitlist', { body: { appointmentId, urgency: 'soon', providerIds: ['p1'] } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      waitlistEntryId: `wl-up-${appointmentId}`,
      clinicId: 'c1',
      patientId: 'pat1',
      appointmentType: 'checkup',
      urgency: 'soon',
      moveUp: { appointmentId, slotId: P1_TUE_0900, start: '2026-03-03T09:00:00-05:00' },
    });
    // Matching fields are fine.
    const again = await call('POST', '/api/waitlist', { body: { appointmentId, patientId: 'pat1', clinicId: 'c1', appointmentType: 'checkup' } });
    expect([again.status, code(again)]).toEqual([409, 'WAITLIST.MOVE_UP_DUPLICATE']);
    const listed = (await call('GET', '/api/waitlist?clinicId=c1')).body as { entries: { moveUp?: { appointmentId: string } }[] };
    expect(listed.entries.map((e) => e.moveUp?.appointmentId)).toEqual([appointmentId]);
  });

  test('unknown appointment: 404 APPOINTMENT.NOT_FOUND, nothing written', async () => {
    const r = await call('POST', '/api/waitlist', { body: { appointmentId: 'apt-nope' } });
    expect([r.status, code(r)]).toEqual([404, 'APPOINTMENT.NOT_FOUND']);
    await expectNothingWritten();
  });

  test('cancelled appointment: 409 WAITLIST.MOVE_UP_APPOINTMENT_NOT_BOOKED, nothing written', async () => {
    const appointmentId = await booked();
    expect((await call('POST', `/api/appointments/${appointmentId}/cancel`, { body: {} })).status).toBe(200);
    const r = await call('POST', '/api/waitlist', { body: { appointmentId } });
    expect([r.status, code(r)]).toEqual([409, 'WAITLIST.MOVE_UP_APPOINTMENT_NOT_BOOKED']);
    await expectNothingWritten();
  });

  test('an appointment in the past: 422 WAITLIST.MOVE_UP_APPOINTMENT_PAST, nothing written', async () => {
    const appointmentId = await booked();
    env.clock.set(NOW.plus({ days: 1, hours: 2 })); // Tuesday 10:00 New York: the 09:00 visit has started
    const r = await call('POST', '/api/waitlist', { body: { appointmentId } });
    expect([r.status, code(r)]).toEqual([422, 'WAITLIST.MOVE_UP_APPOINTMENT_PAST']);
    await expectNothingWritten();
  });

  test.each([
    ['another patient', { patientId: 'pat2' }, 'patientId'],
    ['another clinic', { clinicId: 'c2' }, 'clinicId'],
    ['another appointment type', { appointmentType: 'consult' }, 'appointmentType'],
  ])('a body naming %s: 400 WAITLIST.MOVE_UP_MISMATCH naming the field, nothing written', async (_label, contradiction, field) => {
    const appointmentId = await booked();
    const r = await call('POST', '/api/waitlist', { body: { appointmentId, ...contradiction } });
    expect([r.status, code(r)]).toEqual([400, 'WAITLIST.MOVE_UP_MISMATCH']);
    expect(r.body).toMatchObject({ details: { field } });
    await expectNothingWritten();
  });

  test("an appointment of another clinic than the caller's: 403, nothing written", async () => {
    const appointmentId = await booked();
    const r = await call('POST', '/api/waitlist', { body: { appointmentId }, principal: schedulerC2 });
    expect(r.status).toBe(403);
    await expectNothingWritten();
    // And a c2 appointment is not a c1 move-up.
    const berlin = await booked(P3_TUE_0900, 'pat3', 'berlin-visit');
    const other = await call('POST', '/api/waitlist', { body: { appointmentId: berlin, clinicId: 'c1' } });
    expect([other.status, code(other)]).toEqual([400, 'WAITLIST.MOVE_UP_MISMATCH']);
    await expectNothingWritten();
  });

  test('a provider of the preferences that does not fit the clinic: 404, nothing written', async () => {
    const appointmentId = await booked();
    const r = await call('POST', '/api/waitlist', { body: { appointmentId, providerIds: ['p3'] } });
    expect([r.status, code(r)]).toEqual([404, 'PROVIDER.NOT_FOUND']);
    await expectNothingWritten();
  });
});

describe('GET /api/workflows/{instanceId}: the move-up cascade', () => {
  /** A completed backfill in the fake durable client, as the orchestrator leaves it (input and output). */
  function backfill(
    client: FakeDurableClient,
    slotId: string,
    depth: number,
    freedBy: { offerId: string; workflowInstanceId: string } | undefined,
    moved: { offerId: string; appointmentId: string; releasedSlotId: string } | undefined,
  ): string {
    const instanceId = `backfill-${slotId}`;
    const at = new Date('2026-03-02T13:00:00Z');
    const cascade = freedBy ? { depth, ...freedBy } : undefined;
    client.instances.set(instanceId, {
      name: 'backfillOrchestrator',
      instanceId,
      runtimeStatus: 'Completed',
      customStatus: { state: 'booked' },
      input: { slotId, appointmentType: 'checkup', reason: depth === 0 ? 'cancelled' : 'rescheduled', ...(cascade ? { cascade } : {}) },
      output: {
        outcome: 'booked',
        rounds: 1,
        offers: [],
        cascade: {
          depth,
          ...(cascade ? { freedBy: cascade } : {}),
          ...(moved ? { moved: { ...moved, nextInstanceId: `backfill-${moved.releasedSlotId}` } } : {}),
        },
      },
      createdTime: at,
      lastUpdatedTime: at,
    });
    return instanceId;
  }

  /** S0 (cancelled) moved A from S1; S1 moved B from S2; S2 went to a patient without an appointment (the clinic's depth bound 2 reached). */
  function chainOfThree(client: FakeDurableClient) {
    const first = backfill(client, 'p1.20260303T1400', 0, undefined, { offerId: 'ofr-a', appointmentId: 'apt-a', releasedSlotId: 'p1.20260310T1300' });
    const second = backfill(
      client,
      'p1.20260310T1300',
      1,
      { offerId: 'ofr-a', workflowInstanceId: first },
      { offerId: 'ofr-b', appointmentId: 'apt-b', releasedSlotId: 'p1.20260317T1300' },
    );
    const third = backfill(client, 'p1.20260317T1300', 2, { offerId: 'ofr-b', workflowInstanceId: second }, undefined);
    return [first, second, third];
  }

  test('a chain of three links, first link first, the same from any link; the last one at the depth bound moved nobody', async () => {
    const client = new FakeDurableClient();
    const [first, second, third] = chainOfThree(client);
    for (const id of [first!, second!, third!]) {
      const r = await call('GET', `/api/workflows/${id}`, { extraInputs: { durableClient: client } });
      expect(r.status).toBe(200);
      expect((r.body as { cascade: unknown[] }).cascade).toEqual([
        {
          instanceId: first,
          slotId: 'p1.20260303T1400',
          depth: 0,
          runtimeStatus: 'Completed',
          outcome: 'booked',
          movedOfferId: 'ofr-a',
          movedAppointmentId: 'apt-a',
          releasedSlotId: 'p1.20260310T1300',
          nextInstanceId: second,
        },
        {
          instanceId: second,
          slotId: 'p1.20260310T1300',
          depth: 1,
          runtimeStatus: 'Completed',
          outcome: 'booked',
          freedByOfferId: 'ofr-a',
          previousInstanceId: first,
          movedOfferId: 'ofr-b',
          movedAppointmentId: 'apt-b',
          releasedSlotId: 'p1.20260317T1300',
          nextInstanceId: third,
        },
        {
          instanceId: third,
          slotId: 'p1.20260317T1300',
          depth: 2,
          runtimeStatus: 'Completed',
          outcome: 'booked',
          freedByOfferId: 'ofr-b',
          previousInstanceId: second,
        },
      ]);
    }
  });

  test('a next link not started yet ends the chain there; a workflow that is not a backfill has no cascade', async () => {
    const client = new FakeDurableClient();
    const [first, second, third] = chainOfThree(client);
    client.instances.delete(third!);
    const r = await call('GET', `/api/workflows/${first}`, { extraInputs: { durableClient: client } });
    expect((r.body as { cascade: { instanceId: string }[] }).cascade.map((l) => l.instanceId)).toEqual([first, second]);
    const absence = await client.startNew('providerAbsenceOrchestrator', { instanceId: 'absence-p1-0123456789ab', input: { clinicId: 'c1' } });
    const a = await call('GET', `/api/workflows/${absence}`, { extraInputs: { durableClient: client } });
    expect(a.body).not.toHaveProperty('cascade');
  });

  test('links that point at each other (corrupt history) do not walk forever: the chain is bounded', async () => {
    const client = new FakeDurableClient();
    const x = backfill(
      client,
      'p1.20260303T1400',
      1,
      { offerId: 'o1', workflowInstanceId: 'backfill-p1.20260303T1430' },
      {
        offerId: 'o2',
        appointmentId: 'a2',
        releasedSlotId: 'p1.20260303T1430',
      },
    );
    backfill(
      client,
      'p1.20260303T1430',
      1,
      { offerId: 'o2', workflowInstanceId: x },
      { offerId: 'o1', appointmentId: 'a1', releasedSlotId: 'p1.20260303T1400' },
    );
    const r = await call('GET', `/api/workflows/${x}`, { extraInputs: { durableClient: client } });
    expect(r.status).toBe(200);
    const chain = (r.body as { cascade: unknown[] }).cascade;
    expect(chain.length).toBeGreaterThan(2);
    expect(chain.length).toBeLessThanOrEqual(50);
  });
});
