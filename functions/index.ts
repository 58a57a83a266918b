/**
 * The app's entry point (package.json "main"), for the Azure Functions host and the local host alike.
 * Loads every trigger file in functions/ and every workflow file in orchestrations/: each registers
 * itself with `app.*` / `df.app.*` at the bottom of its own file, so adding a file is all it takes.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const ext = __filename.endsWith('.ts') ? '.ts' : '.js';
const isModule = (f: string) => f.endsWith(ext) && !f.endsWith(`.d${ext}`) && f !== `index${ext}`;

for (const dir of [__dirname, join(__dirname, '..', 'orchestrations')]) {
  for (const file of readdirSync(dir).filter(isModule).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the registration is the import's side effect
    require(join(dir, file));
  }
}
