import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getServices } from '../app/services';

/**
 * GET /api/health (anonymous; excluded from App Service Authentication): 200 {status: "ok"} when the
 * app's services are built and Cosmos DB answers a database read with the app's identity, else 503.
 * The local host answers this path itself (it also knows the broker and durable backend).
 */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const services = await getServices();
    await services.cosmos?.database.read();
    return { status: 200, jsonBody: { status: 'ok' }, headers: { 'cache-control': 'no-store' } };
  } catch (e) {
    context.warn(`health: not ready (${e instanceof Error ? e.name : 'error'})`);
    return { status: 503, jsonBody: { status: 'unavailable' }, headers: { 'cache-control': 'no-store' } };
  }
}

app.http('health', { route: 'api/health', methods: ['GET'], authLevel: 'anonymous', handler: health });
