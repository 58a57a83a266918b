import { app, HttpResponse, type HttpRequest, type InvocationContext } from '@azure/functions';
import { DateTime } from 'luxon';
import { e164Schema, freeSlots, isDomainError, resolveSlot, type Slot } from '../../domain';
import { formatMessage, localeFromAcceptLanguage, resolvePatientLocale, sendPatientSms, type MessageKey, type PatientLocale } from '../../domain/sms';
import { getServices, type Services } from '../app/services';
import { createBookingLink } from './links';
import { PAGE_HEADERS, renderPage } from './page-shell';
import { xmlEscape as esc } from './twiml';

/**
 * Where the SMART Scheduling Links booking-deep-link of a free Slot leads: GET /book/slot/{slotId} shows the
 * time and asks for the mobile number the clinic has on file; POST texts that patient a signed,
 * single-use self-scheduling link (/book/{token}) limited to this slot. The answer is the same whether
 * or not the number is known, so the page cannot be used to find out who is a patient. Anonymous, like
 * /book/{token} (App Service Authentication excludes /book/*); the SMS rules (consent, opt-out, rate
 * limit, quiet hours) apply as to every SMS. The page is in the browser's language (Accept-Language) when
 * we ship it, else the clinic's default, else English (domain/sms/catalogs); the SMS in the patient's.
 */

/** Life of a link texted from this page: long enough to open it, short because it names one slot. */
export const DEEP_LINK_TTL_MINUTES = 60;

const respond = (status: number, l: PatientLocale, title: MessageKey, body: string): HttpResponse =>
  new HttpResponse({ status, body: renderPage(formatMessage(l.language, title), body, l.language), headers: PAGE_HEADERS });
/** A catalog message, escaped for HTML. */
const t = (l: PatientLocale, key: MessageKey) => esc(formatMessage(l.language, key));
const gone = (l: PatientLocale) =>
  respond(410, l, 'page.start.gone.title', `<h1>${t(l, 'page.start.gone.heading')}</h1><p>${t(l, 'page.start.gone.message')}</p>`);
const notFound = (l: PatientLocale) => respond(404, l, 'page.start.not-found.title', `<h1>${t(l, 'page.start.not-found.heading')}</h1>`);

/** The browser's language if we ship it, else the clinic's default (when the slot names a clinic), else English. */
async function pageLocale(services: Services, request: HttpRequest, slotId: string): Promise<PatientLocale> {
  const header = request.headers.get('accept-language');
  const fromBrowser = localeFromAcceptLanguage(header);
  if (fromBrowser.language !== 'en' || /(^|,)\s*en\b/i.test(header ?? '')) return fromBrowser;
  try {
    const { clinic } = await resolveSlot(services, slotId);
    return resolvePatientLocale(undefined, clinic.defaultLanguage);
  } catch {
    return fromBrowser;
  }
}

/** The slot, if it exists and nobody holds it. */
async function freeSlot(services: Services, slotId: string): Promise<{ slot: Slot; clinicName: string; timeZone: string } | 'unknown' | 'taken'> {
  try {
    const { slot, clinic } = await resolveSlot(services, slotId);
    if (Date.parse(slot.start) <= services.clock.now().toMillis()) return 'taken';
    const around = await services.appointments.list({
      clinicId: clinic.clinicId,
      providerId: slot.providerId,
      from: DateTime.fromISO(slot.start).minus({ hours: 12 }).toISO()!,
      to: slot.end,
      limit: 500,
    });
    return freeSlots([slot], around.items).length === 1 ? { slot, clinicName: clinic.name, timeZone: clinic.timeZone } : 'taken';
  } catch (e) {
    if (isDomainError(e)) return 'unknown';
    throw e;
  }
}

/** "Tuesday 3 March at 9:30 AM" (English), else the locale's long day and time ("martes, 3 de marzo a las 9:30"). */
function when(slot: Slot, zone: string, l: PatientLocale): string {
  const dt = DateTime.fromISO(slot.start, { setZone: true }).setZone(zone);
  if (l.language === 'en') return dt.setLocale('en-US').toFormat("cccc d LLLL 'at' h:mm a");
  const local = dt.setLocale(l.locale);
  const day = local.toLocaleString({ weekday: 'long', day: 'numeric', month: 'long' });
  const time = local.toLocaleString({ hour: 'numeric', minute: '2-digit' });
  return formatMessage(l.language, 'page.booked.when', { day, time, b: (chunks: string[]) => chunks.join('') });
}

/** GET /book/slot/{slotId}: the time and the phone form. */
export async function bookingStartPage(request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const services = await getServices();
  const slotId = (request.params.slotId ?? '').slice(0, 80);
  const l = await pageLocale(services, request, slotId);
  const found = await freeSlot(services, slotId);
  context.log(`book.slot open ${typeof found === 'string' ? found : 'free'} lang=${l.language}`);
  if (found === 'unknown') return notFound(l);
  if (found === 'taken') return gone(l);
  return respond(
    200,
    l,
    'page.start.title',
    `<h1>${esc(when(found.slot, found.timeZone, l))}</h1><p class="muted">${esc(found.clinicName)}</p>
<form method="post" action="${esc(new URL(request.url).pathname)}"><label class="field" for="phone">${t(l, 'page.start.phone')}</label>
<input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" placeholder="+14155550123" required>
<button type="submit">${t(l, 'page.start.submit')}</button></form><p class="muted">${t(l, 'page.start.note')}</p>`,
  );
}

/** POST /book/slot/{slotId} (form: phone): texts a booking link if the number is a patient's. */
export async function bookingStartSubmit(request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const site = request.headers.get('sec-fetch-site');
  const origin = request.headers.get('origin');
  if ((site && site !== 'same-origin' && site !== 'none') || (origin !== null && origin !== 'null' && origin !== new URL(request.url).origin)) {
    const l = localeFromAcceptLanguage(request.headers.get('accept-language'));
    return respond(403, l, 'page.cross-site.title', `<h1>${t(l, 'page.cross-site.title')}</h1><p>${t(l, 'page.start.refused.message')}</p>`);
  }
  const services = await getServices();
  const slotId = (request.params.slotId ?? '').slice(0, 80);
  const l = await pageLocale(services, request, slotId);
  const found = await freeSlot(services, slotId);
  if (found === 'unknown') return notFound(l);
  if (found === 'taken') return gone(l);
  const phone = new URLSearchParams((await request.text()).slice(0, 2000)).get('phone')?.replace(/[\s().-]/g, '') ?? '';
  if (!e164Schema.safeParse(phone).success) {
    return respond(400, l, 'page.start.bad-phone.title', `<h1>${t(l, 'page.start.bad-phone.heading')}</h1><p>${t(l, 'page.start.bad-phone.example')}</p>`);
  }
  const patient = await services.patients.findByPhone(phone);
  let outcome = 'unknown-number';
  if (patient) {
    const { slot } = found;
    const link = createBookingLink(services, {
      patientId: patient.patientId,
      scope: {
        kind: 'search',
        clinicId: slot.clinicId,
        appointmentType: slot.appointmentTypes[0]!,
        from: slot.start,
        to: slot.end,
        providerId: slot.providerId,
        slotIds: [slot.slotId],
      },
      ttlMinutes: DEEP_LINK_TTL_MINUTES,
    });
    const sent = await sendPatientSms(services, {
      patientId: patient.patientId,
      clinicId: slot.clinicId,
      template: 'booking-link',
      params: { url: link.url, expiresAt: link.expiresAt },
      purpose: 'booking-link',
      correlationId: context.invocationId,
    });
    outcome = sent.outcome;
  }
  // Ids and outcome codes only; never the number.
  context.log(`book.slot request ${outcome} patient=${patient?.patientId ?? '-'}`);
  return respond(200, l, 'page.start.sent.title', `<h1>${t(l, 'page.start.sent.title')}</h1><p>${t(l, 'page.start.sent.message')}</p>`);
}

app.http('bookingStartPage', { route: 'book/slot/{slotId}', methods: ['GET'], authLevel: 'anonymous', handler: bookingStartPage });
app.http('bookingStartSubmit', { route: 'book/slot/{slotId}', methods: ['POST'], authLevel: 'anonymous', handler: bookingStartSubmit });
