import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../../scripts/cli';
import { main } from '../../../scripts/risk';
import { riskModelSchema } from '../../../domain/risk';
import { generateHistory, toNdjson } from '../../../testkit/risk-history';

function capture(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: { write: (s: string) => (out += s) },
    err: { write: (s: string) => (err += s) },
  };
  return { io, out: () => out, err: () => err };
}

describe('npm run risk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'risk-cli-'));
  const { rows } = generateHistory({ appointments: 6000, seed: 5 });
  const history = join(dir, 'history.ndjson');
  writeFileSync(history, toNdjson(rows));
  const modelFile = join(dir, 'model.json');
  const trainedAt = ['--trained-at', '2026-06-01T00:00:00Z'];

  test('train writes a model and prints AUC, Brier and the decile table of the later part', async () => {
    const c = capture();
    expect(await main(['train', history, '--out', modelFile, ...trainedAt], c.io)).toBe(0);
    const model = riskModelSchema.parse(JSON.parse(readFileSync(modelFile, 'utf8')));
    expect(model.kind).toBe('logistic');
    expect(c.out()).toMatch(/AUC 0\.\d{3}/);
    expect(c.out()).toMatch(/Brier 0\.\d{4}/);
    expect(c.out().match(/^\s+\d+\s+[\d,]+\s+[\d.]+ %\s+[\d.]+ %/gm)).toHaveLength(10);
    expect(c.out()).toMatch(/by band:/);
  });

  test('without --out the model goes to stdout and the report to stderr', async () => {
    const c = capture();
    expect(await main(['train', history, ...trainedAt], c.io)).toBe(0);
    expect(riskModelSchema.parse(JSON.parse(c.out())).kind).toBe('logistic');
    expect(c.err()).toMatch(/AUC/);
  });

  test('evaluate scores the visits after the training period, as train reported', async () => {
    const c = capture();
    expect(await main(['evaluate', modelFile, history, '--json'], c.io)).toBe(0);
    const metrics = JSON.parse(c.out());
    const model = riskModelSchema.parse(JSON.parse(readFileSync(modelFile, 'utf8')));
    expect(metrics.n).toBe(model.metrics!.n);
    expect(metrics.auc).toBeCloseTo(model.metrics!.auc!, 10);
    const all = capture();
    expect(await main(['evaluate', modelFile, history, '--all', '--json'], all.io)).toBe(0);
    expect(JSON.parse(all.out()).n).toBeGreaterThan(metrics.n);
  });

  test('a small history trains the clinic-wide fallback, and says so', async () => {
    const small = join(dir, 'small.ndjson');
    writeFileSync(small, toNdjson(rows.slice(0, 200)));
    const c = capture();
    expect(await main(['train', small, '--out', join(dir, 'small.json'), ...trainedAt], c.io)).toBe(0);
    expect(c.out()).toMatch(/clinic-wide rate/);
    expect(c.out()).toMatch(/too little history/);
  });

  test.each([
    ['a malformed line', (t: string) => t.replace(/\n/, '\n{"appointmentId": \n'), /line 2: \(line\): not valid JSON/],
    ['an unknown status', (t: string) => t.replace(/"status":"\w+"/, '"status":"arrived"'), /line 1: status: unknown status/],
    ['start before createdAt', (t: string) => t.replace(/"createdAt":"[^"]+"/, '"createdAt":"2099-01-01T00:00:00Z"'), /line 1: start: is before createdAt/],
    ['no rows', () => '\n', /no rows/],
  ])('%s: exit 2, naming line and field', async (_label, corrupt, message) => {
    const file = join(dir, 'bad.ndjson');
    writeFileSync(file, corrupt(readFileSync(history, 'utf8')));
    const c = capture();
    expect(await main(['train', file], c.io)).toBe(2);
    expect(c.err()).toMatch(message);
    expect(c.out()).toBe('');
  });

  test('several clinics need --clinic; a bad model file is exit 2 naming the field', async () => {
    const mixed = join(dir, 'mixed.ndjson');
    writeFileSync(mixed, toNdjson([...rows.slice(0, 10), { ...rows[10]!, clinicId: 'other' }]));
    const c = capture();
    expect(await main(['train', mixed], c.io)).toBe(2);
    expect(c.err()).toMatch(/2 clinics.*--clinic/);
    const badModel = join(dir, 'bad-model.json');
    writeFileSync(badModel, JSON.stringify({ schema: 'slotflow.no-show-risk.v1', kind: 'logistic' }));
    const m = capture();
    expect(await main(['evaluate', badModel, history], m.io)).toBe(2);
    expect(m.err()).toMatch(/not a no-show model\n\s+modelVersion:/);
  });

  test('usage errors exit 64', async () => {
    for (const argv of [[], ['fit'], ['train'], ['evaluate', modelFile], ['train', history, '--test-fraction', '2']]) {
      const c = capture();
      expect(await main(argv, c.io)).toBe(64);
      expect(c.err()).toMatch(/usage: npm run risk/);
    }
  });
});
