/**
 * The durable-client seam of the patient triggers: the SMS webhook and the booking page tell the
 * waiting backfill workflow about a reply through the domain's OfferReplyRaiser port.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { OFFER_REPLY_EVENT, type OfferReplyRaiser } from '../../domain/sms';
import { durableClientOf as cachedDurableClientOf } from '../app/event-trigger';
import { tracedOfferReplies } from './offer-reply-trace';

/** What the handlers need from a durable client (a test fake may leave out `getStatus`). */
interface DurableEventClient {
  raiseEvent(instanceId: string, eventName: string, eventData: unknown): Promise<void>;
  getStatus?(instanceId: string): Promise<{ runtimeStatus?: string } | undefined>;
}

/** Runtime statuses of an instance that will never hear another event. */
const ENDED_STATUSES: ReadonlySet<string> = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

/** The client's messages for an instance it does not know (raise: "No instance with ID", status: "HTTP 404"). */
const isMissingInstance = (e: unknown) => e instanceof Error && (e.message.startsWith('No instance with ID') || e.message.includes('HTTP 404 response'));

/** True when the instance is missing or has ended; undefined when the client cannot tell (a fake without getStatus). */
async function hasEnded(client: DurableEventClient, instanceId: string): Promise<boolean | undefined> {
  if (!client.getStatus) return undefined;
  try {
    const status = await client.getStatus(instanceId);
    return status?.runtimeStatus !== undefined && ENDED_STATUSES.has(status.runtimeStatus);
  } catch (e) {
    if (isMissingInstance(e)) return true;
    throw e;
  }
}

/** The extra input every handler that raises offer replies registers. */
export const durableClientInput = df.input.durableClient();

/**
 * The durable client of this invocation. Tests may bind an object with `raiseEvent` as the
 * durable client input (a fake); otherwise the binding data builds the real client, one per
 * binding as for the event triggers (a client is stateless: its binding data says where to call).
 */
function durableClientOf(context: InvocationContext): DurableEventClient {
  const bound = context.extraInputs.get(durableClientInput) as unknown;
  if (bound && typeof (bound as DurableEventClient).raiseEvent === 'function') return bound as DurableEventClient;
  return cachedDurableClientOf(context);
}

/**
 * The OfferReplyRaiser port over this invocation's durable client. A missing instance (404) or one
 * that has ended is `gone`. The durable client answers a raise to a completed instance (HTTP 410)
 * as if it were delivered, so the status is read before the raise, and again after it for an
 * instance that ended in between (then the reply may not have been heard: the caller re-reads the offer).
 */
export function offerRepliesOf(context: InvocationContext): OfferReplyRaiser {
  const client = durableClientOf(context);
  return tracedOfferReplies(client, {
    async raiseOfferReply(workflowInstanceId, reply) {
      if (await hasEnded(client, workflowInstanceId)) return 'gone';
      try {
        await client.raiseEvent(workflowInstanceId, OFFER_REPLY_EVENT, reply);
      } catch (e) {
        if (isMissingInstance(e)) return 'gone';
        throw e;
      }
      return (await hasEnded(client, workflowInstanceId)) ? 'gone' : 'raised';
    },
  });
}
