/* eslint-disable @typescript-eslint/no-require-imports -- runs the query engine's own executor */
import { dirname } from 'node:path';
import { installLinearFrom, linearizeReduces, originalQueryCode } from '../../../local/host/cosmos-linear-from';

/**
 * cosmos-linear-from.ts rewrites the query engine's quadratic FROM/JOIN accumulation into pushes.
 * Differential test: for a corpus of query shapes the server supports, the rewritten code returns
 * exactly what the original code returns (items, order, pages, continuation tokens, errors).
 */

const queryDir = dirname(require.resolve('@zeit/cosmosdb-query/package.json', { paths: [dirname(require.resolve('@vercel/cosmosdb-server/package.json'))] }));
const compile = require(`${queryDir}/lib/index`).default as (sql: string) => { code: string };
const execute = require(`${queryDir}/lib/executor`).default as (coll: unknown[], o: object) => { result: unknown[]; continuation: { token: string } | null };

beforeAll(() => installLinearFrom());

/** Deterministic documents with nested arrays, missing fields and shared sort values. */
function documents(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < 180; i++) {
    const d: Record<string, unknown> = {
      id: `d${i}`,
      _rid: `rid${String((i * 37) % 180).padStart(4, '0')}`,
      pk: `p${i % 6}`,
      n: (i * 13) % 17,
      name: `n${i % 9}`,
    };
    if (i % 4) d.tags = Array.from({ length: i % 5 }, (_, k) => (k % 2 ? 'vip' : `t${(i + k) % 3}`));
    if (i % 3 === 0)
      d.children = Array.from({ length: i % 4 }, (_, k) => ({ name: `c${k}`, pets: Array.from({ length: k }, (_, j) => ({ kind: j ? 'cat' : 'dog' })) }));
    if (i % 7 === 0) delete d.n;
    out.push(d);
  }
  return out;
}

const QUERIES: [string, { name: string; value: unknown }[]?][] = [
  ['SELECT * FROM c'],
  ['SELECT * FROM root r WHERE r.n > 5'],
  ['SELECT c.id FROM c WHERE c.pk = @pk', [{ name: '@pk', value: 'p2' }]],
  ['SELECT * FROM c ORDER BY c.n DESC'],
  ['SELECT TOP 7 c.id, c.n FROM c ORDER BY c.n'],
  ['SELECT VALUE COUNT(1) FROM c WHERE c.n >= 3'],
  ['SELECT VALUE SUM(c.n) FROM c'],
  ['SELECT c.id, t FROM c JOIN t IN c.tags'],
  ['SELECT c.id, t FROM c JOIN t IN c.tags WHERE t = "vip" ORDER BY c.n'],
  ['SELECT c.id, ch.name, p.kind FROM c JOIN ch IN c.children JOIN p IN ch.pets'],
  ['SELECT * FROM c IN c.tags'],
  ['SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.tags, "vip")'],
  ['SELECT VALUE c.id FROM c WHERE EXISTS(SELECT VALUE t FROM t IN c.tags WHERE t = "t1")'],
  ['SELECT c.id, ARRAY(SELECT VALUE ch.name FROM ch IN c.children) AS names FROM c WHERE IS_DEFINED(c.children)'],
  ['SELECT VALUE COUNT(1) FROM c JOIN t IN c.tags'],
];

function run(code: string, coll: unknown[], parameters: { name: string; value: unknown }[] | undefined, maxItemCount?: number) {
  const pages: { result: unknown[]; token: string | null }[] = [];
  let continuation: { token: string } | null = null;
  do {
    const r = execute(coll, { code, parameters, maxItemCount, continuation });
    pages.push({ result: r.result, token: r.continuation?.token ?? null });
    continuation = r.continuation;
  } while (continuation && pages.length < 500);
  return pages;
}

it.each(QUERIES.map(([sql, parameters]) => ({ sql, parameters })))(
  '$sql: same answers as the original compiled code, without the quadratic spread',
  ({ sql, parameters }) => {
    const before = originalQueryCode(sql);
    const after = compile(sql).code;
    expect(before).toMatch(/\[\.\.\.\$, /);
    expect(after).not.toMatch(/\[\.\.\.\$, /);
    const coll = documents();
    for (const maxItemCount of [undefined, 7]) {
      const outcome = (code: string) => {
        try {
          return run(code, coll, parameters, maxItemCount);
        } catch (e) {
          return `error: ${(e as Error).message}`;
        }
      };
      const expected = outcome(before);
      // Something to compare: results, or the engine's own error (e.g. paging `FROM c IN c.tags`).
      if (typeof expected !== 'string') expect(expected.flatMap((p) => p.result).length).toBeGreaterThan(0);
      expect(outcome(after)).toEqual(expected);
    }
  },
);

it('leaves other reduces alone (a non-empty initial value, or a body that is not [...$, ...])', () => {
  const id = (name: string) => ({ type: 'Identifier', name });
  const reduce = (body: object, init: object) => ({
    type: 'CallExpression',
    callee: { type: 'MemberExpression', object: id('xs'), property: id('reduce'), computed: false },
    arguments: [{ type: 'ArrowFunctionExpression', params: [id('$'), id('x')], body }, init],
  });
  const spread = { type: 'ArrayExpression', elements: [{ type: 'SpreadElement', argument: id('$') }, id('x')] };
  expect(linearizeReduces(reduce(spread, { type: 'ArrayExpression', elements: [id('shared')] }) as never)).toBe(0);
  expect(
    linearizeReduces(
      reduce(
        { type: 'ArrayExpression', elements: [id('x'), { type: 'SpreadElement', argument: id('$') }] },
        { type: 'ArrayExpression', elements: [] },
      ) as never,
    ),
  ).toBe(0);
  expect(linearizeReduces(reduce(spread, { type: 'ArrayExpression', elements: [] }) as never)).toBe(1);
});
