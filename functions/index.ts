/**
 * The app's entry point (package.json "main"), for the Azure Functions host and the local host alike.
 * Loads every trigger file of the trigger areas (functions/{api,fhir,ehr,patient,events,ops}) and
 * every workflow file in orchestrations/: each registers itself with `app.*` / `df.app.*` at the
 * bottom of its own file, so adding a file is all it takes. Modules beside them (schemas, helpers,
 * names.ts) register nothing, so loading them too is harmless.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const ext = __filename.endsWith('.ts') ? '.ts' : '.js';
const isModule = (f: string) => f.endsWith(ext) && !f.endsWith(`.d${ext}`);

/** The folders whose files register functions, in load order. */
export const TRIGGER_AREAS = ['api', 'fhir', 'ehr', 'patient', 'events', 'ops'] as const;

for (const dir of [...TRIGGER_AREAS.map((area) => join(__dirname, area)), join(__dirname, '..', 'orchestrations')]) {
  for (const file of readdirSync(dir).filter(isModule).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the registration is the import's side effect
    require(join(dir, file));
  }
}
