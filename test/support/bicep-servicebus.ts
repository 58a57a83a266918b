/**
 * The Service Bus topology as bicep/modules/servicebus.bicep declares it, evaluated from the syntax
 * tree far enough to compare with the local broker's topology (functions/adapters/servicebus/topology.ts).
 */
import {
  type BicepFile,
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

/** The `subscriptions` variable: name and SQL filter of each topic subscription. */
export function subscriptionsOf(file: BicepFile): BicepSubscription[] {
  const list = variableDeclarations(file).get('subscriptions');
  if (!list) throw new Error(`${file.name} has no subscriptions variable`);
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
