/**
 * `npm run risk -- train <history.ndjson> [--out model.json]` and `npm run risk -- evaluate <model.json>
 * <history.ndjson>`: the no-show model offline (docs/no-show-risk.md). A history is one past appointment a
 * line: {appointmentId, patientId, clinicId, providerId, appointmentType, createdAt, start, status,
 * confirmedAt?, cancelledAt?}. Training fits on the earlier part by start and tests on the later part;
 * evaluation scores the appointments after the model's training period (or every one with --all).
 * Exit codes: 0 done, 2 invalid history or model (the error names line and field), 64 usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  evaluateRiskModel,
  fromHistoryRow,
  HistoryInputError,
  parseHistory,
  RISK_DEFAULTS,
  riskModelSchema,
  trainRiskModel,
  type EvaluationMetrics,
  type HistoryRow,
  type RiskModel,
} from '../domain/risk';
import { isIanaZone } from '../domain/time';
import { type CliIo, processIo, runAsMain, UsageError } from './cli';

const USAGE = `usage: npm run risk -- train <history.ndjson | -> [--out model.json] [--clinic ID] [--time-zone ZONE]
                        [--cancellation-window-hours H] [--test-fraction F] [--trained-at ISO]
       npm run risk -- evaluate <model.json> <history.ndjson | -> [--all] [--clinic ID] [--cancellation-window-hours H] [--json]`;

/** Bad input (exit 2): the message names the line and field, never a value. */
class InputError extends Error {}

interface CliArgs {
  command: 'train' | 'evaluate';
  files: string[];
  out?: string;
  clinic?: string;
  timeZone?: string;
  cancellationWindowHours: number;
  testFraction: number;
  trainedAt?: string;
  all: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command !== 'train' && command !== 'evaluate') throw new UsageError(command ? `unknown command ${command}` : '');
  const args: CliArgs = { command, files: [], cancellationWindowHours: 24, testFraction: RISK_DEFAULTS.testFraction, all: false, json: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const number = (min: number, max: number): number => {
      const v = Number(value());
      if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`${a} needs a number from ${min} to ${max}`);
      return v;
    };
    if (a === '--out') args.out = value();
    else if (a === '--clinic') args.clinic = value();
    else if (a === '--time-zone') {
      args.timeZone = value();
      if (!isIanaZone(args.timeZone)) throw new UsageError(`${a} needs an IANA time zone such as America/New_York`);
    } else if (a === '--cancellation-window-hours') args.cancellationWindowHours = number(0, 24 * 14);
    else if (a === '--test-fraction') args.testFraction = number(0, 0.9);
    else if (a === '--trained-at') {
      args.trainedAt = value();
      if (Number.isNaN(Date.parse(args.trainedAt))) throw new UsageError(`${a} needs an ISO instant`);
    } else if (a === '--all') args.all = true;
    else if (a === '--json') args.json = true;
    else if (a === '--help' || a === '-h') throw new UsageError('');
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else args.files.push(a);
  }
  const expected = command === 'train' ? 1 : 2;
  if (args.files.length !== expected)
    throw new UsageError(command === 'train' ? 'train needs one history file' : 'evaluate needs a model file and a history file');
  return args;
}

function readText(file: string): string {
  const path = file === '-' ? 'stdin' : resolve(process.env.INIT_CWD ?? process.cwd(), file);
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The rows of one clinic: the one in the file, or --clinic's. */
function clinicRows(rows: HistoryRow[], clinic: string | undefined): { clinicId: string; rows: HistoryRow[] } {
  const clinics = [...new Set(rows.map((r) => r.clinicId))].sort();
  if (clinic !== undefined) {
    const mine = rows.filter((r) => r.clinicId === clinic);
    if (mine.length === 0) throw new InputError(`history: no rows of clinic ${clinic} (clinics in the file: ${clinics.slice(0, 10).join(', ')})`);
    return { clinicId: clinic, rows: mine };
  }
  if (clinics.length > 1)
    throw new InputError(`history: rows of ${clinics.length} clinics (${clinics.slice(0, 10).join(', ')}); a model is per clinic: pass --clinic ID`);
  return { clinicId: clinics[0]!, rows };
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const int = (v: number) => v.toLocaleString('en-US');

/** The report both commands print: metrics and the calibration tables. */
export function formatMetrics(m: EvaluationMetrics): string {
  const lines = [
    `AUC ${Number.isFinite(m.auc) ? m.auc.toFixed(3) : 'n/a (one outcome only)'}   Brier ${m.brier.toFixed(4)} (predicting the observed rate for everyone: ${m.brierOfBaseRate.toFixed(4)})`,
    `calibration by decile of the score (largest error ${m.maxDecileErrorPoints.toFixed(1)} points):`,
    '  decile         n  mean score  observed  error (points)',
    ...m.deciles.map(
      (d) =>
        `  ${d.group.padStart(6)}  ${int(d.n).padStart(8)}  ${pct(d.meanScore).padStart(10)}  ${pct(d.observedRate).padStart(8)}  ${((d.meanScore - d.observedRate) * 100).toFixed(1).padStart(6)}`,
    ),
    'by band:',
    '  band           n  mean score  observed',
    ...m.bands.map((b) => `  ${b.group.padEnd(6)}  ${int(b.n).padStart(8)}  ${pct(b.meanScore).padStart(10)}  ${pct(b.observedRate).padStart(8)}`),
  ];
  return lines.join('\n');
}

function describeModel(model: RiskModel): string {
  const t = model.training;
  const lines = [
    `model ${model.modelVersion} (${model.kind === 'logistic' ? 'logistic regression' : 'clinic-wide rate'}) for clinic ${model.clinicId}`,
    `trained on ${int(t.labelled)} visits (${int(t.noShows)} no-shows, ${t.labelled ? pct(t.noShows / t.labelled) : 'n/a'})` +
      `${model.trainedThrough ? ` starting up to ${model.trainedThrough}` : ''}, from ${int(t.appointments)} appointments`,
    `bands: low < ${pct(model.bands.mediumFrom)} <= medium < ${pct(model.bands.highFrom)} <= high`,
  ];
  if (model.kind === 'clinic-rate') lines.push(`fallback: ${model.reason}; everyone scores ${pct(model.rate)}`);
  return lines.join('\n');
}

async function run(args: CliArgs, io: CliIo): Promise<number> {
  if (args.command === 'train') {
    const all = parseHistory(readText(args.files[0]!));
    const { clinicId, rows } = clinicRows(all, args.clinic);
    const model = trainRiskModel(
      rows.map((r) => fromHistoryRow(r, args.cancellationWindowHours)),
      {
        clinicId,
        trainedAt: args.trainedAt ?? new Date().toISOString(),
        testFraction: args.testFraction,
        ...(args.timeZone ? { timeZone: args.timeZone } : {}),
      },
    );
    const report = `${describeModel(model)}\n${model.metrics ? `test: the latest ${int(model.metrics.n)} visits (${int(model.metrics.noShows)} no-shows)\n${formatMetrics(model.metrics as EvaluationMetrics)}` : 'no test part (--test-fraction 0)'}\n`;
    const text = `${JSON.stringify(model, null, 2)}\n`;
    if (args.out) {
      writeFileSync(resolve(process.env.INIT_CWD ?? process.cwd(), args.out), text);
      io.out.write(`${report}model written to ${args.out}\n`);
    } else {
      io.err.write(report);
      io.out.write(text);
    }
    return 0;
  }
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(readText(args.files[0]!));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${args.files[0]}: not valid JSON`);
  }
  const parsedModel = riskModelSchema.safeParse(modelJson);
  if (!parsedModel.success) {
    throw new InputError(
      `${args.files[0]}: not a no-show model\n${parsedModel.error.issues.map((i) => `  ${i.path.join('.') || '(model)'}: ${i.message}`).join('\n')}`,
    );
  }
  const model = parsedModel.data;
  const all = parseHistory(readText(args.files[1]!));
  const { rows } = clinicRows(all, args.clinic ?? (all.some((r) => r.clinicId === model.clinicId) ? model.clinicId : undefined));
  const after = args.all ? undefined : model.trainedThrough;
  const metrics = evaluateRiskModel(
    model,
    rows.map((r) => fromHistoryRow(r, args.cancellationWindowHours)),
    after,
  );
  if (metrics.n === 0) {
    throw new InputError(
      `history: no visits (fulfilled or noshow) start after the model's training period (${model.trainedThrough}); pass --all to score every row`,
    );
  }
  if (args.json) io.out.write(`${JSON.stringify({ modelVersion: model.modelVersion, after: after ?? null, ...metrics }, null, 2)}\n`);
  else io.out.write(`${describeModel(model)}\nevaluated on ${int(metrics.n)} visits${after ? ` starting after ${after}` : ''}\n${formatMetrics(metrics)}\n`);
  return 0;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err.write(`${e instanceof UsageError && e.message ? `risk: ${e.message}\n` : ''}${USAGE}\n`);
    return 64;
  }
  try {
    return await run(args, io);
  } catch (e) {
    if (e instanceof HistoryInputError) {
      io.err.write(`risk: invalid history\n${e.issues.map((i) => `  ${i.line > 0 ? `line ${i.line}: ` : ''}${i.field}: ${i.message}`).join('\n')}\n`);
      return 2;
    }
    if (e instanceof InputError) {
      io.err.write(`risk: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

runAsMain(module, 'risk', (argv) => main(argv));
