/**
 * The durable-client seam of the patient triggers: the SMS webhook and the booking page tell the
 * waiting backfill workflow about a reply through the domain's OfferReplyRaiser port.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { OFFER_REPLY_EVENT, type OfferReplyRaiser } from '../../domain/sms';

/** What the handlers need from a durable client. */
interface DurableEventClient {
  raiseEvent(instanceId: string, eventName: string, eventData: unknown): Promise<void>;
}

/** The extra input every handler that raises offer replies registers. */
export const durableClientInput = df.input.durableClient();

/**
 * The durable client of this invocation. Tests may bind an object with `raiseEvent` as the
 * durable client input (a fake); otherwise the binding data builds the real client.
 */
function durableClientOf(context: InvocationContext): DurableEventClient {
  const bound = context.extraInputs.get(durableClientInput) as unknown;
  if (bound && typeof (bound as DurableEventClient).raiseEvent === 'function') return bound as DurableEventClient;
  return df.getClient(context);
}

/** The OfferReplyRaiser port over this invocation's durable client; a 404 (instance gone) is `gone`. */
export function offerRepliesOf(context: InvocationContext): OfferReplyRaiser {
  const client = durableClientOf(context);
  return {
    async raiseOfferReply(workflowInstanceId, reply) {
      try {
        await client.raiseEvent(workflowInstanceId, OFFER_REPLY_EVENT, reply);
        return 'raised';
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('No instance with ID')) return 'gone';
        throw e;
      }
    },
  };
}
