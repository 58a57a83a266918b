'use strict';
/**
 * Builds dist/ with tsc (incremental) when any TypeScript source is newer than the last build.
 * Plain CommonJS so it runs before anything is compiled: used by `npm start` (launch.cjs) and by
 * Jest's globalSetup. Type errors are reported but do not stop the build (tsc still emits), so one
 * helper's unfinished file does not block everyone's local host.
 */
const { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = resolve(__dirname, '..', '..', '..');
const SOURCE_DIRS = ['domain', 'functions', 'orchestrations', 'bench', 'scripts'];
const STAMP = join(ROOT, 'dist', '.build-stamp');

function newestSourceMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (/\.(ts|cjs|json)$/.test(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isStale(root = ROOT) {
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const config = ['tsconfig.json', 'package.json'].map((f) => join(root, f)).filter(existsSync).map((f) => statSync(f).mtimeMs);
  const newest = Math.max(...config, ...SOURCE_DIRS.map((d) => newestSourceMtime(join(root, d))));
  return newest > built;
}

/** Runs tsc if dist is stale. Returns { built, ok, ms }. Throws only if the host entry is missing afterwards. */
function ensureBuilt({ root = ROOT, log = (m) => console.log(m) } = {}) {
  if (!isStale(root)) return { built: false, ok: true, ms: 0 };
  const t0 = Date.now();
  log('[build] sources changed: tsc -p tsconfig.json (incremental)...');
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  mkdirSync(join(root, 'dist'), { recursive: true });
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', join('dist', '.tsbuildinfo')], {
    cwd: root,
    encoding: 'utf8',
  });
  const ok = result.status === 0;
  if (!ok) {
    const errors = (result.stdout || '').split('\n').filter((l) => /error TS\d+/.test(l));
    log(`[build] tsc reported ${errors.length} type error(s); JavaScript was emitted anyway. First ones:`);
    for (const line of errors.slice(0, 5)) log(`  ${line}`);
  }
  writeFileSync(join(root, 'dist', '.build-stamp'), new Date().toISOString());
  const entry = join(root, 'dist', 'functions', 'local', 'start.js');
  if (!existsSync(entry)) throw new Error(`build did not produce ${entry}`);
  const ms = Date.now() - t0;
  log(`[build] done in ${(ms / 1000).toFixed(1)} s`);
  return { built: true, ok, ms };
}

module.exports = { ensureBuilt, isStale, ROOT, STAMP };
