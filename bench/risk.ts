/**
 * `npm run bench:risk [-- --appointments N] [-- --seed S]`: the no-show model on a synthetic history drawn
 * from a known model (testkit/risk-history.ts). Trains on the first N appointments (default 100,000) and
 * tests on the next N, so the learned model and the generating model are compared on the same later
 * visits (AUC, Brier, calibration per decile and per band); times parsing the NDJSON (against plain
 * JSON.parse of the same lines), training and scoring (against the probability alone, without
 * factors). Prints a table and writes bench/results/risk.json. Targets (issue 21): AUC within 0.02 of the
 * generating model's, calibration error under 3 points in every decile, training 100,000 appointments
 * under 5 s, scoring under 20 us an appointment.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  auc,
  brier,
  calibrationDeciles,
  countHistory,
  evaluateRiskModel,
  fromHistoryRow,
  parseFacts,
  parseHistory,
  RiskScorer,
  trainRiskModel,
  type PriorVisit,
  type RiskAppointmentFacts,
} from '../domain/risk';
import { generateHistory, toNdjson } from '../testkit/risk-history';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function timed<T>(f: () => T): { value: T; ms: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = f();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const used = process.cpuUsage(cpu);
  return { value, ms, cpuMs: (used.user + used.system) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const DAY_MS = 86_400_000;

function main(): void {
  const n = option('--appointments', 100_000);
  const seed = option('--seed', 7);
  const loadBefore = loadavg();
  const gen = timed(() => generateHistory({ appointments: 2 * n, seed }));
  const { rows, trueProbability } = gen.value;
  const trainRows = rows.slice(0, n);
  const past = rows.map((r) => fromHistoryRow(r, 24));
  const trainPast = past.slice(0, n);

  // Parsing the file (validation included) against JSON.parse alone.
  const text = toNdjson(trainRows);
  const plain = timed(() =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as unknown),
  );
  const parse = timed(() => parseHistory(text));
  if (parse.value.length !== n) throw new Error('parse lost rows');

  // Training: 3 runs, median wall time.
  const runs = [0, 1, 2].map(() => timed(() => trainRiskModel(trainPast, { clinicId: 'synthetic', trainedAt: '2026-01-01T00:00:00Z', testFraction: 0 })));
  const model = runs[0]!.value;
  if (model.kind !== 'logistic') throw new Error(`expected a fitted model, got ${model.kind}`);
  const trainMs = median(runs.map((r) => r.ms));
  const trainCpuMs = median(runs.map((r) => r.cpuMs));

  // The same later visits for both models.
  const learned = evaluateRiskModel(model, past, model.trainedThrough);
  const afterMs = Date.parse(model.trainedThrough!);
  const test = past.filter((p) => (p.outcome === 'attended' || p.outcome === 'noshow') && Date.parse(p.start) > afterMs);
  const trueScores = test.map((p) => trueProbability.get(p.appointmentId)!);
  const outcomes = test.map((p) => (p.outcome === 'noshow' ? 1 : 0));
  const generatingAuc = auc(trueScores, outcomes);
  const generatingDeciles = calibrationDeciles(trueScores, outcomes);

  // The CLI's default: 80/20 time split of the first n.
  const split = trainRiskModel(trainPast, { clinicId: 'synthetic', trainedAt: '2026-01-01T00:00:00Z' });
  const splitAfter = Date.parse(split.trainedThrough!);
  const splitTest = trainPast.filter((p) => (p.outcome === 'attended' || p.outcome === 'noshow') && Date.parse(p.start) > splitAfter);
  const splitGeneratingAuc = auc(
    splitTest.map((p) => trueProbability.get(p.appointmentId)!),
    splitTest.map((p) => (p.outcome === 'noshow' ? 1 : 0)),
  );

  // Scoring: what the API does per appointment (parse, count the window's visits, weights, factors).
  const scorer = new RiskScorer(model);
  const byPatient = new Map<string, PriorVisit[]>();
  const inputs: { facts: RiskAppointmentFacts; prior: PriorVisit[] }[] = [];
  const sorted = [...past].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  for (const p of sorted) {
    const startMs = Date.parse(p.start);
    const visits = byPatient.get(p.patientId) ?? [];
    if (startMs > afterMs && (p.outcome === 'attended' || p.outcome === 'noshow')) {
      const prior = visits.filter((v) => v.startMs >= startMs - 365 * DAY_MS && v.startMs < startMs);
      inputs.push({
        facts: { start: p.start, createdAt: p.createdAt, appointmentType: p.appointmentType, ...(p.confirmedAt ? { confirmedAt: p.confirmedAt } : {}) },
        prior,
      });
    }
    visits.push({ startMs, outcome: p.outcome });
    byPatient.set(p.patientId, visits);
  }
  let sink = 0;
  const scoreRuns = [0, 1, 2].map(
    () =>
      timed(() => {
        for (const i of inputs) sink += scorer.score(i.facts, i.prior).score;
      }).ms,
  );
  const probabilityRuns = [0, 1, 2].map(
    () =>
      timed(() => {
        for (const i of inputs) {
          const f = parseFacts(i.facts);
          sink += scorer.probability(f, countHistory(i.prior, f.startMs, 365));
        }
      }).ms,
  );
  if (!Number.isFinite(sink)) throw new Error('scores not finite');
  const scoreUs = (median(scoreRuns) * 1000) / inputs.length;
  const probabilityUs = (median(probabilityRuns) * 1000) / inputs.length;

  const rate = outcomes.reduce<number>((s, o) => s + o, 0) / outcomes.length;
  const result = {
    machine: { cpus: cpus().length, node: process.version, at: new Date().toISOString(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg() },
    appointments: { train: n, test: n, generated: rows.length, generateMs: Math.round(gen.ms) },
    baseRate: { training: model.features.baseRate, test: rate },
    parse: { ms: Math.round(parse.ms), jsonParseOnlyMs: Math.round(plain.ms), ratio: parse.ms / plain.ms },
    training: {
      medianMs: Math.round(trainMs),
      medianCpuMs: Math.round(trainCpuMs),
      runsMs: runs.map((r) => Math.round(r.ms)),
      iterations: model.training.iterations,
    },
    test: {
      visits: learned.n,
      learnedAuc: learned.auc,
      generatingAuc,
      aucGap: generatingAuc - learned.auc,
      learnedBrier: learned.brier,
      generatingBrier: brier(trueScores, outcomes),
      maxDecileErrorPoints: learned.maxDecileErrorPoints,
      generatingMaxDecileErrorPoints: Math.max(...generatingDeciles.map((d) => Math.abs(d.meanScore - d.observedRate) * 100)),
      deciles: learned.deciles,
      bands: learned.bands,
    },
    cliSplit: {
      testVisits: split.metrics!.n,
      learnedAuc: split.metrics!.auc,
      generatingAuc: splitGeneratingAuc,
      maxDecileErrorPoints: split.metrics!.maxDecileErrorPoints,
    },
    scoring: { appointments: inputs.length, usPerAppointment: scoreUs, probabilityOnlyUs: probabilityUs },
    targets: {
      aucWithin002: generatingAuc - learned.auc <= 0.02,
      decileErrorUnder3Points: learned.maxDecileErrorPoints < 3,
      trainUnder5s: trainMs < 5000,
      scoreUnder20us: scoreUs < 20,
    },
  };
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const table = [
    `No-show risk: train ${n.toLocaleString('en-US')}, test the next ${n.toLocaleString('en-US')} (seed ${seed}); load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`,
    '| measure | learned | generating model / reference | target |',
    '|---|---:|---:|---|',
    `| AUC, later ${learned.n.toLocaleString('en-US')} visits | ${learned.auc.toFixed(4)} | ${generatingAuc.toFixed(4)} | gap ${(generatingAuc - learned.auc).toFixed(4)} <= 0.02 |`,
    `| Brier | ${learned.brier.toFixed(4)} | ${result.test.generatingBrier.toFixed(4)} | |`,
    `| largest decile calibration error | ${learned.maxDecileErrorPoints.toFixed(2)} points | ${result.test.generatingMaxDecileErrorPoints.toFixed(2)} points | < 3 points |`,
    `| AUC, CLI 80/20 split of the training ${n.toLocaleString('en-US')} | ${split.metrics!.auc!.toFixed(4)} | ${splitGeneratingAuc.toFixed(4)} | |`,
    `| training ${n.toLocaleString('en-US')} appointments (median of 3) | ${(trainMs / 1000).toFixed(2)} s (CPU ${(trainCpuMs / 1000).toFixed(2)} s) | | < 5 s |`,
    `| parse + validate NDJSON | ${(parse.ms / 1000).toFixed(2)} s | JSON.parse only ${(plain.ms / 1000).toFixed(2)} s | |`,
    `| scoring with factors, per appointment | ${scoreUs.toFixed(2)} us | probability only ${probabilityUs.toFixed(2)} us | < 20 us |`,
    '',
    'calibration by decile (learned): ' + learned.deciles.map((d) => `${d.group}: ${pct(d.meanScore)} vs ${pct(d.observedRate)}`).join('; '),
    'by band: ' + learned.bands.map((b) => `${b.group} n=${b.n} ${pct(b.meanScore)} vs ${pct(b.observedRate)}`).join('; '),
    `targets: ${Object.entries(result.targets)
      .map(([k, v]) => `${k} ${v ? 'met' : 'MISSED'}`)
      .join(', ')}`,
  ].join('\n');
  console.log(table);
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'risk.json'), `${JSON.stringify(result, null, 2)}\n`);
}

main();
