'use strict';
/**
 * Loads an app entry in a fresh Node process the way the Functions host does, and prints what it saw
 * as one JSON line: every function registered (name and bindings, as the host receives them), the
 * modules in require.cache, the files read through fs while loading, and the time and memory it took.
 *
 *   node test/support/load-probe.cjs <functions-core stand-in (dist/local/host/core.js)> <entry>...
 *
 * The stand-in is the host's part (the Azure host injects `@azure/functions-core`); the entry is the
 * app under test, e.g. a deployment package's dist/bundle/main.js. Several entries are loaded in order
 * (`exports` is the first one's).
 */
const fs = require('node:fs');

const [corePath, ...entries] = process.argv.slice(2);
const { installFunctionsCore, capturedFunctions } = require(corePath);
installFunctionsCore();
const before = new Set(Object.keys(require.cache));

const reads = [];
const readFileSync = fs.readFileSync;
fs.readFileSync = function (path, ...rest) {
  reads.push(String(path));
  return readFileSync.call(this, path, ...rest);
};
const t0 = performance.now();
const [app] = entries.map((entry) => require(entry));
const loadMs = performance.now() - t0;
fs.readFileSync = readFileSync;

process.stdout.write(
  JSON.stringify({
    loadMs,
    rssBytes: process.memoryUsage().rss,
    exports: Object.keys(app),
    functions: capturedFunctions.all().map((f) => ({ name: f.name, bindings: f.metadata.bindings, retryOptions: f.metadata.retryOptions ?? null })),
    modules: Object.keys(require.cache).filter((m) => !before.has(m)),
    reads,
  }) + '\n',
);
