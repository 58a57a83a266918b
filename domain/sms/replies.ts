import type { WaitlistOffer } from '../model';
import type { ReplyIntent } from './keywords';

/** Where the patient's latest offer stands, from their point of view. */
export type OfferState =
  { kind: 'none' } | { kind: 'open'; offerId: string; sentAt: string } | { kind: 'expired'; offerId: string } | { kind: 'taken'; offerId: string };

/** What an inbound reply is interpreted against. */
export interface ReplyState {
  optedOut: boolean;
  offer: OfferState;
  hasUpcomingAppointment: boolean;
  /** The numbered list a BOOK reply produced, if still valid. */
  bookList?: { size: number; createdAt: string };
}

export type ReplyTemplate = 'help' | 'no-open-offer' | 'offer-expired' | 'offer-taken' | 'offer-declined' | 'no-upcoming-appointment' | 'book-pick-invalid';

/** The one thing a reply makes the system do. */
export type ReplyAction =
  | { kind: 'offer-reply'; reply: 'yes' | 'no'; offerId: string }
  | { kind: 'confirm-appointment' }
  | { kind: 'cancel-appointment' }
  | { kind: 'send-book-list' }
  /** EARLIER with an upcoming appointment: put it on the move-up list. */
  | { kind: 'join-move-up' }
  /** R with an upcoming appointment: text a signed link that lists other times and moves it on pick. */
  | { kind: 'send-reschedule-link' }
  | { kind: 'book-from-list'; index: number }
  | { kind: 'opt-out' }
  | { kind: 'opt-in' }
  | { kind: 'answer'; template: ReplyTemplate }
  /** Opted-out patients get no answer except to START and HELP (carriers would block it anyway). */
  | { kind: 'ignore' };

/** How an offer looks to a reply arriving at `now`: open until it expires, then expired. */
export function classifyOffer(offer: WaitlistOffer | undefined, nowIso: string): OfferState {
  if (!offer) return { kind: 'none' };
  const expired = Date.parse(offer.expiresAt) <= Date.parse(nowIso);
  switch (offer.status) {
    case 'sent':
      return expired ? { kind: 'expired', offerId: offer.offerId } : { kind: 'open', offerId: offer.offerId, sentAt: offer.sentAt };
    case 'expired':
      return { kind: 'expired', offerId: offer.offerId };
    case 'unavailable':
      return { kind: 'taken', offerId: offer.offerId };
    default:
      // accepted or declined: already answered, nothing is open.
      return { kind: 'none' };
  }
}

function answerYes(offer: OfferState): ReplyAction {
  switch (offer.kind) {
    case 'open':
      return { kind: 'offer-reply', reply: 'yes', offerId: offer.offerId };
    case 'expired':
      return { kind: 'answer', template: 'offer-expired' };
    case 'taken':
      return { kind: 'answer', template: 'offer-taken' };
    default:
      return { kind: 'answer', template: 'no-open-offer' };
  }
}

/** A number refers to the BOOK list if that list is newer than any open offer; otherwise "1" means YES. */
function answerPick(n: number, state: ReplyState): ReplyAction {
  const list = state.bookList;
  const listWins = list && (state.offer.kind !== 'open' || Date.parse(list.createdAt) > Date.parse(state.offer.sentAt));
  if (list && listWins) {
    return n >= 1 && n <= list.size ? { kind: 'book-from-list', index: n - 1 } : { kind: 'answer', template: 'book-pick-invalid' };
  }
  if (n === 1) return answerYes(state.offer);
  return { kind: 'answer', template: 'help' };
}

/** The reply decision table: intent x state -> action. Pure; the webhook carries the action out. */
export function decideReply(intent: ReplyIntent, state: ReplyState): ReplyAction {
  if (intent.kind === 'opt-out') return { kind: 'opt-out' };
  if (intent.kind === 'opt-in') return { kind: 'opt-in' };
  if (intent.kind === 'help') return { kind: 'answer', template: 'help' };
  if (state.optedOut) return { kind: 'ignore' };
  switch (intent.kind) {
    case 'yes':
      return answerYes(state.offer);
    case 'no':
      if (state.offer.kind === 'open') return { kind: 'offer-reply', reply: 'no', offerId: state.offer.offerId };
      return { kind: 'answer', template: state.offer.kind === 'none' ? 'no-open-offer' : 'offer-declined' };
    case 'confirm':
      return state.hasUpcomingAppointment ? { kind: 'confirm-appointment' } : { kind: 'answer', template: 'no-upcoming-appointment' };
    case 'cancel':
      return state.hasUpcomingAppointment ? { kind: 'cancel-appointment' } : { kind: 'answer', template: 'no-upcoming-appointment' };
    case 'book':
      return { kind: 'send-book-list' };
    case 'earlier':
      return state.hasUpcomingAppointment ? { kind: 'join-move-up' } : { kind: 'answer', template: 'no-upcoming-appointment' };
    case 'reschedule':
      return state.hasUpcomingAppointment ? { kind: 'send-reschedule-link' } : { kind: 'answer', template: 'no-upcoming-appointment' };
    case 'pick':
      return answerPick(intent.number, state);
    default:
      return { kind: 'answer', template: 'help' };
  }
}
