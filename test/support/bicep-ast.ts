/**
 * Bicep syntax trees for the deployment checks. The bicep CLI cannot be installed here, so the
 * templates are parsed with the tree-sitter-bicep grammar (wasm) through web-tree-sitter, and the
 * checks in bicep-policy.ts walk those trees. This is a syntax check, not a type check:
 * `az bicep build` / `az bicep lint` must still run where the CLI is available.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';

export type { Node };

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const BICEP_DIR = path.join(REPO_ROOT, 'bicep');

export interface BicepFile {
  /** Path relative to the repository root (or a label for inline snippets). */
  readonly name: string;
  readonly source: string;
  readonly tree: Tree;
  readonly root: Node;
}

let parserPromise: Promise<Parser> | undefined;

/** One parser per process: loading the wasm grammar costs about 100 ms. */
export function bicepParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    const grammarDir = path.dirname(require.resolve('tree-sitter-bicep/package.json'));
    // Bytes, not a path: loading by path uses a dynamic import() that Jest's CommonJS runtime rejects.
    const language = await Language.load(readFileSync(path.join(grammarDir, 'tree-sitter-bicep.wasm')));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

export async function parseBicep(source: string, name = '<inline>'): Promise<BicepFile> {
  const parser = await bicepParser();
  const tree = parser.parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${name}`);
  return { name, source, tree, root: tree.rootNode };
}

/** Every .bicep file under bicep/ (recursively), in a stable order. */
export function bicepFilePaths(dir = BICEP_DIR): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...bicepFilePaths(full));
    else if (entry.name.endsWith('.bicep')) found.push(full);
  }
  return found.sort();
}

export async function loadBicepFiles(dir = BICEP_DIR): Promise<BicepFile[]> {
  return Promise.all(bicepFilePaths(dir).map((full) => parseBicep(readFileSync(full, 'utf8'), path.relative(REPO_ROOT, full))));
}

export interface SyntaxProblem {
  readonly line: number;
  readonly column: number;
  readonly kind: 'ERROR' | 'MISSING';
  readonly text: string;
}

/** ERROR and MISSING nodes anywhere in the tree (MISSING nodes can be anonymous tokens). */
export function syntaxProblems(file: BicepFile): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) {
      problems.push({
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        kind: node.isError ? 'ERROR' : 'MISSING',
        text: node.isMissing ? node.type : node.text.slice(0, 80),
      });
    }
    if (node.hasError || node.isMissing) for (const child of node.children) if (child) visit(child);
  };
  visit(file.root);
  // hasError is set on ancestors only; a MISSING leaf under an error-free parent still shows through isMissing.
  if (problems.length === 0 && file.root.hasError) problems.push({ line: 1, column: 1, kind: 'ERROR', text: 'tree has errors' });
  return problems;
}

export function lineOf(node: Node): number {
  return node.startPosition.row + 1;
}

export function namedChildren(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

const ESCAPES: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };

/** A string node's text when it has no interpolation; undefined otherwise. */
export function stringLiteral(node: Node | undefined): string | undefined {
  if (!node || node.type !== 'string') return undefined;
  let value = '';
  for (const part of namedChildren(node)) {
    if (part.type === 'string_content') value += part.text;
    else if (part.type === 'escape_sequence') value += ESCAPES[part.text] ?? part.text;
    else return undefined;
  }
  return value;
}

/** The leading literal text of a (possibly interpolated) string, e.g. `@Microsoft.KeyVault(SecretUri=`. */
export function stringPrefix(node: Node): string {
  let value = '';
  for (const part of namedChildren(node)) {
    if (part.type === 'string_content') value += part.text;
    else if (part.type === 'escape_sequence') value += ESCAPES[part.text] ?? part.text;
    else break;
  }
  return value;
}

export type Literal = string | number | boolean | null;

/** Statically known value of a literal node (string without interpolation, number, bool, null). */
export function literalValue(node: Node | undefined): { known: true; value: Literal } | { known: false } {
  if (!node) return { known: false };
  switch (node.type) {
    case 'boolean':
      return { known: true, value: node.text === 'true' };
    case 'number':
      return { known: true, value: Number(node.text) };
    case 'null':
      return { known: true, value: null };
    case 'string': {
      const text = stringLiteral(node);
      return text === undefined ? { known: false } : { known: true, value: text };
    }
    default:
      return { known: false };
  }
}

/** The key of an object property as written (identifier or string literal). */
export function propertyKey(property: Node): string | undefined {
  const key = namedChildren(property)[0];
  if (!key || key.type === 'resource_declaration') return undefined;
  if (key.type === 'string') return stringLiteral(key) ?? key.text;
  return key.text;
}

/** Properties of an object node, key → value node (nested resource declarations are skipped). */
export function objectProperties(object: Node | undefined): Map<string, Node> {
  const result = new Map<string, Node>();
  if (!object || object.type !== 'object') return result;
  for (const property of namedChildren(object)) {
    if (property.type !== 'object_property') continue;
    const key = propertyKey(property);
    const value = namedChildren(property)[1];
    if (key !== undefined && value) result.set(key, value);
  }
  return result;
}

/** Value at a dotted path inside an object node, e.g. `properties.siteConfig.minTlsVersion`. */
export function valueAt(object: Node | undefined, dottedPath: string): Node | undefined {
  let current: Node | undefined = object;
  for (const segment of dottedPath.split('.')) {
    current = objectProperties(current).get(segment);
    if (!current) return undefined;
  }
  return current;
}

/** The object a declaration assigns, seen through `if (...)` and `[for ...: ...]`. */
export function declarationBody(value: Node | undefined): Node | undefined {
  if (!value) return undefined;
  if (value.type === 'object') return value;
  if (value.type === 'if_statement') return declarationBody(namedChildren(value).at(-1));
  if (value.type === 'for_statement') return declarationBody(value.childForFieldName('body') ?? undefined);
  return undefined;
}

export interface ResourceDeclaration {
  readonly file: BicepFile;
  readonly node: Node;
  readonly symbol: string;
  /** Full resource type, nested declarations resolved against their parent, e.g. `Microsoft.Storage/storageAccounts/blobServices`. */
  readonly type: string;
  readonly apiVersion: string | undefined;
  readonly existing: boolean;
  readonly body: Node | undefined;
  readonly line: number;
}

function readResource(file: BicepFile, node: Node, parentType: string | undefined): ResourceDeclaration {
  const [symbol, typeNode, ...rest] = namedChildren(node);
  const typeText = stringLiteral(typeNode) ?? '';
  const [declaredType = '', apiVersion] = typeText.split('@');
  const type = parentType && !declaredType.includes('/') ? `${parentType}/${declaredType}` : declaredType;
  const existing = node.children.some((c) => c?.type === 'existing');
  return {
    file,
    node,
    symbol: symbol?.text ?? '',
    type,
    apiVersion,
    existing,
    body: declarationBody(rest.at(-1)),
    line: lineOf(node),
  };
}

/** Every resource declaration in a file, including nested child resources. */
export function resourceDeclarations(file: BicepFile): ResourceDeclaration[] {
  const found: ResourceDeclaration[] = [];
  const visit = (node: Node, parentType: string | undefined): void => {
    for (const child of namedChildren(node)) {
      if (child.type === 'resource_declaration') {
        const resource = readResource(file, child, parentType);
        found.push(resource);
        visit(child, resource.type);
      } else {
        visit(child, parentType);
      }
    }
  };
  visit(file.root, undefined);
  return found;
}

export interface ParameterDeclaration {
  readonly name: string;
  readonly line: number;
  readonly decorators: Map<string, Node[]>;
  readonly defaultValue: Node | undefined;
}

/** Decorators written just above a declaration (`@description('...')` → `description` → its arguments). */
export function decoratorsOf(declaration: Node): Map<string, Node[]> {
  const result = new Map<string, Node[]>();
  const previous = declaration.previousNamedSibling;
  if (!previous || previous.type !== 'decorators') return result;
  for (const decorator of namedChildren(previous)) {
    const call = namedChildren(decorator)[0];
    if (!call || call.type !== 'call_expression') continue;
    const fn = call.childForFieldName('function');
    const name = fn?.text.replace(/^sys\./, '') ?? '';
    const args = call.childForFieldName('arguments');
    result.set(name, args ? namedChildren(args) : []);
  }
  return result;
}

export function parameterDeclarations(file: BicepFile): ParameterDeclaration[] {
  return namedChildren(file.root)
    .filter((n) => n.type === 'parameter_declaration')
    .map((node) => {
      const [nameNode, typeNode, defaultValue] = namedChildren(node);
      return {
        name: nameNode?.text ?? '',
        line: lineOf(node),
        decorators: decoratorsOf(node),
        defaultValue: typeNode && defaultValue ? defaultValue : undefined,
      };
    });
}

/** Top-level `var` declarations, name → value node. */
export function variableDeclarations(file: BicepFile): Map<string, Node> {
  const vars = new Map<string, Node>();
  for (const node of namedChildren(file.root)) {
    if (node.type !== 'variable_declaration') continue;
    const [nameNode, value] = namedChildren(node);
    if (nameNode && value) vars.set(nameNode.text, value);
  }
  return vars;
}

/** All descendants (named) of a node, depth first. */
export function descendants(node: Node): Node[] {
  const out: Node[] = [];
  const visit = (n: Node): void => {
    for (const child of namedChildren(n)) {
      out.push(child);
      visit(child);
    }
  };
  visit(node);
  return out;
}
