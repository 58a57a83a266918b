import { randomBytes } from 'node:crypto';
import type { OutboundSms, SmsSender } from '../../../domain';
import { inSpan, setSpanAttributes } from '../../app/telemetry';
import { smsSpanOptions } from './sender';

/** One SMS the local system "sent" (GET /api/dev/sms/outbox). Local only: it holds phone numbers and bodies. */
export interface OutboxMessage {
  messageId: string;
  to: string;
  from: string;
  body: string;
  sentAt: string;
  purpose: OutboundSms['purpose'];
  patientId: string;
  correlationId: string;
  /** `api` for messages sent through SmsSender, `twiml` for webhook answers Twilio would have sent. */
  via: 'api' | 'twiml';
}

/** The number local messages come from (Twilio's magic test number). */
export const LOCAL_SMS_FROM = '+15005550006';

/** Records messages in memory instead of sending them. */
export class SmsOutbox implements SmsSender {
  private readonly messages: OutboxMessage[] = [];
  constructor(
    private readonly from = LOCAL_SMS_FROM,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  async send(message: OutboundSms): Promise<{ messageId: string }> {
    return inSpan('sms.send outbox', smsSpanOptions(message), async (span) => {
      const sent = this.record(message);
      setSpanAttributes(span, { 'messaging.message.id': sent.messageId });
      return sent;
    });
  }

  private record(message: OutboundSms): { messageId: string } {
    const messageId = `SM${randomBytes(16).toString('hex')}`;
    this.messages.push({
      messageId,
      to: message.to,
      from: this.from,
      body: message.body,
      sentAt: this.now(),
      purpose: message.purpose,
      patientId: message.patientId,
      correlationId: message.correlationId,
      via: 'api',
    });
    return { messageId };
  }

  /** Records a TwiML answer to an inbound SMS (Twilio sends those itself, so they never reach `send`). */
  recordReply(reply: { to: string; body: string; patientId: string; correlationId: string }): void {
    this.messages.push({ messageId: `SM${randomBytes(16).toString('hex')}`, from: this.from, sentAt: this.now(), purpose: 'reply', via: 'twiml', ...reply });
  }

  /** Messages, oldest first, optionally to one number. */
  list(to?: string): OutboxMessage[] {
    return this.messages.filter((m) => to === undefined || m.to === to).map((m) => ({ ...m }));
  }

  clear(): void {
    this.messages.length = 0;
  }
}

/**
 * The process-wide outbox. A module-level singleton so every function in the process (the sender
 * the services use, the webhook's TwiML answers, and GET /api/dev/sms/outbox) shares one list.
 */
export const smsOutbox = new SmsOutbox();
