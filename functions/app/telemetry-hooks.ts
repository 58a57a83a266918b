/**
 * One span per invocation, for every function, from two invocation hooks (`app.hook.preInvocation`,
 * which the Functions host and the local host both run): the handler is wrapped in a span whose parent
 * is the caller's trace context.
 *
 * - HTTP: a SERVER span `METHOD /route`; parent: the host's trace context (Azure) or the request's
 *   `traceparent` header. Every response gets the span's `traceparent` header.
 * - Service Bus: a CONSUMER span `servicebus.process <subscription>`; parent: the message's
 *   `traceparent` (the CloudEvent's distributed-tracing extension, then the application properties
 *   `traceparent` / `Diagnostic-Id`).
 * - Activities: an `activity <name>` span under the orchestration episode that scheduled it (the trace
 *   context travels in the activity input, wrapped by orchestrations/tracing.ts and unwrapped here).
 * - Orchestrations: no span per replay; the episode span is opened by orchestrations/tracing.ts only
 *   when the episode does new work, and ended here when the episode ends.
 * - Timers: no span of their own (the outbox relay would make a trace every few seconds); what they
 *   publish carries the trace context stored with the event.
 *
 * In Azure (`SLOTFLOW_TELEMETRY=azure-monitor`), the first invocation loads the Azure Monitor
 * OpenTelemetry distro (a separate bundle file, never loaded at import) and points it at Application
 * Insights with the app's managed identity.
 */
import { app, HttpResponse, type HttpRequest, type HttpResponseInit, type InvocationContext, type PreInvocationContext } from '@azure/functions';
import { context as otelContext, createContextKey, SpanKind, type Context, type Span } from '@opentelemetry/api';
import { onSolved } from '../../domain/optimizer/observe';
import { contextOfTraceparent, formatTraceparent, inSpan, parseTraceparent, setSpanAttributes, telemetryMetrics, unwrapActivityInput } from './telemetry';

/** What orchestrations/tracing.ts needs to know about the episode being run. */
export interface EpisodeScope {
  startTime: number;
  span?: Span;
}
export const EPISODE_KEY = createContextKey('slotflow.durable.episode');

/** The episode the active orchestrator invocation runs in (undefined outside one, or without a context manager). */
export function currentEpisode(): EpisodeScope | undefined {
  return otelContext.active().getValue(EPISODE_KEY) as EpisodeScope | undefined;
}

type Handler = (...args: unknown[]) => unknown;

let exporterChecked = false;

/** Starts the Azure Monitor distro once, on the first invocation, when the app setting asks for it. */
export function startAzureMonitorOnce(env: NodeJS.ProcessEnv = process.env): 'started' | 'off' | 'failed' {
  if (exporterChecked) return 'off';
  exporterChecked = true;
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (env.SLOTFLOW_TELEMETRY !== 'azure-monitor' || !connectionString) return 'off';
  try {
    // Required here, not at import: the distro and its instrumentations are a separate bundle file (scripts/bundle.cjs).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { useAzureMonitor } = require('@azure/monitor-opentelemetry') as typeof import('@azure/monitor-opentelemetry');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
    const clientId = env.AZURE_CLIENT_ID;
    useAzureMonitor({
      // Entra ID ingestion: Application Insights has local auth disabled (bicep/modules/monitoring.bicep).
      azureMonitorExporterOptions: { connectionString, credential: new ManagedIdentityCredential(clientId ? { clientId } : {}) },
      // Cosmos DB and Service Bus calls have spans of their own (adapters); the SDKs' would repeat them.
      instrumentationOptions: {
        azureSdk: { enabled: false },
        mongoDb: { enabled: false },
        mySql: { enabled: false },
        postgreSql: { enabled: false },
        redis: { enabled: false },
        redis4: { enabled: false },
      },
    });
    return 'started';
  } catch (e) {
    console.warn(`telemetry: Azure Monitor exporter not started (${e instanceof Error ? e.name : 'error'})`);
    return 'failed';
  }
}

/** The `traceparent` the Functions host gives the invocation (Azure; the local host gives none). */
function hostTraceparent(context: InvocationContext): string | undefined {
  const tp = context.traceContext?.traceParent;
  return parseTraceparent(tp) ? tp! : undefined;
}

/** A response with the `traceparent` header set. */
export function withTraceparentHeader(result: unknown, traceparent: string): unknown {
  if (result instanceof HttpResponse) {
    result.headers.set('traceparent', traceparent);
    return result;
  }
  if (result === undefined || result === null || typeof result !== 'object') return result;
  const init = result as HttpResponseInit;
  const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
  headers.set('traceparent', traceparent);
  return { ...init, headers };
}

function statusOf(result: unknown): number | undefined {
  if (result instanceof HttpResponse) return result.status;
  const s = (result as HttpResponseInit | undefined)?.status;
  return typeof s === 'number' ? s : undefined;
}

/** Route parameters that are ids (`appointmentId` -> `slotflow.appointment_id`), so an appointment's traces can be found. */
function routeIdAttributes(params: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params ?? {})) if (/Id$/.test(k)) out[`slotflow.${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`] = v;
  return out;
}

function tracedHttp(handler: Handler, context: InvocationContext): Handler {
  return async (request: unknown, ...rest: unknown[]) => {
    const req = request as HttpRequest;
    const route = typeof context.options.trigger.route === 'string' ? `/${context.options.trigger.route}` : `/${context.functionName}`;
    const parent = contextOfTraceparent(hostTraceparent(context) ?? req.headers.get('traceparent'));
    return inSpan(
      `${req.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        parent: parent ?? otelContext.active(),
        childOnly: false,
        attributes: {
          'http.request.method': req.method,
          'http.route': route,
          'faas.name': context.functionName,
          'faas.invocation_id': context.invocationId,
          ...routeIdAttributes(req.params),
        },
      },
      async (span) => {
        const result = await handler(request, ...rest);
        if (!span) return result;
        const status = statusOf(result) ?? 200;
        setSpanAttributes(span, { 'http.response.status_code': status });
        if (status >= 500) span.setStatus({ code: 2, message: String(status) });
        return withTraceparentHeader(result, formatTraceparent(span.spanContext()));
      },
    );
  };
}

/** The `traceparent` a Service Bus message carries: the CloudEvent attribute, else the application properties. */
export function messageTraceparent(body: unknown, applicationProperties: unknown): string | undefined {
  const first = Array.isArray(body) ? body[0] : body;
  let fromBody: unknown;
  if (first && typeof first === 'object' && !Buffer.isBuffer(first)) fromBody = (first as { traceparent?: unknown }).traceparent;
  else if (typeof first === 'string' || Buffer.isBuffer(first)) fromBody = /"traceparent"\s*:\s*"([^"]{55})"/.exec(String(first))?.[1];
  const props = (applicationProperties ?? {}) as Record<string, unknown>;
  for (const candidate of [fromBody, props.traceparent, props['Diagnostic-Id']]) if (parseTraceparent(candidate)) return candidate as string;
  return undefined;
}

function tracedServiceBus(handler: Handler, context: InvocationContext): Handler {
  return async (message: unknown, ...rest: unknown[]) => {
    const meta = (context.triggerMetadata ?? {}) as Record<string, unknown>;
    const props = (meta.applicationProperties ?? (meta.applicationPropertiesArray as unknown[] | undefined)?.[0]) as Record<string, unknown> | undefined;
    const trigger = context.options.trigger;
    const subscription = String(trigger.subscriptionName ?? trigger.queueName ?? context.functionName);
    const parent = contextOfTraceparent(hostTraceparent(context) ?? messageTraceparent(message, props));
    return inSpan(
      `servicebus.process ${subscription}`,
      {
        kind: SpanKind.CONSUMER,
        parent: parent ?? otelContext.active(),
        childOnly: false,
        attributes: {
          'messaging.system': 'servicebus',
          'messaging.operation.type': 'process',
          'messaging.destination.name': typeof trigger.topicName === 'string' ? trigger.topicName : String(trigger.queueName ?? ''),
          'messaging.destination.subscription.name': subscription,
          'messaging.message.id': typeof meta.messageId === 'string' ? meta.messageId : undefined,
          'messaging.servicebus.message.delivery_count': typeof meta.deliveryCount === 'number' ? meta.deliveryCount : undefined,
          'cloudevents.event_type': typeof props?.type === 'string' ? props.type : undefined,
          'cloudevents.event_subject': typeof props?.subject === 'string' ? props.subject : undefined,
          'faas.name': context.functionName,
        },
      },
      () => Promise.resolve(handler(message, ...rest)),
    );
  };
}

function tracedActivity(handler: Handler, context: InvocationContext, traceparent: string): Handler {
  return (input: unknown, ...rest: unknown[]) =>
    inSpan(
      `activity ${context.functionName}`,
      {
        parent: contextOfTraceparent(traceparent)!,
        attributes: {
          'faas.name': context.functionName,
          'slotflow.instance_id': String((context.triggerMetadata as { instanceId?: unknown } | undefined)?.instanceId ?? ''),
        },
      },
      () => Promise.resolve(handler(input, ...rest)),
    );
}

function tracedEpisode(handler: Handler): Handler {
  return async (...args: unknown[]) => {
    const episode: EpisodeScope = { startTime: Date.now() };
    const ctx: Context = otelContext.active().setValue(EPISODE_KEY, episode);
    try {
      return await otelContext.with(ctx, () => Promise.resolve(handler(...args)));
    } finally {
      episode.span?.end();
    }
  };
}

/** The hook: wraps the invocation's handler by trigger type (exported for tests). */
export function instrumentInvocation(hook: Pick<PreInvocationContext, 'invocationContext' | 'inputs' | 'functionHandler'>): void {
  startAzureMonitorOnce();
  const context = hook.invocationContext;
  const type = String(context.options.trigger.type).toLowerCase();
  const handler = hook.functionHandler as Handler;
  if (type === 'httptrigger') hook.functionHandler = tracedHttp(handler, context);
  else if (type === 'servicebustrigger') hook.functionHandler = tracedServiceBus(handler, context);
  else if (type === 'orchestrationtrigger') hook.functionHandler = tracedEpisode(handler);
  else if (type === 'activitytrigger') {
    const { input, traceparent } = unwrapActivityInput(hook.inputs[0]);
    hook.inputs[0] = input;
    if (traceparent) hook.functionHandler = tracedActivity(handler, context, traceparent);
  }
}

/** True where a Functions host (Azure's or the local one) provides `@azure/functions-core`; unit tests have none. */
function hostPresent(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@azure/functions-core');
    return true;
  } catch {
    return false;
  }
}

if (hostPresent()) app.hook.preInvocation(instrumentInvocation);
// The optimizer's solve time (the domain announces each solve; recording it is the edge's business).
onSolved((o) => telemetryMetrics.optimizerSolve(o.solveMs, o.status, o.purpose));
