/**
 * Some lazy packages are bundled with only the exports the app takes from them (scripts/bundle.cjs
 * LAZY_EXPORTS: the Cosmos SDK's file is then less than half its size and loads in a third of the
 * time). A name the app requires that is not on that list would be undefined in the bundle only, so
 * the app's sources are checked against it here: every runtime use of those packages must be a
 * destructuring `require` or a value import of listed names.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LAZY_PACKAGES, LAZY_EXPORTS } = require('../../../scripts/bundle.cjs') as {
  LAZY_PACKAGES: Record<string, string>;
  LAZY_EXPORTS: Record<string, string[]>;
};

/** What the bundle is built from: the app entry's folders. */
const APP_DIRS = ['functions', 'domain', 'orchestrations'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [p] : [];
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Uses of `pkg` in `source`: names taken, plus any use this check cannot read (reported as problems). */
function usesOf(source: string, pkg: string): { names: string[]; problems: string[] } {
  const names: string[] = [];
  const problems: string[] = [];
  const q = `['"]${escape(pkg)}['"]`;
  for (const m of source.matchAll(new RegExp(`require\\(${q}\\)`, 'g'))) {
    const before = source.slice(0, m.index);
    const after = source.slice(m.index + m[0].length);
    const destructured = /const\s*\{([^}]*)\}\s*=\s*$/.exec(before);
    const member = /^\s*\.\s*([A-Za-z_$][\w$]*)/.exec(after);
    if (destructured)
      names.push(
        ...destructured[1]!
          .split(',')
          .map((n) => n.trim().split(/\s*:\s*/)[0]!)
          .filter(Boolean),
      );
    else if (member) names.push(member[1]!);
    else problems.push(`a require('${pkg}') that is neither destructured nor a member read`);
  }
  for (const m of source.matchAll(new RegExp(`import\\s+(type\\s+)?([^;]*?)\\s+from\\s+${q}`, 'g'))) {
    if (m[1]) continue; // import type: erased
    const clause = m[2]!;
    const named = /^\{([^}]*)\}$/.exec(clause.trim());
    if (!named) {
      problems.push(`import ${clause} from '${pkg}' (only named imports can be checked)`);
      continue;
    }
    for (const part of named[1]!.split(',')) {
      const n = part.trim();
      if (n && !n.startsWith('type ')) names.push(n.split(/\s+as\s+/)[0]!);
    }
  }
  return { names, problems };
}

describe('bundle: lazy packages built with only the exports the app takes', () => {
  const files = APP_DIRS.flatMap((d) => tsFiles(join(ROOT, d)));

  it.each(Object.entries(LAZY_EXPORTS))('%s: every name the app takes from it is exported', (name, exported) => {
    const pkg = LAZY_PACKAGES[name];
    expect(pkg).toBeDefined();
    const missing: string[] = [];
    const problems: string[] = [];
    let uses = 0;
    for (const file of files) {
      const found = usesOf(readFileSync(file, 'utf8'), pkg!);
      uses += found.names.length;
      for (const n of found.names) if (!exported.includes(n)) missing.push(`${file.slice(ROOT.length + 1)}: ${n}`);
      problems.push(...found.problems.map((p) => `${file.slice(ROOT.length + 1)}: ${p}`));
    }
    expect(problems).toEqual([]);
    expect(missing).toEqual([]);
    // The app does use it (else the entry is stale and should go).
    expect(uses).toBeGreaterThan(0);
  });

  it('reads the forms the check relies on', () => {
    expect(usesOf(`const { CosmosClient, Foo: f } = require('@azure/cosmos') as X;`, '@azure/cosmos').names).toEqual(['CosmosClient', 'Foo']);
    expect(usesOf(`const C = require('@azure/cosmos').Bar;`, '@azure/cosmos').names).toEqual(['Bar']);
    expect(usesOf(`const sdk = require('@azure/cosmos');`, '@azure/cosmos').problems).toHaveLength(1);
    expect(usesOf(`import { type A, B as C } from '@azure/cosmos';\nimport type { D } from '@azure/cosmos';`, '@azure/cosmos').names).toEqual(['B']);
    expect(usesOf(`import * as sdk from '@azure/cosmos';`, '@azure/cosmos').problems).toHaveLength(1);
  });
});
