/**
 * A tiny loopback HTTP server that hands each request to the handlers registered in this process (through
 * the api-harness capture), so browser tests can drive the console and the API without the local host.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { invoke } from './api-harness';

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
}

export async function startApiServer(): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      const headers = Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
      const rawBody = await readBody(req);
      const r = await invoke(req.method ?? 'GET', req.url ?? '/', { headers, principal: null, ...(rawBody !== undefined ? { rawBody } : {}) });
      res.writeHead(r.status, Object.fromEntries(r.headers.entries()));
      res.end(r.text);
    } catch (e) {
      const notFound = e instanceof Error && e.message.startsWith('no route for');
      res.writeHead(notFound ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(notFound ? 'Not found' : 'Internal error');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
