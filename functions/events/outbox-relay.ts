import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getServices } from '../app/services';

/** Events a crash or a Service Bus outage left in the outbox are published at most this late. */
const MIN_AGE_MS = 15_000;

/**
 * Outbox relay: every 30 s, publishes events stored with a change but not yet sent (the inline
 * dispatch after each change normally sends them at once). Event ids are Service Bus MessageIds,
 * so a relay racing an inline dispatch is dropped by duplicate detection.
 */
export async function relayOutbox(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = await getServices();
  if (!services.cosmos) return;
  const published = await services.cosmos.relayPending({ minAgeMs: MIN_AGE_MS });
  if (published > 0) context.log(`outbox relay published ${published} pending event(s)`);
}

app.timer('outboxRelay', { schedule: '*/30 * * * * *', handler: relayOutbox });
