import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * @zeit/cosmosdb-query 0.7.2 (the query engine of @vercel/cosmosdb-server 1.0.1) compiles
 * `FROM c` (and JOINs, `FROM c IN c.items`) into
 *
 *   $c.reduce(($, c) => typeof c !== "undefined" ? [...$, { c: c }] : $, [])
 *
 * which copies the accumulated array for every document: a query over n documents costs O(n²)
 * (about 0.6 s at 10,000 documents, 50 s at 50,000). This patch rewrites, in the JavaScript AST the
 * compiler produces, every `[...$, e1, e2]` that is the result of a `.reduce(($, x) => ..., [])`
 * callback into `($.push(e1, e2), $)`. The accumulator starts as a fresh `[]` literal on every
 * execution and nothing else holds it, so pushing in place gives the same array, element for
 * element: same results, same order, linear time. Everything else in the generated code is left
 * alone. Applied to the copy of the package the server resolves, once; checked by
 * assertLinearFromInternals and test/integration/local-cosmos-canary.test.ts.
 */

export const PINNED_QUERY_VERSION = '0.7.2';

interface Node {
  type: string;
  [key: string]: unknown;
}
const PATCHED = Symbol.for('slotflow.cosmosdb-query.linear-from');

type Transformer = ((ast: unknown) => Node) & { [PATCHED]?: (ast: unknown) => Node };

function queryPackageDir(): string {
  // The copy @vercel/cosmosdb-server itself resolves.
  const serverDir = dirname(require.resolve('@vercel/cosmosdb-server/package.json'));
  return dirname(require.resolve('@zeit/cosmosdb-query/package.json', { paths: [serverDir] }));
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(path: string): T => require(`${queryPackageDir()}/${path}`) as T;

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';
const isAcc = (v: unknown) => isNode(v) && v.type === 'Identifier' && v.name === '$';

/** `[...$, a, b]` -> `($.push(a, b), $)`; anything else unchanged. */
function pushInstead(body: unknown): Node | undefined {
  if (!isNode(body) || body.type !== 'ArrayExpression') return undefined;
  const elements = body.elements as unknown[];
  const first = elements[0];
  if (!isNode(first) || first.type !== 'SpreadElement' || !isAcc(first.argument)) return undefined;
  if (elements.slice(1).some((e) => !isNode(e))) return undefined; // holes: leave as is
  const acc = (): Node => ({ type: 'Identifier', name: '$' });
  return {
    type: 'SequenceExpression',
    expressions: [
      {
        type: 'CallExpression',
        callee: { type: 'MemberExpression', object: acc(), property: { type: 'Identifier', name: 'push' }, computed: false },
        arguments: elements.slice(1),
      },
      acc(),
    ],
  };
}

/** Rewrites the reduce callbacks of `X.reduce(($, ...) => ..., [])` in place; returns how many. */
export function linearizeReduces(root: Node): number {
  let rewritten = 0;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (!isNode(node)) return;
    if (node.type === 'CallExpression') {
      const callee = node.callee as Node;
      const args = node.arguments as unknown[];
      const [fn, init] = args;
      if (
        isNode(callee) &&
        callee.type === 'MemberExpression' &&
        !callee.computed &&
        isNode(callee.property) &&
        callee.property.name === 'reduce' &&
        args.length === 2 &&
        isNode(init) &&
        init.type === 'ArrayExpression' &&
        (init.elements as unknown[]).length === 0 &&
        isNode(fn) &&
        fn.type === 'ArrowFunctionExpression' &&
        isAcc((fn.params as unknown[])[0])
      ) {
        const body = fn.body as Node;
        const direct = pushInstead(body);
        if (direct) {
          fn.body = direct;
          rewritten++;
        } else if (isNode(body) && body.type === 'ConditionalExpression' && isAcc(body.alternate)) {
          const consequent = pushInstead(body.consequent);
          if (consequent) {
            body.consequent = consequent;
            rewritten++;
          }
        }
      }
    }
    for (const key of Object.keys(node)) {
      if (key === 'type' || key === 'loc' || key === 'start' || key === 'end') continue;
      visit(node[key]);
    }
  };
  visit(root);
  return rewritten;
}

/** Throws, naming what changed, unless the query engine is the pinned version this was written for. */
export function assertLinearFromInternals(): void {
  const problems: string[] = [];
  const version = load<{ version: string }>('package.json').version;
  if (version !== PINNED_QUERY_VERSION) problems.push(`@zeit/cosmosdb-query is ${version}, the patch was written for ${PINNED_QUERY_VERSION}`);
  const transformer = load<{ default?: Transformer }>('lib/transformer');
  if (typeof transformer.default !== 'function') problems.push('lib/transformer has no default export function');
  // The Query class must read transformer_1.default(this.ast) each time it generates code.
  const source = readFileSync(`${queryPackageDir()}/lib/index.js`, 'utf8');
  if (!source.includes('transformer_1.default(this.ast)')) problems.push('lib/index.js no longer generates code from transformer_1.default(this.ast)');
  if (problems.length) throw new Error(`@zeit/cosmosdb-query internals changed; local/host/cosmos-linear-from.ts needs a review:\n- ${problems.join('\n- ')}`);
}

/** Installs the rewrite (idempotent). Queries compiled before this keep their quadratic code. */
export function installLinearFrom(): void {
  const mod = load<{ default: Transformer }>('lib/transformer');
  if (mod.default[PATCHED]) return;
  assertLinearFromInternals();
  const original = mod.default;
  const patched: Transformer = (ast) => {
    const js = original(ast);
    linearizeReduces(js);
    return js;
  };
  patched[PATCHED] = original;
  mod.default = patched;
}

/** The code the unpatched compiler generates for `sql` (for tests that compare the two). */
export function originalQueryCode(sql: string): string {
  const transformer = load<{ default: Transformer }>('lib/transformer').default;
  const original = transformer[PATCHED] ?? transformer;
  const parser = load<{ parse(s: string): unknown }>('lib/parser');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const generate = (require(require.resolve('@babel/generator', { paths: [queryPackageDir()] })) as { default: (ast: unknown) => { code: string } }).default;
  return generate(original(parser.parse(sql.trim()))).code;
}
