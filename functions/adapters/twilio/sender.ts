import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';
import { TransientError, type OutboundSms, type SmsSender } from '../../../domain';

export interface TwilioSmsOptions {
  accountSid: string;
  authToken: string;
  messagingServiceSid: string;
  /** Where Twilio posts delivery status (PUBLIC_BASE_URL + /api/sms/status). */
  statusCallbackUrl?: string;
  /** Tests only: send the REST calls to a loopback stand-in instead of https://api.twilio.com. */
  apiBaseUrl?: string;
}

/** A send Twilio refused for good (invalid number, unsubscribed recipient...): retrying will not help. */
export class SmsRejectedError extends Error {
  constructor(
    readonly providerCode: string,
    readonly httpStatus: number,
  ) {
    super(`SMS rejected by the provider (code ${providerCode})`);
    this.name = 'SmsRejectedError';
  }
}

/** Rewrites Twilio API URLs to a loopback base (tests). */
class RedirectingRequestClient extends RequestClient {
  constructor(private readonly base: string) {
    super({ timeout: 5000 });
  }
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request<TData>({ ...opts, uri: opts.uri.replace(/^https:\/\/[^/]+/, this.base) });
  }
}

/** Twilio Programmable Messaging through a Messaging Service (sender pool, opt-out handling). */
export class TwilioSmsSender implements SmsSender {
  private readonly client: twilio.Twilio;
  constructor(private readonly options: TwilioSmsOptions) {
    this.client = twilio(options.accountSid, options.authToken, {
      ...(options.apiBaseUrl ? { httpClient: new RedirectingRequestClient(options.apiBaseUrl.replace(/\/$/, '')) } : {}),
    });
  }

  async send(message: OutboundSms): Promise<{ messageId: string }> {
    try {
      const created = await this.client.messages.create({
        to: message.to,
        body: message.body,
        messagingServiceSid: this.options.messagingServiceSid,
        ...(this.options.statusCallbackUrl ? { statusCallback: this.options.statusCallbackUrl } : {}),
      });
      return { messageId: created.sid };
    } catch (e) {
      throw classifyTwilioError(e);
    }
  }
}

/** 429 and 5xx (and network failures) are worth retrying; other 4xx are final. Never echoes the message. */
export function classifyTwilioError(e: unknown): Error {
  const status = typeof e === 'object' && e !== null && 'status' in e ? Number((e as { status: unknown }).status) : NaN;
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'unknown';
  if (Number.isNaN(status) || status === 429 || status >= 500) {
    return new TransientError(`Twilio send failed (status ${Number.isNaN(status) ? 'network' : status}, code ${code})`);
  }
  return new SmsRejectedError(code, status);
}
