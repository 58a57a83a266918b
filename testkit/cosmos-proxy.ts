import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny HTTP proxy in front of the local Cosmos server: counts document operations by kind (to
 * measure requests per use case) and can answer some of them with 429/503 instead of forwarding
 * (to show throttling is retried and nothing is lost). Used by bench/cosmos.ts and the integration tests.
 */

export type OpKind = 'read' | 'create' | 'upsert' | 'replace' | 'patch' | 'delete' | 'query' | 'batch' | 'other';

export interface Fault {
  status: 429 | 503;
  /** Fail every nth document request (1 = all). */
  every: number;
  /** Stop after this many injected failures. */
  limit: number;
  retryAfterMs?: number;
}

export interface CountingProxy {
  endpoint: string;
  /** Document operations forwarded since the last reset, by kind. */
  counts(): Record<OpKind, number> & { total: number; injected: number };
  reset(): void;
  inject(fault: Fault | undefined): void;
  /**
   * Answer a failed transactional batch the way Azure does (HTTP status of the failing operation,
   * the results as the body) instead of the local server's 200, so the SDK throws as it would in Azure.
   */
  azureBatchErrors(on: boolean): void;
  close(): Promise<void>;
}

function kindOf(req: http.IncomingMessage): OpKind | undefined {
  const path = req.url ?? '';
  if (!/\/docs(\/|$|\?)/.test(path)) return undefined; // metadata (account, collections, pkranges)
  const h = req.headers;
  if (String(h['x-ms-cosmos-is-batch-request'] ?? '').toLowerCase() === 'true') return 'batch';
  if (String(h['x-ms-documentdb-isquery'] ?? '').toLowerCase() === 'true' || String(h['content-type'] ?? '').includes('query+json')) return 'query';
  switch (req.method) {
    case 'GET':
      return 'read';
    case 'POST':
      return String(h['x-ms-documentdb-is-upsert'] ?? '').toLowerCase() === 'true' ? 'upsert' : 'create';
    case 'PUT':
      return 'replace';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'other';
  }
}

const zero = (): Record<OpKind, number> => ({ read: 0, create: 0, upsert: 0, replace: 0, patch: 0, delete: 0, query: 0, batch: 0, other: 0 });

export async function startCountingProxy(targetEndpoint: string): Promise<CountingProxy> {
  const target = new URL(targetEndpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let counts = zero();
  let injected = 0;
  let seen = 0;
  let fault: Fault | undefined;
  let azureBatch = false;
  const server = http.createServer((req, res) => {
    const kind = kindOf(req);
    if (kind) {
      seen++;
      if (fault && injected < fault.limit && seen % fault.every === 0) {
        injected++;
        req.resume();
        res.writeHead(fault.status, {
          'content-type': 'application/json',
          'x-ms-retry-after-ms': String(fault.retryAfterMs ?? 5),
          'x-ms-activity-id': '00000000-0000-0000-0000-000000000000',
        });
        res.end(JSON.stringify({ code: fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: 'injected by the test proxy' }));
        return;
      }
      counts[kind]++;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent },
      (up) => {
        if (!(azureBatch && kind === 'batch' && up.statusCode === 200)) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          let status = 200;
          try {
            const ops = JSON.parse(body.toString('utf8')) as { statusCode: number }[];
            status = ops.find((o) => o.statusCode >= 400 && o.statusCode !== 424)?.statusCode ?? 200;
          } catch {
            // not JSON: pass through
          }
          res.writeHead(status, { ...up.headers, 'content-length': String(body.length) });
          res.end(body);
        });
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts, total: Object.values(counts).reduce((a, b) => a + b, 0), injected }),
    reset: () => {
      counts = zero();
      injected = 0;
      seen = 0;
    },
    inject: (f) => {
      fault = f;
      injected = 0;
      seen = 0;
    },
    azureBatchErrors: (on) => {
      azureBatch = on;
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
