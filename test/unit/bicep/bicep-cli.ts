/**
 * Runs .ci/bicep/bicep.cjs (the script CI runs) from the tests and reads its JSON report. The tests
 * never restore: `npm run test:bicep` and .ci/run restore the CLI first. Where the restore recorded
 * that the CLI cannot be obtained (no dotnet, package source unreachable), the CLI tests are
 * skipped with a banner; where nothing was restored at all, they fail and say how to restore.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const SCRIPT = path.join(REPO_ROOT, '.ci', 'bicep', 'bicep.cjs');
const PROJECT = path.join(REPO_ROOT, '.ci', 'bicep', 'bicep-cli.csproj');
const UNAVAILABLE = path.join(REPO_ROOT, '.ci', 'bicep', 'packages', 'unavailable.json');

export type Step = 'build' | 'params' | 'lint';

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly level: 'Error' | 'Warning' | 'Info';
  readonly code: string;
  readonly message: string;
}

export interface CheckReport {
  readonly status: 'ok' | 'failed' | 'unavailable' | 'missing';
  readonly version: string;
  readonly reason?: string;
  readonly files?: { readonly bicep: string[]; readonly params: string[] };
  readonly steps: ReadonlyArray<{ step: Step; exitCode: number; ms: number; other: string[] }>;
  readonly diagnostics: Diagnostic[];
  readonly outDir?: string;
}

export interface CheckRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly report: CheckReport;
}

/** The version pinned in .ci/bicep/bicep-cli.csproj. */
export function pinnedVersion(): string {
  const match = /Include="Azure\.Bicep\.CommandLine\.linux-x64" Version="\[([^\]]+)\]"/.exec(readFileSync(PROJECT, 'utf8'));
  if (!match?.[1]) throw new Error(`${PROJECT} pins no exact Bicep CLI version`);
  return match[1];
}

export type CliState = { kind: 'restored' } | { kind: 'unavailable'; reason: string } | { kind: 'missing'; reason: string };

export function cliState(): CliState {
  const version = pinnedVersion();
  const cli = path.join(REPO_ROOT, '.ci', 'bicep', 'packages', 'azure.bicep.commandline.linux-x64', version, 'tools', 'bicep');
  try {
    accessSync(cli, constants.X_OK);
    return { kind: 'restored' };
  } catch {
    if (existsSync(UNAVAILABLE)) {
      const { reason } = JSON.parse(readFileSync(UNAVAILABLE, 'utf8')) as { reason: string };
      return { kind: 'unavailable', reason };
    }
    return {
      kind: 'missing',
      reason: `Bicep CLI ${version} is not restored (.ci/bicep/packages/). Run \`npm run test:bicep\` (restores it, then runs these tests) or \`node .ci/bicep/bicep.cjs restore\`.`,
    };
  }
}

/**
 * `describe` for tests that need the CLI: skipped with a banner where the restore recorded that the
 * CLI cannot be had, one failing test naming the restore command where it was never restored.
 */
export function describeWithCli(name: string, body: () => void): void {
  const state = cliState();
  if (state.kind === 'restored') {
    describe(name, body);
  } else if (state.kind === 'unavailable') {
    console.warn(`BICEP CLI TESTS SKIPPED (${name}): ${state.reason}`);
    describe.skip(name, body);
  } else {
    describe(name, () => {
      test('needs the Bicep CLI', () => {
        throw new Error(state.reason);
      });
    });
  }
}

/** Runs `bicep.cjs check --no-restore` on ROOT (the repository by default) and returns its report. */
export function runCheck(options: { root?: string; steps?: readonly Step[]; outDir?: string } = {}): CheckRun {
  const reportDir = mkdtempSync(path.join(os.tmpdir(), 'slotflow-bicep-report-'));
  try {
    const reportFile = path.join(reportDir, 'report.json');
    const args = [SCRIPT, 'check', '--no-restore', '--report', reportFile];
    if (options.root) args.push('--root', options.root);
    if (options.steps) args.push('--steps', options.steps.join(','));
    if (options.outDir) args.push('--out', options.outDir);
    const result = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: REPO_ROOT });
    if (!existsSync(reportFile)) throw new Error(`bicep.cjs wrote no report (exit ${result.status}):\n${result.stdout}${result.stderr}`);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as CheckReport;
    return { exitCode: result.status, stdout: result.stdout, stderr: result.stderr, report };
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

export interface Edit {
  /** Path under the repository, e.g. bicep/modules/cosmos.bicep. */
  readonly file: string;
  /** Text that must occur in the real file; omitted, `to` is appended (or the file is created). */
  readonly from?: string;
  readonly to: string;
}

/** A temporary copy of bicep/ (with bicepconfig.json) with the edits applied; returns its root. */
export function plantedCopy(edits: readonly Edit[]): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'slotflow-bicep-planted-'));
  cpSync(path.join(REPO_ROOT, 'bicep'), path.join(root, 'bicep'), { recursive: true });
  for (const edit of edits) {
    const target = path.join(root, edit.file);
    const source = existsSync(target) ? readFileSync(target, 'utf8') : '';
    if (edit.from === undefined) {
      writeFileSync(target, source + edit.to);
    } else {
      if (!source.includes(edit.from)) throw new Error(`${edit.file} no longer contains ${JSON.stringify(edit.from)}: update the planted fault`);
      writeFileSync(target, source.replace(edit.from, edit.to));
    }
  }
  return root;
}
