// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('@azure/functions-core', () => require('../../../support/api-harness').functionsCoreStub, { virtual: true });

/**
 * HL7 v2 SIU inbound: parsing real-world-shaped messages (repeating segments and fields, escapes, Z-segments,
 * CR / LF / CRLF separators, MLLP framing, custom encoding characters, missing optional fields), mapping to
 * domain commands, ACK codes (AA / AE / AR), idempotency on MSH-10, and the queue trigger. Through the real
 * route handler, in process, on in-memory services with a fixed clock.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { EventType, type Appointment } from '../../../../domain';
import {
  HL7_FILLER_SYSTEM,
  HL7_PLACER_SYSTEM,
  parseHl7,
  parseHl7Timestamp,
  parseSiu,
  stripMllp,
  unescapeHl7,
  hl7TimestampToInstant,
} from '../../../../domain/ehr';
import { captured, invoke, NOW, principal, seed, SEEDED_PHI, type Seeded } from '../../../support/api-harness';
import { isDeadLetterError } from '../../../../functions/adapters/servicebus/errors';
import { isUtf8 } from 'node:buffer';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { receiveHl7v2 } from '../../../../functions/ehr/hl7v2';

import '../../../../functions/ehr/hl7v2';
import '../../../../functions/ehr/inbound-queue';

const fixture = (name: string) => readFileSync(join(__dirname, '..', '..', '..', 'fixtures', 'hl7', name), 'latin1');
const EHR = principal(['ehr'], undefined, 'epic-interface');
let env: Seeded;

beforeEach(async () => {
  env = await seed();
});

async function send(message: string, who: string | null = EHR) {
  const r = await invoke('POST', '/api/ehr/hl7v2', { rawBody: message, principal: who, headers: { 'content-type': 'application/hl7-v2' } });
  return {
    ...r,
    segments: r.text.split('\r'),
    msa:
      r.text
        .split('\r')
        .find((s) => s.startsWith('MSA|'))
        ?.split('|') ?? [],
    err: r.text
      .split('\r')
      .find((s) => s.startsWith('ERR|'))
      ?.split('|'),
  };
}

const appointments = (): Appointment[] => [...(env.services.appointments as unknown as { byId: Map<string, Appointment> }).byId.values()];

describe('parsing', () => {
  test('escape sequences decode with the message encoding characters', () => {
    const msg = parseHl7(fixture('siu-s12-new.hl7'))!;
    expect(unescapeHl7('O\\S\\Brien \\T\\ \\F\\ \\R\\ \\E\\ a\\.br\\b \\X41\\ \\H\\x\\N\\', msg.context)).toBe('O^Brien & | ~ \\ a\nb A x');
    expect(unescapeHl7('no escapes', msg.context)).toBe('no escapes');
  });

  test('MLLP framing and CR, LF, CRLF separators give the same command', () => {
    const strip = (t: string) => t.replace(/MSG0000\d/, 'X');
    const cr = parseSiu(fixture('siu-s12-new.hl7'));
    const lf = parseSiu(fixture('siu-s12-lf-mllp.hl7'));
    const crlf = parseSiu(fixture('siu-s12-crlf.hl7'));
    expect(cr.ok && lf.ok && crlf.ok).toBe(true);
    if (!cr.ok || !lf.ok || !crlf.ok) return;
    expect(strip(JSON.stringify(lf.command))).toEqual(strip(JSON.stringify(cr.command)));
    expect(strip(JSON.stringify(crlf.command))).toEqual(strip(JSON.stringify(cr.command)));
    expect(stripMllp('\x0bMSH|^~\\&\r\x1c\r')).toBe('MSH|^~\\&');
  });

  test('S12 maps PID-3 (Slotflow authority first), the first AIP that names a provider candidate, AIS-3, AIL-3, SCH-11 start and AIS-7 duration', () => {
    const r = parseSiu(fixture('siu-s12-new.hl7'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.command).toMatchObject({
      trigger: 'S12',
      placerId: 'PL-1001',
      fillerId: 'FL-9001',
      patientIds: ['pat1', 'MRN-778899'],
      providerIds: ['nurse-77', 'p1'],
      appointmentType: 'checkup',
      clinicId: 'c1',
      durationMinutes: 30,
      start: { local: { year: 2026, month: 3, day: 3, hour: 9, minute: 0, second: 0 }, offsetMinutes: -300 },
    });
    expect(r.command.header).toMatchObject({
      sendingApplication: ['EPIC', '', ''],
      sendingFacility: ['MAINHOSP', '2.16.840.1.113883.3.1', 'ISO'],
      controlId: 'MSG00001',
      version: '2.5.1',
    });
  });

  test('custom encoding characters (# as component separator) and a minimal message without optional fields', () => {
    const custom = parseSiu(fixture('siu-s12-custom-encoding.hl7'));
    expect(custom.ok && custom.command).toMatchObject({
      trigger: 'S12',
      patientIds: ['pat2'],
      providerIds: ['p2'],
      appointmentType: 'checkup',
      fillerId: 'FL-77',
      placerId: 'PL-77',
    });
    const minimal = parseSiu(fixture('siu-s12-minimal.hl7'));
    expect(minimal.ok && minimal.command).toMatchObject({ trigger: 'S12', patientIds: ['pat2'], providerIds: ['p2'], fillerId: 'FL-5555', clinicGiven: false });
    expect(minimal.ok && minimal.command.start).toEqual({ local: { year: 2026, month: 3, day: 3, hour: 10, minute: 0, second: 0 } });
  });

  test('HL7 timestamps: offsets, clinic-local reading, DST gap and fall-back, malformed values', () => {
    expect(parseHl7Timestamp('202603030900')).toEqual({ local: { year: 2026, month: 3, day: 3, hour: 9, minute: 0, second: 0 } });
    expect(parseHl7Timestamp('20260303090000.123+0530')?.offsetMinutes).toBe(330);
    for (const bad of ['2026', '20260303', '20261303090000', '20260303096000', '20260303090000+05', '20260303090000+2000', 'x', ''])
      expect(parseHl7Timestamp(bad)).toBeUndefined();
    const utc = (s: string, zone = 'America/New_York') => hl7TimestampToInstant(parseHl7Timestamp(s)!, zone).toUTC().toISO();
    expect(utc('20260303090000-0500')).toBe('2026-03-03T14:00:00.000Z');
    expect(utc('20260303090000')).toBe('2026-03-03T14:00:00.000Z');
    // 02:30 on 8 March 2026 does not exist in New York: read with the offset before the gap (RFC 5545).
    expect(utc('20260308023000')).toBe('2026-03-08T07:30:00.000Z');
    // 01:30 on 1 November 2026 happens twice: the first occurrence (EDT).
    expect(utc('20261101013000')).toBe('2026-11-01T05:30:00.000Z');
  });
});

describe('POST /api/ehr/hl7v2', () => {
  test('S12 books through the domain (channel ehr), keeps SCH-1/SCH-2, publishes appointment.booked and answers AA', async () => {
    const r = await send(fixture('siu-s12-new.hl7'));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/hl7-v2/);
    expect(r.segments[0]).toMatch(
      /^MSH\|\^~\\&\|SLOTFLOW\|C1\|EPIC\|MAINHOSP\^2\.16\.840\.1\.113883\.3\.1\^ISO\|20260302130000\+0000\|\|ACK\^S12\^ACK\|ack-\d+\|P\|2\.5\.1$/,
    );
    expect(r.msa.slice(0, 3)).toEqual(['MSA', 'AA', 'MSG00001']);
    expect(r.err).toBeUndefined();
    const [a] = appointments();
    expect(a).toMatchObject({
      slotId: 'p1.20260303T1400',
      patientId: 'pat1',
      providerId: 'p1',
      appointmentType: 'checkup',
      status: 'booked',
      source: 'ehr',
      start: '2026-03-03T09:00:00-05:00',
    });
    expect(a!.externalIds).toEqual([
      { system: HL7_PLACER_SYSTEM, value: 'PL-1001' },
      { system: HL7_FILLER_SYSTEM, value: 'FL-9001' },
    ]);
    expect(env.publisher.published.map((e) => e.type)).toEqual([EventType.appointmentBooked]);
    expect(env.publisher.published[0]!.data).toMatchObject({ channel: 'ehr', appointmentId: a!.appointmentId });
    // No PHI from PID-5 / PID-11 anywhere in the ACK.
    expect(r.text).not.toMatch(/Brien|Springfield|Main St/);
  });

  test('the same MSH-10 again returns the same ACK and changes nothing; the same id with another body is AE', async () => {
    const first = await send(fixture('siu-s12-new.hl7'));
    const again = await send(fixture('siu-s12-new.hl7'));
    expect(again.text).toBe(first.text);
    expect(appointments()).toHaveLength(1);
    expect(env.publisher.published).toHaveLength(1);
    const reused = await send(fixture('siu-s12-new.hl7').replace('20260303090000-0500', '20260303100000-0500'));
    expect(reused.msa[1]).toBe('AE');
    expect(reused.err?.[5]).toMatch(/^IDEMPOTENCY\.KEY_REUSED\^/);
    expect(appointments()).toHaveLength(1);
  });

  test('LF/MLLP and CRLF copies with new control ids are a second booking of a taken slot: AE APPOINTMENT.SLOT_TAKEN... unless they name the same SCH ids (unchanged)', async () => {
    await send(fixture('siu-s12-new.hl7'));
    const lf = await send(fixture('siu-s12-lf-mllp.hl7'));
    expect(lf.msa.slice(0, 3)).toEqual(['MSA', 'AA', 'MSG00002']);
    expect(lf.msa[3]).toMatch(/^unchanged apt-/);
    const other = await send(
      fixture('siu-s12-crlf.hl7')
        .replace(/PL-1001/g, 'PL-2')
        .replace(/FL-9001/g, 'FL-2')
        .replace('pat1^^^SLOTFLOW', 'pat2^^^SLOTFLOW'),
    );
    expect(other.msa[1]).toBe('AE');
    expect(other.err?.[3]).toBe('205^Duplicate key identifier^HL70357');
    expect(other.err?.[5]).toMatch(/^APPOINTMENT\.SLOT_TAKEN\^/);
    expect(appointments()).toHaveLength(1);
  });

  test('a Latin-1 body (not UTF-8) is read as ISO 8859-1', async () => {
    const latin1 = Buffer.from(fixture('siu-s12-new.hl7').replace('Brien^Mary', 'Brien^M\u00e4ry').replace('FL-9001^EPIC', 'FL-9001\u00e4^EPIC'), 'latin1');
    expect(isUtf8(latin1)).toBe(false);
    const request = new HttpRequest({
      method: 'POST',
      url: 'http://127.0.0.1:7071/api/ehr/hl7v2',
      headers: { 'x-ms-client-principal': EHR },
      body: { bytes: latin1 },
    });
    const response = await receiveHl7v2(request, new InvocationContext({ invocationId: 'inv-latin1', logHandler: () => undefined }));
    const text = await response.text();
    expect(text).toContain('MSA|AA|MSG00001');
    expect(appointments()[0]!.externalIds).toContainEqual({ system: HL7_FILLER_SYSTEM, value: 'FL-9001\u00e4' });
  });

  test('start without offset is clinic-local; custom encoding characters work end to end', async () => {
    const minimal = await send(fixture('siu-s12-minimal.hl7'));
    expect(minimal.msa[1]).toBe('AA');
    expect(minimal.segments[0]).toContain('|ACK^S12^ACK|');
    const custom = await send(fixture('siu-s12-custom-encoding.hl7').replace('202603031000-0500', '202603031100-0500'));
    expect(custom.msa[1]).toBe('AA');
    expect(
      appointments()
        .map((a) => a.start)
        .sort(),
    ).toEqual(['2026-03-03T10:00:00-05:00', '2026-03-03T11:00:00-05:00']);
  });

  test.each([
    ['a start off the slot grid', (m: string) => m.replace(/20260303090000-0500/g, '20260303091500-0500'), 'SLOT.NOT_FOUND'],
    ['a Sunday (no hours)', (m: string) => m.replace(/20260303090000-0500/g, '20260308090000-0500'), 'SLOT.NOT_FOUND'],
    ['an unknown patient', (m: string) => m.replace('pat1^^^SLOTFLOW', 'nobody^^^SLOTFLOW'), 'PATIENT.NOT_FOUND'],
    ['no known provider', (m: string) => m.replace('AIP|2|A|p1', 'AIP|2|A|p9'), 'PROVIDER.NOT_FOUND'],
    ['an unknown appointment type', (m: string) => m.replace('checkup^Check-up', 'xray^X-ray'), 'APPOINTMENT_TYPE.UNKNOWN'],
    ['a type the provider does not offer here', (m: string) => m.replace('checkup^Check-up', 'berlin-visit^Visit'), 'APPOINTMENT_TYPE.UNKNOWN'],
    ['a duration longer than the slot', (m: string) => m.replace('|30|MIN\r', '|45|MIN\r'), 'APPOINTMENT_TYPE.DOES_NOT_FIT_SLOT'],
    ['a clinic that is not the provider clinic', (m: string) => m.replace('AIL|1|A|c1', 'AIL|1|A|c2'), 'CLINIC.NOT_FOUND'],
    [
      'a slot in the past',
      (m: string) => m.replace(/20260303090000-0500/g, '20260227090000-0500').replace(/20260303093000-0500/g, '20260227093000-0500'),
      'APPOINTMENT.IN_THE_PAST',
    ],
  ])('AE for %s, with the code in ERR-5 and nothing stored', async (_name, mutate, code) => {
    const r = await send(mutate(fixture('siu-s12-new.hl7')));
    expect(r.status).toBe(200);
    expect(r.msa.slice(0, 3)).toEqual(['MSA', 'AE', 'MSG00001']);
    expect(r.err?.[4]).toBe('E');
    expect(r.err?.[5]?.split('^')[0]).toBe(code);
    expect(appointments()).toHaveLength(0);
    expect(env.publisher.published).toHaveLength(0);
  });

  test('a principal limited to another clinic gets AE AUTH.CLINIC_FORBIDDEN', async () => {
    const r = await send(fixture('siu-s12-new.hl7'), principal(['ehr'], ['c2'], 'berlin-interface'));
    expect(r.msa[1]).toBe('AE');
    expect(r.err?.[5]).toMatch(/^AUTH\.CLINIC_FORBIDDEN\^/);
    expect(appointments()).toHaveLength(0);
  });

  test('S13 reschedules (same id, new slot), S14 without scheduling changes is AA unchanged, S15 cancels, S17 after S15 is AA unchanged', async () => {
    await send(fixture('siu-s12-new.hl7'));
    const [booked] = appointments();
    const s13 = await send(fixture('siu-s13-reschedule.hl7'));
    expect(s13.msa[1]).toBe('AA');
    expect(appointments()[0]).toMatchObject({
      appointmentId: booked!.appointmentId,
      slotId: 'p1.20260303T1630',
      start: '2026-03-03T11:30:00-05:00',
      version: 2,
    });
    const s14 = await send(fixture('siu-s14-modify-notes.hl7'));
    expect(s14.msa[1]).toBe('AA');
    expect(s14.msa[3]).toMatch(/^unchanged /);
    const s15 = await send(fixture('siu-s15-cancel.hl7'));
    expect(s15.msa[1]).toBe('AA');
    expect(appointments()[0]).toMatchObject({ status: 'cancelled', cancellation: { reasonCode: 'ehr-patcancel', by: 'ehr' } });
    const s17 = await send(fixture('siu-s17-delete.hl7'));
    expect(s17.msa[1]).toBe('AA');
    expect(s17.msa[3]).toMatch(/^unchanged /);
    expect(env.publisher.published.map((e) => e.type)).toEqual([
      EventType.appointmentBooked,
      EventType.appointmentRescheduled,
      EventType.slotReleased,
      EventType.appointmentCancelled,
      EventType.slotReleased,
    ]);
  });

  test('S26 records a no-show after the start; before it, AE APPOINTMENT.NOT_YET_STARTED', async () => {
    await send(fixture('siu-s12-new.hl7'));
    const early = await send(fixture('siu-s26-noshow.hl7'));
    expect(early.err?.[5]).toMatch(/^APPOINTMENT\.NOT_YET_STARTED\^/);
    env.clock.set(DateTime.fromISO('2026-03-03T15:00:00Z'));
    const late = await send(fixture('siu-s26-noshow.hl7').replace('MSG00030', 'MSG00031'));
    expect(late.msa[1]).toBe('AA');
    expect(appointments()[0]!.status).toBe('noshow');
    expect(env.publisher.published.map((e) => e.type)).toContain(EventType.appointmentNoShow);
  });

  test('updates for an unknown SCH id, or for another patient, are AE', async () => {
    const unknown = await send(fixture('siu-s15-cancel.hl7'));
    expect(unknown.err?.[5]).toMatch(/^APPOINTMENT\.NOT_FOUND\^/);
    expect(unknown.err?.[3]).toMatch(/^204\^/);
    await send(fixture('siu-s12-new.hl7'));
    const wrongPatient = await send(fixture('siu-s15-cancel.hl7').replace('MSG00020', 'MSG00029').replace('pat1^^^SLOTFLOW', 'pat2^^^SLOTFLOW'));
    expect(wrongPatient.err?.[5]).toMatch(/^VALIDATION\.INVALID_INPUT\^/);
    expect(appointments()[0]!.status).toBe('booked');
  });

  test.each([
    ['an empty body', '', 'HL7.MALFORMED'],
    ['JSON', '{"resourceType":"Appointment"}', 'HL7.MALFORMED'],
    ['no MSH first', 'PID|1||pat1\rMSH|^~\\&|A', 'HL7.MALFORMED'],
    ['broken encoding characters', 'MSH|^^\\&|A|B|||||SIU^S12|X1|P|2.5', 'HL7.MALFORMED'],
    ['no control id', fixture('siu-s12-new.hl7').replace('|MSG00001|', '||'), 'HL7.REQUIRED_FIELD_MISSING'],
    ['an ADT message', fixture('siu-s12-new.hl7').replace('SIU^S12^SIU_S12', 'ADT^A01^ADT_A01'), 'HL7.UNSUPPORTED_MESSAGE_TYPE'],
    ['an unsupported SIU event', fixture('siu-s12-new.hl7').replace('SIU^S12^SIU_S12', 'SIU^S99'), 'HL7.UNSUPPORTED_EVENT'],
    ['HL7 v3', fixture('siu-s12-new.hl7').replace('|2.5.1|', '|3.0|'), 'HL7.UNSUPPORTED_VERSION'],
    ['no SCH segment', fixture('siu-s12-new.hl7').replace(/\rSCH\|[^\r]*/, ''), 'HL7.SEGMENT_MISSING'],
    ['no appointment ids', fixture('siu-s12-new.hl7').replace('SCH|PL-1001^EPIC|FL-9001^EPIC|', 'SCH|||'), 'HL7.REQUIRED_FIELD_MISSING'],
    ['no PID-3 on S12', fixture('siu-s12-new.hl7').replace(/\rPID\|[^\r]*/, '\rPID|1'), 'HL7.REQUIRED_FIELD_MISSING'],
    [
      'no start anywhere',
      fixture('siu-s12-new.hl7')
        .replace(/\^\^30\^20260303090000-0500\^20260303093000-0500/, '')
        .replace(/\rTQ1\|[^\r]*/, '')
        .replace('|20260303090000-0500|0|MIN', '||0|MIN'),
      'HL7.REQUIRED_FIELD_MISSING',
    ],
    ['a malformed start', fixture('siu-s12-new.hl7').replace('^^30^20260303090000-0500', '^^30^tomorrow'), 'HL7.DATA_TYPE'],
    ['a malformed duration', fixture('siu-s12-new.hl7').replace('|30|MIN\r', '|half an hour|MIN\r'), 'HL7.DATA_TYPE'],
  ])('AR for %s: HTTP 200, never a 5xx, nothing stored', async (_name, message, code) => {
    const r = await send(message);
    expect(r.status).toBe(200);
    expect(r.msa[1]).toBe('AR');
    expect(r.err?.[5]?.split('^')[0]).toBe(code);
    expect(appointments()).toHaveLength(0);
  });

  test('401 without a principal, 403 for a scheduler (problem+json)', async () => {
    expect((await send(fixture('siu-s12-new.hl7'), null)).status).toBe(401);
    const forbidden = await send(fixture('siu-s12-new.hl7'), principal(['scheduler']));
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(appointments()).toHaveLength(0);
  });

  test('fuzz: mutated messages never give a 5xx, always an ACK, and never leave a partial appointment', async () => {
    const base = fixture('siu-s12-new.hl7');
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        text: fc.constantFrom('|', '^', '~', '\\', '&', '\r', '\n', '\x0b', '\x1c', '""', 'ü', '\\X00\\', '\\F', 'ZZZ|1'),
      }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.nat(), async (mutations, n) => {
        env = await seed();
        let m = base.replace('MSG00001', `FZ${n}`);
        for (const mu of mutations) {
          const at = mu.at % (m.length + 1);
          m =
            mu.kind === 'delete'
              ? m.slice(0, at) + m.slice(at + mu.len)
              : mu.kind === 'insert'
                ? m.slice(0, at) + mu.text + m.slice(at)
                : m.slice(0, Math.max(at, 1));
        }
        const r = await send(m);
        expect(r.status).toBe(200);
        expect(['AA', 'AE', 'AR']).toContain(r.msa[1]);
        const stored = appointments();
        if (r.msa[1] === 'AA') {
          expect(stored.length).toBeLessThanOrEqual(1);
        } else {
          expect(stored).toHaveLength(0);
          expect(env.publisher.published).toHaveLength(0);
        }
        for (const a of stored) expect(a.status).toBe('booked');
        for (const phi of SEEDED_PHI) expect(r.text).not.toContain(phi);
      }),
      { numRuns: 100, seed: 20260302 },
    );
  });
});

describe('Service Bus queue ehr-inbound', () => {
  const handler = () => captured.find((f) => f.name === 'ehrInboundQueue')!.handler as (m: unknown, c: unknown) => Promise<void>;
  const ctx = { log: () => undefined, warn: () => undefined, error: () => undefined, triggerMetadata: {} };

  test('registered on queue ehr-inbound with connection ServiceBusConnection', () => {
    const fn = captured.find((f) => f.name === 'ehrInboundQueue')!;
    expect(Object.values(fn.bindings).find((b) => b.type === 'serviceBusTrigger')).toMatchObject({
      queueName: 'ehr-inbound',
      connection: 'ServiceBusConnection',
    });
  });

  test('AA completes (a string, bytes or {hl7}); AE and AR dead-letter with the code; a repeat is a replay', async () => {
    await handler()(fixture('siu-s12-new.hl7'), ctx);
    expect(appointments()).toHaveLength(1);
    await handler()(Buffer.from(fixture('siu-s12-new.hl7'), 'latin1'), ctx);
    expect(appointments()).toHaveLength(1);
    const deadLetter = async (p: Promise<void>) => {
      try {
        await p;
      } catch (e) {
        return isDeadLetterError(e) ? `${e.deadLetterReason} ${e.deadLetterErrorDescription ?? ''}` : 'other';
      }
      return 'completed';
    };
    const taken = fixture('siu-s12-minimal.hl7').replace('pat2', 'pat1').replace('|p2', '|p1').replace('20260303100000', '20260303090000');
    expect(await deadLetter(handler()({ hl7: taken }, ctx))).toMatch(/^HL7\.AE APPOINTMENT\.(SLOT_TAKEN|PATIENT_OVERLAP) control=MIN0001$/);
    expect(await deadLetter(handler()('not hl7', ctx))).toMatch(/^HL7\.AR HL7\.MALFORMED/);
    expect(await deadLetter(handler()(42, ctx))).toMatch(/^HL7\.MALFORMED/);
    expect(NOW.toISO()).toBe(env.clock.now().toISO());
  });
});
