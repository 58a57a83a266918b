/**
 * A patient's reply (SMS webhook, booking page) joins the trace of the offer it answers. Twilio's
 * webhook is a new request with no trace context, so its own request span starts a trace of its own;
 * once the reply is matched to an offer, the raise runs in a span `offer.reply` **in the offer's trace**
 * (parent: the trace context the backfill orchestration was started with, read from its input through
 * the durable client), linked both ways to the webhook's request span. The workflow episode that
 * hears the reply, the booking activity and what it publishes are then in the offer's trace as well, so
 * one trace id reads cancel -> Service Bus -> backfill -> offer SMS -> reply -> booking.
 */
import { SpanKind, trace, type Link } from '@opentelemetry/api';
import type { OfferReplyRaiser } from '../../domain/sms';
import { contextOfTraceparent, inSpan, traceparentOfInput } from '../app/telemetry';

interface StatusReader {
  getStatus?(instanceId: string): Promise<object | undefined>;
}

async function workflowTraceparent(client: StatusReader, instanceId: string): Promise<string | undefined> {
  if (!client.getStatus || !trace.getActiveSpan()) return undefined;
  try {
    return traceparentOfInput(((await client.getStatus(instanceId)) as { input?: unknown } | undefined)?.input);
  } catch {
    return undefined; // the raise itself reports a missing instance
  }
}

/** The raiser, with each raise in the offer's trace (see the file comment). */
export function tracedOfferReplies(client: StatusReader, raiser: OfferReplyRaiser): OfferReplyRaiser {
  return {
    async raiseOfferReply(workflowInstanceId, reply) {
      const traceparent = await workflowTraceparent(client, workflowInstanceId);
      const parent = contextOfTraceparent(traceparent);
      const request = trace.getActiveSpan();
      if (!parent || !request) return raiser.raiseOfferReply(workflowInstanceId, reply);
      const links: Link[] = [{ context: request.spanContext(), attributes: { 'slotflow.link': 'webhook-request' } }];
      return inSpan(
        'offer.reply',
        {
          kind: SpanKind.INTERNAL,
          parent,
          links,
          attributes: {
            'slotflow.offer_id': reply.offerId,
            'slotflow.patient_id': reply.patientId,
            'slotflow.instance_id': workflowInstanceId,
            'slotflow.reply': reply.reply,
            'slotflow.channel': reply.channel ?? 'sms',
          },
        },
        async (span) => {
          if (span) request.addLink({ context: span.spanContext(), attributes: { 'slotflow.link': 'offer-trace' } });
          return raiser.raiseOfferReply(workflowInstanceId, reply);
        },
      );
    },
  };
}
