/**
 * Orchestrations in the trace of what started them. The starter puts the active `traceparent` into the
 * orchestration input (functions/app/event-trigger.ts `startOnce`); `tracedOrchestrator` wraps an
 * orchestrator so that:
 * - an episode that does new work (schedules an activity, or completes) gets one span
 *   `orchestration <name>` under that `traceparent`: spans are opened only when not replaying, so a
 *   replay never repeats one;
 * - every activity it schedules carries that episode span's context in its input (unwrapped by
 *   functions/app/telemetry-hooks.ts before the activity runs), so `activity <name>` spans and what
 *   they do (Cosmos calls, SMS sends, events published) sit under the episode that decided them.
 * An orchestration span cannot cover the whole instance (its episodes run in separate invocations,
 * possibly on other instances), hence one span per deciding episode.
 * Nothing here changes what the orchestrator decides: the wrapper passes every yielded task and result
 * through unchanged, reads time only from `currentUtcDateTime`, and without a trace context in the
 * input it is the orchestrator itself.
 */
import type * as df from 'durable-functions';
import { context as otelContext, trace } from '@opentelemetry/api';
import { currentEpisode } from '../functions/app/telemetry-hooks';
import {
  contextOfTraceparent,
  failSpan,
  formatTraceparent,
  INSTRUMENTATION_NAME,
  safeAttributes,
  traceparentOfInput,
  wrapActivityInput,
} from '../functions/app/telemetry';

type OrchestrationHandler = df.OrchestrationHandler;

function isGenerator<O>(value: unknown): value is Generator<df.Task, O, unknown> {
  return !!value && typeof (value as Generator<df.Task>).next === 'function' && typeof (value as Generator<df.Task>).throw === 'function';
}

export interface OrchestrationTelemetry<O> {
  /** Called once, when the orchestration completes (not on replay), with its output and start/end times (ms). */
  completed?(output: O, times: { startedAt: number; endedAt: number }): void;
}

/** The orchestrator, traced (see the file comment). */
export function tracedOrchestrator<O = unknown>(
  name: string,
  orchestrator: OrchestrationHandler,
  telemetry: OrchestrationTelemetry<O> = {},
): OrchestrationHandler {
  return function* (context: df.OrchestrationContext): Generator<df.Task, O, unknown> {
    const d = context.df;
    const startedAt = d.currentUtcDateTime.getTime();
    const parent = traceparentOfInput(d.getInput());
    let episodeTraceparent: string | undefined;
    const episodeSpan = (): string | undefined => {
      if (!parent) return undefined;
      if (d.isReplaying) return parent;
      if (episodeTraceparent) return episodeTraceparent;
      const episode = currentEpisode();
      const span = trace.getTracer(INSTRUMENTATION_NAME).startSpan(
        `orchestration ${name}`,
        {
          attributes: safeAttributes({ 'slotflow.orchestration': name, 'slotflow.instance_id': d.instanceId }),
          ...(episode ? { startTime: episode.startTime } : {}),
        },
        contextOfTraceparent(parent) ?? otelContext.active(),
      );
      if (episode) episode.span = span;
      else span.end();
      episodeTraceparent = formatTraceparent(span.spanContext());
      return episodeTraceparent;
    };
    if (parent) {
      const callActivity = d.callActivity.bind(d);
      const callActivityWithRetry = d.callActivityWithRetry.bind(d);
      d.callActivity = (activity: string, input?: unknown) => callActivity(activity, wrapActivityInput(input, episodeSpan()));
      d.callActivityWithRetry = (activity: string, retry: df.RetryOptions, input?: unknown) =>
        callActivityWithRetry(activity, retry, wrapActivityInput(input, episodeSpan()));
    }
    let output: O;
    try {
      const run = orchestrator(context) as Generator<df.Task, O, unknown> | O;
      output = isGenerator(run) ? yield* run : run;
    } catch (e) {
      const span = !d.isReplaying && episodeSpan() ? currentEpisode()?.span : undefined;
      if (span) failSpan(span, e);
      throw e;
    }
    if (!d.isReplaying) {
      if (episodeSpan()) currentEpisode()?.span?.setAttribute('slotflow.outcome', 'completed');
      telemetry.completed?.(output, { startedAt, endedAt: d.currentUtcDateTime.getTime() });
    }
    return output;
  };
}
