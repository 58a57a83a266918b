/**
 * The app entry lists its modules statically so the bundler can follow them (functions/index.ts);
 * so does the OpenAPI document its fragments (functions/ops/openapi.ts). Both lists must match the
 * folders: a trigger file that is not imported would never register, in the cloud or locally.
 * `npm run entry` (WRITE_ENTRY=1) rewrites both lists from the folders.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FRAGMENT_MODULES } from '../../../functions/ops/openapi';

const ROOT = resolve(__dirname, '..', '..', '..');
/** functions/ folders that hold no triggers (shared code): everything else there is a trigger area. */
const SHARED = new Set(['http', 'app', 'adapters']);

const modulesIn = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();

/** The load order of the folder scan the static list replaced; an area not named here loads after these. */
const LOAD_ORDER = ['api', 'fhir', 'ehr', 'patient', 'events', 'ops'];

function expectedImports(): string[] {
  const rank = (a: string) => (LOAD_ORDER.includes(a) ? LOAD_ORDER.indexOf(a) : LOAD_ORDER.length);
  const areas = readdirSync(join(ROOT, 'functions'))
    .filter((d) => statSync(join(ROOT, 'functions', d)).isDirectory() && !SHARED.has(d))
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  return [
    ...areas.flatMap((area) => modulesIn(join('functions', area)).map((f) => `./${area}/${f.replace(/\.ts$/, '')}`)),
    ...modulesIn('orchestrations').map((f) => `../orchestrations/${f.replace(/\.ts$/, '')}`),
  ];
}

const FRAGMENT_DIR = join('functions', 'ops', 'openapi');
const fragmentFiles = () => modulesIn(FRAGMENT_DIR).filter((f) => !f.startsWith('_'));

/** WRITE_ENTRY=1: rewrite the import list of functions/index.ts and FRAGMENT_MODULES from the folders. */
if (process.env.WRITE_ENTRY) {
  const entry = join(ROOT, 'functions', 'index.ts');
  const lines = readFileSync(entry, 'utf8').split('\n');
  const first = lines.findIndex((l) => l.startsWith("import '"));
  const rest = lines.slice(first).filter((l) => !l.startsWith("import '"));
  writeFileSync(entry, [...lines.slice(0, first), ...expectedImports().map((m) => `import '${m}';`), ...rest].join('\n'));
  const openapi = join(ROOT, 'functions', 'ops', 'openapi.ts');
  const text = readFileSync(openapi, 'utf8');
  const body = fragmentFiles()
    .map((f) => `  '${f}': () => require('./openapi/${f.replace(/\.ts$/, '')}'),`)
    .join('\n');
  writeFileSync(openapi, text.replace(/(export const FRAGMENT_MODULES[^\n]*= \{\n)[\s\S]*?(\n\};)/, `$1${body}$2`));
}

describe('functions/index.ts (the app entry)', () => {
  const source = readFileSync(join(ROOT, 'functions', 'index.ts'), 'utf8');
  const imported = [...source.matchAll(/^import '([^']+)';$/gm)].map((m) => m[1]!);

  it('imports every module of the trigger areas and orchestrations/, and nothing else', () => {
    const expected = expectedImports();
    const missing = expected.filter((m) => !imported.includes(m));
    const extra = imported.filter((m) => !expected.includes(m));
    // The message names the lines to add or remove (`npm run entry` does it).
    expect({ add: missing.map((m) => `import '${m}';`), remove: extra.map((m) => `import '${m}';`) }).toEqual({ add: [], remove: [] });
  });

  it('keeps the load order of the folder scan it replaced: areas in LOAD_ORDER, then workflows, each by file name', () => {
    expect(imported).toEqual(expectedImports());
  });
});

describe('functions/ops/openapi.ts FRAGMENT_MODULES', () => {
  // In write mode the list was imported before it was rewritten: the next run checks it.
  (process.env.WRITE_ENTRY ? it.skip : it)('lists every fragment module of functions/ops/openapi/, each under its own file name', () => {
    const dir = FRAGMENT_DIR;
    expect(Object.keys(FRAGMENT_MODULES).sort()).toEqual(fragmentFiles());
    for (const [file, load] of Object.entries(FRAGMENT_MODULES)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      expect(load()).toBe(require(join(ROOT, dir, file)));
    }
  });
});
