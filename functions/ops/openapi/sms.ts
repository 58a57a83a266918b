import { z } from 'zod';
import type { OpenApiFragment } from '../openapi';
import { openApiSchemas } from './_schema';

/**
 * Patient SMS channel (functions/sms-*.ts). Twilio webhooks are authenticated by X-Twilio-Signature, not by
 * App Service Authentication. Written by the API helper from the route files; the SMS owner may refine it.
 * The patient area validates these forms by hand (Twilio's fields), so their zod shapes live here.
 */
const s = openApiSchemas();

const twilioSignature = {
  name: 'X-Twilio-Signature',
  in: 'header',
  required: true,
  description: 'HMAC-SHA1 (auth token) over the public URL and the sorted form parameters; a bad signature is 403.',
  schema: s.input(z.string()),
};
const form = {
  required: true,
  content: { 'application/x-www-form-urlencoded': { schema: s.input(z.record(z.string(), z.string())) } },
};

export const openApiFragment: OpenApiFragment = {
  tags: [{ name: 'SMS', description: 'Twilio webhooks and the local SMS outbox.' }],
  paths: {
    '/api/sms/inbound': {
      post: {
        operationId: 'smsInbound',
        summary: 'Twilio messaging webhook: patient replies (YES/NO/C/STOP/START/...)',
        tags: ['SMS'],
        security: [],
        parameters: [twilioSignature],
        requestBody: form,
        responses: {
          '200': { description: 'TwiML answer', content: { 'text/xml': { schema: s.output(z.string()) } } },
          '400': { description: 'Missing webhook fields' },
          '403': { description: 'Bad or missing signature' },
          '500': { description: 'Processing failed; Twilio retries the same MessageSid' },
        },
      },
    },
    '/api/sms/status': {
      post: {
        operationId: 'smsStatus',
        summary: 'Twilio delivery status callback',
        tags: ['SMS'],
        security: [],
        parameters: [twilioSignature],
        requestBody: form,
        responses: { '204': { description: 'Recorded' }, '400': { description: 'Missing fields' }, '403': { description: 'Bad or missing signature' } },
      },
    },
    // Registered only outside Azure (the outbox holds phone numbers and message bodies).
    ...((process.env.SLOTFLOW_ENV ?? 'local') === 'local'
      ? {
          '/api/dev/sms/outbox': {
            get: {
              operationId: 'smsDevOutbox',
              summary: 'Local only: the SMS this process sent, newest last',
              tags: ['SMS'],
              security: [],
              parameters: s.queryParameters(z.object({ to: z.string().optional() })),
              responses: {
                '200': {
                  description: 'Messages',
                  content: {
                    'application/json': {
                      schema: s.output(
                        z.object({
                          messages: z.array(z.object({ to: z.string(), from: z.string().optional(), body: z.string(), sentAt: z.string().optional() })),
                        }),
                      ),
                    },
                  },
                },
              },
            },
          },
        }
      : {}),
  },
};
