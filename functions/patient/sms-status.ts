import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { smsStatuses, type SmsStatus } from '../../domain/sms';
import { isValidTwilioSignature, paramOf, parseTwilioForm } from '../adapters/twilio/signature';
import { getServices } from '../app/services';
import { twilioAuthToken } from '../app/config';
import { telemetryMetrics } from '../app/telemetry';
import { signedUrlOf } from './sms-inbound';

const statusSchema = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/),
  MessageStatus: z.string().min(1).max(32),
  ErrorCode: z
    .string()
    .regex(/^\d{1,6}$/)
    .optional(),
});
const isTracked = (s: string): s is SmsStatus => (smsStatuses as readonly string[]).includes(s);

/**
 * POST /api/sms/status: Twilio delivery callbacks (signed like the inbound webhook). Status only
 * moves forward, so repeated and out-of-order callbacks are harmless; unknown messages are acknowledged.
 */
export async function smsStatus(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = await getServices();
  const params = parseTwilioForm(await request.text());
  const token = twilioAuthToken(services.settings);
  if (!token || !isValidTwilioSignature(token, request.headers.get('x-twilio-signature'), signedUrlOf(request, services.settings.PUBLIC_BASE_URL), params)) {
    context.warn('sms.status rejected: bad or missing signature');
    return { status: 403 }; // empty body (docs/patient-channels.md): nothing for a forger to read
  }
  const parsed = statusSchema.safeParse({
    MessageSid: paramOf(params, 'MessageSid'),
    MessageStatus: paramOf(params, 'MessageStatus'),
    ErrorCode: paramOf(params, 'ErrorCode') || undefined,
  });
  if (!parsed.success) return { status: 400, body: 'Bad Request' };
  const { MessageSid, MessageStatus, ErrorCode } = parsed.data;
  // Statuses we do not track (scheduled, canceled, receiving...) are acknowledged and ignored.
  if (!isTracked(MessageStatus)) return { status: 204 };
  const at = services.clock.now().toUTC().toISO()!;
  const record = await services.smsMessages.advance(MessageSid, MessageStatus, at, ErrorCode);
  if ((MessageStatus === 'failed' || MessageStatus === 'undelivered') && record?.status === MessageStatus)
    telemetryMetrics.smsFailure(ErrorCode ?? MessageStatus);
  context.log(`sms.status ${MessageSid} ${MessageStatus} -> ${record?.status ?? 'unknown-message'}`);
  return { status: 204 };
}

app.http('smsStatus', { route: 'api/sms/status', methods: ['POST'], authLevel: 'anonymous', handler: smsStatus });
