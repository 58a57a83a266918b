/**
 * App settings the bicep Function App module sets, read from its syntax tree, and the drift
 * comparison with the settings contract in functions/lib/config.ts.
 */
import { type BicepFile, type Node, lineOf, namedChildren, objectProperties, resourceDeclarations, stringLiteral, valueAt } from './bicep-ast';

export interface BicepAppSettings {
  /** Setting name → the expression that sets it (the same name may come from several branches). */
  readonly values: Map<string, Node[]>;
  /** Line of each resource that sets app settings, for messages. */
  readonly sources: string[];
}

/** Keys of every object an app settings expression can produce (through union(), ternaries, parentheses). */
function collectSettingObjects(node: Node | undefined, into: Map<string, Node[]>): void {
  if (!node) return;
  switch (node.type) {
    case 'object':
      objectProperties(node).forEach((value, key) => into.set(key, [...(into.get(key) ?? []), value]));
      return;
    case 'call_expression': {
      const args = node.childForFieldName('arguments');
      if (args) namedChildren(args).forEach((arg) => collectSettingObjects(arg, into));
      return;
    }
    case 'ternary_expression':
      collectSettingObjects(node.childForFieldName('consequence') ?? undefined, into);
      collectSettingObjects(node.childForFieldName('alternative') ?? undefined, into);
      return;
    case 'parenthesized_expression':
      collectSettingObjects(namedChildren(node)[0], into);
      return;
    default:
      // A variable or parameter would hide settings from the check: report it as an unknown key.
      into.set(`<dynamic: ${node.text.slice(0, 40)}>`, [node]);
  }
}

/**
 * App settings set by a file: `Microsoft.Web/sites/config` resources named `appsettings`, and
 * `siteConfig.appSettings` arrays of `{name, value}` on `Microsoft.Web/sites`.
 */
export function appSettingsOf(file: BicepFile): BicepAppSettings {
  const values = new Map<string, Node[]>();
  const sources: string[] = [];
  for (const resource of resourceDeclarations(file)) {
    if (resource.existing) continue;
    if (resource.type === 'Microsoft.Web/sites/config' && stringLiteral(valueAt(resource.body, 'name')) === 'appsettings') {
      sources.push(`${file.name}:${resource.line}`);
      collectSettingObjects(valueAt(resource.body, 'properties'), values);
    }
    if (resource.type === 'Microsoft.Web/sites') {
      const array = valueAt(resource.body, 'properties.siteConfig.appSettings');
      if (!array) continue;
      sources.push(`${file.name}:${lineOf(array)}`);
      if (array.type !== 'array') {
        values.set(`<dynamic: ${array.text.slice(0, 40)}>`, [array]);
        continue;
      }
      for (const element of namedChildren(array)) {
        const props = objectProperties(element);
        const name = stringLiteral(props.get('name')) ?? `<dynamic: ${element.text.slice(0, 40)}>`;
        const value = props.get('value');
        values.set(name, [...(values.get(name) ?? []), ...(value ? [value] : [])]);
      }
    }
  }
  return { values, sources };
}

export interface SettingsContract {
  /** Keys the app reads (appSettingsSchema). */
  readonly appSettings: readonly string[];
  /** Keys only the host reads. */
  readonly hostSettings: readonly string[];
  /** Keys that must be set in Azure. */
  readonly azureRequired: readonly string[];
  /** Keys that must never be set in Azure. */
  readonly localOnly: readonly string[];
}

export interface SettingsDrift {
  /** Required in Azure but not set by the module. */
  readonly missingRequired: string[];
  /** Set by the module but read by neither the app nor the host. */
  readonly unread: string[];
  /** Local-only (key-bearing) settings the module sets. */
  readonly localOnlySet: string[];
}

export function compareSettings(setByBicep: Iterable<string>, contract: SettingsContract): SettingsDrift {
  const set = new Set(setByBicep);
  const read = new Set([...contract.appSettings, ...contract.hostSettings]);
  return {
    missingRequired: contract.azureRequired.filter((k) => !set.has(k)),
    unread: [...set].filter((k) => !read.has(k)).sort(),
    localOnlySet: contract.localOnly.filter((k) => set.has(k)),
  };
}

export function hasDrift(drift: SettingsDrift): boolean {
  return drift.missingRequired.length + drift.unread.length + drift.localOnlySet.length > 0;
}
