/**
 * Route templates as the Functions host (ASP.NET Core routing) reads them: literal segments,
 * `{name}`, `{name?}` (optional), `{name:constraint}` and `{*rest}` (catch-all). Matching is
 * case-insensitive for literals; more specific routes win (literal > constrained > plain >
 * optional > catch-all, compared segment by segment).
 */

export interface CompiledRoute<T> {
  template: string;
  methods: Set<string>;
  regex: RegExp;
  paramNames: string[];
  /** Precedence key: lower sorts first. */
  rank: number[];
  target: T;
}

const CONSTRAINTS: Record<string, string> = {
  int: '-?\\d+',
  long: '-?\\d+',
  decimal: '-?\\d+(?:\\.\\d+)?',
  double: '-?\\d+(?:\\.\\d+)?',
  float: '-?\\d+(?:\\.\\d+)?',
  bool: '(?:true|false)',
  guid: '[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}',
  alpha: '[A-Za-z]+',
};

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Joins the route prefix and a function's route the way the host does. */
export function fullRoute(routePrefix: string, route: string): string {
  const prefix = routePrefix.replace(/^\/+|\/+$/g, '');
  const path = route.replace(/^\/+|\/+$/g, '');
  return [prefix, path].filter(Boolean).join('/');
}

export function compileRoute<T>(template: string, methods: string[], target: T): CompiledRoute<T> {
  const paramNames: string[] = [];
  const rank: number[] = [];
  let pattern = '^';
  const segments = template.split('/').filter((s) => s.length > 0);
  for (const segment of segments) {
    const tokens = segment.split(/(\{[^}]+\})/).filter((t) => t.length > 0);
    let segPattern = '';
    let segRank = 0;
    let optional = false;
    for (const token of tokens) {
      if (!token.startsWith('{')) {
        segPattern += escapeRegex(token);
        continue;
      }
      let inner = token.slice(1, -1);
      const catchAll = inner.startsWith('*');
      if (catchAll) inner = inner.replace(/^\*+/, '');
      if (inner.endsWith('?')) {
        optional = true;
        inner = inner.slice(0, -1);
      }
      const [name, ...constraints] = inner.split(':');
      const defaultSep = (name ?? '').indexOf('=');
      const paramName = defaultSep >= 0 ? (name ?? '').slice(0, defaultSep) : (name ?? '');
      paramNames.push(paramName);
      const constraint = constraints.map((c) => CONSTRAINTS[c.replace(/\(.*$/, '').toLowerCase()]).find(Boolean);
      if (catchAll) {
        segPattern += '(.*)';
        segRank = Math.max(segRank, 5);
      } else {
        segPattern += `(${constraint ?? '[^/]+'})`;
        segRank = Math.max(segRank, optional ? 4 : constraint ? 2 : 3);
      }
    }
    rank.push(tokens.length > 0 && segRank === 0 ? 1 : segRank);
    pattern += optional || segRank === 5 ? `(?:/${segPattern})?` : `/${segPattern}`;
  }
  pattern += '/?$';
  return {
    template,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    regex: new RegExp(pattern, 'i'),
    paramNames,
    rank,
    target,
  };
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) {
      // A missing segment (shorter route) sorts after an existing literal but before parameters.
      if (x === 0) return y === 1 ? 1 : -1;
      if (y === 0) return x === 1 ? -1 : 1;
      return x - y;
    }
  }
  return 0;
}

export class Router<T> {
  private routes: CompiledRoute<T>[] = [];

  add(template: string, methods: string[], target: T): void {
    this.routes.push(compileRoute(template, methods, target));
    this.routes.sort((a, b) => compareRank(a.rank, b.rank));
  }

  /** The best route for a path; `methodAllowed` false when the path matched only with other methods. */
  match(method: string, pathname: string): { route?: CompiledRoute<T>; params: Record<string, string>; pathMatched: boolean } {
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (!route.methods.has(method.toUpperCase())) continue;
      const params: Record<string, string> = {};
      route.paramNames.forEach((name, i) => {
        const v = m[i + 1];
        if (v !== undefined) params[name] = safeDecode(v);
      });
      return { route, params, pathMatched };
    }
    return { params: {}, pathMatched };
  }

  all(): CompiledRoute<T>[] {
    return [...this.routes];
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
