'use strict';
/**
 * CI security checks (`node .ci/security.cjs [secrets|audit|sbom|licences|all]`):
 * - secrets: secretlint (recommended preset) over the tree; a finding fails.
 * - audit: `npm audit` at high severity; a finding fails. When the registry's audit endpoint cannot be
 *   reached (this project's CI proxy answers 405), the step says so and does not fail.
 * - sbom: a CycloneDX JSON SBOM of the production dependencies in artifacts/sbom.cdx.json.
 * - licences: every installed package's licence (package-lock.json) must be on the allow-list below.
 * Plain Node, no build needed.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

/** SPDX ids allowed for any dependency. */
const ALLOWED_LICENCES = new Set(['MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD', 'BlueOak-1.0.0', 'Unlicense', 'CC0-1.0', 'Zlib', 'Python-2.0']);

/**
 * Also allowed for development-only packages (tooling never shipped in the deployment package): permissive or
 * attribution licences of linters, the SBOM tool and the local Cosmos stand-in's dependencies.
 */
const DEV_ONLY_LICENCES = new Set(['Artistic-2.0', 'WTFPL', 'CC-BY-3.0', 'CC-BY-4.0', 'EPL-1.0', 'EDL-1.0', 'MPL-2.0']);

/** Production packages allowed beyond the list, each with the reason. */
const LICENCE_EXCEPTIONS = {
  'glpk.js': 'GPL-3.0: the slot optimizer (GLPK compiled to WebAssembly); README "Licence" explains what this means for distribution',
};

/** Packages whose package.json omits the licence, with the licence their distribution states. */
const STATED_ELSEWHERE = {
  semaphore: 'MIT', // README and bower.json say MIT; package.json has no licence field
};

function licenceOf(path, entry) {
  if (entry.license) return typeof entry.license === 'string' ? entry.license : entry.license.type;
  const name = path.replace(/^.*node_modules\//, '');
  const manifest = join(ROOT, path, 'package.json');
  if (existsSync(manifest)) {
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    const licences = pkg.license ?? (Array.isArray(pkg.licenses) ? pkg.licenses.map((l) => l.type).join(' OR ') : undefined);
    if (licences) return typeof licences === 'string' ? licences : licences.type;
  }
  return STATED_ELSEWHERE[name];
}

/** Is an SPDX expression satisfied by the allow-list? (OR: any side; AND: both; parentheses.) */
function allowed(expression, extra = new Set()) {
  const tokens = expression.replace(/[()]/g, ' $& ').split(/\s+/).filter(Boolean);
  let i = 0;
  const primary = () => {
    if (tokens[i] === '(') {
      i++;
      const v = or();
      i++; // ')'
      return v;
    }
    const id = tokens[i++];
    return ALLOWED_LICENCES.has(id) || extra.has(id);
  };
  const and = () => {
    let v = primary();
    while (tokens[i] === 'AND') {
      i++;
      v = primary() && v;
    }
    return v;
  };
  const or = () => {
    let v = and();
    while (tokens[i] === 'OR') {
      i++;
      v = and() || v;
    }
    return v;
  };
  return or();
}

function licences() {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const problems = [];
  let checked = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path) continue;
    const name = path.replace(/^.*node_modules\//, '');
    checked++;
    if (LICENCE_EXCEPTIONS[name]) continue;
    const licence = licenceOf(path, entry);
    if (!licence) problems.push(`${name}: no licence stated`);
    else if (!allowed(licence, entry.dev ? DEV_ONLY_LICENCES : undefined))
      problems.push(`${name}: ${licence} is not on the allow-list${entry.dev ? ' (development)' : ' (production)'}`);
  }
  if (problems.length) {
    console.error(`licences: ${problems.length} package(s) not allowed:\n- ${problems.join('\n- ')}`);
    return false;
  }
  console.log(`licences: ${checked} packages, all on the allow-list (exceptions: ${Object.keys(LICENCE_EXCEPTIONS).join(', ')})`);
  return true;
}

function secrets(paths = ['**/*']) {
  const result = spawnSync(bin('secretlint'), [...paths, '--secretlintignore', join(ROOT, '.secretlintignore')], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(`secrets: secretlint found something (exit ${result.status}):\n${result.stdout}${result.stderr}`);
    return false;
  }
  console.log('secrets: secretlint (recommended preset) found nothing');
  return true;
}

function audit() {
  const result = spawnSync('npm', ['audit', '--audit-level=high', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  let report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    report = undefined;
  }
  const counts = report?.metadata?.vulnerabilities;
  if (!counts) {
    const reason = report?.message ?? (result.stderr || 'no answer').split('\n').find((l) => l.includes('audit')) ?? 'no answer';
    console.log(`audit: SKIPPED, the registry's audit endpoint could not be reached (${reason.trim()}); not failing`);
    return true;
  }
  const serious = (counts.high ?? 0) + (counts.critical ?? 0);
  if (serious > 0) {
    console.error(`audit: ${counts.high ?? 0} high and ${counts.critical ?? 0} critical vulnerabilities; run npm audit`);
    return false;
  }
  console.log(`audit: no high or critical vulnerabilities (${JSON.stringify(counts)})`);
  return true;
}

function sbom() {
  const dir = join(ROOT, 'artifacts');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'sbom.cdx.json');
  execFileSync(bin('cyclonedx-npm'), ['--omit', 'dev', '--output-format', 'JSON', '--output-file', out, '--validate'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  console.log(`sbom: CycloneDX ${doc.specVersion}, ${doc.components?.length ?? 0} components -> artifacts/sbom.cdx.json`);
  return true;
}

const steps = { secrets, audit, sbom, licences };
module.exports = { allowed, licences, secrets, audit, sbom };

if (require.main === module) {
  const which = process.argv[2] ?? 'all';
  const run = which === 'all' ? Object.keys(steps) : [which];
  let ok = true;
  for (const name of run) {
    if (!steps[name]) throw new Error(`unknown step ${name} (known: ${Object.keys(steps).join(', ')}, all)`);
    ok = steps[name]() && ok;
  }
  process.exit(ok ? 0 : 1);
}
