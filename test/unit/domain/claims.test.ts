import type { IdempotencyStore } from '../../../domain';
import { InMemoryIdempotency } from '../../../domain/memory';
import { claimOnce, findClaim } from '../../../domain/idempotency';

/** Single-use claims (links, inbound MessageSids): one winner, a failed attempt frees the next. */
describe('claimOnce', () => {
  const at = '2026-03-02T15:00:00.000Z';

  it('exactly one of many concurrent claims wins', async () => {
    const store: IdempotencyStore = new InMemoryIdempotency();
    const results = await Promise.all(Array.from({ length: 20 }, () => claimOnce(store, 'link', 'tok-1', at, 60)));
    expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in-progress')).toHaveLength(19);
  });

  it('a completed claim is final; findClaim sees it', async () => {
    const store: IdempotencyStore = new InMemoryIdempotency();
    const first = await claimOnce(store, 'link', 'tok-2', at, 60);
    expect(first.kind).toBe('claimed');
    if (first.kind !== 'claimed') return;
    expect(await findClaim(store, 'link', 'tok-2')).toEqual({ kind: 'in-progress' });
    await store.complete({ ...first.record, response: { status: 200, body: { appointmentId: 'apt-1' } } }, 60);
    expect(await claimOnce(store, 'link', 'tok-2', at, 60)).toMatchObject({ kind: 'done', record: { response: { body: { appointmentId: 'apt-1' } } } });
    expect(await findClaim(store, 'link', 'tok-2')).toMatchObject({ kind: 'done' });
  });

  it('a failed attempt lets the next one claim, a bounded number of times', async () => {
    const store: IdempotencyStore = new InMemoryIdempotency();
    expect(await findClaim(store, 'link', 'tok-3')).toBeUndefined();
    for (let i = 0; i < 5; i++) {
      const c = await claimOnce(store, 'link', 'tok-3', at, 60);
      expect(c.kind).toBe('claimed');
      if (c.kind === 'claimed') await store.complete({ ...c.record, response: { status: 409, body: { failed: true } } }, 60);
      // Still unused after a failure, until the attempts run out.
      expect((await findClaim(store, 'link', 'tok-3'))?.kind).toBe(i < 4 ? undefined : 'done');
    }
    expect((await claimOnce(store, 'link', 'tok-3', at, 60)).kind).toBe('done');
  });
});
