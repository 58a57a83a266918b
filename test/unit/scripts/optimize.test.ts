import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../../scripts/cli';
import { main, EXAMPLE_INSTANCE } from '../../../scripts/optimize';
import { parseInstance } from '../../../domain/optimizer';

function capture(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: { write: (s: string) => (out += s) },
    err: { write: (s: string) => (err += s) },
  };
  return { io, out: () => out, err: () => err };
}

describe('npm run optimize', () => {
  const dir = mkdtempSync(join(tmpdir(), 'optimize-cli-'));

  test('--example prints a valid instance', async () => {
    const c = capture();
    expect(await main(['--example'], c.io)).toBe(0);
    expect(() => parseInstance(JSON.parse(c.out()))).not.toThrow();
    expect(JSON.parse(c.out())).toEqual(EXAMPLE_INSTANCE);
  });

  test('solves an instance file and prints the result as JSON (greedy, no solver needed)', async () => {
    const file = join(dir, 'example.json');
    writeFileSync(file, JSON.stringify(EXAMPLE_INSTANCE));
    const c = capture();
    expect(await main([file, '--greedy', '--compact'], c.io)).toBe(0);
    const result = JSON.parse(c.out());
    expect(result).toMatchObject({ method: 'greedy', status: 'greedy-fallback', mustPlace: { total: 1, placed: 1 } });
    expect(result.assignments.length).toBe(3);
    expect(typeof result.objective).toBe('number');
    expect(typeof result.solveMs).toBe('number');
  });

  test('invalid instances: exit 2 and every bad field named', async () => {
    const file = join(dir, 'bad.json');
    const bad = structuredClone(EXAMPLE_INSTANCE) as { slots: { start: string }[]; candidates: { urgency: unknown }[] };
    bad.slots[1]!.start = '2026-12-07 14:00';
    bad.candidates[2]!.urgency = 'asap';
    writeFileSync(file, JSON.stringify(bad));
    const c = capture();
    expect(await main([file], c.io)).toBe(2);
    expect(c.err()).toMatch(/slots\[1\]\.start: must be an ISO 8601 date-time with an offset/);
    expect(c.err()).toMatch(/candidates\[2\]\.urgency: must be a number from 0 to 10/);
    expect(c.out()).toBe('');
  });

  test('unreadable or non-JSON input: exit 2; usage errors: exit 64', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ not json');
    const c = capture();
    expect(await main([file], c.io)).toBe(2);
    expect(c.err()).toMatch(/cannot read .*broken\.json/);
    expect(await main([], capture().io)).toBe(64);
    expect(await main(['x.json', '--time-limit-ms', 'soon'], capture().io)).toBe(64);
  });
});
