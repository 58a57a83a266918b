'use strict';
/**
 * `npm start`: build dist/ if sources changed, then run the local host (dist/local/start.js).
 * `npm run bench:localhost` (`--bench`): same build step, then bench/localhost.ts from dist.
 */
const { join } = require('node:path');
const { ensureBuilt, ROOT } = require('./build.cjs');

try {
  ensureBuilt();
} catch (err) {
  console.error(`[build] ${err.message}`);
  process.exit(1);
}
const args = process.argv.slice(2);
const bench = args[0] === '--bench';
const entry = bench ? join(ROOT, 'dist', 'bench', 'localhost.js') : join(ROOT, 'dist', 'local', 'start.js');
require(entry)
  .main(bench ? args.slice(1) : args)
  .then(() => {
    if (bench) process.exit(0);
  })
  .catch((err) => {
    console.error(`[${bench ? 'bench' : 'host'}] ${err && err.message}`);
    process.exit(1);
  });
