import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { smsOutbox } from '../adapters/twilio/outbox';
import { isValidTwilioSignature, paramOf, parseTwilioForm } from '../adapters/twilio/signature';
import { claimOnce } from '../../domain/idempotency';
import { handleInboundSms } from '../../domain/sms';
import { twilioAuthToken } from '../app/config';
import { getServices } from '../app/services';
import { durableClientInput, offerRepliesOf } from './durable';
import { bookingLinkIssuerOf } from './links';
import { twiml } from './twiml';

/** A repeated MessageSid within this window replays the first answer. */
const DEDUPE_TTL_SECONDS = 7 * 24 * 3600;

const inboundSchema = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/),
  From: z.string().min(1).max(32),
  Body: z.string().max(1600).default(''),
});

const xml = (status: number, body: string): HttpResponseInit => ({ status, body, headers: { 'content-type': 'text/xml; charset=utf-8' } });

/** The URL Twilio signed: the public base URL + path + query when configured, else the URL the request came to. */
export function signedUrlOf(request: HttpRequest, publicBaseUrl: string | undefined): string {
  if (!publicBaseUrl) return request.url;
  const u = new URL(request.url);
  return `${publicBaseUrl.replace(/\/+$/, '')}${u.pathname}${u.search}`;
}

/** POST /api/sms/inbound: Twilio's messaging webhook. The signature is the authentication. */
export async function smsInbound(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = await getServices();
  const raw = await request.text();
  const params = parseTwilioForm(raw);
  const token = twilioAuthToken(services.settings);
  if (!token || !isValidTwilioSignature(token, request.headers.get('x-twilio-signature'), signedUrlOf(request, services.settings.PUBLIC_BASE_URL), params)) {
    context.warn('sms.inbound rejected: bad or missing signature');
    return { status: 403 }; // empty body (docs/patient-channels.md): nothing for a forger to read
  }
  const parsed = inboundSchema.safeParse({ MessageSid: paramOf(params, 'MessageSid'), From: paramOf(params, 'From'), Body: paramOf(params, 'Body') });
  if (!parsed.success) return xml(400, twiml());
  const { MessageSid: messageSid, From: from, Body: body } = parsed.data;

  const now = services.clock.now().toUTC().toISO()!;
  const claim = await claimOnce(services.idempotency, 'sms-inbound', messageSid, now, DEDUPE_TTL_SECONDS);
  if (claim.kind === 'done') {
    context.log(`sms.inbound duplicate ${messageSid}`);
    return xml(200, String((claim.record.response?.body as { twiml?: string } | undefined)?.twiml ?? twiml()));
  }
  if (claim.kind === 'in-progress') return xml(200, twiml());

  const requestHash = createHash('sha256').update(`${from}\n${body}`).digest('hex');
  try {
    const outcome = await handleInboundSms(services, offerRepliesOf(context), { messageSid, from, body }, bookingLinkIssuerOf(services));
    const answer = twiml(outcome.answer);
    await services.idempotency.complete(
      { ...claim.record, requestHash, response: { status: 200, body: { twiml: answer, action: outcome.action } } },
      DEDUPE_TTL_SECONDS,
    );
    context.log(`sms.inbound ${messageSid} action=${outcome.action}${outcome.patientId ? ` patient=${outcome.patientId}` : ''}`);
    if (outcome.answer !== undefined && services.sms === smsOutbox) {
      smsOutbox.recordReply({ to: from, body: outcome.answer, patientId: outcome.patientId ?? 'unknown', correlationId: messageSid });
    }
    return xml(200, answer);
  } catch (e) {
    // Let a Twilio retry of this MessageSid try again: a failed attempt changed nothing we keep.
    await services.idempotency.complete({ ...claim.record, requestHash, response: { status: 500, body: { failed: true } } }, DEDUPE_TTL_SECONDS);
    context.error(`sms.inbound ${messageSid} failed: ${e instanceof Error ? e.name : 'error'}`);
    return xml(500, twiml());
  }
}

app.http('smsInbound', {
  route: 'api/sms/inbound',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [durableClientInput],
  handler: smsInbound,
});
