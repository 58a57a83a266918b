import type TwilioSDK from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { inSpan, setSpanAttributes, SpanKind, telemetryMetrics, type SpanOptions } from '../../app/telemetry';
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

/**
 * The Twilio SDK, loaded on first use rather than at import: it is the largest dependency (about 3 MB
 * bundled, a separate file in the production bundle) and a cold instance that sends no SMS never needs it.
 */
function loadTwilio(): typeof TwilioSDK {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('twilio') as typeof TwilioSDK;
}

/** A request client that rewrites Twilio API URLs to a loopback base (tests). */
function redirectingRequestClient(sdk: typeof TwilioSDK, base: string): RequestClient {
  class RedirectingRequestClient extends sdk.RequestClient {
    override request<TData>(opts: RequestClient.RequestOptions<TData>) {
      return super.request<TData>({ ...opts, uri: opts.uri.replace(/^https:\/\/[^/]+/, base) });
    }
  }
  return new RedirectingRequestClient({ timeout: 5000 });
}

/** Twilio Programmable Messaging through a Messaging Service (sender pool, opt-out handling). */
export class TwilioSmsSender implements SmsSender {
  private client: TwilioSDK.Twilio | undefined;
  constructor(private readonly options: TwilioSmsOptions) {}

  /** One client per sender (per instance), created by the first send. */
  private twilioClient(): TwilioSDK.Twilio {
    if (!this.client) {
      const sdk = loadTwilio();
      const { accountSid, authToken, apiBaseUrl } = this.options;
      this.client = sdk(accountSid, authToken, apiBaseUrl ? { httpClient: redirectingRequestClient(sdk, apiBaseUrl.replace(/\/$/, '')) } : {});
    }
    return this.client;
  }

  async send(message: OutboundSms): Promise<{ messageId: string }> {
    return inSpan('sms.send twilio', smsSpanOptions(message), async (span) => {
      const client = this.twilioClient();
      try {
        const created = await client.messages.create({
          to: message.to,
          body: message.body,
          messagingServiceSid: this.options.messagingServiceSid,
          ...(this.options.statusCallbackUrl ? { statusCallback: this.options.statusCallbackUrl } : {}),
        });
        setSpanAttributes(span, { 'messaging.message.id': created.sid });
        return { messageId: created.sid };
      } catch (e) {
        const classified = classifyTwilioError(e);
        if (classified instanceof SmsRejectedError) telemetryMetrics.smsFailure(classified.providerCode);
        else telemetryMetrics.smsFailure('transient');
        throw classified;
      }
    });
  }
}

/** The attributes of an SMS send span: purpose, patient id and correlation id (never the number or the text). */
export function smsSpanOptions(message: OutboundSms): SpanOptions {
  return {
    kind: SpanKind.CLIENT,
    attributes: {
      'messaging.system': 'sms',
      'slotflow.sms.purpose': message.purpose,
      'slotflow.patient_id': message.patientId,
      'slotflow.correlation_id': message.correlationId,
    },
  };
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
