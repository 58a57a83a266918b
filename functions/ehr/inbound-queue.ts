import { isUtf8 } from 'node:buffer';
import { app, type InvocationContext } from '@azure/functions';
import { processHl7Message } from '../../domain/ehr';
import { DeadLetterError } from '../adapters/servicebus/errors';
import { getServices } from '../app/services';
import { EHR_INBOUND_QUEUE } from '../adapters/servicebus/topology';

/**
 * The same SIU messages from the Service Bus queue `ehr-inbound` (interface engines often push to a
 * queue). The queue is reached with Service Bus RBAC, so the sender is trusted for every clinic. There is
 * nobody to read an ACK: AA completes the message; AE and AR dead-letter it with the code as reason so
 * operations see what was not applied; a repeat still in progress, and unexpected failures, are retried.
 */

export const QUEUE_PRINCIPAL_ID = 'servicebus:ehr-inbound';

/** The HL7 text of a queue message: a string, bytes (UTF-8, else ISO 8859-1), or JSON `{ "hl7": "MSH|..." }`. */
export function hl7TextOf(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (message instanceof Uint8Array) {
    const bytes = Buffer.from(message);
    return isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
  }
  if (message && typeof message === 'object' && typeof (message as { hl7?: unknown }).hl7 === 'string') return (message as { hl7: string }).hl7;
  return undefined;
}

export async function receiveHl7FromQueue(message: unknown, context: InvocationContext): Promise<void> {
  const text = hl7TextOf(message);
  if (text === undefined) throw new DeadLetterError('HL7.MALFORMED', 'the message body is not HL7 text');
  const services = await getServices();
  const outcome = await processHl7Message(services, text, { principalId: QUEUE_PRINCIPAL_ID, canAccessClinic: () => true });
  context.log(
    `ehr.hl7.queue ${outcome.trigger ?? '-'} ${outcome.ackCode} ${outcome.errorCode ?? ''} control=${(outcome.controlId ?? '').slice(0, 40)} replayed=${outcome.replayed}`,
  );
  if (outcome.inProgress) throw new Error('HL7 message with this control id is still being processed');
  if (outcome.ackCode !== 'AA')
    throw new DeadLetterError(`HL7.${outcome.ackCode}`, `${outcome.errorCode ?? 'rejected'} control=${(outcome.controlId ?? '').slice(0, 40)}`);
}

app.serviceBusQueue('ehrInboundQueue', { connection: 'ServiceBusConnection', queueName: EHR_INBOUND_QUEUE, handler: receiveHl7FromQueue });
