import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getServices } from '../app/services';
import { confirmBookingLink, openBookingLink, type PageResult } from './link-booking';
import { PAGE_HEADERS, problemPage } from './book-page';
import { durableClientInput, durableClientOf } from './runtime';

/**
 * The page may not be framed, cached, indexed or leak its URL (the token) through Referer; it runs
 * no script. No cookies are used: the token in the URL is the credential, and POSTs from other
 * sites are refused on Origin / Sec-Fetch-Site.
 */

const respond = (r: PageResult): HttpResponseInit => ({ status: r.status, body: r.html, headers: PAGE_HEADERS });

/** The page posts back to its own path. */
const actionOf = (request: HttpRequest) => new URL(request.url).pathname;

function isCrossSite(request: HttpRequest): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.get('origin');
  return origin !== null && origin !== 'null' && origin !== new URL(request.url).origin;
}

/** GET /book/{token}: the self-scheduling page. */
export async function bookLinkPage(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const services = await getServices();
  const result = await openBookingLink(services, request.params.token ?? '', actionOf(request));
  context.log(`book.link open ${result.code}`);
  return respond(result);
}

/** POST /book/{token} (form: slotId): confirms the chosen time. */
export async function bookLinkConfirm(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  if (isCrossSite(request))
    return respond({ status: 403, code: 'LINK.CROSS_SITE', html: problemPage('Request refused', 'Please open the link we sent you and confirm from there.') });
  const services = await getServices();
  const form = new URLSearchParams(await request.text());
  const slotId = (form.get('slotId') ?? '').slice(0, 80);
  const result = await confirmBookingLink(services, durableClientOf(context), request.params.token ?? '', slotId, actionOf(request));
  context.log(`book.link confirm ${result.code}`);
  return respond(result);
}

app.http('bookLinkPage', { route: 'book/{token}', methods: ['GET'], authLevel: 'anonymous', handler: bookLinkPage });
app.http('bookLinkConfirm', { route: 'book/{token}', methods: ['POST'], authLevel: 'anonymous', extraInputs: [durableClientInput], handler: bookLinkConfirm });
