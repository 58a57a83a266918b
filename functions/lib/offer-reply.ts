/** The external event the SMS webhook raises on a backfill instance when a patient answers an offer. */
export const OFFER_REPLY_EVENT = 'OfferReply';

export interface OfferReply {
  offerId: string;
  patientId: string;
  reply: 'yes' | 'no';
  messageSid: string;
}
