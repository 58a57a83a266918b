/**
 * In-process route tests: the registered handlers of POST /api/sms/inbound, POST /api/sms/status and
 * GET /api/dev/sms/outbox called with real HttpRequest / InvocationContext objects, in-memory
 * services, a fixed clock and a fake durable client. Signatures are computed here with node:crypto.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { DateTime } from 'luxon';
import { createHmac } from 'node:crypto';
import {
  appointmentTypeSchema,
  bookAppointment,
  clinicSchema,
  providerSchema,
  type Appointment,
  type PatientRecord,
  type WaitlistOffer,
} from '../../../../domain';
import { FixedClock, InMemoryOffers, SequentialIds } from '../../../../domain/memory';
import { OFFER_REPLY_EVENT, sendPatientSms } from '../../../../domain/sms';
import { LOCAL_SMS_FROM, SmsOutbox } from '../../../../functions/adapters/twilio/outbox';
import { loadSettings } from '../../../../functions/app/config';
import { createInMemoryServices, setServices, type Services } from '../../../../functions/app/services';
import { durableClientInput } from '../../../../functions/patient/durable';
import { smsDevOutbox } from '../../../../functions/patient/sms-dev-outbox';
import { smsInbound } from '../../../../functions/patient/sms-inbound';
import { smsStatus } from '../../../../functions/patient/sms-status';

const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
const INBOUND_URL = 'http://127.0.0.1:7071/api/sms/inbound';
const STATUS_URL = 'http://127.0.0.1:7071/api/sms/status';
const PHONE = '+15551230001';
// Monday 2 March 2026, 10:00 in New York.
const NOW = DateTime.fromISO('2026-03-02T15:00:00Z', { zone: 'utc' });

/** Twilio's algorithm, written out independently of the adapter. */
function sign(url: string, params: Record<string, string>, token = AUTH_TOKEN): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', token).update(data).digest('base64');
}

interface World {
  services: Services;
  clock: FixedClock;
  outbox: SmsOutbox;
  offers: InMemoryOffers;
  raised: { instanceId: string; name: string; data: unknown }[];
  patient: PatientRecord;
}

let world: World;
let sidCounter = 0;
const nextSid = () => `SM${(++sidCounter).toString(16).padStart(32, '0')}`;

async function makeWorld(env: Record<string, string> = {}): Promise<World> {
  const clock = new FixedClock(NOW);
  const outbox = new SmsOutbox(LOCAL_SMS_FROM, () => clock.now().toUTC().toISO()!);
  const offers = new InMemoryOffers();
  const services = createInMemoryServices(loadSettings({ SLOTFLOW_ENV: 'local', TWILIO_AUTH_TOKEN: AUTH_TOKEN, ...env }), {
    clock,
    ids: new SequentialIds(),
    sms: outbox,
    offers,
  });
  await services.config.putClinic(
    clinicSchema.parse({ clinicId: 'c1', name: 'Riverside Cardiology Associates', smsDisplayName: 'Riverside & Co', timeZone: 'America/New_York' }),
  );
  await services.config.putAppointmentType(
    appointmentTypeSchema.parse({ code: 'echo', clinicId: 'c1', name: 'Echocardiogram follow-up', durationMinutes: 30 }),
  );
  await services.config.putProvider(
    providerSchema.parse({
      providerId: 'p1',
      clinicId: 'c1',
      name: 'Dr. Jane Heart',
      appointmentTypes: ['echo'],
      weeklyHours: ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ day, start: '09:00', end: '12:00' })),
    }),
  );
  const patient: PatientRecord = {
    patientId: 'pat1',
    name: 'Maria Lopez',
    phone: PHONE,
    smsConsent: true,
    clinicIds: ['c1'],
    noShows: [],
    updatedAt: NOW.toISO()!,
  };
  await services.patients.put(patient);
  setServices(services);
  return { services, clock, outbox, offers, raised: [], patient };
}

function context(w: World, functionName = 'smsInbound'): InvocationContext {
  const ctx = new InvocationContext({
    functionName,
    invocationId: 'test',
    options: { trigger: { type: 'httpTrigger', name: 'request' }, extraInputs: [durableClientInput], extraOutputs: [] },
    logHandler: () => undefined,
  });
  ctx.extraInputs.set(durableClientInput, {
    raiseEvent: async (instanceId: string, name: string, data: unknown) => {
      w.raised.push({ instanceId, name, data });
    },
  });
  return ctx;
}

function formRequest(url: string, params: Record<string, string>, signature: string | undefined): HttpRequest {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signature !== undefined) headers['x-twilio-signature'] = signature;
  return new HttpRequest({ method: 'POST', url, body: { string: new URLSearchParams(params).toString() }, headers });
}

/** Sends one signed inbound SMS; returns status and the TwiML message text. */
async function text(body: string, opts: { sid?: string; from?: string; signature?: string | null; url?: string; signedUrl?: string } = {}) {
  const params = { MessageSid: opts.sid ?? nextSid(), AccountSid: 'AC' + '0'.repeat(32), From: opts.from ?? PHONE, To: LOCAL_SMS_FROM, Body: body };
  const signature = opts.signature === null ? undefined : (opts.signature ?? sign(opts.signedUrl ?? opts.url ?? INBOUND_URL, params));
  const res = await smsInbound(formRequest(opts.url ?? INBOUND_URL, params, signature), context(world));
  const xml = String(res.body ?? '');
  const message = /<Message>([\s\S]*)<\/Message>/.exec(xml)?.[1];
  return { status: res.status ?? 200, xml, message, sid: params.MessageSid };
}

function offer(over: Partial<WaitlistOffer> = {}): WaitlistOffer {
  return {
    offerId: 'off-1',
    clinicId: 'c1',
    slotId: 'p1.20260303T1430',
    waitlistEntryId: 'wl-1',
    patientId: 'pat1',
    workflowInstanceId: 'backfill-p1.20260303T1430',
    round: 1,
    status: 'sent',
    sentAt: NOW.minus({ minutes: 5 }).toISO()!,
    expiresAt: NOW.plus({ minutes: 25 }).toISO()!,
    version: 1,
    ...over,
  };
}

async function bookUpcoming(start = '2026-03-04T14:30:00Z'): Promise<Appointment> {
  const slotId = `p1.${DateTime.fromISO(start, { zone: 'utc' }).toFormat("yyyyMMdd'T'HHmm")}`;
  return bookAppointment(world.services, { slotId, patientId: 'pat1', appointmentType: 'echo', channel: 'api', actor: { kind: 'staff', principalId: 'desk' } });
}

beforeEach(async () => {
  delete process.env.TWILIO_AUTH_TOKEN;
  world = await makeWorld();
});
afterAll(() => setServices(undefined));

describe('POST /api/sms/inbound: signature', () => {
  beforeEach(() => world.offers.create(offer()));

  it('accepts a valid signature and answers with TwiML', async () => {
    const r = await text('YES');
    expect(r.status).toBe(200);
    expect(r.xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response><Message>.*<\/Message><\/Response>$/);
  });

  it.each([
    ['missing', { signature: null }],
    ['garbage', { signature: 'AAAA' }],
    ['signed over another URL', { signedUrl: 'http://127.0.0.1:7071/api/sms/other' }],
    ['signed with another token', { signature: sign(INBOUND_URL, { Body: 'YES' }, 'wrong') }],
  ])('%s signature: 403 and no side effect', async (_name, opts) => {
    const r = await text('YES', opts as never);
    expect(r.status).toBe(403);
    expect(world.raised).toHaveLength(0);
    expect(await world.services.idempotency.get('sms-inbound', r.sid)).toBeUndefined();
  });

  it('a tampered body fails the signature', async () => {
    const params = { MessageSid: nextSid(), From: PHONE, To: LOCAL_SMS_FROM, Body: 'NO' };
    const signature = sign(INBOUND_URL, params);
    const res = await smsInbound(formRequest(INBOUND_URL, { ...params, Body: 'YES' }, signature), context(world));
    expect(res.status).toBe(403);
    expect(world.raised).toHaveLength(0);
  });

  it('behind a proxy, validates against PUBLIC_BASE_URL + path + query', async () => {
    world = await makeWorld({ PUBLIC_BASE_URL: 'https://sched.example.org' });
    await world.offers.create(offer());
    const internal = 'http://10.0.0.5:7071/api/sms/inbound?clinic=c1';
    expect((await text('YES', { url: internal, signedUrl: 'https://sched.example.org/api/sms/inbound?clinic=c1' })).status).toBe(200);
    expect((await text('YES', { url: internal, signedUrl: internal })).status).toBe(403);
  });

  it('the TWILIO_AUTH_TOKEN environment variable wins over parsed settings', async () => {
    process.env.TWILIO_AUTH_TOKEN = 'env-token-xyz';
    const params = { MessageSid: nextSid(), From: PHONE, To: LOCAL_SMS_FROM, Body: 'HELP' };
    const ok = await smsInbound(formRequest(INBOUND_URL, params, sign(INBOUND_URL, params, 'env-token-xyz')), context(world));
    const old = await smsInbound(
      formRequest(INBOUND_URL, { ...params, MessageSid: nextSid() }, sign(INBOUND_URL, { ...params, MessageSid: 'x' })),
      context(world),
    );
    delete process.env.TWILIO_AUTH_TOKEN;
    expect(ok.status).toBe(200);
    expect(old.status).toBe(403);
  });
});

describe('POST /api/sms/inbound: offers', () => {
  it('YES to an open offer raises OfferReply on the workflow and says we are checking', async () => {
    await world.offers.create(offer());
    const r = await text('yes');
    expect(world.raised).toEqual([
      {
        instanceId: 'backfill-p1.20260303T1430',
        name: OFFER_REPLY_EVENT,
        data: { offerId: 'off-1', patientId: 'pat1', reply: 'yes', messageSid: r.sid, channel: 'sms' },
      },
    ]);
    expect(r.message).toBe("Riverside &amp; Co: thanks! We're checking Tue 3 Mar 9:30 AM for you and will text you shortly.");
    // No booking by the webhook itself: the workflow books.
    expect(await world.services.appointments.listByPatient('pat1', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z')).toHaveLength(0);
  });

  it('Y and 1 mean YES too; NO declines', async () => {
    await world.offers.create(offer());
    await text('Y');
    await text('1');
    await text('no');
    expect(world.raised.map((e) => (e.data as { reply: string }).reply)).toEqual(['yes', 'yes', 'no']);
  });

  it('a repeated MessageSid returns the same TwiML and changes nothing', async () => {
    await world.offers.create(offer());
    const first = await text('YES');
    const again = await text('YES', { sid: first.sid });
    expect(again.xml).toBe(first.xml);
    expect(world.raised).toHaveLength(1);
  });

  it('an expired offer is answered politely, no event', async () => {
    await world.offers.create(offer({ expiresAt: NOW.minus({ minutes: 1 }).toISO()! }));
    const r = await text('YES');
    expect(r.message).toContain('that offer has ended');
    expect(world.raised).toHaveLength(0);
  });

  it('an offer already taken by someone else is answered politely, no event', async () => {
    await world.offers.create(offer());
    // The workflow texted the offer through the send helper (which remembers the offer id) ...
    const sent = await sendPatientSms(world.services, {
      patientId: 'pat1',
      clinicId: 'c1',
      template: 'offer',
      params: { start: '2026-03-03T14:30:00Z', expiresAt: NOW.plus({ minutes: 25 }).toISO()! },
      purpose: 'offer',
      correlationId: 'backfill-p1.20260303T1430',
      offerId: 'off-1',
    });
    expect(sent.outcome).toBe('sent');
    // ... and then gave the slot to another patient.
    const o = (await world.offers.get('off-1'))!;
    await world.offers.update({ ...o, status: 'unavailable', version: 2 }, 1);
    const r = await text('YES');
    expect(r.message).toContain('that time has just been taken');
    expect(world.raised).toHaveLength(0);
  });

  it('an offer whose workflow is gone (durable 404) is answered as ended', async () => {
    await world.offers.create(offer({ workflowInstanceId: 'gone' }));
    const params = { MessageSid: nextSid(), From: PHONE, To: LOCAL_SMS_FROM, Body: 'YES' };
    const ctx = context(world);
    ctx.extraInputs.set(durableClientInput, {
      raiseEvent: async (id: string) => {
        throw new Error(`No instance with ID '${id}' found.`);
      },
    });
    const res = await smsInbound(formRequest(INBOUND_URL, params, sign(INBOUND_URL, params)), ctx);
    expect(res.status).toBe(200);
    expect(String(res.body)).toContain('that offer has ended');
  });

  /** A durable client whose instance reports `statuses` in turn (then the last one); raises are recorded. */
  function clientWithStatus(statuses: string[], onRaise: () => Promise<void> = async () => undefined) {
    const seen = [...statuses];
    return {
      getStatus: async () => ({ runtimeStatus: seen.length > 1 ? seen.shift() : seen[0] }),
      raiseEvent: async (instanceId: string, name: string, data: unknown) => {
        world.raised.push({ instanceId, name, data });
        await onRaise();
      },
    };
  }
  async function textWith(client: unknown, body: string) {
    const params = { MessageSid: nextSid(), From: PHONE, To: LOCAL_SMS_FROM, Body: body };
    const ctx = context(world);
    ctx.extraInputs.set(durableClientInput, client);
    const res = await smsInbound(formRequest(INBOUND_URL, params, sign(INBOUND_URL, params)), ctx);
    return { status: res.status ?? 200, body: String(res.body) };
  }

  it('a YES to an offer whose workflow has completed is answered as ended and the stale offer is closed', async () => {
    // E.g. state restored from before the workflow settled it: the record still says sent.
    await world.offers.create(offer());
    const r = await textWith(clientWithStatus(['Completed']), 'YES');
    expect(r.status).toBe(200);
    expect(r.body).toContain('that offer has ended');
    expect(r.body).not.toContain('checking');
    expect(world.raised).toHaveLength(0);
    expect((await world.offers.get('off-1'))?.status).toBe('expired');
    // A second YES finds no open offer (this fixture has no record of the offer SMS to name it).
    expect((await textWith(clientWithStatus(['Completed']), 'YES')).body).toContain('there is no open offer');
    expect(world.raised).toHaveLength(0);
  });

  it('a workflow that ends between the check and the raise: the answer follows the offer record', async () => {
    await world.offers.create(offer());
    const ended = await textWith(clientWithStatus(['Running', 'Completed']), 'YES');
    expect(world.raised).toHaveLength(1);
    expect(ended.body).toContain('that offer has ended');

    // The same race where the workflow took this YES before it ended: the booking is under way.
    await world.offers.create(offer({ offerId: 'off-2', slotId: 'p1.20260303T1500' }));
    const accept = async () => {
      const o = (await world.offers.get('off-2'))!;
      await world.offers.update({ ...o, status: 'accepted', version: o.version + 1 }, o.version);
    };
    const taken = await textWith(clientWithStatus(['Running', 'Completed'], accept), 'YES');
    expect(taken.body).toContain('checking');
  });

  it('a running workflow gets the reply and the patient is told it is being checked', async () => {
    await world.offers.create(offer());
    const r = await textWith(clientWithStatus(['Running']), 'YES');
    expect(world.raised).toHaveLength(1);
    expect(r.body).toContain('checking');
    expect((await world.offers.get('off-1'))?.status).toBe('sent');
  });

  it('a durable client failure is a 500 and the same MessageSid can be retried', async () => {
    await world.offers.create(offer());
    const params = { MessageSid: nextSid(), From: PHONE, To: LOCAL_SMS_FROM, Body: 'YES' };
    const failing = context(world);
    failing.extraInputs.set(durableClientInput, {
      raiseEvent: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    });
    expect((await smsInbound(formRequest(INBOUND_URL, params, sign(INBOUND_URL, params)), failing)).status).toBe(500);
    const retry = await smsInbound(formRequest(INBOUND_URL, params, sign(INBOUND_URL, params)), context(world));
    expect(retry.status).toBe(200);
    expect(world.raised).toHaveLength(1);
  });

  it('no open offer: polite answer, no event', async () => {
    const r = await text('YES');
    expect(r.message).toContain('there is no open offer');
    expect((await text('NO')).message).toContain('there is no open offer');
    expect(world.raised).toHaveLength(0);
  });
});

describe('POST /api/sms/inbound: reminders (C / X)', () => {
  it('C confirms the next appointment', async () => {
    const apt = await bookUpcoming();
    const r = await text('C');
    expect(r.message).toBe('Riverside &amp; Co: thanks, your appointment on Wed 4 Mar 9:30 AM is confirmed.');
    expect((await world.services.appointments.get(apt.appointmentId))?.confirmedAt).toBe(NOW.toISO());
  });

  it('X cancels it (and the cancellation event feeds backfill)', async () => {
    const apt = await bookUpcoming();
    const r = await text('x');
    expect(r.message).toContain('Wed 4 Mar 9:30 AM is cancelled');
    const stored = await world.services.appointments.get(apt.appointmentId);
    expect(stored?.status).toBe('cancelled');
    expect(stored?.cancellation).toMatchObject({ by: 'patient', reasonCode: 'patient-sms' });
  });

  it('X inside the cancellation window asks the patient to call', async () => {
    const apt = await bookUpcoming('2026-03-03T14:30:00Z'); // tomorrow 9:30, inside 24 h
    const r = await text('X');
    expect(r.message).toContain('too soon to cancel by text');
    expect((await world.services.appointments.get(apt.appointmentId))?.status).toBe('booked');
  });

  it('C and X without an upcoming appointment', async () => {
    expect((await text('C')).message).toContain("couldn't find an upcoming appointment");
    expect((await text('X')).message).toContain("couldn't find an upcoming appointment");
  });

  it('the word CANCEL opts out, it never cancels the visit', async () => {
    const apt = await bookUpcoming();
    const r = await text('CANCEL');
    expect(r.message).toContain("you won't get more texts");
    expect((await world.services.appointments.get(apt.appointmentId))?.status).toBe('booked');
    expect((await world.services.patients.get('pat1'))?.smsOptedOutAt).toBe(NOW.toISO());
  });
});

describe('POST /api/sms/inbound: BOOK', () => {
  beforeEach(() =>
    world.services.waitlist.add({
      waitlistEntryId: 'wl-1',
      clinicId: 'c1',
      patientId: 'pat1',
      appointmentType: 'echo',
      providerIds: [],
      urgency: 'routine',
      timeOfDay: 'any',
      status: 'active',
      createdAt: NOW.toISO()!,
      updatedAt: NOW.toISO()!,
      version: 1,
    }),
  );

  it('lists numbered free times; a number books through the scheduling domain', async () => {
    const list = await text('BOOK');
    // Minimum notice 60 min from 10:00, and 30 minutes for the reply: the first time listed is 11:30 today.
    expect(list.message).toBe(
      'Riverside &amp; Co: open times: 1) Mon 2 Mar 11:30 AM, 2) Tue 3 Mar 9:00 AM, 3) Tue 3 Mar 9:30 AM, 4) Tue 3 Mar 10:00 AM, 5) Tue 3 Mar 10:30 AM. Reply with a number to book.',
    );
    const pick = await text('2');
    expect(pick.message).toBe("Riverside &amp; Co: you're booked for Tue 3 Mar 9:00 AM. Reply X to cancel.");
    const apts = await world.services.appointments.listByPatient('pat1', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
    expect(apts.map((a) => [a.slotId, a.source, a.status])).toEqual([['p1.20260303T1400', 'sms', 'booked']]);
    // The list is spent: another number books nothing more.
    await text('3');
    expect(await world.services.appointments.listByPatient('pat1', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z')).toHaveLength(1);
  });

  it('an out-of-range number asks again; a taken slot is reported', async () => {
    await text('BOOK');
    expect((await text('9')).message).toContain('number from 1 to 5');
    // Someone else takes time 1 meanwhile.
    await world.services.patients.put({ ...world.patient, patientId: 'pat2', phone: '+15551230002' });
    await bookAppointment(world.services, {
      slotId: 'p1.20260302T1630',
      patientId: 'pat2',
      appointmentType: 'echo',
      channel: 'api',
      actor: { kind: 'staff', principalId: 'd' },
    });
    expect((await text('1')).message).toContain('that time was just taken');
  });

  it('the first time listed still meets the minimum notice when the number comes 25 minutes later', async () => {
    await text('BOOK');
    world.clock.advance({ minutes: 25 });
    expect((await text('1')).message).toBe("Riverside &amp; Co: you're booked for Mon 2 Mar 11:30 AM. Reply X to cancel.");
  });

  it('the BOOK list expires', async () => {
    await text('BOOK');
    world.clock.advance({ hours: 3 });
    expect((await text('2')).message).toContain('reply YES/NO');
  });
});

describe('POST /api/sms/inbound: consent keywords', () => {
  it('STOP records the opt-out; then only START and HELP are answered; START opts back in', async () => {
    await world.offers.create(offer());
    expect((await text('STOP')).message).toContain("you won't get more texts");
    expect((await world.services.patients.get('pat1'))?.smsOptedOutAt).toBe(NOW.toISO());
    const yes = await text('YES');
    expect(yes.xml).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    expect(world.raised).toHaveLength(0);
    expect((await text('HELP')).message).toContain('STOP to opt out');
    expect((await text('START')).message).toContain("you're opted back in");
    const back = await world.services.patients.get('pat1');
    expect(back?.smsOptedOutAt).toBeUndefined();
    expect(back?.smsConsent).toBe(true);
  });

  it.each(['STOPALL', 'UNSUBSCRIBE', 'END', 'QUIT'])('%s opts out', async (word) => {
    await text(word);
    expect((await world.services.patients.get('pat1'))?.smsOptedOutAt).toBeDefined();
  });

  it('unknown replies get a short help text; unknown numbers too', async () => {
    expect((await text('what time is it')).message).toContain('reply YES/NO to an offer, C to confirm, X to cancel or R to move your next visit');
    expect((await text('HELP', { from: '+15559999999' })).message).toMatch(/^Your clinic: reply YES\/NO/);
  });
});

describe('sendPatientSms', () => {
  const send = (over: Partial<Parameters<typeof sendPatientSms<'reminder'>>[1]> = {}) =>
    sendPatientSms(world.services, {
      patientId: 'pat1',
      clinicId: 'c1',
      template: 'reminder',
      params: { start: '2026-03-04T14:30:00Z' },
      purpose: 'reminder',
      correlationId: 'rem-1',
      ...over,
    });

  it('sends, records the message without the body, and the outbox shows it', async () => {
    const r = await send();
    expect(r).toEqual({ outcome: 'sent', messageId: expect.stringMatching(/^SM[0-9a-f]{32}$/) });
    const messageId = (r as { messageId: string }).messageId;
    const record = await world.services.smsMessages.get(messageId);
    expect(record).toMatchObject({ patientId: 'pat1', purpose: 'reminder', template: 'reminder', status: 'queued' });
    expect(JSON.stringify(record)).not.toContain('Riverside');
    expect(JSON.stringify(record)).not.toContain(PHONE);
    const res = await smsDevOutbox(
      new HttpRequest({ method: 'GET', url: `http://127.0.0.1:7071/api/dev/sms/outbox?to=${encodeURIComponent(PHONE)}`, query: { to: PHONE } }),
    );
    expect((res.jsonBody as { messages: { to: string; body: string; from: string }[] }).messages).toEqual([
      expect.objectContaining({
        to: PHONE,
        from: LOCAL_SMS_FROM,
        body: 'Riverside & Co: reminder of your appointment on Wed 4 Mar 9:30 AM. Reply C to confirm, X to cancel or R to pick another time. Want an earlier time? Reply EARLIER.',
      }),
    ]);
  });

  it('respects opt-out and consent', async () => {
    await world.services.patients.put({ ...world.patient, smsOptedOutAt: NOW.toISO()! });
    expect(await send()).toEqual({ outcome: 'opted-out' });
    await world.services.patients.put({ ...world.patient, smsConsent: false });
    expect(await send()).toEqual({ outcome: 'no-consent' });
    expect(world.outbox.list()).toHaveLength(0);
  });

  it('defers in quiet hours (clinic zone) and rate-limits per patient', async () => {
    world.clock.set(DateTime.fromISO('2026-03-03T03:00:00Z')); // 22:00 in New York
    expect(await send()).toEqual({ outcome: 'quiet-hours', deferred: true, nextAllowedAt: '2026-03-03T13:00:00.000Z' });
    expect(await send({ purpose: 'confirmation' })).toMatchObject({ outcome: 'sent' });
    world.clock.set(NOW);
    const limit = { maxMessages: 2, windowMinutes: 60 };
    expect((await send({ rateLimit: limit })).outcome).toBe('sent');
    expect((await send({ rateLimit: limit })).outcome).toBe('rate-limited');
  });

  it('refuses an invalid phone and an unknown patient', async () => {
    await world.services.patients.put({ ...world.patient, phone: '5551230001' });
    expect(await send()).toEqual({ outcome: 'invalid-phone' });
    expect(await send({ patientId: 'nobody' })).toEqual({ outcome: 'unknown-patient' });
  });
});

describe('POST /api/sms/status', () => {
  async function callback(messageSid: string, status: string, signature?: string) {
    const params = { MessageSid: messageSid, MessageStatus: status, AccountSid: 'AC' + '0'.repeat(32) };
    return smsStatus(formRequest(STATUS_URL, params, signature ?? sign(STATUS_URL, params)), context(world, 'smsStatus'));
  }

  it('updates the message record monotonically; repeats and out-of-order callbacks are harmless', async () => {
    const sent = (await sendPatientSms(world.services, {
      patientId: 'pat1',
      clinicId: 'c1',
      template: 'help',
      params: {},
      purpose: 'reply',
      correlationId: 'x',
    })) as { messageId: string };
    const repo = world.services.smsMessages;
    expect((await callback(sent.messageId, 'sent')).status).toBe(204);
    expect((await callback(sent.messageId, 'delivered')).status).toBe(204);
    await callback(sent.messageId, 'sent');
    await callback(sent.messageId, 'delivered');
    await callback(sent.messageId, 'queued');
    expect((await repo.get(sent.messageId))?.status).toBe('delivered');
  });

  it('refuses unsigned callbacks and acknowledges unknown messages', async () => {
    expect((await callback(nextSid(), 'delivered', 'bad')).status).toBe(403);
    expect((await callback(nextSid(), 'delivered')).status).toBe(204);
    expect((await callback(nextSid(), 'scheduled')).status).toBe(204);
    expect((await callback('not-a-sid', 'delivered')).status).toBe(400);
  });
});
