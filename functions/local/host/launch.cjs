'use strict';
/** `npm start`: build dist/ if sources changed, then run the local host (dist/functions/local/start.js). */
const { join } = require('node:path');
const { ensureBuilt, ROOT } = require('./build.cjs');

try {
  ensureBuilt();
} catch (err) {
  console.error(`[build] ${err.message}`);
  process.exit(1);
}
require(join(ROOT, 'dist', 'functions', 'local', 'start.js'))
  .main(process.argv.slice(2))
  .catch((err) => {
    console.error(`[host] ${err && err.message}`);
    process.exit(1);
  });
