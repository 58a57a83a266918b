#!/usr/bin/env node
// The Bicep CLI for CI and `npm run test:bicep`: obtained through NuGet (the version pinned in
// bicep-cli.csproj beside this file), then build, build-params and lint over bicep/. Any
// diagnostic, warning or error, fails.
//
//   node .ci/bicep/bicep.cjs restore     obtain the CLI (no network when it is already there)
//   node .ci/bicep/bicep.cjs check       restore, then build every .bicep file, build-params
//                                        main.bicepparam and lint everything
//
// check options: --root DIR (a copy of the repository's bicep/ to check instead, for the negative
// tests), --out DIR (keep the compiled JSON there), --steps build,params,lint, --no-restore,
// --report FILE (a JSON summary for the tests).
//
// When the CLI cannot be obtained because dotnet is missing or the package source cannot be
// reached, restore and check say so in a banner, record it in packages/unavailable.json and exit 0:
// CI must not fail on an unreachable source. Any other restore failure (a version the source does
// not have, a broken project file) fails.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const HERE = __dirname;
const REPO_ROOT = path.resolve(HERE, '..', '..');
const PROJECT = path.join(HERE, 'bicep-cli.csproj');
const PACKAGES = path.join(HERE, 'packages');
const UNAVAILABLE = path.join(PACKAGES, 'unavailable.json');
const PACKAGE_ID = 'Azure.Bicep.CommandLine.linux-x64';

// Values for the parameters main.bicepparam reads from the environment without a default (azd
// supplies them on a real deployment). Nothing else from the caller's environment reaches the CLI.
const PARAMS_ENVIRONMENT = {
  AZURE_ENV_NAME: 'slotflow-ci',
  AZURE_LOCATION: 'westeurope',
  AUTH_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
  TWILIO_ACCOUNT_SID: 'AC-ci-placeholder',
  TWILIO_MESSAGING_SERVICE_SID: 'MG-ci-placeholder',
};

// `path(line,col) : Level CODE: message`, the CLI's default diagnostics format.
const DIAGNOSTIC = /^(.+?)\((\d+),(\d+)\) : (Error|Warning|Info) ([^:]+): (.*)$/;

function pinnedVersion() {
  const project = fs.readFileSync(PROJECT, 'utf8');
  const match = project.match(new RegExp(`Include="${PACKAGE_ID.replace(/\./g, '\\.')}" Version="\\[([^\\]]+)\\]"`));
  if (!match) throw new Error(`${PROJECT}: no exact (bracketed) version for ${PACKAGE_ID}`);
  return match[1];
}

function cliPath(version = pinnedVersion()) {
  return path.join(PACKAGES, PACKAGE_ID.toLowerCase(), version, 'tools', 'bicep');
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function banner(lines) {
  const width = Math.max(...lines.map((l) => l.length)) + 4;
  const rule = '!'.repeat(width);
  return [rule, ...lines.map((l) => `! ${l.padEnd(width - 4)} !`), rule].join('\n');
}

function recordUnavailable(version, reason) {
  fs.mkdirSync(PACKAGES, { recursive: true });
  fs.writeFileSync(UNAVAILABLE, `${JSON.stringify({ version, reason }, null, 2)}\n`);
}

function skippedBanner({ version, reason }) {
  return banner([
    `BICEP COMPILE AND LINT SKIPPED: the Bicep CLI ${version} could not be obtained.`,
    reason,
    'Only the tree-sitter checks run on bicep/. Retry with: node .ci/bicep/bicep.cjs restore',
  ]);
}

/**
 * Ensures the pinned CLI is on disk. Returns { status: 'ok', path, version, restoredMs } or
 * { status: 'unavailable', reason }; throws on any other restore failure.
 */
function restore({ log = console.log } = {}) {
  const version = pinnedVersion();
  const bicep = cliPath(version);
  if (isExecutable(bicep)) {
    fs.rmSync(UNAVAILABLE, { force: true });
    return { status: 'ok', path: bicep, version, restoredMs: 0 };
  }
  const started = Date.now();
  const dotnet = spawnSync('dotnet', ['--version'], { encoding: 'utf8' });
  if (dotnet.error || dotnet.status !== 0) {
    const reason = 'dotnet (the .NET SDK, which runs the NuGet restore) is not installed.';
    recordUnavailable(version, reason);
    return { status: 'unavailable', version, reason };
  }
  log(`bicep: restoring ${PACKAGE_ID} ${version} from NuGet (${path.relative(REPO_ROOT, PROJECT)})`);
  const result = spawnSync('dotnet', ['restore', PROJECT, '--nologo', '--verbosity', 'quiet'], {
    encoding: 'utf8',
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1' },
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status === 0 && isExecutable(bicep)) {
    fs.rmSync(UNAVAILABLE, { force: true });
    return { status: 'ok', path: bicep, version, restoredMs: Date.now() - started };
  }
  // NU1301: the source's service index or a package could not be fetched (offline, DNS, proxy).
  if (/\bNU1301\b/.test(output)) {
    const reason = `the package source is unreachable: ${(output.match(/NU1301: ([^\n]*)/) ?? [])[1] ?? 'NU1301'}`;
    recordUnavailable(version, reason.slice(0, 300));
    return { status: 'unavailable', version, reason };
  }
  throw new Error(`dotnet restore of ${PACKAGE_ID} ${version} failed (exit ${result.status}):\n${output.trim()}`);
}

function run(bicep, args, { cwd, env }) {
  const started = Date.now();
  const result = spawnSync(bicep, args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), DOTNET_CLI_TELEMETRY_OPTOUT: '1', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  const diagnostics = [];
  const other = [];
  for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) {
    if (!line.trim()) continue;
    const m = line.match(DIAGNOSTIC);
    if (m) {
      diagnostics.push({
        file: path.relative(cwd, m[1]),
        line: Number(m[2]),
        column: Number(m[3]),
        level: m[4],
        code: m[5],
        message: m[6],
      });
    } else other.push(line);
  }
  return { exitCode: result.status, diagnostics, other, ms: Date.now() - started };
}

function listFiles(dir, suffix) {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort();
}

/**
 * Builds every .bicep file under ROOT/bicep, builds the parameters file and lints both.
 * Returns { status: 'ok' | 'failed' | 'unavailable' | 'missing', steps, diagnostics, outDir }.
 */
function check({ root = REPO_ROOT, outDir, steps = ['build', 'params', 'lint'], restoreCli = true, log = console.log } = {}) {
  const version = pinnedVersion();
  let bicep = cliPath(version);
  if (restoreCli) {
    const restored = restore({ log });
    if (restored.status !== 'ok') return { status: 'unavailable', version, reason: restored.reason, steps: [], diagnostics: [] };
    if (restored.restoredMs > 0) log(`bicep: restored in ${(restored.restoredMs / 1000).toFixed(1)} s`);
  } else if (!isExecutable(bicep)) {
    if (fs.existsSync(UNAVAILABLE)) {
      const { reason } = JSON.parse(fs.readFileSync(UNAVAILABLE, 'utf8'));
      return { status: 'unavailable', version, reason, steps: [], diagnostics: [] };
    }
    return { status: 'missing', version, reason: `Bicep CLI ${version} is not restored: run \`node .ci/bicep/bicep.cjs restore\` (or \`npm run test:bicep\`, which restores it).`, steps: [], diagnostics: [] };
  }

  const bicepDir = path.join(root, 'bicep');
  const out = outDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'slotflow-bicep-'));
  const sources = listFiles(bicepDir, '.bicep');
  const params = listFiles(bicepDir, '.bicepparam');
  const results = [];
  const plan = {
    build: () => ['build', '--pattern', 'bicep/**/*.bicep', '--outdir', out],
    params: () => ['build-params', ...params.flatMap((p) => [path.relative(root, p)]), '--outfile', path.join(out, 'main.parameters.json')],
    lint: () => ['lint', '--pattern', 'bicep/**/*.bicep*'],
  };
  for (const step of steps) {
    if (step === 'params' && params.length !== 1) throw new Error(`expected one .bicepparam file under ${bicepDir}, found ${params.length}`);
    const result = run(bicep, plan[step](), { cwd: root, env: step === 'lint' || step === 'params' ? PARAMS_ENVIRONMENT : {} });
    results.push({ step, ...result });
    log(`bicep ${step}: exit ${result.exitCode}, ${result.diagnostics.length} diagnostic(s), ${(result.ms / 1000).toFixed(1)} s`);
  }
  // The same finding reported by build and by lint counts once.
  const seen = new Set();
  const diagnostics = results
    .flatMap((r) => r.diagnostics)
    .filter((d) => {
      const key = `${d.file}:${d.line}:${d.column}:${d.code}`;
      return !seen.has(key) && seen.add(key);
    });
  const failedSteps = results.filter((r) => r.exitCode !== 0 || r.other.length > 0 || r.diagnostics.length > 0);
  if (!outDir) fs.rmSync(out, { recursive: true, force: true });
  return {
    status: failedSteps.length === 0 ? 'ok' : 'failed',
    version,
    files: { bicep: sources.map((f) => path.relative(root, f)), params: params.map((f) => path.relative(root, f)) },
    steps: results.map(({ step, exitCode, ms, other }) => ({ step, exitCode, ms, other })),
    diagnostics,
    outDir: outDir ? out : undefined,
  };
}

function formatDiagnostic(d) {
  return `${d.file}(${d.line},${d.column}) ${d.level} ${d.code}: ${d.message}`;
}

function main(argv) {
  const [command, ...rest] = argv;
  const option = (name) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  if (command === 'restore') {
    const result = restore();
    if (result.status === 'unavailable') console.error(skippedBanner(result));
    if (result.status === 'ok') {
      const version = spawnSync(result.path, ['--version'], { encoding: 'utf8' }).stdout.trim();
      console.log(`bicep: ${path.relative(REPO_ROOT, result.path)} (${version})${result.restoredMs ? `, restored in ${(result.restoredMs / 1000).toFixed(1)} s` : ''}`);
    }
    return 0;
  }
  if (command === 'check') {
    const started = Date.now();
    const result = check({
      root: option('--root') ? path.resolve(option('--root')) : REPO_ROOT,
      outDir: option('--out') ? path.resolve(option('--out')) : undefined,
      steps: option('--steps') ? option('--steps').split(',') : undefined,
      restoreCli: !rest.includes('--no-restore'),
    });
    if (option('--report')) fs.writeFileSync(option('--report'), `${JSON.stringify(result, null, 2)}\n`);
    if (result.status === 'unavailable') {
      console.error(skippedBanner(result));
      return 0;
    }
    if (result.status === 'missing') {
      console.error(result.reason);
      return 1;
    }
    for (const d of result.diagnostics) console.error(formatDiagnostic(d));
    for (const s of result.steps) for (const line of s.other) console.error(`bicep ${s.step}: ${line}`);
    const total = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status === 'ok') {
      console.log(`bicep: Bicep CLI ${result.version}: ${result.files.bicep.length} .bicep and ${result.files.params.length} .bicepparam file(s) built and linted, no diagnostics (${total} s)`);
      return 0;
    }
    console.error(`bicep: FAILED with ${result.diagnostics.length} diagnostic(s); warnings fail too (bicep/bicepconfig.json)`);
    return 1;
  }
  console.error('usage: node .ci/bicep/bicep.cjs restore | check [--root DIR] [--out DIR] [--steps build,params,lint] [--no-restore] [--report FILE]');
  return 2;
}

module.exports = { PARAMS_ENVIRONMENT, check, cliPath, pinnedVersion, restore };

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(`bicep: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
