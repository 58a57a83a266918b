import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Cost model (`npm run bench:cost`; docs/cost.md): Azure and Twilio cost per 1,000 bookings and per
 * 1,000 refilled slots, and per year at 10k, 1M and 10M bookings. Inputs:
 *   - Cosmos DB operations of the booking and cancellation use cases as bench/cosmos.ts measured them
 *     (bench/results/cosmos.json, counted on the local server by kind), converted to request units
 *     with the RU table in bench/cost-prices.json (the local server charges none);
 *   - function executions, Service Bus operations and SMS segments per journey, counted from the
 *     triggers and workflows (JOURNEYS below, each line says where the count comes from);
 *   - list prices from bench/cost-prices.json (parameters: edit them, rerun).
 * Prints the tables and writes bench/results/cost.json.
 */

const ROOT = resolve(__dirname, '..', '..');
type Prices = {
  functionsFlexGbSecond: number;
  functionsFlexPerMillionExecutions: number;
  functionsInstanceMemoryGb: number;
  cosmosServerlessPerMillionRu: number;
  serviceBusStandardBasePerMonth: number;
  serviceBusStandardPerMillionOperations: number;
  serviceBusStandardIncludedOperationsPerMonth: number;
  twilioSmsSegmentOutbound: number;
  twilioCarrierFeePerSegment: number;
  twilioSmsSegmentInbound: number;
  logAnalyticsPerGb: number;
  logBytesPerExecution: number;
  ru: Record<string, number>;
};
type Ops = Record<string, number>;

/** What one journey does, beyond its measured Cosmos operations. */
interface Journey {
  name: string;
  /** Measured Cosmos operations (bench/results/cosmos.json rows) plus modelled ones (triggers, activities). */
  cosmos: { measured: string[]; modelled: Ops };
  executions: number;
  /** Seconds an instance is busy per execution (Flex bills instance memory x busy time). */
  secondsPerExecution: number;
  serviceBusOperations: number;
  smsOut: number;
  smsIn: number;
}

// Counted from the code paths (functions/events, orchestrations, domain/sms):
// booking: 1 HTTP execution; the booked event goes to 3 subscriptions (eligibility, reminders,
// ehr-outbound): 1 send + 3 x (receive + complete) = 7 Service Bus operations, 3 trigger executions,
// each with an idempotency read and create; eligibility (1 check activity, ~3 episodes) and reminders
// (2 reminders at 48 h and 2 h: 2 send activities, ~5 episodes): 10 more executions; each SMS send
// reads the patient and clinic, lists recent messages (query), creates the message record and the
// audit entry.
// refill: cancel (1 HTTP), slot.released + cancelled events to backfill, eligibility, reminders,
// ehr-outbound (2 sends, 5 deliveries: 12 operations, 5 executions), backfill orchestration with one
// round of 3 offers (ranking query, 3 offer activities, ~6 episodes), one YES by SMS (1 HTTP, raise
// event), booking the taker (the booking journey's Cosmos work again, and its events), 2 "slot taken"
// SMS; outbound SMS: 3 offers + 2 taken + 1 confirmation.
const smsSendOps: Ops = { read: 2, query: 1, create: 2 };
const times = (ops: Ops, n: number): Ops => Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, v * n]));
const plus = (...all: Ops[]): Ops =>
  all.reduce<Ops>((acc, o) => {
    for (const [k, v] of Object.entries(o)) acc[k] = (acc[k] ?? 0) + v;
    return acc;
  }, {});
const JOURNEYS: Journey[] = [
  {
    name: 'booking',
    cosmos: { measured: ['booking (warm instance, config cached)'], modelled: plus({ read: 3, create: 3 }, { read: 3, patch: 1 }, times(smsSendOps, 2)) },
    executions: 1 + 3 + 10,
    secondsPerExecution: 0.15,
    serviceBusOperations: 7,
    smsOut: 2,
    smsIn: 0,
  },
  {
    name: 'refilled slot',
    cosmos: {
      measured: ['cancellation (same instance that booked)', 'booking (warm instance, config cached)'],
      modelled: plus({ read: 5, create: 5 }, { query: 2, create: 3, patch: 4 }, times(smsSendOps, 6), { read: 3, create: 2 }),
    },
    executions: 1 + 5 + 10 + 1 + 4,
    secondsPerExecution: 0.15,
    serviceBusOperations: 12 + 7,
    smsOut: 6,
    smsIn: 1,
  },
];

function main(): void {
  const prices = JSON.parse(readFileSync(join(ROOT, 'bench', 'cost-prices.json'), 'utf8')) as Prices;
  const measured = JSON.parse(readFileSync(join(ROOT, 'bench', 'results', 'cosmos.json'), 'utf8')) as { requests: { name: string; perOp: Ops }[] };
  const perJourney = JOURNEYS.map((j) => {
    const ops = plus(
      ...j.cosmos.measured.map((name) => {
        const row = measured.requests.find((r) => r.name === name);
        if (!row) throw new Error(`bench/results/cosmos.json has no row "${name}": run npm run bench:cosmos`);
        return Object.fromEntries(Object.entries(row.perOp).filter(([k]) => k !== 'total'));
      }),
      j.cosmos.modelled,
    );
    const ru = Object.entries(ops).reduce((sum, [k, n]) => sum + n * (prices.ru[k] ?? 0), 0);
    const gbSeconds = j.executions * j.secondsPerExecution * prices.functionsInstanceMemoryGb;
    const costs = {
      cosmos: (ru / 1e6) * prices.cosmosServerlessPerMillionRu,
      functions: gbSeconds * prices.functionsFlexGbSecond + (j.executions / 1e6) * prices.functionsFlexPerMillionExecutions,
      serviceBus: (j.serviceBusOperations / 1e6) * prices.serviceBusStandardPerMillionOperations,
      sms: j.smsOut * (prices.twilioSmsSegmentOutbound + prices.twilioCarrierFeePerSegment) + j.smsIn * prices.twilioSmsSegmentInbound,
      logs: ((j.executions * prices.logBytesPerExecution) / 1e9) * prices.logAnalyticsPerGb,
    };
    return {
      journey: j.name,
      ops,
      ru,
      executions: j.executions,
      gbSeconds,
      serviceBusOperations: j.serviceBusOperations,
      smsSegments: j.smsOut + j.smsIn,
      costs,
    };
  });
  const per1000 = perJourney.map((p) => ({
    journey: `per 1,000 ${p.journey === 'booking' ? 'bookings' : 'refilled slots'}`,
    RU: Math.round(p.ru * 1000),
    executions: p.executions * 1000,
    'GB-s': Math.round(p.gbSeconds * 1000),
    'SB ops': p.serviceBusOperations * 1000,
    'SMS seg': p.smsSegments * 1000,
    ...Object.fromEntries(Object.entries(p.costs).map(([k, v]) => [`${k} $`, Math.round(v * 1000 * 100) / 100])),
    'total $': Math.round(Object.values(p.costs).reduce((a, b) => a + b, 0) * 1000 * 100) / 100,
    'total w/o SMS $': Math.round((Object.values(p.costs).reduce((a, b) => a + b, 0) - p.costs.sms) * 1000 * 100) / 100,
  }));
  console.table(per1000);
  // A year: the bookings, 10 % of them cancelled and refilled; Service Bus base fee and included operations.
  const [booking, refill] = perJourney as [(typeof perJourney)[0], (typeof perJourney)[0]];
  const yearly = [10_000, 1_000_000, 10_000_000].map((bookings) => {
    const refills = bookings * 0.1;
    const sum = (k: keyof typeof booking.costs) => booking.costs[k] * bookings + refill.costs[k] * refills;
    const sbOps = booking.serviceBusOperations * bookings + refill.serviceBusOperations * refills;
    const sbBillable = Math.max(0, sbOps - prices.serviceBusStandardIncludedOperationsPerMonth * 12);
    const serviceBus = prices.serviceBusStandardBasePerMonth * 12 + (sbBillable / 1e6) * prices.serviceBusStandardPerMillionOperations;
    const azure = sum('cosmos') + sum('functions') + sum('logs') + serviceBus;
    return {
      'bookings / year': bookings,
      'cosmos $': Math.round(sum('cosmos')),
      'functions $': Math.round(sum('functions')),
      'service bus $': Math.round(serviceBus),
      'logs $': Math.round(sum('logs')),
      'Azure total $': Math.round(azure),
      'SMS (Twilio) $': Math.round(sum('sms')),
      'per month, Azure $': Math.round(azure / 12),
    };
  });
  console.table(yearly);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'cost.json'), JSON.stringify({ at: new Date().toISOString(), prices, perJourney, per1000, yearly }, null, 2));
}

main();
