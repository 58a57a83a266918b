/**
 * English (the source catalog: its keys and placeholders are the contract every other catalog
 * meets; a unit test checks it). ICU MessageFormat. Placeholders carry only what an SMS may show
 * (clinic display name, times already formatted in the clinic's zone, a link, a count): never PHI.
 */
export const en = {
  // SMS templates: one key per SmsTemplate.
  offer: '{clinic}: an earlier appointment opened up on {start}. Reply YES to take it or NO to pass. Offer ends {expiresAt}. Reply STOP to opt out.',
  'offer-taken': "{clinic}: sorry, that time has just been taken. You stay on our waitlist and we'll text you if another opens up.",
  'offer-expired': "{clinic}: sorry, that offer has ended. You stay on our waitlist and we'll text you if another time opens up.",
  'offer-checking': "{clinic}: thanks! We're checking {hasStart, select, yes {{start}} other {that time}} for you and will text you shortly.",
  'offer-declined': '{clinic}: no problem, you stay on our waitlist.',
  'no-open-offer': '{clinic}: there is no open offer for you right now. Reply BOOK to see available times or HELP for help.',
  booked: "{clinic}: you're booked for {start}. Reply X to cancel.",
  reminder: '{clinic}: reminder of your appointment on {start}. Reply C to confirm or X to cancel. Want an earlier time? Reply EARLIER.',
  confirmed: '{clinic}: thanks, your appointment on {start} is confirmed.',
  cancelled: '{clinic}: your appointment on {start} is cancelled. Reply BOOK to find a new time.',
  'cancel-too-late': '{clinic}: your appointment on {start} is too soon to cancel by text. Please call the clinic.',
  'no-upcoming-appointment': "{clinic}: we couldn't find an upcoming appointment for you. Reply BOOK to see available times.",
  eligibility: '{clinic}: please contact the clinic about your insurance before your visit on {start}.',
  rehomed: '{clinic}: your appointment on {previousStart} has moved to {start}. Reply C to confirm or X to cancel.',
  'booking-link': '{clinic}: pick an appointment time here: {url} (link valid until {expiresAt}).',
  help: '{clinic}: reply YES/NO to an offer, C to confirm or X to cancel your next visit, BOOK for open times. STOP to opt out. Msg&data rates may apply.',
  'opted-out': "{clinic}: you won't get more texts from us. Reply START to opt back in.",
  'opted-in': "{clinic}: you're opted back in to texts. Reply HELP for help, STOP to opt out.",
  'book-list': '{clinic}: open times: {list}. Reply with a number to book.',
  'book-none': '{clinic}: sorry, no open times in the next two weeks. Please call the clinic.',
  'book-pick-invalid': '{clinic}: please reply with a number from 1 to {count}, or BOOK for a new list.',
  'book-slot-gone': '{clinic}: sorry, that time was just taken. Reply BOOK for a new list.',
  'book-failed': "{clinic}: sorry, we couldn't book that time by text. Please call the clinic.",
  'offer-move-up':
    '{clinic}: an earlier time opened up on {start}, instead of your {currentStart} visit. Reply YES to move to it or NO to keep yours. Offer ends {expiresAt}.',
  moved: "{clinic}: you're moved to {start}. Your {previousStart} time is released. Reply X to cancel.",
  'already-moved': '{clinic}: your appointment has already been moved, so this offer is closed. Nothing else changed.',
  'offer-withdrawn': '{clinic}: this offer is withdrawn because the appointment it would move was cancelled. Nothing was booked.',
  'earlier-added': "{clinic}: you're on our list for a time before {start}. We'll text you if one opens up; your visit stays as it is until you say YES.",
  // Sender name when the clinic is not known (a reply from an unknown number).
  'generic-sender': 'Your clinic',

  // The self-scheduling pages (functions/patient/book-page.ts).
  'page.pick.title': 'Choose your appointment time',
  'page.pick.legend': 'Available times ({zone})',
  'page.pick.confirm': 'Confirm appointment',
  'page.pick.footer': 'This link works once. If none of these times suit you, please call the clinic.',
  'page.booked.title': 'Appointment booked',
  'page.booked.heading': "{pending, select, yes {Request received} other {You're booked}}",
  'page.booked.when': '<b>{day}</b> at <b>{time}</b>',
  'page.booked.next': '{pending, select, yes {The clinic will confirm this time with you shortly.} other {We will text you a reminder before your visit.}}',
  'page.problem.footer': 'Please call the clinic or reply BOOK to our text for new times.',
  'page.invalid.title': "This link isn't valid",
  'page.invalid.message': 'We could not read this booking link. Please use the link exactly as we sent it.',
  'page.expired.title': 'This link has expired',
  'page.expired.message': 'Booking links work for a limited time, and this one has run out.',
  'page.used.title': 'This link has already been used',
  'page.used.message': 'This booking link has already been used to book an appointment. Each link works once.',
  'page.offer-closed.title': 'This offer is no longer available',
  'page.offer-closed.message': 'Sorry, this time is no longer on offer. You stay on the waitlist.',
  'page.slot-taken.title': 'This time has been taken',
  'page.slot-taken.message': 'Sorry, someone else has just booked this time.',
  'page.no-slots.title': 'No times available',
  'page.no-slots.message': 'Sorry, there are no open times left for this link.',
  'page.cross-site.title': 'Request refused',
  'page.cross-site.message': 'Please open the link we sent you and confirm from there.',
  'page.notice.not-offered': 'Please choose one of the times below.',
  'page.notice.slot-taken': 'Sorry, that time was just taken. Please choose another.',
  'page.pick.earlier': 'Text me if an earlier time opens up',
  'page.booked.earlier': "We'll text you if an earlier time opens up.",
  'page.notice.failed': 'Sorry, we could not book that time online. Please choose another or call the clinic.',
} as const;

export type MessageKey = keyof typeof en;
/** A catalog: every key of the English one, each an ICU message with the same placeholders. */
export type Catalog = Record<MessageKey, string>;
