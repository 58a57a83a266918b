import { z } from 'zod';
import { entityIdSchema, fhirIdSchema } from '../ids';

/** External event the SMS webhook (and the booking page) raise on the backfill orchestration. */
export const OFFER_REPLY_EVENT = 'OfferReply';

/**
 * An offer reply. `channel: 'sms'` carries the MessageSid (the workflow books atomically and texts
 * the outcome). `channel: 'link'` means the patient already booked through a self-scheduling link:
 * `appointmentId` is set and the workflow must not book again, only close the offer round.
 */
export const offerReplySchema = z
  .object({
    offerId: fhirIdSchema,
    patientId: entityIdSchema,
    reply: z.enum(['yes', 'no']),
    messageSid: z.string().max(64).optional(),
    channel: z.enum(['sms', 'link']).default('sms'),
    appointmentId: fhirIdSchema.optional(),
  })
  .strict();
export type OfferReplyPayload = z.input<typeof offerReplySchema>;

/** The backfill workflow waiting on an offer (a durable external event in production). */
export interface OfferReplyRaiser {
  /**
   * Raises OFFER_REPLY_EVENT on the workflow instance; `gone` when that instance does not exist or
   * has ended (it will not act on the reply; one that ended just after the raise may have heard it).
   */
  raiseOfferReply(workflowInstanceId: string, reply: OfferReplyPayload): Promise<'raised' | 'gone'>;
}
