/**
 * `npm run -s optimize -- <instance.json>`: solves a slot-assignment instance (docs/optimizer.md) and prints the
 * result as JSON (`-s`: without it npm prints its banner on stdout too); `--out <file>` writes it to a file
 * instead. `-` reads the instance from stdin; `--example` prints an example instance. The time limit counts
 * from reading the input to the answer.
 * Exit codes: 0 solved (any status), 2 invalid instance (the error names each field), 64 usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { optimizeAssignment, OptimizerInputError, type OptimizationInstance } from '../domain/optimizer';
import { type CliIo, processIo, runAsMain, UsageError } from './cli';

const USAGE = `usage: npm run -s optimize -- <instance.json | -> [--time-limit-ms N] [--mip-gap G] [--greedy] [--compact] [--out result.json]
       npm run -s optimize -- --example
(-s keeps npm's banner out of the JSON on stdout; --out writes the result to a file)`;

export const EXAMPLE_INSTANCE: OptimizationInstance = {
  timeZone: 'America/New_York',
  slots: [
    {
      id: 'slot-1',
      providerId: 'dr-lee',
      start: '2026-12-07T09:00:00-05:00',
      end: '2026-12-07T09:30:00-05:00',
      appointmentType: 'FU',
      locationId: 'main',
      room: 'r1',
    },
    {
      id: 'slot-2',
      providerId: 'dr-lee',
      start: '2026-12-07T14:00:00-05:00',
      end: '2026-12-07T14:45:00-05:00',
      appointmentType: 'NP',
      locationId: 'main',
      room: 'r1',
    },
    {
      id: 'slot-3',
      providerId: 'dr-ortiz',
      start: '2026-12-07T09:00:00-05:00',
      end: '2026-12-07T09:30:00-05:00',
      appointmentType: 'FU',
      locationId: 'main',
      room: 'r1',
    },
    {
      id: 'slot-4',
      providerId: 'dr-ortiz',
      start: '2026-12-08T10:00:00-05:00',
      end: '2026-12-08T10:30:00-05:00',
      appointmentType: 'FU',
      locationId: 'main',
      room: 'r2',
      equipment: ['ecg'],
    },
  ],
  candidates: [
    { id: 'wl-101', appointmentType: 'FU', urgency: 'urgent', daysWaiting: 3, clinicalDeadline: '2026-12-07T18:00:00-05:00', noShowRisk: 0.05 },
    { id: 'wl-102', appointmentType: 'FU', urgency: 'routine', daysWaiting: 60, preferredProviderId: 'dr-ortiz', timeOfDay: 'morning', noShowRisk: 0.3 },
    { id: 'appt-900', appointmentType: 'NP', providerIds: ['dr-lee', 'dr-ortiz'], mustPlace: true, urgency: 'soon' },
    { id: 'wl-103', appointmentType: 'FU', urgency: 4, daysWaiting: 20, earliest: '2026-12-08T00:00:00-05:00' },
  ],
  weights: { urgency: 40, waiting: 20, continuity: 10 },
  constraints: {
    providerDayCaps: [{ kind: 'urgent', max: 1 }],
    resourceCapacity: [{ resource: 'room', id: 'r1', capacity: 1, blockMinutes: 60 }],
  },
};

interface CliArgs {
  file?: string;
  out?: string;
  timeLimitMs?: number;
  mipGap?: number;
  greedyOnly: boolean;
  compact: boolean;
  example: boolean;
}

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { greedyOnly: false, compact: false, example: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const number = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new UsageError(`${a} needs a non-negative number`);
      return v;
    };
    if (a === '--time-limit-ms') args.timeLimitMs = number();
    else if (a === '--mip-gap') args.mipGap = number();
    else if (a === '--greedy') args.greedyOnly = true;
    else if (a === '--out') {
      const file = argv[++i];
      if (file === undefined || file.startsWith('--')) throw new UsageError('--out needs a file name');
      args.out = file;
    } else if (a === '--compact') args.compact = true;
    else if (a === '--example') args.example = true;
    else if (a === '--help' || a === '-h') throw new UsageError('');
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else if (args.file === undefined) args.file = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!args.example && args.file === undefined) throw new UsageError('missing instance file');
  return args;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err.write(`${e instanceof UsageError && e.message ? `optimize: ${e.message}\n` : ''}${USAGE}\n`);
    return 64;
  }
  if (args.example) {
    io.out.write(`${JSON.stringify(EXAMPLE_INSTANCE, null, 2)}\n`);
    return 0;
  }
  // The budget starts before the input is read: --time-limit-ms is wall clock from here to the answer.
  const startedAt = performance.now();
  let instance: unknown;
  const source = args.file === '-' ? 'stdin' : resolve(process.env.INIT_CWD ?? process.cwd(), args.file!);
  try {
    const text = args.file === '-' ? readFileSync(0, 'utf8') : readFileSync(source, 'utf8');
    instance = JSON.parse(text);
  } catch (e) {
    io.err.write(`optimize: cannot read ${source}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  try {
    const result = await optimizeAssignment(instance, {
      ...(args.timeLimitMs !== undefined ? { timeLimitMs: args.timeLimitMs } : {}),
      ...(args.mipGap !== undefined ? { mipGap: args.mipGap } : {}),
      greedyOnly: args.greedyOnly,
      startedAt,
    });
    const text = `${JSON.stringify(result, null, args.compact ? 0 : 2)}\n`;
    if (args.out !== undefined) writeFileSync(resolve(process.env.INIT_CWD ?? process.cwd(), args.out), text);
    else io.out.write(text);
    return 0;
  } catch (e) {
    if (e instanceof OptimizerInputError) {
      io.err.write(`optimize: invalid instance (${e.code})\n${e.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}\n`);
      return 2;
    }
    throw e;
  }
}

runAsMain(module, 'optimize', (argv) => main(argv));
