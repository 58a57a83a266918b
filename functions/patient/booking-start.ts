import { app, HttpResponse, type HttpRequest, type InvocationContext } from '@azure/functions';
import { DateTime } from 'luxon';
import { e164Schema, freeSlots, isDomainError, resolveSlot, type Slot } from '../../domain';
import { sendPatientSms } from '../../domain/sms';
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
 * limit, quiet hours) apply as to every SMS.
 */

/** Life of a link texted from this page: long enough to open it, short because it names one slot. */
export const DEEP_LINK_TTL_MINUTES = 60;

const respond = (status: number, title: string, body: string): HttpResponse =>
  new HttpResponse({ status, body: renderPage(title, body), headers: PAGE_HEADERS });
const gone = () =>
  respond(410, 'Time no longer available', '<h1>This time is no longer available</h1><p>Please choose another time in the app you came from.</p>');

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

const when = (slot: Slot, zone: string) => DateTime.fromISO(slot.start, { setZone: true }).setZone(zone).setLocale('en-US').toFormat("cccc d LLLL 'at' h:mm a");

/** GET /book/slot/{slotId}: the time and the phone form. */
export async function bookingStartPage(request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const services = await getServices();
  const found = await freeSlot(services, (request.params.slotId ?? '').slice(0, 80));
  context.log(`book.slot open ${typeof found === 'string' ? found : 'free'}`);
  if (found === 'unknown') return respond(404, 'Not found', '<h1>We could not find this appointment time</h1>');
  if (found === 'taken') return gone();
  return respond(
    200,
    'Book this time',
    `<h1>${esc(when(found.slot, found.timeZone))}</h1><p class="muted">${esc(found.clinicName)}</p>
<form method="post" action="${esc(new URL(request.url).pathname)}"><label class="field" for="phone">Your mobile number, as the clinic has it</label>
<input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" placeholder="+14155550123" required>
<button type="submit">Text me a booking link</button></form><p class="muted">We text a link that books this time. It works once and expires after an hour.</p>`,
  );
}

/** POST /book/slot/{slotId} (form: phone): texts a booking link if the number is a patient's. */
export async function bookingStartSubmit(request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const site = request.headers.get('sec-fetch-site');
  const origin = request.headers.get('origin');
  if ((site && site !== 'same-origin' && site !== 'none') || (origin !== null && origin !== 'null' && origin !== new URL(request.url).origin)) {
    return respond(403, 'Request refused', '<h1>Request refused</h1><p>Please use the form on this page.</p>');
  }
  const services = await getServices();
  const found = await freeSlot(services, (request.params.slotId ?? '').slice(0, 80));
  if (found === 'unknown') return respond(404, 'Not found', '<h1>We could not find this appointment time</h1>');
  if (found === 'taken') return gone();
  const phone = new URLSearchParams((await request.text()).slice(0, 2000)).get('phone')?.replace(/[\s().-]/g, '') ?? '';
  if (!e164Schema.safeParse(phone).success) {
    return respond(400, 'Check the number', '<h1>Please enter the number with its country code</h1><p>For example +14155550123.</p>');
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
  return respond(
    200,
    'Check your phone',
    '<h1>Check your phone</h1><p>If this number belongs to a patient of the clinic and can receive texts from us, we have sent a link to book this time.</p>',
  );
}

app.http('bookingStartPage', { route: 'book/slot/{slotId}', methods: ['GET'], authLevel: 'anonymous', handler: bookingStartPage });
app.http('bookingStartSubmit', { route: 'book/slot/{slotId}', methods: ['POST'], authLevel: 'anonymous', handler: bookingStartSubmit });
