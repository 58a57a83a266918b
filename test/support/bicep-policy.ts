/**
 * Security policy over bicep syntax trees: the checks the bicep linter and Azure Policy would make
 * in a pipeline with the CLI, restricted to what a syntax tree can show. Each check returns
 * findings instead of throwing so tests can assert both that the real templates are clean and
 * that a deliberately bad snippet is caught.
 */
import {
  type BicepFile,
  type Node,
  type ResourceDeclaration,
  declarationBody,
  decoratorsOf,
  descendants,
  lineOf,
  literalValue,
  namedChildren,
  objectProperties,
  parameterDeclarations,
  resourceDeclarations,
  stringLiteral,
  stringPrefix,
  valueAt,
  variableDeclarations,
} from './bicep-ast';
import { loadedJsonPath } from './bicep-servicebus';

export interface Finding {
  readonly rule: string;
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * Built-in Azure RBAC roles the app (or the deployer, for Key Vault secrets) may hold: data-plane
 * roles only. Source: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
 */
export const ALLOWED_ROLE_IDS: Readonly<Record<string, string>> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe': 'Storage Blob Data Contributor',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39': 'Azure Service Bus Data Sender',
  '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0': 'Azure Service Bus Data Receiver',
  '4633458b-17de-408a-b874-0445c86b69e6': 'Key Vault Secrets User',
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': 'Key Vault Secrets Officer',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
};

/** Cosmos DB built-in data-plane role definitions (sqlRoleDefinitions of the account). */
export const ALLOWED_COSMOS_ROLE_IDS: Readonly<Record<string, string>> = {
  '00000000-0000-0000-0000-000000000001': 'Cosmos DB Built-in Data Reader',
  '00000000-0000-0000-0000-000000000002': 'Cosmos DB Built-in Data Contributor',
};

/** Management-plane roles that must never be granted by these templates. */
export const FORBIDDEN_ROLE_IDS: Readonly<Record<string, string>> = {
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner',
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': 'User Access Administrator',
  'f58310d9-a9f6-439a-9e8d-f62e7b41a168': 'Role Based Access Control Administrator',
  '17d1049b-9a84-46fb-8f53-869881c3d3ab': 'Storage Account Contributor',
  '090c5cfd-751d-490a-894a-3ce6f1109419': 'Azure Service Bus Data Owner',
  '00482a5a-887f-4fb3-b363-3b7fe8e74483': 'Key Vault Administrator',
  '5bd9cd88-fe45-4216-938b-f97437e15450': 'DocumentDB Account Contributor',
  'de139f84-1756-47ae-9be6-808fbbe84772': 'Website Contributor',
};

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

type Expect = { path: string; value: string | boolean };

/** Secure defaults each resource type must set explicitly (existing resources are exempt). */
export const REQUIRED_PROPERTIES: Readonly<Record<string, readonly Expect[]>> = {
  'Microsoft.Storage/storageAccounts': [
    { path: 'properties.allowSharedKeyAccess', value: false },
    { path: 'properties.minimumTlsVersion', value: 'TLS1_2' },
    { path: 'properties.allowBlobPublicAccess', value: false },
    { path: 'properties.supportsHttpsTrafficOnly', value: true },
  ],
  'Microsoft.ServiceBus/namespaces': [
    { path: 'properties.disableLocalAuth', value: true },
    { path: 'properties.minimumTlsVersion', value: '1.2' },
  ],
  'Microsoft.DocumentDB/databaseAccounts': [
    { path: 'properties.disableLocalAuth', value: true },
    { path: 'properties.minimalTlsVersion', value: 'Tls12' },
  ],
  'Microsoft.KeyVault/vaults': [
    { path: 'properties.enableRbacAuthorization', value: true },
    { path: 'properties.enablePurgeProtection', value: true },
  ],
  'Microsoft.Insights/components': [{ path: 'properties.DisableLocalAuth', value: true }],
  'Microsoft.OperationalInsights/workspaces': [{ path: 'properties.features.disableLocalAuth', value: true }],
  'Microsoft.Web/sites': [
    { path: 'properties.httpsOnly', value: true },
    { path: 'properties.siteConfig.minTlsVersion', value: '1.2' },
    { path: 'properties.siteConfig.ftpsState', value: 'Disabled' },
  ],
  'Microsoft.Web/sites/basicPublishingCredentialsPolicies': [{ path: 'properties.allow', value: false }],
};

function finding(rule: string, file: BicepFile, node: Node, message: string): Finding {
  return { rule, file: file.name, line: lineOf(node), message };
}

/** Rule secure-defaults: local auth / shared keys off, TLS 1.2, HTTPS only, FTP off. */
export function checkSecureDefaults(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  for (const resource of resourceDeclarations(file)) {
    const expectations = REQUIRED_PROPERTIES[resource.type];
    if (!expectations || resource.existing) continue;
    for (const { path, value } of expectations) {
      const actual = literalValue(valueAt(resource.body, path));
      if (!actual.known || actual.value !== value) {
        findings.push(
          finding('secure-defaults', file, resource.node, `${resource.symbol} (${resource.type}) must set ${path}: ${JSON.stringify(value)} as a literal`),
        );
      }
    }
  }
  return findings;
}

// Key names that hold secrets (compared with underscores and dashes removed, case-insensitive).
const SECRET_NAME = /(password|secret|token|apikey|accountkey|accesskey|signingkey|sharedkey|connectionstring|sastoken)$/i;
// Literal text that only a credential contains.
const SECRET_TEXT = [
  /AccountKey=/i,
  /SharedAccessKey=/i,
  /SharedAccessSignature/i,
  /DefaultEndpointsProtocol=/i,
  /InstrumentationKey=/i,
  /[?&]sig=/i,
  /password=/i,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b[0-9a-f]{32}\b/i, // Twilio auth tokens and SIDs' hex part
];

/** A run of 40+ base64 characters with digits and both cases: an account key or token, not a type path. */
function looksLikeEncodedKey(text: string): boolean {
  return text
    .split(/[^A-Za-z0-9+/=]/)
    .some((token) => token.length >= 40 && (token.match(/\d/g) ?? []).length >= 4 && /[a-z]/.test(token) && /[A-Z]/.test(token));
}
// Names the pattern above matches that are not secrets, with the reason.
const NOT_SECRET: Readonly<Record<string, string>> = {
  // With DisableLocalAuth on the component it only names the ingestion endpoint; tokens come from Entra ID.
  applicationinsightsconnectionstring: 'Application Insights connection string (Entra ID ingestion)',
};
const LIST_FUNCTIONS = /^list(Keys|ConnectionStrings|Secrets|Credentials?|AccountSas|ServiceSas)$/i;
const KEY_VAULT_REFERENCE = '@Microsoft.KeyVault(';

function normalisedName(name: string): string {
  return name.replace(/[_\-.]/g, '').toLowerCase();
}

function looksSecret(name: string): boolean {
  const normalised = normalisedName(name);
  return SECRET_NAME.test(normalised) && !NOT_SECRET[normalised];
}

/** Rule no-secret-literal: no credential text, no list*() key retrieval, secret settings are Key Vault references. */
export function checkNoSecretLiterals(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  const all = descendants(file.root);

  for (const node of all) {
    if (node.type === 'string_content' || node.type === 'multiline_string_content') {
      const hit = SECRET_TEXT.find((re) => re.test(node.text))?.source ?? (looksLikeEncodedKey(node.text) ? 'encoded key' : undefined);
      if (hit) findings.push(finding('no-secret-literal', file, node, `literal looks like a credential (${hit})`));
    }
    if (node.type === 'call_expression') {
      const fn = node.childForFieldName('function');
      const name = fn?.type === 'member_expression' ? fn.childForFieldName('property')?.text : fn?.text;
      if (name && LIST_FUNCTIONS.test(name)) {
        findings.push(finding('no-secret-literal', file, node, `${name}() reads keys into the deployment; use identities`));
      }
    }
    if (node.type === 'object_property') {
      const [keyNode, value] = namedChildren(node);
      const key = keyNode?.type === 'string' ? stringLiteral(keyNode) : keyNode?.text;
      if (key && value && looksSecret(key) && value.type === 'string') {
        if (!stringPrefix(value).startsWith(KEY_VAULT_REFERENCE)) {
          findings.push(finding('no-secret-literal', file, node, `${key} must be a Key Vault reference, not a string`));
        }
      }
    }
  }

  for (const param of parameterDeclarations(file)) {
    const secure = param.decorators.has('secure');
    const declaration = all.find((n) => n.type === 'parameter_declaration' && lineOf(n) === param.line) ?? file.root;
    if (looksSecret(param.name) && !secure) {
      findings.push(finding('no-secret-literal', file, declaration, `parameter ${param.name} looks secret and must be @secure()`));
    }
    if (secure && param.defaultValue) {
      const literal = literalValue(param.defaultValue);
      if (!literal.known || literal.value !== '') {
        findings.push(finding('no-secret-literal', file, declaration, `@secure() parameter ${param.name} must not have a default`));
      }
    }
  }
  return findings;
}

interface Resolution {
  guids: Set<string>;
  unresolved: string[];
}

/** Loop variables in scope at a node: name → the array expression it iterates. */
function loopBindings(node: Node): Map<string, Node> {
  const bindings = new Map<string, Node>();
  for (let current: Node | null = node; current; current = current.parent) {
    if (current.type !== 'for_statement') continue;
    const children = namedChildren(current);
    const initializer = children[0];
    const body = current.childForFieldName('body');
    const iterable = children.find((c, i) => i > 0 && c.id !== body?.id);
    if (!initializer || !iterable) continue;
    const variable = initializer.type === 'for_loop_parameters' ? namedChildren(initializer)[0] : initializer;
    if (variable && !bindings.has(variable.text)) bindings.set(variable.text, iterable);
  }
  return bindings;
}

/** The GUIDs an expression can evaluate to, following vars, loop variables and member access. */
function resolveGuids(file: BicepFile, node: Node, depth = 0): Resolution {
  const result: Resolution = { guids: new Set(), unresolved: [] };
  const merge = (other: Resolution): void => {
    other.guids.forEach((g) => result.guids.add(g.toLowerCase()));
    result.unresolved.push(...other.unresolved);
  };
  if (depth > 20) return { guids: new Set(), unresolved: [node.text] };
  const vars = variableDeclarations(file);
  const target = resolveNode(file, node, vars, depth);
  if (!target) return { guids: new Set(), unresolved: [node.text] };

  switch (target.type) {
    case 'string':
      for (const part of namedChildren(target)) {
        if (part.type === 'string_content') (part.text.match(GUID) ?? []).forEach((g) => result.guids.add(g.toLowerCase()));
        else if (part.type === 'interpolation') {
          const inner = namedChildren(part)[0];
          if (inner) merge(resolveGuidsOrIgnore(file, inner, depth + 1));
        }
      }
      break;
    case 'array':
    case 'arguments':
      namedChildren(target).forEach((c) => merge(resolveGuids(file, c, depth + 1)));
      break;
    case 'call_expression': {
      const args = target.childForFieldName('arguments');
      if (args) namedChildren(args).forEach((c) => merge(resolveGuidsOrIgnore(file, c, depth + 1)));
      break;
    }
    case 'ternary_expression':
      for (const field of ['consequence', 'alternative']) {
        const branch = target.childForFieldName(field);
        if (branch) merge(resolveGuids(file, branch, depth + 1));
      }
      break;
    case 'object':
      objectProperties(target).forEach((v) => merge(resolveGuids(file, v, depth + 1)));
      break;
    default:
      result.unresolved.push(target.text);
  }
  return result;
}

/** Like resolveGuids, but parts that are not role ids at all (resource ids, names) are ignored. */
function resolveGuidsOrIgnore(file: BicepFile, node: Node, depth: number): Resolution {
  const resolved = resolveGuids(file, node, depth);
  return { guids: resolved.guids, unresolved: [] };
}

/** Follows identifiers and member access to the literal node they denote, if it is static. */
function resolveNode(file: BicepFile, node: Node, vars: Map<string, Node>, depth: number): Node | undefined {
  if (depth > 20) return undefined;
  if (node.type === 'parenthesized_expression') {
    const inner = namedChildren(node)[0];
    return inner ? resolveNode(file, inner, vars, depth + 1) : undefined;
  }
  if (node.type === 'identifier') {
    const loop = loopBindings(node).get(node.text);
    if (loop) return resolveNode(file, loop, vars, depth + 1);
    const value = vars.get(node.text);
    return value ? resolveNode(file, value, vars, depth + 1) : undefined;
  }
  if (node.type === 'member_expression') {
    const object = node.childForFieldName('object');
    const property = node.childForFieldName('property');
    const base = object ? resolveNode(file, object, vars, depth + 1) : undefined;
    if (!base || !property) return undefined;
    if (base.type === 'array') {
      // Loop variable over an array of objects: every element's property.
      const values = namedChildren(base)
        .map((element) => resolveNode(file, element, vars, depth + 1))
        .map((element) => objectProperties(element).get(property.text))
        .filter((v): v is Node => v !== undefined);
      return values.length === 1 ? resolveNode(file, values[0] as Node, vars, depth + 1) : values.length ? base : undefined;
    }
    const value = objectProperties(base).get(property.text);
    return value ? resolveNode(file, value, vars, depth + 1) : undefined;
  }
  return node;
}

/** Rule role-assignments: every role assignment grants a statically known, allowlisted data-plane role. */
export function checkRoleAssignments(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  for (const resource of resourceDeclarations(file)) {
    const isArm = resource.type === 'Microsoft.Authorization/roleAssignments';
    const isCosmos = resource.type === 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments';
    if ((!isArm && !isCosmos) || resource.existing) continue;
    const roleNode = valueAt(resource.body, 'properties.roleDefinitionId');
    if (!roleNode) {
      findings.push(finding('role-assignments', file, resource.node, `${resource.symbol} has no properties.roleDefinitionId`));
      continue;
    }
    const allowed = isArm ? ALLOWED_ROLE_IDS : ALLOWED_COSMOS_ROLE_IDS;
    const { guids, unresolved } = resolveGuids(file, roleNode);
    if (guids.size === 0 || unresolved.length > 0) {
      findings.push(
        finding(
          'role-assignments',
          file,
          roleNode,
          `${resource.symbol}: role id is not a statically known built-in role (${unresolved.join(', ') || roleNode.text})`,
        ),
      );
    }
    for (const guid of guids) {
      if (FORBIDDEN_ROLE_IDS[guid]) {
        findings.push(finding('role-assignments', file, roleNode, `${resource.symbol} grants ${FORBIDDEN_ROLE_IDS[guid]} (${guid})`));
      } else if (!allowed[guid]) {
        findings.push(finding('role-assignments', file, roleNode, `${resource.symbol} grants ${guid}, which is not an allowlisted data-plane role`));
      }
    }
    // Without `scope` an assignment lands on the whole resource group (or subscription).
    if (isArm && !valueAt(resource.body, 'scope')) {
      findings.push(finding('role-assignments', file, resource.node, `${resource.symbol} must be scoped to a single resource (scope: <resource>)`));
    }
    if (!valueAt(resource.body, 'properties.principalId')) {
      findings.push(finding('role-assignments', file, resource.node, `${resource.symbol} has no properties.principalId`));
    }
  }
  // Any GUID literal anywhere must be a known role id: catches unused or indirect role ids and
  // hard-coded tenant or subscription ids.
  for (const node of descendants(file.root)) {
    if (node.type !== 'string_content') continue;
    for (const guid of node.text.match(GUID) ?? []) {
      const id = guid.toLowerCase();
      if (FORBIDDEN_ROLE_IDS[id]) findings.push(finding('role-assignments', file, node, `literal ${FORBIDDEN_ROLE_IDS[id]} role id ${id}`));
      else if (!ALLOWED_ROLE_IDS[id] && !ALLOWED_COSMOS_ROLE_IDS[id]) findings.push(finding('role-assignments', file, node, `unknown GUID literal ${id}`));
    }
  }
  return findings;
}

/** Rule parameter-descriptions: `@description('Required. …')` without default, `Optional. …` with one. */
export function checkParameterDescriptions(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  for (const param of parameterDeclarations(file)) {
    const description = stringLiteral(param.decorators.get('description')?.[0]);
    const at = { rule: 'parameter-descriptions', file: file.name, line: param.line };
    if (description === undefined) {
      findings.push({ ...at, message: `parameter ${param.name} has no literal @description` });
    } else if (description.startsWith('Required.')) {
      if (param.defaultValue) findings.push({ ...at, message: `parameter ${param.name} is described Required. but has a default` });
    } else if (description.startsWith('Optional.')) {
      if (!param.defaultValue) findings.push({ ...at, message: `parameter ${param.name} is described Optional. but has no default` });
    } else {
      findings.push({ ...at, message: `parameter ${param.name}: description must start with "Required." or "Optional."` });
    }
  }
  return findings;
}

/** Rule local-modules: modules are files in this repository, so every resource they declare is checked here. */
export function checkLocalModules(file: BicepFile): Finding[] {
  return namedChildren(file.root)
    .filter((n) => n.type === 'module_declaration')
    .flatMap((module) => {
      const target = stringLiteral(namedChildren(module)[1]) ?? '';
      return /^(br|ts)[:/]/.test(target) || !target.endsWith('.bicep')
        ? [finding('local-modules', file, module, `module ${target} is not a local .bicep file, so the policy checks cannot see it`)]
        : [];
    });
}

/** Rule diagnostics: resources that hold or move PHI send their logs to Log Analytics. */
export const PHI_RESOURCE_TYPES = [
  'Microsoft.DocumentDB/databaseAccounts',
  'Microsoft.ServiceBus/namespaces',
  'Microsoft.KeyVault/vaults',
  'Microsoft.Web/sites',
  'Microsoft.Storage/storageAccounts',
] as const;

export function checkDiagnostics(file: BicepFile): Finding[] {
  const resources = resourceDeclarations(file);
  const diagnosticScopes = resources
    .filter((r) => r.type === 'Microsoft.Insights/diagnosticSettings')
    .map((r) => valueAt(r.body, 'scope')?.text.split('::')[0] ?? '');
  return resources
    .filter((r) => (PHI_RESOURCE_TYPES as readonly string[]).includes(r.type) && !r.existing)
    .filter((r) => !diagnosticScopes.includes(r.symbol))
    .map((r) => finding('diagnostics', file, r.node, `${r.symbol} (${r.type}) has no diagnostic setting`));
}

// ---- alerts and cost governance ------------------------------------------------------------

export const ACTION_GROUP_TYPE = 'Microsoft.Insights/actionGroups';
export const ALERT_RULE_TYPES = ['Microsoft.Insights/metricAlerts', 'Microsoft.Insights/scheduledQueryRules', 'Microsoft.Insights/activityLogAlerts'] as const;
export const BUDGET_TYPE = 'Microsoft.Consumption/budgets';
/** Budget notifications every budget must have, in percent of actual cost. */
export const REQUIRED_BUDGET_THRESHOLDS = [50, 80, 100] as const;

/** The loop variable and iterable of a `[for ...]` resource declaration, if it is one. */
export function resourceLoop(resource: ResourceDeclaration): { variable: string; iterable: Node } | undefined {
  const value = namedChildren(resource.node).at(-1);
  if (value?.type !== 'for_statement') return undefined;
  const [initializer, iterable] = namedChildren(value);
  const variable = initializer?.type === 'for_loop_parameters' ? namedChildren(initializer)[0] : initializer;
  return variable && iterable ? { variable: variable.text, iterable } : undefined;
}

/** Follows identifiers through top-level variables to the expression they stand for. */
function throughVariables(file: BicepFile, node: Node): Node {
  const vars = variableDeclarations(file);
  let current = node;
  for (let depth = 0; current.type === 'identifier' && vars.has(current.text) && depth < 20; depth++) current = vars.get(current.text)!;
  return current;
}

/** `<v>.<property>` where `var v = loadJsonContent(...)`: the JSON file (from the repository root) and the property. */
function loadedJsonMember(file: BicepFile, node: Node): { json: string; property: string } | undefined {
  if (node.type !== 'member_expression') return undefined;
  const object = node.childForFieldName('object');
  const property = node.childForFieldName('property')?.text;
  const json = object?.type === 'identifier' ? loadedJsonPath(file, object.text) : undefined;
  return json && property ? { json, property } : undefined;
}

/** The ids an alert rule notifies: metricAlerts `actions[].actionGroupId`, log and activity-log alerts `actions.actionGroups`. */
function notifiedIds(resource: ResourceDeclaration): Node[] {
  const actions = valueAt(resource.body, 'properties.actions');
  if (!actions) return [];
  if (actions.type === 'array') {
    return namedChildren(actions)
      .map((a) => objectProperties(a).get('actionGroupId'))
      .filter((n): n is Node => n !== undefined);
  }
  const groups = objectProperties(actions).get('actionGroups');
  return groups?.type === 'array' ? namedChildren(groups).map((g) => (g.type === 'object' ? (objectProperties(g).get('actionGroupId') ?? g) : g)) : [];
}

/** `<symbol>.id` of an action group this file declares. */
function isActionGroupId(node: Node, actionGroups: ReadonlySet<string>): boolean {
  return (
    node.type === 'member_expression' && node.childForFieldName('property')?.text === 'id' && actionGroups.has(node.childForFieldName('object')?.text ?? '')
  );
}

function declaredActionGroups(file: BicepFile): Set<string> {
  return new Set(
    resourceDeclarations(file)
      .filter((r) => r.type === ACTION_GROUP_TYPE && !r.existing)
      .map((r) => r.symbol),
  );
}

/** Rule alert-actions: every alert rule is enabled and notifies an action group declared in the same file (`<group>.id`). */
export function checkAlertActions(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  const groups = declaredActionGroups(file);
  for (const rule of resourceDeclarations(file).filter((r) => (ALERT_RULE_TYPES as readonly string[]).includes(r.type) && !r.existing)) {
    const enabled = literalValue(valueAt(rule.body, 'properties.enabled'));
    if (!enabled.known || enabled.value !== true)
      findings.push(finding('alert-actions', file, rule.node, `${rule.symbol} (${rule.type}) must set properties.enabled: true`));
    const ids = notifiedIds(rule);
    if (ids.length === 0) findings.push(finding('alert-actions', file, rule.node, `${rule.symbol} (${rule.type}) notifies no action group`));
    for (const id of ids) {
      if (!isActionGroupId(id, groups)) {
        findings.push(
          finding('alert-actions', file, id, `${rule.symbol} notifies ${id.text}, which is not the id of an action group declared in ${file.name}`),
        );
      }
    }
  }
  return findings;
}

interface BudgetNotification {
  threshold: unknown;
  thresholdType: unknown;
  contactGroups: Node[];
}

/** A budget's notifications: a literal object, or `toObject(<array var>, key, n => {...})`. */
function budgetNotifications(file: BicepFile, notifications: Node | undefined): BudgetNotification[] | undefined {
  if (!notifications) return [];
  const read = (entry: Node | undefined, body: Node | undefined): BudgetNotification => {
    const e = objectProperties(entry);
    const b = objectProperties(body);
    const pick = (key: string) => {
      const literal = literalValue(e.get(key) ?? b.get(key));
      return literal.known ? literal.value : undefined;
    };
    const groups = b.get('contactGroups');
    return { threshold: pick('threshold'), thresholdType: pick('thresholdType'), contactGroups: groups?.type === 'array' ? namedChildren(groups) : [] };
  };
  if (notifications.type === 'object') return [...objectProperties(notifications).values()].map((n) => read(n, n));
  if (notifications.type === 'call_expression' && notifications.childForFieldName('function')?.text === 'toObject') {
    const [list, , make] = namedChildren(notifications.childForFieldName('arguments')!);
    const entries = list ? throughVariables(file, list) : undefined;
    const body = make?.type === 'lambda_expression' ? namedChildren(make).at(-1) : undefined;
    if (entries?.type !== 'array' || body?.type !== 'object') return undefined;
    // In the lambda body, `n.threshold` stands for each entry's value.
    return namedChildren(entries).map((entry) => read(entry, body));
  }
  return undefined;
}

/** Rule budget: every budget has an amount and notifications at 50, 80 and 100 % of actual cost, each to a declared action group. */
export function checkBudgets(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  const groups = declaredActionGroups(file);
  for (const budget of resourceDeclarations(file).filter((r) => r.type === BUDGET_TYPE && !r.existing)) {
    if (!valueAt(budget.body, 'properties.amount')) findings.push(finding('budget', file, budget.node, `${budget.symbol} has no properties.amount`));
    const notifications = budgetNotifications(file, valueAt(budget.body, 'properties.notifications'));
    if (!notifications) {
      findings.push(finding('budget', file, budget.node, `${budget.symbol}: properties.notifications is not statically known`));
      continue;
    }
    for (const threshold of REQUIRED_BUDGET_THRESHOLDS) {
      if (!notifications.some((n) => n.threshold === threshold && n.thresholdType === 'Actual')) {
        findings.push(finding('budget', file, budget.node, `${budget.symbol} has no notification at ${threshold} % of actual cost`));
      }
    }
    if (notifications.some((n) => !n.contactGroups.some((g) => isActionGroupId(g, groups)))) {
      findings.push(
        finding('budget', file, budget.node, `${budget.symbol}: every notification must notify an action group declared in ${file.name} (contactGroups)`),
      );
    }
  }
  return findings;
}

/**
 * Rule dead-letter-alerts (across files): the Service Bus subscriptions are created from a topology
 * JSON file (loadJsonContent), and for that same file some module declares
 *   - a scheduledQueryRules loop over `<topology>.subscriptions` whose query names `<loop var>.name`, and
 *   - a DeadletteredMessages metric alert loop over an expression of `<topology>.topic` and
 *     `<topology>.queues` whose EntityName dimension is the loop variable,
 * so every subscription, the topic and every queue have their alerts, whatever the file lists.
 */
export function checkDeadLetterAlerts(files: readonly BicepFile[]): Finding[] {
  const findings: Finding[] = [];
  const sources = new Set<string>();
  for (const file of files) {
    for (const subscription of resourceDeclarations(file).filter((r) => r.type === 'Microsoft.ServiceBus/namespaces/topics/subscriptions' && !r.existing)) {
      const loop = resourceLoop(subscription);
      const member = loop ? loadedJsonMember(file, throughVariables(file, loop.iterable)) : undefined;
      if (!member || member.property !== 'subscriptions') {
        findings.push(
          finding(
            'dead-letter-alerts',
            file,
            subscription.node,
            `${subscription.symbol}: subscriptions must be created from a topology JSON file (loadJsonContent(...).subscriptions) so that their alerts can be checked`,
          ),
        );
      } else sources.add(member.json);
    }
  }
  const loops = files.flatMap((file) =>
    resourceDeclarations(file)
      .filter((r) => !r.existing)
      .map((r) => ({ file, resource: r, loop: resourceLoop(r) }))
      .filter((x): x is { file: BicepFile; resource: ResourceDeclaration; loop: NonNullable<ReturnType<typeof resourceLoop>> } => x.loop !== undefined),
  );
  // The query must use the loop variable's name (in a format() argument or an interpolation).
  const mentions = (node: Node | undefined, variable: string) =>
    node !== undefined && descendants(node).some((n) => n.type === 'member_expression' && n.text === `${variable}.name`);
  for (const json of sources) {
    const perSubscription = loops.some(({ file, resource, loop }) => {
      if (resource.type !== 'Microsoft.Insights/scheduledQueryRules') return false;
      const member = loadedJsonMember(file, throughVariables(file, loop.iterable));
      return member?.json === json && member.property === 'subscriptions' && mentions(valueAt(resource.body, 'properties.criteria'), loop.variable);
    });
    if (!perSubscription)
      findings.push({
        rule: 'dead-letter-alerts',
        file: json,
        line: 1,
        message: `the subscriptions of ${json} have no per-subscription log alert rule (a loop over its subscriptions whose query names each one)`,
      });
    const perEntity = loops.some(({ file, resource, loop }) => {
      if (resource.type !== 'Microsoft.Insights/metricAlerts') return false;
      const criteria = valueAt(resource.body, 'properties.criteria');
      const metric = descendants(criteria ?? resource.node).some(
        (n) => n.type === 'object_property' && propertyKeyText(n) === 'metricName' && stringLiteral(namedChildren(n)[1]) === 'DeadletteredMessages',
      );
      const covered = new Set(
        [throughVariables(file, loop.iterable), ...descendants(throughVariables(file, loop.iterable))]
          .map((n) => loadedJsonMember(file, n))
          .filter((m) => m?.json === json)
          .map((m) => m!.property),
      );
      const dimension = descendants(criteria ?? resource.node).some((n) => n.type === 'identifier' && n.text === loop.variable);
      return metric && covered.has('topic') && covered.has('queues') && dimension;
    });
    if (!perEntity)
      findings.push({
        rule: 'dead-letter-alerts',
        file: json,
        line: 1,
        message: `the topic and queues of ${json} have no DeadletteredMessages metric alert (a loop over its topic and queues with EntityName = each)`,
      });
  }
  return findings;
}

function propertyKeyText(property: Node): string | undefined {
  const key = namedChildren(property)[0];
  return key?.type === 'string' ? stringLiteral(key) : key?.text;
}

export const ALL_CHECKS = [
  checkSecureDefaults,
  checkNoSecretLiterals,
  checkRoleAssignments,
  checkParameterDescriptions,
  checkLocalModules,
  checkDiagnostics,
  checkAlertActions,
  checkBudgets,
] as const;

/** Checks that look at all files together (a resource in one module, its alerts in another). */
export const CROSS_FILE_CHECKS = [checkDeadLetterAlerts] as const;

export function checkPolicies(files: readonly BicepFile[]): Finding[] {
  return [...files.flatMap((file) => ALL_CHECKS.flatMap((check) => check(file))), ...CROSS_FILE_CHECKS.flatMap((check) => check(files))];
}

export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.file}:${f.line} [${f.rule}] ${f.message}`).join('\n');
}

// Re-exported for tests that build snippets.
export { declarationBody, decoratorsOf };
