import type { IncomingMessage, ServerResponse } from 'node:http';
import { DurableBackend, InstanceExistsError, InstanceNotFoundError, InstanceNotRunningError } from './backend';
import type { RuntimeStatus } from './store';

/**
 * The durable client's HTTP API (what `df.getClient(context)` calls through `rpcBaseUrl`), served
 * by the local host under {@link DURABLE_API_PATH}. Status codes follow the Durable Functions HTTP
 * API: start 202, status 200/202/400/404, raise event 202/404/410, terminate 202/404/410.
 */

export const DURABLE_API_PATH = '/runtime/webhooks/durabletask/';
export const TASK_HUB_NAME = 'SlotflowLocal';

/** The `durableClient` input binding value, as the extension would bind it. */
export function durableClientBindingData(baseUrl: string): Record<string, unknown> {
  const rpcBaseUrl = new URL(DURABLE_API_PATH, baseUrl).href;
  const qs = `taskHub=${TASK_HUB_NAME}&connection=Storage`;
  const instance = `${rpcBaseUrl}instances/INSTANCEID`;
  return {
    taskHubName: TASK_HUB_NAME,
    creationUrls: {
      createNewInstancePostUri: `${rpcBaseUrl}orchestrators/{functionName}[/{instanceId}]?${qs}`,
      createAndWaitOnNewInstancePostUri: `${rpcBaseUrl}orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${qs}`,
    },
    managementUrls: {
      id: 'INSTANCEID',
      statusQueryGetUri: `${instance}?${qs}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${qs}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${qs}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${qs}`,
      purgeHistoryDeleteUri: `${instance}?${qs}`,
      restartPostUri: `${instance}/restart?${qs}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${qs}`,
      resumePostUri: `${instance}/resume?reason={text}&${qs}`,
    },
    baseUrl: rpcBaseUrl,
    requiredQueryStringParameters: qs,
    rpcBaseUrl,
    httpBaseUrl: rpcBaseUrl,
    maxGrpcMessageSizeInBytes: 0,
    grpcHttpClientTimeout: '00:01:40',
  };
}

function managementPayload(baseUrl: string, instanceId: string): Record<string, string> {
  const urls = durableClientBindingData(baseUrl).managementUrls as Record<string, string>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(urls)) out[k] = v.replace('INSTANCEID', encodeURIComponent(instanceId));
  out.id = instanceId;
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers });
  res.end(text);
}

class NotDurableError extends Error {}

/** What a client asked for is answered only once it is on disk (a hard kill after the answer loses none of it). */
async function durable(backend: DurableBackend): Promise<void> {
  try {
    await backend.whenDurable();
  } catch (err) {
    throw new NotDurableError(`The local durable store could not write the change: ${(err as Error).message}`);
  }
}

/** Handles a request under DURABLE_API_PATH. */
export async function handleDurableApi(backend: DurableBackend, baseUrl: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', baseUrl);
  const parts = url.pathname.slice(DURABLE_API_PATH.length).split('/').filter(Boolean).map(decodeURIComponent);
  const method = (req.method ?? 'GET').toUpperCase();
  const body = method === 'POST' || method === 'PUT' ? await readBody(req) : '';
  try {
    // POST orchestrators/{name}[/{instanceId}]
    if (parts[0] === 'orchestrators' && method === 'POST' && parts.length >= 2 && parts.length <= 3) {
      const name = parts[1] as string;
      const input = body.trim() === '' ? undefined : (JSON.parse(body) as unknown);
      const instanceId = backend.startNew(name, { instanceId: parts[2], input });
      await durable(backend);
      const payload = managementPayload(baseUrl, instanceId);
      return send(res, 202, payload, { location: payload.statusQueryGetUri as string });
    }
    if (parts[0] === 'instances') {
      const instanceId = parts[1];
      if (!instanceId && method === 'GET') {
        const statuses = url.searchParams.get('runtimeStatus')?.split(',').filter(Boolean) as RuntimeStatus[] | undefined;
        const from = url.searchParams.get('createdTimeFrom');
        const to = url.searchParams.get('createdTimeTo');
        return send(
          res,
          200,
          backend.list({
            runtimeStatus: statuses,
            createdTimeFrom: from ? new Date(from) : undefined,
            createdTimeTo: to ? new Date(to) : undefined,
          }),
        );
      }
      if (!instanceId) return send(res, 404, { message: 'instance id required' });
      const action = parts[2];
      if (!action && method === 'GET') {
        const status = backend.getStatus(instanceId, {
          showHistory: url.searchParams.get('showHistory') === 'true',
          showInput: url.searchParams.get('showInput') !== 'false',
        });
        if (!status) return send(res, 404, { message: `No instance with ID '${instanceId}' found.` });
        const code = status.runtimeStatus === 'Completed' ? 200 : status.runtimeStatus === 'Failed' || status.runtimeStatus === 'Terminated' ? 400 : 202;
        return send(res, code, status);
      }
      if (!action && method === 'DELETE') {
        const purged = backend.purge(instanceId);
        await durable(backend);
        return purged ? send(res, 200, { instancesDeleted: 1 }) : send(res, 404, { instancesDeleted: 0 });
      }
      if (action === 'raiseEvent' && method === 'POST' && parts[3]) {
        backend.raiseEvent(instanceId, parts[3], body);
        await durable(backend);
        return send(res, 202);
      }
      if (action === 'terminate' && method === 'POST') {
        backend.terminate(instanceId, url.searchParams.get('reason') ?? undefined);
        await durable(backend);
        return send(res, 202);
      }
      if (action === 'suspend' && method === 'POST') {
        backend.suspend(instanceId);
        await durable(backend);
        return send(res, 202);
      }
      if (action === 'resume' && method === 'POST') {
        backend.resume(instanceId);
        await durable(backend);
        return send(res, 202);
      }
    }
    return send(res, 501, { message: `The local durable backend does not implement ${method} ${parts.join('/')}` });
  } catch (err) {
    if (err instanceof NotDurableError) return send(res, 503, { message: err.message });
    if (err instanceof InstanceNotFoundError) return send(res, 404, { message: err.message });
    if (err instanceof InstanceNotRunningError) return send(res, 410, { message: err.message });
    if (err instanceof InstanceExistsError) return send(res, 409, { message: err.message });
    if (err instanceof SyntaxError) return send(res, 400, { message: 'Request body is not valid JSON' });
    return send(res, 400, { message: (err as Error).message });
  }
}
