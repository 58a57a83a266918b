import { DomainError, ErrorCode, EVENT_SOURCE, eventDataSchemas, EventType, makeEvent, parseEvent, type EventData } from '../../../domain';

const ref = {
  appointmentId: 'apt-000001',
  slotId: 'prov-1.20260303T1400',
  clinicId: 'clinic-1',
  providerId: 'prov-1',
  patientId: 'pat-1',
  appointmentType: 'checkup',
  start: '2026-03-03T09:00:00-05:00',
  end: '2026-03-03T09:30:00-05:00',
};
const offer = { offerId: 'ofr-1', waitlistEntryId: 'wl-1', patientId: 'pat-1', slotId: ref.slotId, clinicId: 'clinic-1' };

/** One valid payload per event type: a new type without a sample fails the coverage test below. */
const samples: { [T in EventType]: EventData<T> } = {
  [EventType.appointmentBooked]: { ...ref, status: 'booked', channel: 'api' },
  [EventType.appointmentCancelled]: { ...ref, reasonCode: 'patient-request', cancelledBy: 'patient', late: false },
  [EventType.appointmentNoShow]: { ...ref },
  [EventType.appointmentRescheduled]: {
    ...ref,
    previousSlotId: 'prov-1.20260302T1400',
    previousStart: '2026-03-02T09:00:00-05:00',
    previousEnd: '2026-03-02T09:30:00-05:00',
  },
  [EventType.appointmentConfirmed]: { ...ref, channel: 'sms' },
  [EventType.slotReleased]: {
    slotId: ref.slotId,
    clinicId: 'clinic-1',
    providerId: 'prov-1',
    appointmentType: 'checkup',
    start: ref.start,
    end: ref.end,
    reason: 'cancelled',
    appointmentId: ref.appointmentId,
  },
  [EventType.offerSent]: { ...offer, expiresAt: '2026-03-02T15:00:00Z', round: 1 },
  [EventType.offerAccepted]: { ...offer, appointmentId: 'apt-000002', moveUp: true, previousSlotId: 'prov-1.20260310T1500' },
  [EventType.offerExpired]: { ...offer, appointmentType: 'checkup' },
  [EventType.eligibilityVerified]: { appointmentId: ref.appointmentId, patientId: 'pat-1', clinicId: 'clinic-1', checkedAt: '2026-02-28T14:00:00Z' },
  [EventType.eligibilityFailed]: {
    appointmentId: ref.appointmentId,
    patientId: 'pat-1',
    clinicId: 'clinic-1',
    checkedAt: '2026-02-28T14:00:00Z',
    outcome: 'inactive',
    reasonCode: 'coverage-terminated',
  },
  [EventType.providerAbsence]: {
    absenceId: 'abs-1',
    providerId: 'prov-1',
    clinicId: 'clinic-1',
    from: '2026-03-03T00:00:00-05:00',
    to: '2026-03-05T00:00:00-05:00',
    reasonCode: 'sick',
  },
  [EventType.patientErased]: { patientId: 'pat-1', erasedAt: '2026-03-02T13:00:00Z' },
};

const meta = { id: 'evt-000001', time: '2026-03-02T13:00:00.000Z', subject: 'apt-000001' };
const allTypes = Object.values(EventType);

function codeOf(fn: () => unknown): { code: string; details: unknown } {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, details: e.details };
    throw e;
  }
  return { code: 'no error', details: undefined };
}

describe('event contracts', () => {
  it('every event type has a schema and a sample, and types are versioned CloudEvents names', () => {
    expect(Object.keys(eventDataSchemas).sort()).toEqual([...allTypes].sort());
    expect(Object.keys(samples).sort()).toEqual([...allTypes].sort());
    for (const type of allTypes) expect(type).toMatch(/^health\.scheduling\.[a-z.]+\.v\d+$/);
  });

  it.each(allTypes)('%s round-trips through makeEvent, JSON and parseEvent', (type) => {
    const event = makeEvent(type, samples[type] as never, meta);
    expect(event).toMatchObject({
      specversion: '1.0',
      id: meta.id,
      source: EVENT_SOURCE,
      type,
      subject: meta.subject,
      time: meta.time,
      datacontenttype: 'application/json',
    });
    expect(event.data).toEqual(samples[type]);
    const wire = JSON.stringify(event);
    expect(parseEvent(wire)).toEqual(event);
    expect(parseEvent(JSON.parse(wire))).toEqual(event);
  });

  it('makeEvent refuses a payload that breaks its schema', () => {
    expect(() => makeEvent(EventType.appointmentNoShow, { ...ref, start: 'tomorrow' }, meta)).toThrow();
  });

  it('parseEvent keeps unknown envelope extensions but defaults datacontenttype', () => {
    const raw = { ...makeEvent(EventType.appointmentNoShow, samples[EventType.appointmentNoShow], meta), traceparent: '00-abc-def-01' } as Record<
      string,
      unknown
    >;
    delete raw.datacontenttype;
    const parsed = parseEvent(raw) as unknown as Record<string, unknown>;
    expect(parsed.datacontenttype).toBe('application/json');
    expect(parsed.traceparent).toBe('00-abc-def-01');
  });
});

describe('parseEvent rejects bad input with EVENT.* codes, never the offending value', () => {
  const good = () => JSON.parse(JSON.stringify(makeEvent(EventType.appointmentBooked, samples[EventType.appointmentBooked], meta))) as Record<string, unknown>;

  it('malformed JSON', () => {
    expect(codeOf(() => parseEvent('{"specversion": "1.0",'))).toEqual({ code: ErrorCode.EVENT_INVALID, details: { field: 'body' } });
    expect(codeOf(() => parseEvent('')).code).toBe(ErrorCode.EVENT_INVALID);
  });

  it('not an object', () => {
    for (const raw of [null, undefined, 42, 'null', '[]', [], true]) expect(codeOf(() => parseEvent(raw)).code).toBe(ErrorCode.EVENT_INVALID);
  });

  it.each(['specversion', 'id', 'source', 'type', 'subject', 'time'])('missing envelope field %s', (field) => {
    const raw = good();
    delete raw[field];
    expect(codeOf(() => parseEvent(raw))).toEqual({ code: ErrorCode.EVENT_INVALID, details: { field } });
  });

  it('wrong spec version, bad id, time without offset', () => {
    expect(codeOf(() => parseEvent({ ...good(), specversion: '0.3' })).details).toEqual({ field: 'specversion' });
    expect(codeOf(() => parseEvent({ ...good(), id: 'has spaces' })).details).toEqual({ field: 'id' });
    expect(codeOf(() => parseEvent({ ...good(), time: '2026-03-02T13:00:00' })).details).toEqual({ field: 'time' });
  });

  it('unknown type', () => {
    expect(codeOf(() => parseEvent({ ...good(), type: 'health.scheduling.appointment.teleported.v1' }))).toEqual({
      code: ErrorCode.EVENT_UNKNOWN_TYPE,
      details: { type: 'health.scheduling.appointment.teleported.v1' },
    });
    // A known type of another version is unknown too.
    expect(codeOf(() => parseEvent({ ...good(), type: 'health.scheduling.appointment.booked.v2' })).code).toBe(ErrorCode.EVENT_UNKNOWN_TYPE);
  });

  it('data missing a field or with a wrong one names the field', () => {
    const raw = good();
    const data = raw.data as Record<string, unknown>;
    delete data.slotId;
    expect(codeOf(() => parseEvent(raw))).toEqual({ code: ErrorCode.EVENT_INVALID, details: { type: EventType.appointmentBooked, field: 'slotId' } });
    expect(codeOf(() => parseEvent({ ...good(), data: { ...(good().data as object), status: 'fulfilled' } })).details).toEqual({
      type: EventType.appointmentBooked,
      field: 'status',
    });
    expect(codeOf(() => parseEvent({ ...good(), data: null })).code).toBe(ErrorCode.EVENT_INVALID);
  });

  it('the error never echoes a value from the message', () => {
    const raw = { ...good(), data: { ...(good().data as object), patientId: 'Jane Doe +14155550123' } };
    let caught: DomainError | undefined;
    try {
      parseEvent(raw);
    } catch (e) {
      caught = e as DomainError;
    }
    expect(caught?.code).toBe(ErrorCode.EVENT_INVALID);
    expect(JSON.stringify({ m: caught?.message, d: caught?.details })).not.toMatch(/Jane|4155550123/);
  });
});

describe('no PHI in event payloads', () => {
  const phiFields: Record<string, unknown> = {
    name: 'Jane Doe',
    phone: '+14155550123',
    patientName: 'Jane Doe',
    dateOfBirth: '1980-01-01',
    email: 'jane@example.com',
    notes: 'chest pain',
    body: 'YES',
    coverage: { payerId: 'p', memberId: 'm' },
  };

  it.each(allTypes)('%s: the strict schema rejects name, phone and other PHI-like fields', (type) => {
    const schema = eventDataSchemas[type];
    for (const [field, value] of Object.entries(phiFields)) {
      const result = schema.safeParse({ ...samples[type], [field]: value });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.code).toBe('unrecognized_keys');
    }
    expect(codeOf(() => parseEvent({ ...makeEvent(type, samples[type] as never, meta), data: { ...samples[type], name: 'Jane Doe' } })).code).toBe(
      ErrorCode.EVENT_INVALID,
    );
  });

  it('payload fields are ids, instants, codes, flags and counts only', () => {
    const allowedFields = new Set([
      ...Object.keys(ref),
      'status',
      'channel',
      'reasonCode',
      'cancelledBy',
      'late',
      'previousSlotId',
      'previousStart',
      'previousEnd',
      'reason',
      'offerId',
      'waitlistEntryId',
      'expiresAt',
      'round',
      'checkedAt',
      'outcome',
      'absenceId',
      'from',
      'to',
      'erasedAt',
      // Move-up: a flag, and the cascade link (depth, offer and workflow ids) on slot.released.
      'moveUp',
      'cascade',
    ]);
    for (const type of allTypes) {
      for (const key of Object.keys(eventDataSchemas[type].shape)) expect(allowedFields).toContain(key);
    }
  });
});
