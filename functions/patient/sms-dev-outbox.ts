import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { SmsOutbox, smsOutbox } from '../adapters/twilio/outbox';
import { getServices } from '../app/services';

/** GET /api/dev/sms/outbox[?to=]: the SMS this local process sent, newest last. Local only. */
export async function smsDevOutbox(request: HttpRequest): Promise<HttpResponseInit> {
  const services = await getServices();
  // The services' sender when it is an outbox (tests inject their own), else the process-wide one.
  const outbox = services.sms instanceof SmsOutbox ? services.sms : smsOutbox;
  const to = request.query.get('to') ?? undefined;
  return { status: 200, jsonBody: { messages: outbox.list(to) } };
}

// Registered only in the local environment: the outbox holds phone numbers and message bodies.
if ((process.env.SLOTFLOW_ENV ?? 'local') === 'local') {
  app.http('smsDevOutbox', { route: 'api/dev/sms/outbox', methods: ['GET'], authLevel: 'anonymous', handler: smsDevOutbox });
}
