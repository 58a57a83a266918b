'use strict';
/**
 * Brings dist/ up to date for `npm start`, the e2e tests and the benchmarks: every TypeScript file
 * of tsconfig.json newer than its output is transpiled (TypeScript's transpileModule; the project
 * sets isolatedModules, so per-file output equals tsc's), and the production bundle the local host
 * loads (dist/bundle, scripts/bundle.cjs) is rebuilt when one of its sources changed. No type check here: that is
 * `npm run lint` / `npm run build`, and one helper's unfinished types must not block everyone's
 * local host. Plain CommonJS so it runs before anything is compiled.
 */
const { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..', '..');

function outputsOf(root, options, file) {
  const rel = relative(root, file);
  const out = join(options.outDir || join(root, 'dist'), rel);
  return { js: out.replace(/\.(c|m)?ts$/, (m) => m.replace('ts', 'js')), rel };
}

/** Several processes may build at once (tests, npm start, benches): never expose a half-written file. */
function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Transpiles changed files. Returns { built, files, ms }. */
function ensureBuilt({ root = ROOT, log = (m) => console.log(m) } = {}) {
  const t0 = Date.now();
  const ts = require(require.resolve('typescript', { paths: [root] }));
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const options = { ...parsed.options, noEmit: false, declaration: false, incremental: false, composite: false };
  // tsconfig.json changes the output of every file; package.json (edited often for scripts) does not.
  const configMtime = statSync(configPath).mtimeMs;
  let files = 0;
  for (const file of parsed.fileNames) {
    if (file.endsWith('.d.ts')) continue;
    const { js, rel } = outputsOf(root, parsed.options, file);
    if (file.endsWith('.json')) {
      if (!existsSync(js) || statSync(js).mtimeMs < statSync(file).mtimeMs) {
        mkdirSync(dirname(js), { recursive: true });
        copyFileSync(file, js);
      }
      continue;
    }
    if (existsSync(js)) {
      const built = statSync(js).mtimeMs;
      if (built >= statSync(file).mtimeMs && built >= configMtime) continue;
    }
    const source = ts.sys.readFile(file);
    const result = ts.transpileModule(source, { compilerOptions: options, fileName: file, reportDiagnostics: true });
    const syntax = (result.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (syntax.length) log(`[build] ${rel}: ${ts.flattenDiagnosticMessageText(syntax[0].messageText, '\n')}`);
    mkdirSync(dirname(js), { recursive: true });
    let text = result.outputText;
    if (result.sourceMapText) {
      text = text.replace(/\/\/# sourceMappingURL=.*$/m, '') + `//# sourceMappingURL=${js.split('/').pop()}.map\n`;
      writeAtomic(`${js}.map`, result.sourceMapText);
    }
    writeAtomic(js, text);
    files++;
  }
  copyAssets(root, parsed);
  const removed = removeOrphans(root, parsed);
  if (removed > 0) log(`[build] removed ${removed} output(s) whose source is gone`);
  const ms = Date.now() - t0;
  if (files > 0) log(`[build] transpiled ${files} changed file(s) into dist/ in ${(ms / 1000).toFixed(1)} s (type check: npm run lint)`);
  const entry = join(root, 'dist', 'local', 'start.js');
  if (!existsSync(entry)) throw new Error(`build did not produce ${entry}`);
  // The production bundle the local host loads (one build for the cloud and for every test).
  const bundled = require(join(root, 'scripts', 'bundle.cjs')).ensureBundled({ root, log });
  return { built: files > 0 || bundled.built, files, ms: Date.now() - t0 };
}

/** Folders copied whole into dist/: files the built app reads at run time (the console's page). */
const ASSET_DIRS = ['functions/ops/console'];

/**
 * Mirrors .json files under the source folders into dist (tsc copies the imported ones), and the
 * asset folders whole, so dist/ alone (the deployment package) serves them.
 */
function copyAssets(root = ROOT, parsed = parseConfig(root)) {
  const outDir = parsed.options.outDir || join(root, 'dist');
  const includeRoots = (parsed.raw.include || []).map((d) => d.replace(/\/\*.*$/, ''));
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.json')) {
        const out = join(outDir, relative(root, p));
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(p).mtimeMs) {
          mkdirSync(dirname(out), { recursive: true });
          copyFileSync(p, out);
        }
      }
    }
  };
  for (const d of includeRoots) walk(join(root, d));
  for (const d of ASSET_DIRS) {
    for (const entry of readdirSync(join(root, d), { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const from = join(root, d, entry.name);
      const out = join(outDir, d, entry.name);
      if (!existsSync(out) || statSync(out).mtimeMs < statSync(from).mtimeMs) {
        mkdirSync(dirname(out), { recursive: true });
        copyFileSync(from, out);
      }
    }
  }
}

function parseConfig(root) {
  const ts = require(require.resolve('typescript', { paths: [root] }));
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(config.config, ts.sys, root);
}

/**
 * Deletes outputs whose TypeScript source was deleted or renamed: the app entry loads every .js in
 * dist/functions, so a stale one would register a function that no longer exists.
 */
function removeOrphans(root, parsed) {
  const outDir = parsed.options.outDir || join(root, 'dist');
  const sources = new Set(parsed.fileNames.map((f) => relative(root, f)));
  const includeRoots = (parsed.raw.include || []).map((d) => d.replace(/\/\*.*$/, ''));
  let removed = 0;
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(p);
        continue;
      }
      const rel = relative(outDir, p);
      if (ASSET_DIRS.some((d) => rel.startsWith(`${d}/`))) continue; // copied assets, not outputs
      let source;
      if (rel.endsWith('.js.map')) source = rel.slice(0, -'.js.map'.length) + '.ts';
      else if (rel.endsWith('.js')) source = rel.slice(0, -'.js'.length) + '.ts';
      else continue; // JSON files tsc copies for imports are left alone
      if (!sources.has(source)) {
        rmSync(p, { force: true });
        removed++;
      }
    }
  };
  for (const d of includeRoots) walk(join(outDir, d));
  return removed;
}

module.exports = { ensureBuilt, copyAssets, ROOT };
