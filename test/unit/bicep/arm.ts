/**
 * Policy over the compiled ARM JSON (what Azure deploys): the same rules test/support/bicep-policy.ts
 * applies to the bicep syntax trees, read from `bicep build` output. Values must be literals where
 * the rule names one; expressions are parsed (a small ARM expression parser) only to resolve role
 * ids through variables and to read the app settings object.
 */
import {
  ALLOWED_COSMOS_ROLE_IDS,
  ALLOWED_ROLE_IDS,
  FORBIDDEN_ROLE_IDS,
  PHI_RESOURCE_TYPES,
  REQUIRED_PROPERTIES,
} from '../../support/bicep-policy';

// ---- ARM template expressions -------------------------------------------------------------

export type Expr =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'member'; object: Expr; property: string }
  | { kind: 'index'; object: Expr; index: Expr };

/** True when a JSON string is an ARM expression (`[...]`, not the `[[` escape). */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('[') && value.endsWith(']') && !value.startsWith('[[');
}

/** Parses the inside of `[...]`. Throws on anything it does not understand. */
export function parseExpression(text: string): Expr {
  const source = isExpression(text) ? text.slice(1, -1) : text;
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`ARM expression: ${what} at ${at} in ${source}`);
  };
  const skip = () => {
    while (source[at] === ' ') at++;
  };
  const identifier = (): string => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(at));
    if (!m) return fail('identifier expected');
    at += m[0].length;
    return m[0];
  };
  const primary = (): Expr => {
    skip();
    const c = source[at];
    if (c === "'") {
      let value = '';
      at++;
      for (;;) {
        if (at >= source.length) fail('unterminated string');
        if (source[at] === "'") {
          if (source[at + 1] === "'") {
            value += "'";
            at += 2;
            continue;
          }
          at++;
          return { kind: 'string', value };
        }
        value += source[at++];
      }
    }
    if (c !== undefined && /[-0-9]/.test(c)) {
      const m = /^-?\d+/.exec(source.slice(at));
      if (!m) return fail('number expected');
      at += m[0].length;
      return { kind: 'number', value: Number(m[0]) };
    }
    const name = identifier();
    skip();
    if (source[at] !== '(') return fail(`call expected after ${name}`);
    at++;
    const args: Expr[] = [];
    skip();
    if (source[at] === ')') at++;
    else {
      for (;;) {
        args.push(expression());
        skip();
        if (source[at] === ',') {
          at++;
          continue;
        }
        if (source[at] === ')') {
          at++;
          break;
        }
        fail('"," or ")" expected');
      }
    }
    return { kind: 'call', name, args };
  };
  const expression = (): Expr => {
    let node = primary();
    for (;;) {
      skip();
      if (source[at] === '.') {
        at++;
        node = { kind: 'member', object: node, property: identifier() };
      } else if (source[at] === '[') {
        at++;
        const index = expression();
        skip();
        if (source[at] !== ']') fail('"]" expected');
        at++;
        node = { kind: 'index', object: node, index };
      } else return node;
    }
  };
  const result = expression();
  skip();
  if (at !== source.length) fail('end expected');
  return result;
}

/** Every node of an expression, depth first. */
export function* nodes(expr: Expr): Generator<Expr> {
  yield expr;
  if (expr.kind === 'call') for (const arg of expr.args) yield* nodes(arg);
  if (expr.kind === 'member') yield* nodes(expr.object);
  if (expr.kind === 'index') {
    yield* nodes(expr.object);
    yield* nodes(expr.index);
  }
}

const isCall = (expr: Expr | undefined, name: string): expr is { kind: 'call'; name: string; args: Expr[] } =>
  expr?.kind === 'call' && expr.name.toLowerCase() === name.toLowerCase();

/**
 * The values an expression can take, following variables, member access and `[copyIndex()]` (every
 * element); undefined when it depends on anything else (parameters, references).
 */
export function possibleValues(expr: Expr, variables: Record<string, unknown>, depth = 0): unknown[] | undefined {
  if (depth > 20) return undefined;
  const fromJson = (value: unknown): unknown[] | undefined =>
    isExpression(value) ? possibleValues(parseExpression(value), variables, depth + 1) : [value];
  switch (expr.kind) {
    case 'string':
    case 'number':
      return [expr.value];
    case 'call':
      if (isCall(expr, 'variables') && expr.args[0]?.kind === 'string' && expr.args[0].value in variables) {
        return fromJson(variables[expr.args[0].value]);
      }
      return undefined;
    case 'member': {
      const objects = possibleValues(expr.object, variables, depth + 1);
      if (!objects) return undefined;
      const out: unknown[] = [];
      for (const o of objects) {
        if (typeof o !== 'object' || o === null || !(expr.property in o)) return undefined;
        const values = fromJson((o as Record<string, unknown>)[expr.property]);
        if (!values) return undefined;
        out.push(...values);
      }
      return out;
    }
    case 'index': {
      if (!isCall(expr.index, 'copyIndex')) return undefined;
      const arrays = possibleValues(expr.object, variables, depth + 1);
      if (!arrays) return undefined;
      const out: unknown[] = [];
      for (const a of arrays) {
        if (!Array.isArray(a)) return undefined;
        for (const element of a) {
          const values = fromJson(element);
          if (!values) return undefined;
          out.push(...values);
        }
      }
      return out;
    }
  }
}

// ---- templates ----------------------------------------------------------------------------

export interface ArmResource {
  type: string;
  apiVersion: string;
  name: string;
  scope?: string;
  condition?: string | boolean;
  copy?: unknown;
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ArmTemplate {
  parameters?: Record<string, unknown>;
  variables?: Record<string, unknown>;
  resources: ArmResource[];
  outputs?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One template: main.json itself, or a module inlined as a Microsoft.Resources/deployments resource. */
export interface ArmModule {
  /** `main`, or the deployment name (a module's `name:` in main.bicep). */
  readonly name: string;
  readonly template: ArmTemplate;
  /** The deployment resource in the parent template (absent for main). */
  readonly deployment?: ArmResource;
}

export function modulesOf(main: ArmTemplate): ArmModule[] {
  const out: ArmModule[] = [{ name: 'main', template: main }];
  const walk = (template: ArmTemplate) => {
    for (const resource of template.resources) {
      if (resource.type !== 'Microsoft.Resources/deployments') continue;
      const inner = (resource.properties as { template?: ArmTemplate } | undefined)?.template;
      if (!inner) throw new Error(`deployment ${resource.name} is not inlined (templateLink?)`);
      out.push({ name: resource.name, template: inner, deployment: resource });
      walk(inner);
    }
  };
  walk(main);
  return out;
}

export function moduleNamed(main: ArmTemplate, name: string): ArmModule {
  const found = modulesOf(main).find((m) => m.name === name);
  if (!found) throw new Error(`no module ${name} in the compiled template`);
  return found;
}

export function valueAtPath(object: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, key) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined), object);
}

/** Every string in a JSON value (to scan expressions). */
function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const v of value) yield* strings(v);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) yield* strings(v);
}

/** The resource type a `resourceId('<type>', ...)` scope names, or undefined for any other scope. */
function scopeType(scope: unknown): string | undefined {
  if (!isExpression(scope)) return undefined;
  const expr = parseExpression(scope);
  return isCall(expr, 'resourceId') && expr.args[0]?.kind === 'string' ? expr.args[0].value : undefined;
}

// ---- rules --------------------------------------------------------------------------------

export interface ArmFinding {
  readonly rule: 'secure-defaults' | 'identity-only' | 'role-assignments' | 'diagnostics' | 'alert-references';
  readonly module: string;
  readonly message: string;
}

/** Local auth and shared keys off, TLS 1.2, HTTPS only, FTP off: literal values in what deploys. */
export function checkSecureDefaults(main: ArmTemplate): ArmFinding[] {
  const findings: ArmFinding[] = [];
  for (const { name, template } of modulesOf(main)) {
    for (const resource of template.resources) {
      for (const { path, value } of REQUIRED_PROPERTIES[resource.type] ?? []) {
        const actual = valueAtPath(resource, path);
        if (actual !== value) {
          findings.push({
            rule: 'secure-defaults',
            module: name,
            message: `${resource.type} ${resource.name}: ${path} is ${JSON.stringify(actual)}, must be the literal ${JSON.stringify(value)}`,
          });
        }
      }
    }
  }
  return findings;
}

const LIST_FUNCTION = /^list(Keys|ConnectionStrings|Secrets|Credentials?|AccountSas|ServiceSas)$/i;
const SECRET_SETTING = /(TOKEN|SECRET|PASSWORD|KEY)$/;
const KEY_VAULT_REFERENCE = '@Microsoft.KeyVault(SecretUri={0})';
const CREDENTIAL_TEXT = /AccountKey=|SharedAccessKey=|SharedAccessSignature|DefaultEndpointsProtocol=|InstrumentationKey=/i;

/** The keys and value expressions of an app settings object built with createObject/union/if. */
export function appSettingsOf(properties: unknown): Map<string, Expr> {
  const settings = new Map<string, Expr>();
  const add = (key: string, value: Expr) => settings.set(key, value);
  if (isExpression(properties)) {
    for (const node of nodes(parseExpression(properties))) {
      if (!isCall(node, 'createObject')) continue;
      for (let i = 0; i + 1 < node.args.length; i += 2) {
        const key = node.args[i];
        if (key?.kind !== 'string') throw new Error('app setting with a computed name');
        add(key.value, node.args[i + 1]!);
      }
    }
  } else if (typeof properties === 'object' && properties !== null) {
    for (const [key, value] of Object.entries(properties)) {
      add(key, isExpression(value) ? parseExpression(value) : { kind: 'string', value: String(value) });
    }
  }
  return settings;
}

/**
 * Identity-only connections: no list*() key retrieval and no credential text anywhere; the Function
 * App reaches storage and Service Bus through its managed identity, Application Insights with Entra
 * ID, secrets only as Key Vault references, and deploys its package with the identity.
 */
export function checkIdentityOnly(main: ArmTemplate): ArmFinding[] {
  const findings: ArmFinding[] = [];
  const flag = (module: string, message: string) => findings.push({ rule: 'identity-only', module, message });
  // Every string of the whole template, modules included.
  for (const text of strings(main)) {
    if (CREDENTIAL_TEXT.test(text)) flag('template', `credential text in ${text.slice(0, 80)}`);
    if (!isExpression(text)) continue;
    for (const node of nodes(parseExpression(text))) {
      if (node.kind === 'call' && LIST_FUNCTION.test(node.name)) flag('template', `${node.name}() reads keys into the deployment`);
    }
  }

  const sites = modulesOf(main).flatMap((m) => m.template.resources.filter((r) => r.type === 'Microsoft.Web/sites').map((r) => ({ module: m, site: r })));
  if (sites.length === 0) flag('main', 'no Microsoft.Web/sites to check');
  for (const { module, site } of sites) {
    const appSettings = module.template.resources.filter((r) => r.type === 'Microsoft.Web/sites/config' && r.name.includes("'appsettings'"));
    if (appSettings.length !== 1) {
      flag(module.name, `expected one appsettings config, found ${appSettings.length}`);
      continue;
    }
    const settings = appSettingsOf(appSettings[0]!.properties);
    const literal = (key: string) => {
      const value = settings.get(key);
      return value?.kind === 'string' ? value.value : undefined;
    };
    for (const [prefix, property] of [
      ['AzureWebJobsStorage', 'accountName'],
      ['ServiceBusConnection', 'fullyQualifiedNamespace'],
    ] as const) {
      if (settings.has(prefix)) flag(module.name, `${prefix} is a connection string; use ${prefix}__${property} with the identity`);
      if (!settings.has(`${prefix}__${property}`)) flag(module.name, `${prefix}__${property} missing`);
      if (literal(`${prefix}__credential`) !== 'managedidentity') flag(module.name, `${prefix}__credential must be the literal managedidentity`);
      if (!settings.has(`${prefix}__clientId`)) flag(module.name, `${prefix}__clientId missing (user-assigned identity)`);
    }
    const aiAuth = settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
    const aiAuthFormat = isCall(aiAuth, 'format') ? aiAuth.args[0] : aiAuth;
    if (aiAuthFormat?.kind !== 'string' || !aiAuthFormat.value.includes('Authorization=AAD')) {
      flag(module.name, 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING must select Authorization=AAD');
    }
    for (const [key, value] of settings) {
      if (key.endsWith('CONNECTION_STRING') && key !== 'APPLICATIONINSIGHTS_CONNECTION_STRING') flag(module.name, `${key}: connection strings carry keys`);
      if (!SECRET_SETTING.test(key)) continue;
      const template = isCall(value, 'format') ? value.args[0] : undefined;
      if (template?.kind !== 'string' || template.value !== KEY_VAULT_REFERENCE) flag(module.name, `${key} must be a Key Vault reference`);
    }
    const storageAuth = valueAtPath(site, 'properties.functionAppConfig.deployment.storage.authentication.type');
    if (storageAuth !== 'UserAssignedIdentity') flag(module.name, `deployment storage authentication is ${JSON.stringify(storageAuth)}, must be UserAssignedIdentity`);
  }
  return findings;
}

function roleIdExpression(roleDefinitionId: unknown): Expr | undefined {
  if (!isExpression(roleDefinitionId)) return undefined;
  const expr = parseExpression(roleDefinitionId);
  if (isCall(expr, 'subscriptionResourceId') && expr.args.length === 2 && expr.args[0]?.kind === 'string' && expr.args[0].value === 'Microsoft.Authorization/roleDefinitions') {
    return expr.args[1];
  }
  return undefined;
}

/**
 * Role assignments: each scoped to one resource declared in the same template (never a resource
 * group or subscription), named guid(...), granting only allowlisted data-plane roles (resolved
 * through variables and copy loops); Cosmos DB SQL role assignments likewise, on the account.
 */
export function checkRoleAssignments(main: ArmTemplate): ArmFinding[] {
  const findings: ArmFinding[] = [];
  let seen = 0;
  for (const { name, template } of modulesOf(main)) {
    const flag = (message: string) => findings.push({ rule: 'role-assignments', module: name, message });
    const declaredTypes = new Set(template.resources.map((r) => r.type));
    const variables = template.variables ?? {};
    for (const resource of template.resources) {
      if (resource.type === 'Microsoft.Authorization/roleAssignments') {
        seen++;
        const type = scopeType(resource.scope);
        const parentType = type?.split('/').slice(0, 2).join('/');
        if (!type || !parentType || !declaredTypes.has(parentType)) {
          flag(`${resource.name}: scope ${JSON.stringify(resource.scope)} is not one resource of this template`);
        }
        if (!isExpression(resource.name) || !isCall(parseExpression(resource.name), 'guid')) flag(`${resource.name}: name must be guid(scope, principal, role)`);
        const roleExpr = roleIdExpression(resource.properties?.roleDefinitionId);
        const roles = roleExpr ? possibleValues(roleExpr, variables) : undefined;
        if (!roles) {
          flag(`${resource.name}: role ${JSON.stringify(resource.properties?.roleDefinitionId)} is not a statically known built-in role`);
          continue;
        }
        for (const role of roles.map((r) => String(r).toLowerCase())) {
          if (FORBIDDEN_ROLE_IDS[role]) flag(`${resource.name} grants ${FORBIDDEN_ROLE_IDS[role]}`);
          else if (!ALLOWED_ROLE_IDS[role]) flag(`${resource.name} grants ${role}, not an allowlisted data-plane role`);
        }
      }
      if (resource.type === 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments') {
        seen++;
        if (scopeType(resource.properties?.scope) !== 'Microsoft.DocumentDB/databaseAccounts') {
          flag(`${resource.name}: properties.scope must be the account`);
        }
        const roleDefinitionId = resource.properties?.roleDefinitionId;
        const expr = isExpression(roleDefinitionId) ? parseExpression(roleDefinitionId) : undefined;
        const ok = isCall(expr, 'format') && expr.args[0]?.kind === 'string' && expr.args[0].value === '{0}/sqlRoleDefinitions/{1}' && isCall(expr.args[1], 'resourceId');
        const roles = ok ? possibleValues(expr.args[2]!, variables) : undefined;
        if (!roles) {
          flag(`${resource.name}: role ${JSON.stringify(roleDefinitionId)} is not a statically known built-in Cosmos DB role`);
          continue;
        }
        for (const role of roles.map(String)) if (!ALLOWED_COSMOS_ROLE_IDS[role]) flag(`${resource.name} grants Cosmos DB role ${role}`);
      }
    }
  }
  if (seen === 0) findings.push({ rule: 'role-assignments', module: 'main', message: 'no role assignment in the compiled template' });
  return findings;
}

// Storage accounts log through their blob, queue and table services (the account has no log categories).
const STORAGE_SERVICES = ['blobServices', 'queueServices', 'tableServices'].map((s) => `Microsoft.Storage/storageAccounts/${s}`);

/**
 * Diagnostics: every resource that holds or moves PHI has a diagnostic setting scoped to it that
 * sends logs to the workspace parameter, and main.bicep hands every such module the workspace that
 * monitoring creates (the settings are conditional on that parameter being non-empty).
 */
export function checkDiagnostics(main: ArmTemplate): ArmFinding[] {
  const findings: ArmFinding[] = [];
  for (const { name, template, deployment } of modulesOf(main)) {
    const flag = (message: string) => findings.push({ rule: 'diagnostics', module: name, message });
    const settings = template.resources.filter((r) => r.type === 'Microsoft.Insights/diagnosticSettings');
    const covered = new Set(settings.map((s) => scopeType(s.scope)).filter((t): t is string => !!t));
    for (const setting of settings) {
      const properties = setting.properties ?? {};
      if (properties.workspaceId !== "[parameters('logAnalyticsWorkspaceId')]") flag(`${setting.name}: workspaceId must be the logAnalyticsWorkspaceId parameter`);
      const logs = (properties.logs as Array<{ enabled?: boolean }> | undefined) ?? [];
      if (!logs.some((l) => l.enabled === true)) flag(`${setting.name} on ${scopeType(setting.scope)} enables no logs`);
    }
    const phi = template.resources.filter((r) => (PHI_RESOURCE_TYPES as readonly string[]).includes(r.type));
    for (const resource of phi) {
      const needed = resource.type === 'Microsoft.Storage/storageAccounts' ? STORAGE_SERVICES : [resource.type];
      for (const type of needed) if (!covered.has(type)) flag(`${resource.type} ${resource.name}: no diagnostic setting on ${type}`);
    }
    if (phi.length > 0) {
      const given = (deployment?.properties?.parameters as Record<string, { value?: unknown }> | undefined)?.logAnalyticsWorkspaceId?.value;
      const fromMonitoring =
        typeof given === 'string' && given.includes("'Microsoft.Resources/deployments', 'monitoring')") && given.endsWith('.outputs.logAnalyticsWorkspaceId.value]');
      if (!fromMonitoring) flag(`main passes logAnalyticsWorkspaceId ${JSON.stringify(given)}, not the monitoring module's workspace`);
    }
  }
  return findings;
}

export function checkArmPolicies(main: ArmTemplate): ArmFinding[] {
  return [...checkSecureDefaults(main), ...checkIdentityOnly(main), ...checkRoleAssignments(main), ...checkDiagnostics(main), ...checkAlertReferences(main)];
}

export function formatArmFindings(findings: readonly ArmFinding[]): string {
  return findings.map((f) => `${f.module} [${f.rule}] ${f.message}`).join('\n');
}

// ---- alert references -----------------------------------------------------------------------

export const ALERT_TYPES = ['Microsoft.Insights/metricAlerts', 'Microsoft.Insights/scheduledQueryRules', 'Microsoft.Insights/activityLogAlerts'];
/** Tables a workspace-based Application Insights component writes; the only tables the log alerts may read. */
export const APP_INSIGHTS_TABLES = ['AppTraces', 'AppRequests', 'AppExceptions', 'AppDependencies', 'AppMetrics', 'AppEvents'];

const RESOURCE_ID = /^\[resourceId\('([^']+)', (.+)\)\]$/;
const MODULE_OUTPUT = /'Microsoft\.Resources\/deployments', '([^']+)'\), '[^']+'\)\.outputs\.(\w+)\.value\]$/;

/** The ids a rule or budget points at: scopes, action groups, budget contact groups. */
function referencesOf(resource: ArmResource): { what: string; value: unknown }[] {
  const p = resource.properties ?? {};
  const out: { what: string; value: unknown }[] = [];
  for (const scope of (p.scopes as unknown[] | undefined) ?? []) out.push({ what: 'scope', value: scope });
  const actions = p.actions;
  if (Array.isArray(actions)) for (const a of actions) out.push({ what: 'action group', value: (a as { actionGroupId?: unknown }).actionGroupId });
  else if (actions && typeof actions === 'object') for (const g of ((actions as { actionGroups?: unknown[] }).actionGroups ?? [])) out.push({ what: 'action group', value: g });
  if (resource.type === 'Microsoft.Consumption/budgets') {
    // Notifications compile to one toObject(...) expression: each action group id inside it.
    for (const value of strings(p.notifications)) {
      for (const m of value.matchAll(/resourceId\('Microsoft\.Insights\/actionGroups', ([^()]*(?:\([^()]*\))?)\)/g)) {
        out.push({ what: 'contact group', value: `[resourceId('Microsoft.Insights/actionGroups', ${m[1]})]` });
      }
    }
  }
  return out;
}

/**
 * Where a `resourceId('<type>', <name>)` in module `module` points: a resource of that type the same
 * module creates under that name, or a module parameter that main fills from another module's output
 * naming a resource that module creates. Returns the finding message, or undefined when it resolves.
 */
function unresolvedReference(main: ArmTemplate, module: ArmModule, reference: unknown): string | undefined {
  const m = typeof reference === 'string' ? RESOURCE_ID.exec(reference) : null;
  if (!m) return `${JSON.stringify(reference)} is not resourceId('<type>', <name>) of a resource in this template`;
  const [, type, name] = m as unknown as [string, string, string];
  const creates = (template: ArmTemplate, nameValue: unknown) =>
    template.resources.some((r) => r.type === type && r.name === nameValue && r.condition === undefined && r.existing !== true);
  if (creates(module.template, `[${name}]`)) return undefined;
  const param = /^parameters\('(\w+)'\)$/.exec(name)?.[1];
  if (!param || !module.deployment) return `${type} named ${name} is not created by ${module.name}`;
  const passed = (module.deployment.properties?.parameters as Record<string, { value?: unknown }> | undefined)?.[param]?.value;
  const output = typeof passed === 'string' ? MODULE_OUTPUT.exec(passed) : null;
  if (!output) return `${module.name} parameter ${param} (a ${type}) is not another module's output: ${JSON.stringify(passed)}`;
  const [, source, outputName] = output as unknown as [string, string, string];
  const sourceModule = modulesOf(main).find((x) => x.name === source);
  const outputValue = (sourceModule?.template.outputs?.[outputName] as { value?: unknown } | undefined)?.value;
  if (!sourceModule || !creates(sourceModule.template, outputValue)) {
    return `${module.name} parameter ${param}: output ${source}.${outputName} does not name a ${type} that ${source} creates unconditionally`;
  }
  return undefined;
}

/** Tables a KQL query text reads (the first word of the query and of each union or join leg). */
export function kqlTables(query: string): string[] {
  return [...query.matchAll(/(?:^|union\s+\(?|,\s*\(|join\s+(?:kind\s*=\s*\w+\s+)?\(?)\s*([A-Z][A-Za-z]+)\b(?=\s*(?:\||\{|\)|,|$))/g)].map((x) => x[1]!);
}

/**
 * Rule alert-references: alert rules and budgets reference only resources this template creates
 * (scopes, action groups, contact groups), and log alerts read only tables that the template's
 * workspace-based Application Insights component writes, in the workspace it writes them to.
 */
export function checkAlertReferences(main: ArmTemplate): ArmFinding[] {
  const findings: ArmFinding[] = [];
  const components = modulesOf(main).flatMap((module) =>
    module.template.resources.filter((r) => r.type === 'Microsoft.Insights/components').map((r) => ({ module, component: r })),
  );
  for (const module of modulesOf(main)) {
    if (module.template.resources.some((r) => r.type === 'Microsoft.Insights/scheduledQueryRules')) {
      // The query texts: every string variable of the module that reads a table (queries are built with format()).
      const queries = Object.values(module.template.variables ?? {})
        .flatMap((v) => [...strings(v)])
        .filter((v) => v.includes('|') && kqlTables(v).length > 0);
      for (const table of new Set(queries.flatMap(kqlTables))) {
        if (!APP_INSIGHTS_TABLES.includes(table)) {
          findings.push({ rule: 'alert-references', module: module.name, message: `a log alert query reads ${table}, which no resource of this template writes` });
        }
      }
    }
    for (const resource of module.template.resources.filter((r) => [...ALERT_TYPES, 'Microsoft.Consumption/budgets'].includes(r.type))) {
      for (const { what, value } of referencesOf(resource)) {
        const problem = unresolvedReference(main, module, value);
        if (problem) findings.push({ rule: 'alert-references', module: module.name, message: `${resource.type} ${resource.name}: ${what}: ${problem}` });
      }
      if (resource.type !== 'Microsoft.Insights/scheduledQueryRules') continue;
      // The workspace the rule queries is the one an Application Insights component of this template writes to.
      for (const scope of ((resource.properties?.scopes as unknown[] | undefined) ?? []).filter((s) => String(s).includes('Microsoft.OperationalInsights/workspaces'))) {
        const param = /parameters\('(\w+)'\)\)\]$/.exec(String(scope))?.[1];
        const passed = param ? (module.deployment?.properties?.parameters as Record<string, { value?: unknown }> | undefined)?.[param]?.value : undefined;
        const output = typeof passed === 'string' ? MODULE_OUTPUT.exec(passed) : null;
        const sourceModule = output ? modulesOf(main).find((x) => x.name === output[1]) : undefined;
        const workspaceName = (sourceModule?.template.outputs?.[output?.[2] ?? ''] as { value?: unknown } | undefined)?.value;
        const writes = components.some(
          ({ module: m, component }) =>
            m.name === sourceModule?.name && component.properties?.WorkspaceResourceId === `[resourceId('Microsoft.OperationalInsights/workspaces', ${String(workspaceName).slice(1, -1)})]`,
        );
        if (!writes) {
          findings.push({ rule: 'alert-references', module: module.name, message: `${resource.type} ${resource.name}: queries a workspace no Application Insights component of this template writes to` });
        }
      }
    }
  }
  return findings;
}
