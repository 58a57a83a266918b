/* eslint-disable @typescript-eslint/no-require-imports -- jest.mock factory */
jest.mock('@azure/functions-core', () => require('../../../local/host/core').functionsCore, { virtual: true });

import { offerPolicySchema } from '../../../domain';
import { capturedFunctions } from '../../../local/host/core';
import { capturedOrchestrator, simulateOrchestration, type ActivityStub } from '../../../local/host/durable/simulate';
import { Activities, BACKFILL_ORCHESTRATOR, type BackfillOutput } from '../../../orchestrations/backfill';

/** Backfill orchestrator through the real durable-functions replay, on a virtual clock, activities stubbed. */
const orchestrator = () => capturedOrchestrator(BACKFILL_ORCHESTRATOR, capturedFunctions);

// 09:00 in New York; the slot is 10:00 the next day (25 h ahead): offers last the 120-minute maximum.
const T0 = '2026-03-02T14:00:00.000Z';
const SLOT_START = '2026-03-03T10:00:00-05:00';
const policy = offerPolicySchema.parse({});
const input = { slotId: 'dr-a.20260303T1500', appointmentType: 'checkup', reason: 'cancelled' };
const entries = ['e1', 'e2', 'e3', 'e4', 'e5'];

interface Options {
  candidates?: string[];
  slotFree?: () => boolean;
  slotStart?: string;
  notSent?: string[];
  booked?: boolean;
  /** At most this many candidates per load (the real activity loads twice the batch size). */
  loadLimit?: number;
  policy?: typeof policy;
}

function stubs(o: Options = {}): { activities: Record<string, ActivityStub>; calls: { closes: unknown[]; books: unknown[]; sends: unknown[] } } {
  const calls = { closes: [] as unknown[], books: [] as unknown[], sends: [] as unknown[] };
  return {
    calls,
    activities: {
      [Activities.loadCandidates]: (raw) => {
        const inp = raw as { excludeEntryIds: string[] };
        const candidates = (o.candidates ?? entries)
          .filter((e) => !inp.excludeEntryIds.includes(e))
          .slice(0, o.loadLimit)
          .map((e) => ({ waitlistEntryId: e, patientId: `p-${e}` }));
        return {
          slotFree: o.slotFree ? o.slotFree() : true,
          slotStart: o.slotStart ?? SLOT_START,
          timeZone: 'America/New_York',
          policy: o.policy ?? policy,
          candidates,
        };
      },
      [Activities.sendOffer]: (raw) => {
        const inp = raw as { waitlistEntryId: string; patientId: string };
        calls.sends.push(raw);
        return {
          offerId: `o-${inp.waitlistEntryId}`,
          waitlistEntryId: inp.waitlistEntryId,
          patientId: inp.patientId,
          outcome: o.notSent?.includes(inp.waitlistEntryId) ? 'not-sent' : 'sent',
        };
      },
      [Activities.book]: (raw) => {
        calls.books.push(raw);
        return o.booked === false ? { booked: false } : { booked: true, appointmentId: 'apt-1' };
      },
      [Activities.closeOffers]: (raw) => {
        calls.closes.push(raw);
        return null;
      },
    },
  };
}

const reply = (offerId: string, answer: 'yes' | 'no', atMinutes: number) => ({
  name: 'OfferReply',
  data: { offerId, patientId: `p-${offerId.slice(2)}`, reply: answer, messageSid: `SM${offerId}` },
  at: atMinutes * 60_000,
});

describe('backfill orchestrator', () => {
  it('books the first YES and tells the other offered patients the slot is gone', async () => {
    const s = stubs();
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities, events: [reply('o-e2', 'yes', 10)] });
    const out = r.output as BackfillOutput;
    expect(r.status).toBe('completed');
    expect(out.outcome).toBe('booked');
    expect(out.appointmentId).toBe('apt-1');
    expect(out.offers).toEqual(
      expect.arrayContaining([
        { offerId: 'o-e2', status: 'accepted' },
        { offerId: 'o-e1', status: 'unavailable' },
        { offerId: 'o-e3', status: 'unavailable' },
      ]),
    );
    expect(s.calls.sends).toHaveLength(3); // batch size 3 in round 1
    expect(s.calls.books).toEqual([{ offerId: 'o-e2' }]);
    expect(s.calls.closes).toEqual([{ offerIds: ['o-e1', 'o-e3'], status: 'unavailable', notify: true }]);
    expect(r.now).toBe('2026-03-02T14:10:00.000Z');
  });

  it('lets offers expire on the durable timer, then offers the next candidates', async () => {
    const s = stubs();
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('no-candidates');
    expect(out.rounds).toBe(2);
    const sendTimes = r.activityCalls.filter((c) => c.name === Activities.sendOffer).map((c) => c.at);
    expect(sendTimes).toEqual([T0, T0, T0, '2026-03-02T16:00:00.000Z', '2026-03-02T16:00:00.000Z']);
    expect(s.calls.closes).toEqual([
      { offerIds: ['o-e1', 'o-e2', 'o-e3'], status: 'expired', notify: false },
      { offerIds: ['o-e4', 'o-e5'], status: 'expired', notify: false },
    ]);
    expect(out.offers.every((o) => o.status === 'expired')).toBe(true);
  });

  it('moves to the next round as soon as everyone offered has said NO', async () => {
    const s = stubs();
    const r = await simulateOrchestration(orchestrator(), input, {
      start: T0,
      activities: s.activities,
      events: [reply('o-e1', 'no', 1), reply('o-e2', 'no', 2), reply('o-e3', 'no', 3), reply('o-e5', 'yes', 4)],
    });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('booked');
    expect(out.rounds).toBe(2);
    const round2 = r.activityCalls.filter((c) => c.name === Activities.sendOffer).slice(3);
    expect(round2.map((c) => c.at)).toEqual(['2026-03-02T14:03:00.000Z', '2026-03-02T14:03:00.000Z']);
    expect(out.offers).toEqual(
      expect.arrayContaining([
        { offerId: 'o-e1', status: 'declined' },
        { offerId: 'o-e5', status: 'accepted' },
        { offerId: 'o-e4', status: 'unavailable' },
      ]),
    );
  });

  it('books only once when two patients say YES at the same moment', async () => {
    const s = stubs();
    const r = await simulateOrchestration(orchestrator(), input, {
      start: T0,
      activities: s.activities,
      events: [reply('o-e1', 'yes', 5), reply('o-e3', 'yes', 5)],
    });
    expect((r.output as BackfillOutput).outcome).toBe('booked');
    expect(s.calls.books).toEqual([{ offerId: 'o-e1' }]);
    expect(s.calls.closes).toEqual([{ offerIds: ['o-e2', 'o-e3'], status: 'unavailable', notify: true }]);
  });

  it('stops when the slot was taken through another channel before the YES could book', async () => {
    const s = stubs({ booked: false });
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities, events: [reply('o-e1', 'yes', 5)] });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('slot-not-free');
    expect(out.offers).toEqual(
      expect.arrayContaining([
        { offerId: 'o-e1', status: 'unavailable' },
        { offerId: 'o-e2', status: 'unavailable' },
      ]),
    );
  });

  it('does nothing when the slot is no longer free', async () => {
    const s = stubs({ slotFree: () => false });
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities });
    expect((r.output as BackfillOutput).outcome).toBe('slot-not-free');
    expect(s.calls.sends).toHaveLength(0);
  });

  it('does not offer a slot that starts too soon', async () => {
    const s = stubs({ slotStart: '2026-03-02T09:45:00-05:00' });
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities });
    expect((r.output as BackfillOutput).outcome).toBe('too-close');
    expect(s.calls.sends).toHaveLength(0);
  });

  it('skips patients who cannot be texted (opted out) and offers the next ones', async () => {
    const s = stubs({ notSent: ['e1', 'e2', 'e3'] });
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities, events: [reply('o-e4', 'yes', 30)] });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('booked');
    // Round 2 starts at once (nobody to wait for in round 1).
    expect(
      r.activityCalls
        .filter((c) => c.name === Activities.sendOffer)
        .map((c) => c.at)
        .slice(3),
    ).toEqual([T0, T0]);
  });

  it('waits for the end of quiet hours before texting', async () => {
    const s = stubs({ slotStart: '2026-03-03T15:00:00-05:00' });
    const lateEvening = '2026-03-03T03:00:00.000Z'; // 22:00 in New York
    const r = await simulateOrchestration(orchestrator(), input, {
      start: lateEvening,
      activities: s.activities,
      events: [{ ...reply('o-e1', 'yes', 0), at: '2026-03-03T13:05:00.000Z' }],
    });
    expect((r.output as BackfillOutput).outcome).toBe('booked');
    const firstSend = r.activityCalls.find((c) => c.name === Activities.sendOffer)!;
    expect(firstSend.at).toBe('2026-03-03T13:00:00.000Z'); // 08:00 in New York
  });

  it('replays deterministically: the same inputs give the same history', async () => {
    const run = async () => {
      const s = stubs();
      const r = await simulateOrchestration(orchestrator(), input, {
        start: T0,
        activities: s.activities,
        events: [reply('o-e1', 'no', 1), reply('o-e2', 'yes', 7)],
      });
      return r.history.map((h) => [h.EventType, h.Name ?? '', h.Timestamp, h.FireAt ?? '']);
    };
    expect(await run()).toEqual(await run());
  });
});

describe('backfill orchestrator when candidates cannot be texted', () => {
  const many = Array.from({ length: 20 }, (_, i) => `e${i + 1}`);
  const sendsOf = (r: Awaited<ReturnType<typeof simulateOrchestration>>) =>
    r.activityCalls.filter((c) => c.name === Activities.sendOffer).map((c) => (c.input as { waitlistEntryId: string }).waitlistEntryId);

  it('fills a round with the next candidates when some of its batch cannot be texted', async () => {
    const s = stubs({ notSent: ['e2'] });
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities, events: [reply('o-e4', 'yes', 10)] });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('booked');
    expect(out.rounds).toBe(1);
    expect(sendsOf(r)).toEqual(['e1', 'e2', 'e3', 'e4']);
    // e4 was offered in round 1, at once, and the two others of the round are told the slot is gone.
    expect(s.calls.closes).toEqual([{ offerIds: ['o-e1', 'o-e3'], status: 'unavailable', notify: true }]);
  });

  it('does not end at max-rounds with no offer sent while texted-able candidates wait', async () => {
    // 15 candidates (daily limit reached, held by another offer or another backfill) are more than
    // maxRounds (5) x batchSize (3); each load brings only 6.
    const s = stubs({ candidates: many, notSent: many.slice(0, 15), loadLimit: 6 });
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities, events: [reply('o-e17', 'yes', 10)] });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('booked');
    expect(out.rounds).toBe(1);
    expect(sendsOf(r)).toEqual(many.slice(0, 18));
    expect(s.calls.books).toEqual([{ offerId: 'o-e17' }]);
    expect(out.offers).toEqual(
      expect.arrayContaining([
        { offerId: 'o-e17', status: 'accepted' },
        { offerId: 'o-e16', status: 'unavailable' },
        { offerId: 'o-e18', status: 'unavailable' },
      ]),
    );
  });

  it('ends with no-candidates, not max-rounds, when nobody at all can be texted', async () => {
    const s = stubs({ candidates: many, notSent: many, loadLimit: 6 });
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('no-candidates');
    expect(out.rounds).toBe(0);
    expect(sendsOf(r)).toEqual(many);
    expect(r.now).toBe(T0); // nobody to wait for
  });
});

describe('backfill orchestrator across rounds', () => {
  it('a YES in the second round is heard after the first round expired unanswered', async () => {
    const s = stubs();
    // Round 1 (e1-e3) expires at 16:00; round 2 offers e4, e5; e4 says YES at 16:05.
    const r = await simulateOrchestration(orchestrator(), input, {
      start: T0,
      activities: s.activities,
      events: [{ ...reply('o-e4', 'yes', 0), at: '2026-03-02T16:05:00.000Z' }],
    });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('booked');
    expect(s.calls.books).toEqual([{ offerId: 'o-e4' }]);
  });
});

describe('backfill orchestrator with widening rounds (roundIntervalFraction)', () => {
  // Offers last 30 % of the time left (25 h -> 450 min, at most 720); the next round follows after a third of that.
  const widening = offerPolicySchema.parse({ expiryFraction: 0.3, maxExpiryMinutes: 720, roundIntervalFraction: 1 / 3 });
  const atMin = (m: number) => new Date(Date.parse(T0) + m * 60_000).toISOString();

  it('sends the next round before the earlier offers expire, and a late YES from the first round still books', async () => {
    const s = stubs({ policy: widening });
    // Round 1 (e1-e3) at 09:00, open 450 min; round 2 (e4, e5) at +150 min; e1 says YES at +200 min.
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities, events: [reply('o-e1', 'yes', 200)] });
    const out = r.output as BackfillOutput;
    expect(r.status).toBe('completed');
    expect(out.outcome).toBe('booked');
    expect(out.rounds).toBe(2);
    expect((s.calls.sends as { waitlistEntryId: string; round: number; expiresAt: string }[]).map((x) => [x.waitlistEntryId, x.round, x.expiresAt])).toEqual([
      ['e1', 1, atMin(450)],
      ['e2', 1, atMin(450)],
      ['e3', 1, atMin(450)],
      ['e4', 2, atMin(150 + 405)],
      ['e5', 2, atMin(150 + 405)],
    ]);
    expect(s.calls.books).toEqual([{ offerId: 'o-e1' }]);
    // The other open offers, of both rounds, close without a text.
    expect(s.calls.closes).toEqual([{ offerIds: ['o-e2', 'o-e3', 'o-e4', 'o-e5'], status: 'unavailable', notify: false }]);
    expect(out.offers).toEqual(
      expect.arrayContaining([
        { offerId: 'o-e1', status: 'accepted' },
        { offerId: 'o-e2', status: 'unavailable' },
        { offerId: 'o-e5', status: 'unavailable' },
      ]),
    );
  });

  it('lets each round expire on its own expiry and ends when nobody is left to ask', async () => {
    const s = stubs({ policy: widening });
    const r = await simulateOrchestration(orchestrator(), input, { start: T0, activities: s.activities, events: [] });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('no-candidates');
    expect(out.offers.map((o) => o.status)).toEqual(['expired', 'expired', 'expired', 'expired', 'expired']);
    expect(s.calls.closes).toEqual([
      { offerIds: ['o-e1', 'o-e2', 'o-e3'], status: 'expired', notify: false },
      { offerIds: ['o-e4', 'o-e5'], status: 'expired', notify: false },
    ]);
    expect(new Date(r.now).toISOString()).toBe(atMin(150 + 405));
  });

  it('a NO closes only that offer; the others stay open', async () => {
    const s = stubs({ policy: widening });
    const r = await simulateOrchestration(orchestrator(), input, {
      start: T0,
      activities: s.activities,
      events: [reply('o-e2', 'no', 10), reply('o-e3', 'yes', 20)],
    });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('booked');
    expect(out.rounds).toBe(1);
    expect(s.calls.closes).toEqual([
      { offerIds: ['o-e2'], status: 'declined', notify: false },
      { offerIds: ['o-e1'], status: 'unavailable', notify: false },
    ]);
  });

  it('stops offering when the slot is taken elsewhere and closes the open offers', async () => {
    let free = true;
    const s = stubs({ policy: widening, slotFree: () => free });
    const r = await simulateOrchestration(orchestrator(), input, {
      start: T0,
      activities: {
        ...s.activities,
        [Activities.sendOffer]: (raw, at) => {
          const sent = s.activities[Activities.sendOffer]!(raw, at);
          free = false; // the front desk books the slot right after the first round
          return sent;
        },
      },
      events: [],
    });
    const out = r.output as BackfillOutput;
    expect(out.outcome).toBe('slot-not-free');
    expect(s.calls.closes).toEqual([{ offerIds: ['o-e1', 'o-e2', 'o-e3'], status: 'unavailable', notify: false }]);
  });

  it('rejects a round interval outside 0.05..1', () => {
    expect(offerPolicySchema.safeParse({ roundIntervalFraction: 0.01 }).success).toBe(false);
    expect(offerPolicySchema.safeParse({ roundIntervalFraction: 1.5 }).success).toBe(false);
    expect(offerPolicySchema.parse({ roundIntervalFraction: 1 }).roundIntervalFraction).toBe(1);
  });
});
