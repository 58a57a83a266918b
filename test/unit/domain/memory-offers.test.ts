import { InMemoryOffers } from '../../../domain/memory';
import type { WaitlistOffer } from '../../../domain/model';

const offer = (offerId: string, patientId: string, sentAt: string, status: WaitlistOffer['status'] = 'sent'): WaitlistOffer => ({
  offerId,
  clinicId: 'c1',
  slotId: 's1',
  waitlistEntryId: `wl-${offerId}`,
  patientId,
  workflowInstanceId: 'backfill-s1',
  round: 1,
  status,
  sentAt,
  expiresAt: '2026-03-02T12:00:00Z',
  version: 1,
});

/** listOpenForPatient as a scan of every offer (the order the index must keep). */
const scan = (repo: InMemoryOffers, patientId: string) =>
  [...repo.byId.values()].filter((o) => o.patientId === patientId && o.status === 'sent').sort((a, b) => b.sentAt.localeCompare(a.sentAt));

describe('InMemoryOffers.listOpenForPatient', () => {
  it('lists the open offers of the patient newest first, ties in insertion order, after updates and direct writes', async () => {
    const repo = new InMemoryOffers();
    await repo.create(offer('o1', 'p1', '2026-03-02T10:00:00Z'));
    await repo.create(offer('o2', 'p2', '2026-03-02T10:00:00Z'));
    expect((await repo.listOpenForPatient('p1')).map((o) => o.offerId)).toEqual(['o1']);
    await repo.create(offer('o3', 'p1', '2026-03-02T10:00:00Z'));
    await repo.create(offer('o4', 'p1', '2026-03-02T11:00:00Z'));
    await repo.update({ ...offer('o3', 'p1', '2026-03-02T10:00:00Z', 'declined'), version: 2 }, 1);
    repo.byId.set('o5', offer('o5', 'p1', '2026-03-02T10:00:00Z'));
    repo.byId.set('o2', offer('o2', 'p1', '2026-03-02T10:00:00Z')); // moved to another patient
    repo.byId.delete('o1');
    for (const p of ['p1', 'p2']) expect((await repo.listOpenForPatient(p)).map((o) => o.offerId)).toEqual(scan(repo, p).map((o) => o.offerId));
    expect((await repo.listOpenForPatient('p1')).map((o) => o.offerId)).toEqual(['o4', 'o2', 'o5']);
  });

  it('returns copies', async () => {
    const repo = new InMemoryOffers();
    await repo.create({ ...offer('o1', 'p1', '2026-03-02T10:00:00Z'), moveUp: { appointmentId: 'a1', slotId: 's2', start: '2026-03-09T10:00:00Z' } });
    const [read] = await repo.listOpenForPatient('p1');
    read!.moveUp!.start = 'changed';
    expect((await repo.get('o1'))!.moveUp!.start).toBe('2026-03-09T10:00:00Z');
  });
});
