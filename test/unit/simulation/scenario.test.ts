import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultParallel, main } from '../../../scripts/simulate';
import { parseScenario, ScenarioError } from '../../../simulation/scenario';

/** Bad scenarios: a clear error naming the field, exit 2, nothing runs (scripts/simulate.ts, simulation/scenario.ts). */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- scenario documents are mutated freely to break them
type Doc = any;

const repo = join(__dirname, '../../..');
const calibrated = (): Doc => JSON.parse(readFileSync(join(repo, 'bench/scenarios/calibrated.json'), 'utf8'));

function problemsOf(doc: unknown): string[] {
  try {
    parseScenario(doc);
  } catch (e) {
    if (e instanceof ScenarioError) return e.problems;
    throw e;
  }
  return [];
}

describe('scenario validation', () => {
  it('accepts the shipped scenarios', () => {
    expect(problemsOf(calibrated())).toEqual([]);
    expect(problemsOf(JSON.parse(readFileSync(join(repo, 'bench/scenarios/small.json'), 'utf8')))).toEqual([]);
  });

  it.each([
    ['an unknown field', (s: Doc) => (s.clinics[0].demand.walkIns = 3), 'clinics[0].demand.walkIns: unknown field'],
    ['a negative rate', (s: Doc) => (s.clinics[0].demand.requestsPerProviderDay = -1), 'clinics[0].demand.requestsPerProviderDay: must not be negative'],
    ['a probability above 1', (s: Doc) => (s.behaviour.offer.acceptance = 1.5), 'behaviour.offer.acceptance: must be a probability between 0 and 1'],
    [
      'a probability below 0',
      (s: Doc) => (s.behaviour.cancellation.lateShare = -0.1),
      'behaviour.cancellation.lateShare: must be a probability between 0 and 1',
    ],
    [
      'an unknown zone',
      (s: Doc) => (s.clinics[0].timeZone = 'Mars/Olympus_Mons'),
      'clinics[0].timeZone: must be a known IANA time zone such as America/New_York',
    ],
    [
      'an empty clinic',
      (s: Doc) => (s.clinics[0].providers = []),
      'clinics[0].providers: a clinic needs at least one provider group (an empty clinic has nothing to simulate)',
    ],
    ['a bad offer policy', (s: Doc) => (s.policies.slotflow.offerPolicy.batchSize = 0), 'policies.slotflow.offerPolicy.batchSize'],
    [
      'a provider offering an unknown type',
      (s: Doc) => (s.clinics[0].providers[0].appointmentTypes = ['visit', 'surgery']),
      'clinics[0].providers[0].appointmentTypes[1]: unknown appointment type surgery',
    ],
  ])('names the field for %s', (_what, mutate, expected) => {
    const doc = calibrated();
    mutate(doc);
    const problems = problemsOf(doc);
    expect(problems.some((p) => p.startsWith(expected))).toBe(true);
  });
});

describe('npm run simulate with a bad scenario', () => {
  it('exits 2 with the field named on stderr and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    const file = join(dir, 'bad.json');
    const doc = calibrated();
    doc.clinics[0].timeZone = 'Nowhere/Special';
    doc.behaviour.offer.neverReply = 2;
    writeFileSync(file, JSON.stringify(doc));
    const out: string[] = [];
    const err: string[] = [];
    const report = join(dir, 'report.json');
    const code = await main([file, '--out', report], { out: { write: (t: string) => out.push(t) }, err: { write: (t: string) => err.push(t) } });
    expect(code).toBe(2);
    expect(err.join('')).toContain('clinics[0].timeZone');
    expect(err.join('')).toContain('behaviour.offer.neverReply');
    expect(out.join('')).toBe('');
    expect(existsSync(report)).toBe(false);
  });

  it('exits 64 on a usage error', async () => {
    const err: string[] = [];
    const code = await main(['--seed', 'x'], { out: { write: () => undefined }, err: { write: (t: string) => err.push(t) } });
    expect(code).toBe(64);
    expect(err.join('')).toContain('usage:');
  });

  it('exits 64 on a worker heap below 16 MB, and runs two policies at a time by default on two cores or more', async () => {
    const err: string[] = [];
    const code = await main([join(__dirname, '../../../bench/scenarios/small.json'), '--worker-heap-mb', '4'], {
      out: { write: () => undefined },
      err: { write: (t: string) => err.push(t) },
    });
    expect(code).toBe(64);
    expect(err.join('')).toContain('--worker-heap-mb must be an integer from 16');
    expect([defaultParallel(1), defaultParallel(2), defaultParallel(8)]).toEqual([1, 2, 2]);
  });

  it('exits 3, naming the policy, when a policy runs out of its worker heap, and writes no report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-'));
    const report = join(dir, 'report.json');
    const err: string[] = [];
    const args = [join(__dirname, '../../../bench/scenarios/small.json'), '--parallel', '2', '--worker-heap-mb', '16', '--out', report];
    const code = await main(args, { out: { write: () => undefined }, err: { write: (t: string) => err.push(t) } });
    expect(code).toBe(3);
    expect(err.join('')).toMatch(/simulate: the \w+ policy ran out of its worker heap of 16 MB: raise --worker-heap-mb or run with --parallel 1/);
    expect(existsSync(report)).toBe(false);
  });
});
