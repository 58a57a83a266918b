/**
 * The Service Bus topology as bicep/modules/servicebus.bicep declares it, evaluated from the syntax
 * tree far enough to compare with the local broker's topology (functions/adapters/servicebus/topology.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Topology } from '../../functions/adapters/servicebus/topology';
import {
  type BicepFile,
  REPO_ROOT,
  literalValue,
  namedChildren,
  objectProperties,
  parameterDeclarations,
  resourceDeclarations,
  stringLiteral,
  valueAt,
  variableDeclarations,
} from './bicep-ast';

/** Expands `${name}` interpolations of string variables (one level of vars referring to vars is enough here). */
function evaluateString(file: BicepFile, text: string): string {
  const vars = variableDeclarations(file);
  const params = new Map(parameterDeclarations(file).map((p) => [p.name, p.defaultValue]));
  const valueOf = (name: string, depth: number): string => {
    const node = vars.get(name) ?? params.get(name);
    if (!node || node.type !== 'string' || depth > 5) throw new Error(`cannot evaluate \${${name}}`);
    return expand(node.text.slice(1, -1), depth + 1);
  };
  const expand = (raw: string, depth: number): string => raw.replace(/\$\{(\w+)\}/g, (_m, name: string) => valueOf(name, depth)).replace(/\\'/g, "'");
  return expand(text.slice(1, -1), 0);
}

export interface BicepSubscription {
  readonly name: string;
  readonly sqlFilter: string;
}

/**
 * What bicep/servicebus-topology.json holds: the names and filters of the one topology
 * (functions/adapters/servicebus/topology.ts), which servicebus.bicep and alerts.bicep load with
 * loadJsonContent. Delivery settings stay bicep parameters (compared by servicebus-drift.test.ts).
 */
export interface BicepTopologyJson {
  readonly topic: string;
  readonly subscriptions: readonly BicepSubscription[];
  readonly queues: readonly { readonly name: string }[];
}

export const TOPOLOGY_JSON = 'bicep/servicebus-topology.json';

/** `type IN (...)` -> `user.type IN (...)`: names the application property explicitly for Azure. */
function azureSqlFilter(sql: string): string {
  return sql.replace(/^(\w+) /, 'user.$1 ');
}

/** The JSON rendering of a topology (one topic). */
export function renderBicepTopology(topology: Topology): BicepTopologyJson {
  if (topology.topics.length !== 1) throw new Error('bicep deploys exactly one topic');
  const [topic] = topology.topics;
  return {
    topic: topic!.name,
    subscriptions: topic!.subscriptions.map((s) => ({ name: s.name, sqlFilter: azureSqlFilter(s.filter?.sqlFilter ?? '1=1') })),
    queues: topology.queues.map((q) => ({ name: q.name })),
  };
}

/** The file a `var x = loadJsonContent('...')` of a bicep file reads, resolved from the repository root. */
export function loadedJsonPath(file: BicepFile, variable: string): string | undefined {
  const node = variableDeclarations(file).get(variable);
  if (node?.type !== 'call_expression' || node.childForFieldName('function')?.text !== 'loadJsonContent') return undefined;
  const [arg] = namedChildren(node.childForFieldName('arguments')!);
  const relative = stringLiteral(arg);
  return relative === undefined ? undefined : path.relative(REPO_ROOT, path.resolve(REPO_ROOT, path.dirname(file.name), relative));
}

/** The topology JSON a bicep file loads into `var topology` (optionally from another root, for planted copies). */
export function loadedTopology(file: BicepFile, root = REPO_ROOT): BicepTopologyJson {
  const json = loadedJsonPath(file, 'topology');
  if (!json) throw new Error(`${file.name} has no var topology = loadJsonContent(...)`);
  return JSON.parse(readFileSync(path.join(root, json), 'utf8')) as BicepTopologyJson;
}

/**
 * The `subscriptions` variable: name and SQL filter of each topic subscription. Either an array
 * literal, or `topology.subscriptions` read from the JSON that `var topology` loads.
 */
export function subscriptionsOf(file: BicepFile, root = REPO_ROOT): BicepSubscription[] {
  const list = variableDeclarations(file).get('subscriptions');
  if (!list) throw new Error(`${file.name} has no subscriptions variable`);
  if (list.type === 'member_expression' && list.text === 'topology.subscriptions') return [...loadedTopology(file, root).subscriptions];
  return namedChildren(list).map((element) => {
    const props = objectProperties(element);
    const filter = props.get('filter');
    return { name: stringLiteral(props.get('name')) ?? '', sqlFilter: filter ? evaluateString(file, filter.text) : '' };
  });
}

/** A property of the first resource of a type, as a literal, or the default of the parameter it names. */
export function resourceSetting(file: BicepFile, type: string, path: string): unknown {
  const resource = resourceDeclarations(file).find((r) => r.type === type && !r.existing);
  const node = valueAt(resource?.body, path);
  if (!node) return undefined;
  const literal = literalValue(node);
  if (literal.known) return literal.value;
  const param = parameterDeclarations(file).find((p) => p.name === node.text);
  const fromParam = literalValue(param?.defaultValue);
  return fromParam.known ? fromParam.value : `<${node.text}>`;
}

/** ISO 8601 durations of the form PT#H#M#S, in milliseconds. */
export function isoDurationMs(duration: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!m) throw new Error(`unsupported duration ${duration}`);
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000;
}
