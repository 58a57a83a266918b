/**
 * The CI security checks (.ci/security.cjs): the licence rule reads SPDX expressions correctly, the secret
 * scanner catches a planted fake secret (built at run time, so the tree itself stays clean), and the tree as
 * committed passes the licence check.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS CI script
const security = require(join(ROOT, '.ci', 'security.cjs')) as { allowed(expression: string, extra?: Set<string>): boolean; licences(): boolean };

test('SPDX expressions: OR needs one allowed side, AND needs both, parentheses group', () => {
  expect(security.allowed('MIT')).toBe(true);
  expect(security.allowed('GPL-3.0')).toBe(false);
  expect(security.allowed('(MIT OR GPL-3.0)')).toBe(true);
  expect(security.allowed('(MIT AND GPL-3.0)')).toBe(false);
  expect(security.allowed('(MIT AND Zlib)')).toBe(true);
  expect(security.allowed('Artistic-2.0')).toBe(false);
  expect(security.allowed('Artistic-2.0', new Set(['Artistic-2.0']))).toBe(true);
  expect(security.allowed('(EDL-1.0 OR (MIT AND CC-BY-4.0))')).toBe(false);
});

test('the installed dependencies pass the licence check', () => {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    expect(security.licences()).toBe(true);
  } finally {
    log.mockRestore();
  }
});

test('secretlint catches a planted fake token, and passes the same file without it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secretlint-'));
  try {
    const file = join(dir, 'settings.js');
    // A GitHub token shape, assembled here so no committed file contains one.
    const fake = ['gh', 'p_', 'wWPw5k4aXcaT4fNP0U', 'cnZwJUVFk6LO0pINUx'].join('');
    writeFileSync(file, `module.exports = { token: "${fake}" };\n`);
    const run = () =>
      spawnSync(join(ROOT, 'node_modules', '.bin', 'secretlint'), [file, '--secretlintignore', join(ROOT, '.secretlintignore')], {
        cwd: ROOT,
        encoding: 'utf8',
      });
    const found = run();
    expect(found.status).not.toBe(0);
    expect(found.stdout).toContain('GITHUB_TOKEN');
    expect(found.stdout).not.toContain(fake); // the report masks the secret
    writeFileSync(file, 'module.exports = { token: process.env.TOKEN };\n');
    expect(run().status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
