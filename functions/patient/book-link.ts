import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { ErrorCode, type Clinic } from '../../domain';
import {
  confirmBookingLink,
  formatMessage,
  localeFromAcceptLanguage,
  openBookingLink,
  type LinkChoice,
  type LinkProblem,
  type MessageKey,
  type PatientLocale,
} from '../../domain/sms';
import { linkSigningKey } from '../app/config';
import { getServices } from '../app/services';
import { bookedPage, movedPage, pickPage, problemPage } from './book-page';
import { durableClientInput, offerRepliesOf } from './durable';
import { PAGE_HEADERS } from './page-shell';

/**
 * GET/POST /book/{token}: the self-scheduling page (domain/sms/link-booking.ts decides, this maps).
 * The page may not be framed, cached, indexed or leak its URL (the token) through Referer; it runs
 * no script. No cookies are used: the token in the URL is the credential, and POSTs from other
 * sites are refused on Origin / Sec-Fetch-Site.
 */

interface PageResult {
  status: number;
  html: string;
  /** For logs: a code, never PHI. */
  code: string;
}

const invalid = (status: number): [number, MessageKey, MessageKey] => [status, 'page.invalid.title', 'page.invalid.message'];

/** How each problem reads: status, title and message (catalog keys: the page is in the patient's language). */
const PROBLEMS: Record<LinkProblem, [number, MessageKey, MessageKey]> = {
  'LINK.MALFORMED': invalid(400),
  'LINK.BAD_SIGNATURE': invalid(403),
  'LINK.UNKNOWN_PATIENT': invalid(400),
  'LINK.UNKNOWN_OFFER': invalid(400),
  'LINK.UNKNOWN_CLINIC': invalid(400),
  'LINK.EXPIRED': [410, 'page.expired.title', 'page.expired.message'],
  'LINK.USED': [410, 'page.used.title', 'page.used.message'],
  'OFFER.NOT_OPEN': [410, 'page.offer-closed.title', 'page.offer-closed.message'],
  'SLOT.TAKEN': [410, 'page.slot-taken.title', 'page.slot-taken.message'],
  'LINK.NO_SLOTS': [410, 'page.no-slots.title', 'page.no-slots.message'],
  'LINK.UNKNOWN_APPOINTMENT': invalid(400),
  'APPOINTMENT.NOT_MOVABLE': [410, 'page.not-movable.title', 'page.not-movable.message'],
  'RESCHEDULE.TOO_LATE': [410, 'page.too-late.title', 'page.too-late.message'],
};

/** The patient's language when the link told us who they are, else the browser's (Accept-Language). */
const localeOf = (request: HttpRequest, known?: PatientLocale) => known ?? localeFromAcceptLanguage(request.headers.get('accept-language'));

const problem = (code: LinkProblem, locale: PatientLocale): PageResult => {
  const [status, title, message] = PROBLEMS[code];
  return { status, code, html: problemPage(title, message, locale) };
};

/** What the picker says when nothing was booked and the patient may choose again. */
function noticeFor(code: string, locale: PatientLocale): string {
  if (code === 'LINK.SLOT_NOT_OFFERED') return formatMessage(locale.language, 'page.notice.not-offered');
  if (code === ErrorCode.SLOT_TAKEN) return formatMessage(locale.language, 'page.notice.slot-taken');
  if (code === ErrorCode.TOO_LITTLE_NOTICE) return formatMessage(locale.language, 'page.notice.too-soon');
  return formatMessage(locale.language, 'page.notice.failed');
}

const clinicName = (c: Clinic) => c.smsDisplayName ?? c.name;
const picker = (choice: LinkChoice, action: string, notice?: string) =>
  pickPage({
    clinicName: clinicName(choice.clinic),
    timeZone: choice.clinic.timeZone,
    slots: choice.slots,
    action,
    locale: choice.locale,
    earlierOption: choice.earlierOption,
    ...(choice.reschedule ? { current: { start: choice.reschedule.start } } : {}),
    ...(notice ? { notice } : {}),
  });

const respond = (r: PageResult): HttpResponseInit => ({ status: r.status, body: r.html, headers: PAGE_HEADERS });

/** The page posts back to its own path. */
const actionOf = (request: HttpRequest) => new URL(request.url).pathname;

function isCrossSite(request: HttpRequest): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.get('origin');
  return origin !== null && origin !== 'null' && origin !== new URL(request.url).origin;
}

/** GET /book/{token}: the slot picker, or a page saying why the link cannot be used. */
export async function bookLinkPage(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = await getServices();
  const view = await openBookingLink(services, linkSigningKey(services.settings), request.params.token ?? '');
  const result =
    view.kind === 'problem'
      ? problem(view.code, localeOf(request, view.locale))
      : { status: 200, code: 'LINK.OK', html: picker(view.choice, actionOf(request)) };
  context.log(`book.link open ${result.code}`);
  return respond(result);
}

/** POST /book/{token} (form: slotId, optional earlier=yes): books the chosen time once; a failure that booked nothing leaves the link usable. */
export async function bookLinkConfirm(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  if (isCrossSite(request))
    return respond({ status: 403, code: 'LINK.CROSS_SITE', html: problemPage('page.cross-site.title', 'page.cross-site.message', localeOf(request)) });
  const services = await getServices();
  const form = new URLSearchParams(await request.text());
  const slotId = (form.get('slotId') ?? '').slice(0, 80);
  const earlier = form.get('earlier') === 'yes';
  const done = await confirmBookingLink(services, offerRepliesOf(context), linkSigningKey(services.settings), request.params.token ?? '', slotId, { earlier });
  let result: PageResult;
  switch (done.kind) {
    case 'problem':
      result = problem(done.code, localeOf(request, done.locale));
      break;
    case 'choose-again':
      result = { status: 409, code: done.code, html: picker(done.choice, actionOf(request), noticeFor(done.code, done.choice.locale)) };
      break;
    case 'booked': {
      const { clinic, appointment } = done;
      const html = bookedPage({
        clinicName: clinicName(clinic),
        timeZone: clinic.timeZone,
        start: appointment.start,
        pending: appointment.status === 'pending',
        locale: done.locale,
        earlier: done.earlier,
      });
      result = { status: 200, code: done.earlier ? 'LINK.BOOKED_EARLIER' : 'LINK.BOOKED', html };
      break;
    }
    case 'moved': {
      const { clinic, appointment } = done;
      const html = movedPage({
        clinicName: clinicName(clinic),
        timeZone: clinic.timeZone,
        start: appointment.start,
        previousStart: done.previousStart,
        locale: done.locale,
      });
      result = { status: 200, code: 'LINK.MOVED', html };
      break;
    }
  }
  context.log(`book.link confirm ${result.code}`);
  return respond(result);
}

app.http('bookLinkPage', { route: 'book/{token}', methods: ['GET'], authLevel: 'anonymous', handler: bookLinkPage });
app.http('bookLinkConfirm', { route: 'book/{token}', methods: ['POST'], authLevel: 'anonymous', extraInputs: [durableClientInput], handler: bookLinkConfirm });
