/**
 * The app entry lists its modules statically so the bundler can follow them (functions/index.ts);
 * so does the OpenAPI document its fragments (functions/ops/openapi.ts). Both lists must match the
 * folders: a trigger file that is not imported would never register, in the cloud or locally.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FRAGMENT_MODULES } from '../../../functions/ops/openapi';

const ROOT = resolve(__dirname, '..', '..', '..');
/** functions/ folders that hold no triggers (shared code): everything else there is a trigger area. */
const SHARED = new Set(['http', 'app', 'adapters']);

const modulesIn = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();

function expectedImports(): string[] {
  const areas = readdirSync(join(ROOT, 'functions'))
    .filter((d) => statSync(join(ROOT, 'functions', d)).isDirectory() && !SHARED.has(d))
    .sort();
  return [
    ...areas.flatMap((area) => modulesIn(join('functions', area)).map((f) => `./${area}/${f.replace(/\.ts$/, '')}`)),
    ...modulesIn('orchestrations').map((f) => `../orchestrations/${f.replace(/\.ts$/, '')}`),
  ];
}

describe('functions/index.ts (the app entry)', () => {
  const source = readFileSync(join(ROOT, 'functions', 'index.ts'), 'utf8');
  const imported = [...source.matchAll(/^import '([^']+)';$/gm)].map((m) => m[1]!);

  it('imports every module of the trigger areas and orchestrations/, and nothing else', () => {
    const expected = expectedImports();
    const missing = expected.filter((m) => !imported.includes(m));
    const extra = imported.filter((m) => !expected.includes(m));
    // The message names the lines to add or remove.
    expect({ add: missing.map((m) => `import '${m}';`), remove: extra.map((m) => `import '${m}';`) }).toEqual({ add: [], remove: [] });
  });

  it('keeps the load order of the folder scan it replaced: areas, then workflows, each by file name', () => {
    const order = (m: string) => (m.startsWith('../orchestrations/') ? 'zz' : m.split('/')[1]!);
    const areas = [...new Set(imported.map(order))];
    expect(areas).toEqual(['api', 'fhir', 'ehr', 'patient', 'events', 'ops', 'zz'].filter((a) => areas.includes(a)));
    for (const area of areas) {
      const inArea = imported.filter((m) => order(m) === area);
      const byFileName = [...inArea].sort((a, b) => (`${a}.ts` < `${b}.ts` ? -1 : 1));
      expect(inArea).toEqual(byFileName);
    }
  });
});

describe('functions/ops/openapi.ts FRAGMENT_MODULES', () => {
  it('lists every fragment module of functions/ops/openapi/, each under its own file name', () => {
    const dir = join('functions', 'ops', 'openapi');
    expect(Object.keys(FRAGMENT_MODULES).sort()).toEqual(modulesIn(dir).filter((f) => !f.startsWith('_')));
    for (const [file, load] of Object.entries(FRAGMENT_MODULES)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      expect(load()).toBe(require(join(ROOT, dir, file)));
    }
  });
});
