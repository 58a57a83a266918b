import Ajv2020 from 'ajv/dist/2020';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventType, makeEvent, type EventData } from '../../../../domain/events';
import { asyncApiDocument } from '../../../../functions/ops/asyncapi';

/** The AsyncAPI document: every event type, payloads from the zod schemas, kept in docs/ and checked for staleness. */
const doc = asyncApiDocument() as {
  components: { messages: Record<string, { name: string; payload: Record<string, unknown> }> };
  operations: Record<string, { action: string; messages: { $ref: string }[] }>;
};
const FILE = join(__dirname, '..', '..', '..', '..', 'docs', 'asyncapi.json');

const samples: { [T in EventType]: EventData<T> } = {
  [EventType.appointmentBooked]: {
    appointmentId: 'apt-1',
    slotId: 'dr-a.20260303T1500',
    clinicId: 'c1',
    providerId: 'dr-a',
    patientId: 'p1',
    appointmentType: 'checkup',
    start: '2026-03-03T10:00:00-05:00',
    end: '2026-03-03T10:30:00-05:00',
    status: 'booked',
    channel: 'api',
  },
  [EventType.appointmentCancelled]: {
    appointmentId: 'apt-1',
    slotId: 'dr-a.20260303T1500',
    clinicId: 'c1',
    providerId: 'dr-a',
    patientId: 'p1',
    appointmentType: 'checkup',
    start: '2026-03-03T10:00:00-05:00',
    end: '2026-03-03T10:30:00-05:00',
    reasonCode: 'x',
    cancelledBy: 'staff',
    late: false,
  },
  [EventType.appointmentNoShow]: {
    appointmentId: 'apt-1',
    slotId: 'dr-a.20260303T1500',
    clinicId: 'c1',
    providerId: 'dr-a',
    patientId: 'p1',
    appointmentType: 'checkup',
    start: '2026-03-03T10:00:00-05:00',
    end: '2026-03-03T10:30:00-05:00',
  },
  [EventType.appointmentRescheduled]: {
    appointmentId: 'apt-1',
    slotId: 'dr-a.20260303T1600',
    clinicId: 'c1',
    providerId: 'dr-a',
    patientId: 'p1',
    appointmentType: 'checkup',
    start: '2026-03-03T11:00:00-05:00',
    end: '2026-03-03T11:30:00-05:00',
    previousSlotId: 'dr-a.20260303T1500',
    previousStart: '2026-03-03T10:00:00-05:00',
    previousEnd: '2026-03-03T10:30:00-05:00',
  },
  [EventType.appointmentConfirmed]: {
    appointmentId: 'apt-1',
    slotId: 'dr-a.20260303T1500',
    clinicId: 'c1',
    providerId: 'dr-a',
    patientId: 'p1',
    appointmentType: 'checkup',
    start: '2026-03-03T10:00:00-05:00',
    end: '2026-03-03T10:30:00-05:00',
    channel: 'sms',
  },
  [EventType.slotReleased]: {
    slotId: 'dr-a.20260303T1500',
    clinicId: 'c1',
    providerId: 'dr-a',
    appointmentType: 'checkup',
    start: '2026-03-03T10:00:00-05:00',
    end: '2026-03-03T10:30:00-05:00',
    reason: 'cancelled',
  },
  [EventType.offerSent]: {
    offerId: 'o1',
    waitlistEntryId: 'wl1',
    patientId: 'p1',
    slotId: 'dr-a.20260303T1500',
    clinicId: 'c1',
    expiresAt: '2026-03-02T16:00:00Z',
    round: 1,
  },
  [EventType.offerAccepted]: {
    offerId: 'o1',
    waitlistEntryId: 'wl1',
    patientId: 'p1',
    slotId: 'dr-a.20260303T1500',
    clinicId: 'c1',
    appointmentId: 'apt-2',
    moveUp: true,
    previousSlotId: 'dr-a.20260313T1500',
  },
  [EventType.offerExpired]: {
    offerId: 'o1',
    waitlistEntryId: 'wl1',
    patientId: 'p1',
    slotId: 'dr-a.20260303T1500',
    clinicId: 'c1',
    appointmentType: 'checkup',
  },
  [EventType.eligibilityVerified]: { appointmentId: 'apt-1', patientId: 'p1', clinicId: 'c1', checkedAt: '2026-03-02T14:00:00Z' },
  [EventType.eligibilityFailed]: {
    appointmentId: 'apt-1',
    patientId: 'p1',
    clinicId: 'c1',
    checkedAt: '2026-03-02T14:00:00Z',
    outcome: 'inactive',
    reasonCode: 'NOT_IN_FORCE',
  },
  [EventType.providerAbsence]: {
    absenceId: 'abs-1',
    providerId: 'dr-a',
    clinicId: 'c1',
    from: '2026-03-03T00:00:00Z',
    to: '2026-03-04T00:00:00Z',
    reasonCode: 'sick',
  },
  [EventType.patientErased]: { patientId: 'p1', erasedAt: '2026-03-02T14:00:00Z' },
};

describe('AsyncAPI document', () => {
  const byName = new Map(Object.values(doc.components.messages).map((m) => [m.name, m]));
  const ajv = new Ajv2020({ strict: false, validateFormats: false });

  it('describes every event type, and every real event validates against its message payload', () => {
    expect([...byName.keys()].sort()).toEqual(Object.values(EventType).sort());
    for (const type of Object.values(EventType)) {
      const event = makeEvent(type, samples[type] as never, { id: 'evt-1', time: '2026-03-02T14:00:00Z', subject: 'apt-1' });
      const validate = ajv.compile(byName.get(type)!.payload);
      expect({ type, valid: validate(JSON.parse(JSON.stringify(event))), errors: validate.errors ?? null }).toEqual({ type, valid: true, errors: null });
      // PHI smuggled into data breaks the schema, as it breaks the trigger's zod check.
      expect(validate({ ...event, data: { ...event.data, patientName: 'Jane Doe' } })).toBe(false);
      // The distributed-tracing extension the publisher adds (W3C traceparent), and nothing else.
      expect(validate({ ...event, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })).toBe(true);
      expect(validate({ ...event, traceparent: 'not-a-traceparent' })).toBe(false);
    }
  });

  it('lists what each subscription receives, as the broker filters route it', () => {
    const receives = (name: string) => doc.operations[`receive-${name}`]!.messages.length;
    expect(receives('backfill')).toBe(4);
    expect(receives('provider-absence')).toBe(1);
    expect(receives('no-show-follow-up')).toBe(1);
    expect(receives('ehr-outbound')).toBe(Object.values(EventType).filter((t) => t.startsWith('health.scheduling.appointment.')).length);
  });

  it('docs/asyncapi.json is up to date (npm run asyncapi rewrites it)', () => {
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (process.env.WRITE_ASYNCAPI === '1') writeFileSync(FILE, text);
    expect(readFileSync(FILE, 'utf8')).toBe(text);
  });
});
