import {
  AccessDenied,
  bookAppointment,
  cancelAppointment,
  clinicLocalDate,
  confirmAppointment,
  DomainError,
  ErrorCode,
  EventType,
  markNoShow,
  parseEvent,
  rescheduleAppointment,
  searchFreeSlots,
  type Appointment,
  type BookCommand,
  type BookingAccess,
  type Channel,
  type SlotSearch,
} from '../../../domain';
import { DirectOutbox } from '../../../domain/memory';
import { at, demoDeps, patientActor, provider, staff, type TestDeps } from '../../fixtures/domain/builders';

/** Tuesday 2026-03-03 in New York (EST, -05:00). */
const tuesday: SlotSearch = { clinicId: 'clinic-1', appointmentType: 'checkup', from: '2026-03-03T00:00:00-05:00', to: '2026-03-04T00:00:00-05:00' };
const NINE = 'prov-1.20260303T1400';
const TEN = 'prov-1.20260303T1500';

let deps: TestDeps;
beforeEach(async () => {
  deps = await demoDeps();
});

function book(overrides: Partial<BookCommand> = {}): Promise<Appointment> {
  return bookAppointment(deps, { slotId: NINE, patientId: 'pat-1', appointmentType: 'checkup', channel: 'api', actor: staff, ...overrides });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return 'no error';
}

const types = () => deps.publisher.published.map((e) => e.type);
const freeIds = async (q: Partial<SlotSearch> = {}) => (await searchFreeSlots(deps, { ...tuesday, ...q })).map((s) => s.slotId);

describe('searchFreeSlots', () => {
  it('lists the free slots of every provider offering the type, in the clinic zone', async () => {
    const slots = await searchFreeSlots(deps, tuesday);
    // prov-1: 30-minute slots 09-12 and 13-17 (14); prov-2: 60-minute slots (checkup + long), 3 + 4.
    expect(slots.filter((s) => s.providerId === 'prov-1')).toHaveLength(14);
    expect(slots.filter((s) => s.providerId === 'prov-2')).toHaveLength(7);
    expect(slots[0]).toMatchObject({
      slotId: 'prov-1.20260303T1400',
      start: '2026-03-03T09:00:00-05:00',
      end: '2026-03-03T09:30:00-05:00',
      appointmentType: 'checkup',
    });
    expect(slots.every((s) => s.start.endsWith('-05:00'))).toBe(true);
  });

  it('filters by provider and by type', async () => {
    expect(await freeIds({ providerId: 'prov-2' })).toHaveLength(7);
    expect((await searchFreeSlots(deps, { ...tuesday, appointmentType: 'long' })).map((s) => s.providerId)).toEqual(Array(7).fill('prov-2'));
    expect((await searchFreeSlots(deps, { ...tuesday, appointmentType: 'followup' })).every((s) => s.providerId === 'prov-1')).toBe(true);
    // A provider that exists but does not offer the type has no slots for it.
    expect(await freeIds({ appointmentType: 'long', providerId: 'prov-1' })).toEqual([]);
  });

  it('a booked slot disappears and comes back when the appointment is cancelled', async () => {
    expect(await freeIds()).toContain(NINE);
    const a = await book();
    const afterBooking = await freeIds();
    expect(afterBooking).not.toContain(NINE);
    expect(afterBooking).toContain('prov-2.20260303T1400');
    expect(afterBooking).toHaveLength(20);
    await cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'patient-request' });
    expect(await freeIds()).toContain(NINE);
  });

  it('a short appointment still blocks its whole slot', async () => {
    await book({ appointmentType: 'followup' });
    expect(await freeIds()).not.toContain(NINE);
  });

  it('rejects unknown clinic, type and provider and bad ranges with stable codes', async () => {
    expect(await codeOf(searchFreeSlots(deps, { ...tuesday, clinicId: 'clinic-x' }))).toBe(ErrorCode.CLINIC_NOT_FOUND);
    expect(await codeOf(searchFreeSlots(deps, { ...tuesday, appointmentType: 'massage' }))).toBe(ErrorCode.APPOINTMENT_TYPE_UNKNOWN);
    expect(await codeOf(searchFreeSlots(deps, { ...tuesday, providerId: 'prov-x' }))).toBe(ErrorCode.PROVIDER_NOT_FOUND);
    expect(await codeOf(searchFreeSlots(deps, { ...tuesday, to: tuesday.from }))).toBe(ErrorCode.END_BEFORE_START);
    expect(await codeOf(searchFreeSlots(deps, { ...tuesday, to: '2026-04-04T00:00:00-04:00' }))).toBe(ErrorCode.RANGE_TOO_LONG);
    expect(await codeOf(searchFreeSlots(deps, { ...tuesday, from: '2026-03-03T00:00:00' }))).toBe(ErrorCode.INVALID_TIME);
  });
});

describe('bookAppointment', () => {
  it('books, stores and publishes appointment.booked with ids only', async () => {
    const a = await book();
    expect(a).toMatchObject({
      appointmentId: 'apt-000001',
      slotId: NINE,
      clinicId: 'clinic-1',
      providerId: 'prov-1',
      patientId: 'pat-1',
      appointmentType: 'checkup',
      status: 'booked',
      start: '2026-03-03T09:00:00-05:00',
      end: '2026-03-03T09:30:00-05:00',
      source: 'api',
      version: 1,
      createdAt: '2026-03-02T13:00:00.000Z',
    });
    expect(a.needsStaffConfirmation).toBeUndefined();
    expect(await deps.appointments.get(a.appointmentId)).toEqual(a);
    expect(deps.publisher.published).toHaveLength(1);
    const event = deps.publisher.published[0]!;
    expect(event).toMatchObject({ type: EventType.appointmentBooked, subject: a.appointmentId, specversion: '1.0', time: '2026-03-02T13:00:00.000Z' });
    expect(event.data).toEqual({
      appointmentId: a.appointmentId,
      slotId: NINE,
      clinicId: 'clinic-1',
      providerId: 'prov-1',
      patientId: 'pat-1',
      appointmentType: 'checkup',
      start: a.start,
      end: a.end,
      status: 'booked',
      channel: 'api',
    });
    // Stored with the change (outbox) as well, and valid on the wire.
    expect(deps.appointments.stored).toEqual(deps.publisher.published);
    expect(parseEvent(JSON.stringify(event))).toEqual(event);
    expect(JSON.stringify(deps.publisher.published)).not.toMatch(/Pat Example|4155550123/);
  });

  it('a second booking of the same slot is APPOINTMENT.SLOT_TAKEN', async () => {
    await book();
    expect(await codeOf(book({ patientId: 'pat-2' }))).toBe(ErrorCode.SLOT_TAKEN);
    expect(types()).toEqual([EventType.appointmentBooked]);
  });

  it('of two concurrent bookings of one slot exactly one succeeds', async () => {
    const results = await Promise.allSettled([book(), book({ patientId: 'pat-2' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as DomainError).code).toBe(ErrorCode.SLOT_TAKEN);
    expect(deps.appointments.byId.size).toBe(1);
  });

  it('a patient cannot hold two overlapping appointments (APPOINTMENT.PATIENT_OVERLAP)', async () => {
    await book();
    expect(await codeOf(book({ slotId: 'prov-2.20260303T1400' }))).toBe(ErrorCode.PATIENT_OVERLAP);
    // The next slot is fine.
    expect((await book({ slotId: 'prov-1.20260303T1430' })).status).toBe('booked');
  });

  it('rejects unknown or malformed slots, patients and types', async () => {
    expect(await codeOf(book({ slotId: 'prov-1.20260303T1200' }))).toBe(ErrorCode.SLOT_NOT_FOUND);
    expect(await codeOf(book({ slotId: 'prov-1.20260303T1410' }))).toBe(ErrorCode.SLOT_NOT_FOUND);
    expect(await codeOf(book({ slotId: 'nonsense' }))).toBe(ErrorCode.SLOT_NOT_FOUND);
    expect(await codeOf(book({ slotId: 'prov-x.20260303T1400' }))).toBe(ErrorCode.SLOT_NOT_FOUND);
    expect(await codeOf(book({ patientId: 'pat-x' }))).toBe(ErrorCode.PATIENT_NOT_FOUND);
    expect(await codeOf(book({ appointmentType: 'massage' }))).toBe(ErrorCode.APPOINTMENT_TYPE_UNKNOWN);
    expect(await codeOf(book({ appointmentType: 'long' }))).toBe(ErrorCode.APPOINTMENT_TYPE_NOT_OFFERED);
    expect(deps.appointments.byId.size).toBe(0);
    expect(deps.publisher.published).toEqual([]);
  });

  it('applies the booking rules of the clinic (past slot, self-service notice)', async () => {
    deps.clock.set(at('2026-03-03T14:05:00Z'));
    expect(await codeOf(book())).toBe(ErrorCode.IN_THE_PAST);
    deps.clock.set(at('2026-03-03T14:30:00Z'));
    expect(await codeOf(book({ slotId: TEN, channel: 'sms', actor: patientActor }))).toBe(ErrorCode.TOO_LITTLE_NOTICE);
    expect((await book({ slotId: TEN })).status).toBe('booked');
  });

  it('keeps the booking when publishing fails: the event stays in the outbox for the relay', async () => {
    deps.outbox = new DirectOutbox({
      publish: async () => {
        throw new Error('service bus down');
      },
    });
    const a = await book();
    expect(a.status).toBe('booked');
    expect(deps.appointments.stored.map((e) => e.type)).toEqual([EventType.appointmentBooked]);
  });
});

describe('cancelAppointment', () => {
  it('cancels, releases the slot, and publishes cancelled + slot.released', async () => {
    const a = await book();
    deps.clock.advance({ hours: 1 });
    const c = await cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'patient-request' });
    expect(c).toMatchObject({ status: 'cancelled', version: 2, updatedAt: '2026-03-02T14:00:00.000Z' });
    expect(c.cancellation).toEqual({ reasonCode: 'patient-request', at: '2026-03-02T14:00:00.000Z', by: 'staff', late: false });
    expect(types()).toEqual([EventType.appointmentBooked, EventType.appointmentCancelled, EventType.slotReleased]);
    const [, cancelled, released] = deps.publisher.published;
    expect(cancelled!.data).toMatchObject({ appointmentId: a.appointmentId, reasonCode: 'patient-request', cancelledBy: 'staff', late: false });
    expect(released).toMatchObject({ subject: NINE, data: { slotId: NINE, reason: 'cancelled', appointmentId: a.appointmentId, appointmentType: 'checkup' } });
    // The slot can be booked again.
    expect((await book({ patientId: 'pat-2' })).status).toBe('booked');
  });

  it('patients cannot cancel inside the window; staff can, marked late', async () => {
    const a = await book();
    deps.clock.set(at('2026-03-02T15:00:00Z'));
    expect(await codeOf(cancelAppointment(deps, { appointmentId: a.appointmentId, actor: patientActor, reasonCode: 'sms-cancel' }))).toBe(
      ErrorCode.CANCELLATION_WINDOW_PASSED,
    );
    const c = await cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'sms-cancel' });
    expect(c.cancellation?.late).toBe(true);
  });

  it('cancelling after the start releases nothing; cancelling twice is an invalid transition', async () => {
    const a = await book();
    deps.clock.set(at('2026-03-03T14:10:00Z'));
    await cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'left' });
    expect(types()).toEqual([EventType.appointmentBooked, EventType.appointmentCancelled]);
    expect(await codeOf(cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'again' }))).toBe(ErrorCode.INVALID_TRANSITION);
    expect(await codeOf(cancelAppointment(deps, { appointmentId: 'apt-x', actor: staff, reasonCode: 'x' }))).toBe(ErrorCode.APPOINTMENT_NOT_FOUND);
  });
});

describe('markNoShow', () => {
  it('only after the start; then noshow, the patient history grows and the rest of the slot is released', async () => {
    const a = await book();
    expect(await codeOf(markNoShow(deps, { appointmentId: a.appointmentId, actor: staff }))).toBe(ErrorCode.NOT_YET_HAPPENED);
    deps.clock.set(at('2026-03-03T14:10:00Z'));
    const n = await markNoShow(deps, { appointmentId: a.appointmentId, actor: staff });
    expect(n).toMatchObject({ status: 'noshow', noShowAt: '2026-03-03T14:10:00.000Z', version: 2 });
    expect((await deps.patients.get('pat-1'))!.noShows).toEqual(['2026-03-03T14:10:00.000Z']);
    expect(types()).toEqual([EventType.appointmentBooked, EventType.appointmentNoShow, EventType.slotReleased]);
    expect(deps.publisher.published[2]!.data).toMatchObject({ reason: 'noshow', slotId: NINE });
    expect(await codeOf(markNoShow(deps, { appointmentId: a.appointmentId, actor: staff }))).toBe(ErrorCode.INVALID_TRANSITION);
    expect((await deps.patients.get('pat-1'))!.noShows).toHaveLength(1);
  });

  it('after the slot ended there is nothing left to release', async () => {
    const a = await book();
    deps.clock.set(at('2026-03-03T15:00:00Z'));
    await markNoShow(deps, { appointmentId: a.appointmentId, actor: staff });
    expect(types()).toEqual([EventType.appointmentBooked, EventType.appointmentNoShow]);
  });

  it('past the threshold, self-service bookings are pending until staff confirm them', async () => {
    for (const slotId of [NINE, 'prov-1.20260304T1400']) {
      deps.clock.set(at('2026-03-02T13:00:00Z'));
      const a = await book({ slotId });
      deps.clock.set(at(`${slotId.slice(7, 11)}-${slotId.slice(11, 13)}-${slotId.slice(13, 15)}T14:20:00Z`));
      await markNoShow(deps, { appointmentId: a.appointmentId, actor: staff });
    }
    expect((await deps.patients.get('pat-1'))!.noShows).toHaveLength(2);
    deps.clock.set(at('2026-03-05T13:00:00Z'));

    const self = await book({ slotId: 'prov-1.20260306T1400', channel: 'sms' as Channel, actor: patientActor });
    expect(self).toMatchObject({ status: 'pending', needsStaffConfirmation: true });
    expect(deps.publisher.published.at(-1)!.data).toMatchObject({ status: 'pending', channel: 'sms' });
    // Staff booking for the same patient is booked straight away.
    expect((await book({ slotId: 'prov-1.20260306T1500' })).status).toBe('booked');

    // The patient confirming does not lift the hold; staff confirming does.
    const byPatient = await confirmAppointment(deps, { appointmentId: self.appointmentId, actor: patientActor, channel: 'sms' });
    expect(byPatient).toMatchObject({ status: 'pending', needsStaffConfirmation: true, confirmedAt: '2026-03-05T13:00:00.000Z' });
    const byStaff = await confirmAppointment(deps, { appointmentId: self.appointmentId, actor: staff, channel: 'console' });
    expect(byStaff.status).toBe('booked');
    expect(byStaff.needsStaffConfirmation).toBeUndefined();
    expect(deps.publisher.published.at(-1)).toMatchObject({ type: EventType.appointmentConfirmed, data: { channel: 'console' } });
  });
});

describe('confirmAppointment', () => {
  it('records a patient confirmation of a booked visit and publishes confirmed', async () => {
    const a = await book();
    deps.clock.advance({ hours: 2 });
    const c = await confirmAppointment(deps, { appointmentId: a.appointmentId, actor: patientActor, channel: 'sms' });
    expect(c).toMatchObject({ status: 'booked', confirmedAt: '2026-03-02T15:00:00.000Z', version: 2 });
    expect(deps.publisher.published.at(-1)).toMatchObject({ type: EventType.appointmentConfirmed, subject: a.appointmentId, data: { channel: 'sms' } });
  });

  it('refuses cancelled and other non-bookable statuses', async () => {
    const a = await book();
    await cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'x' });
    expect(await codeOf(confirmAppointment(deps, { appointmentId: a.appointmentId, actor: patientActor, channel: 'sms' }))).toBe(ErrorCode.INVALID_TRANSITION);
  });
});

describe('rescheduleAppointment', () => {
  it('moves the appointment (same id) to the new slot and releases the old one', async () => {
    const a = await book();
    await confirmAppointment(deps, { appointmentId: a.appointmentId, actor: patientActor, channel: 'sms' });
    const r = await rescheduleAppointment(deps, { appointmentId: a.appointmentId, newSlotId: TEN, actor: staff, channel: 'api' });
    expect(r).toMatchObject({
      appointmentId: a.appointmentId,
      slotId: TEN,
      start: '2026-03-03T10:00:00-05:00',
      end: '2026-03-03T10:30:00-05:00',
      status: 'booked',
      version: 3,
    });
    expect(r.confirmedAt).toBeUndefined();
    const events = deps.publisher.published.slice(-2);
    expect(events[0]).toMatchObject({
      type: EventType.appointmentRescheduled,
      data: { slotId: TEN, previousSlotId: NINE, previousStart: '2026-03-03T09:00:00-05:00', previousEnd: '2026-03-03T09:30:00-05:00' },
    });
    expect(events[1]).toMatchObject({ type: EventType.slotReleased, data: { slotId: NINE, reason: 'rescheduled' } });
    const free = await freeIds();
    expect(free).toContain(NINE);
    expect(free).not.toContain(TEN);
  });

  it('to another provider and type', async () => {
    const a = await book();
    const r = await rescheduleAppointment(deps, {
      appointmentId: a.appointmentId,
      newSlotId: 'prov-2.20260303T1800',
      actor: staff,
      channel: 'api',
      appointmentType: 'long',
    });
    expect(r).toMatchObject({ providerId: 'prov-2', appointmentType: 'long', start: '2026-03-03T13:00:00-05:00', end: '2026-03-03T14:00:00-05:00' });
  });

  it('cannot move onto a taken slot, nor move a cancelled appointment', async () => {
    const a = await book();
    await book({ slotId: TEN, patientId: 'pat-2' });
    expect(await codeOf(rescheduleAppointment(deps, { appointmentId: a.appointmentId, newSlotId: TEN, actor: staff, channel: 'api' }))).toBe(
      ErrorCode.SLOT_TAKEN,
    );
    expect((await deps.appointments.get(a.appointmentId))!.slotId).toBe(NINE);
    await cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'x' });
    expect(await codeOf(rescheduleAppointment(deps, { appointmentId: a.appointmentId, newSlotId: 'prov-1.20260303T1600', actor: staff, channel: 'api' }))).toBe(
      ErrorCode.INVALID_TRANSITION,
    );
  });

  it('may move within its own time (overlapping the old slot is not a patient overlap)', async () => {
    const a = await book({ slotId: 'prov-2.20260303T1400', appointmentType: 'long' });
    expect(a.end).toBe('2026-03-03T10:00:00-05:00');
    const r = await rescheduleAppointment(deps, {
      appointmentId: a.appointmentId,
      newSlotId: 'prov-1.20260303T1430',
      actor: staff,
      channel: 'api',
      appointmentType: 'checkup',
    });
    expect(r).toMatchObject({ slotId: 'prov-1.20260303T1430', start: '2026-03-03T09:30:00-05:00', appointmentType: 'checkup' });
  });
});

describe('across the fall-back night', () => {
  it('both 01:00 slots (EDT and EST) are listed and bookable separately; ids differ by UTC start', async () => {
    await deps.config.putProvider(provider({ providerId: 'prov-night', weeklyHours: [{ day: 'sun', start: '00:00', end: '04:00' }] }));
    deps.clock.set(at('2026-10-30T12:00:00Z'));
    const night = await searchFreeSlots(deps, { ...tuesday, providerId: 'prov-night', from: '2026-11-01T00:00:00-04:00', to: '2026-11-01T04:00:00-05:00' });
    expect(night).toHaveLength(10);
    const oneAm = night.filter((s) => s.start.slice(11, 16) === '01:00');
    expect(oneAm.map((s) => [s.slotId, s.start])).toEqual([
      ['prov-night.20261101T0500', '2026-11-01T01:00:00-04:00'],
      ['prov-night.20261101T0600', '2026-11-01T01:00:00-05:00'],
    ]);
    const first = await book({ slotId: oneAm[0]!.slotId });
    const second = await book({ slotId: oneAm[1]!.slotId, patientId: 'pat-2' });
    expect([first.start, first.end]).toEqual(['2026-11-01T01:00:00-04:00', '2026-11-01T01:30:00-04:00']);
    expect([second.start, second.end]).toEqual(['2026-11-01T01:00:00-05:00', '2026-11-01T01:30:00-05:00']);
    const left = await searchFreeSlots(deps, { ...tuesday, providerId: 'prov-night', from: '2026-11-01T00:00:00-04:00', to: '2026-11-01T04:00:00-05:00' });
    expect(left).toHaveLength(8);
  });

  it('clinicLocalDate is the clinic-local day of an instant', () => {
    expect(clinicLocalDate('2026-03-03T03:00:00Z', 'America/New_York')).toBe('2026-03-02');
    expect(clinicLocalDate('2026-03-03T03:00:00Z', 'Asia/Tokyo')).toBe('2026-03-03');
    expect(clinicLocalDate('2026-11-01T05:30:00Z', 'America/New_York')).toBe('2026-11-01');
  });
});

describe('optimistic concurrency', () => {
  /** Makes the next `times` updates lose a race: another writer bumps the stored version first. */
  function loseRaces(times: number) {
    const original = deps.appointments.update.bind(deps.appointments);
    let left = times;
    deps.appointments.update = async (appointment, expectedVersion, events) => {
      if (left > 0) {
        left -= 1;
        const stored = deps.appointments.byId.get(appointment.appointmentId)!;
        deps.appointments.byId.set(stored.appointmentId, { ...stored, version: stored.version + 1, confirmedAt: '2026-03-02T13:30:00.000Z' });
      }
      return original(appointment, expectedVersion, events);
    };
  }

  it('re-reads and re-applies a change after losing a race, keeping the other writer change and one set of events', async () => {
    const a = await book();
    loseRaces(1);
    const c = await cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'x' });
    expect(c).toMatchObject({ status: 'cancelled', version: 3, confirmedAt: '2026-03-02T13:30:00.000Z' });
    expect(types()).toEqual([EventType.appointmentBooked, EventType.appointmentCancelled, EventType.slotReleased]);
    expect(deps.appointments.stored.map((e) => e.type)).toEqual(types());
  });

  it('gives up with APPOINTMENT.CONCURRENT_MODIFICATION after repeated conflicts', async () => {
    const a = await book();
    loseRaces(10);
    expect(await codeOf(cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'x' }))).toBe(ErrorCode.CONCURRENT_MODIFICATION);
    expect(types()).toEqual([EventType.appointmentBooked]);
  });
});

describe('access scope (predicates the edge computes from its principal)', () => {
  const everywhere: BookingAccess = { clinic: () => true, patient: () => true };
  const otherClinic: BookingAccess = { clinic: (id) => id === 'clinic-2', patient: () => true };
  const otherPatients: BookingAccess = { clinic: () => true, patient: () => false };

  async function deniedOf(promise: Promise<unknown>): Promise<AccessDenied | string> {
    try {
      await promise;
    } catch (e) {
      if (e instanceof AccessDenied) return e;
      if (e instanceof DomainError) return e.code;
      throw e;
    }
    return 'no error';
  }

  /** Counts reads of one appointment by id. */
  function countGets(): { gets: number } {
    const counter = { gets: 0 };
    const get = deps.appointments.get.bind(deps.appointments);
    deps.appointments.get = async (id: string) => {
      counter.gets += 1;
      return get(id);
    };
    return counter;
  }

  it('booking in scope books; the patient predicate sees the loaded patient and the slot clinic', async () => {
    const seen: [string, string][] = [];
    const a = await book({ access: { clinic: () => true, patient: (p, via) => (seen.push([p.patientId, via]), true) } });
    expect(a.status).toBe('booked');
    expect(seen).toEqual([['pat-1', 'clinic-1']]);
  });

  it('a slot in another clinic is denied before the patient is read (even an unknown one); nothing is written', async () => {
    expect(await deniedOf(book({ access: otherClinic }))).toMatchObject({ denied: 'clinic', clinicId: 'clinic-1', patientId: 'pat-1' });
    expect(await deniedOf(book({ access: otherClinic, patientId: 'nobody' }))).toMatchObject({ denied: 'clinic' });
    expect(await deniedOf(book({ access: everywhere, patientId: 'nobody' }))).toBe(ErrorCode.PATIENT_NOT_FOUND);
    expect(deps.appointments.byId.size).toBe(0);
    expect(types()).toEqual([]);
  });

  it('a patient record out of scope is denied after it is loaded, before the booking rules; nothing is written', async () => {
    expect(await deniedOf(book({ access: otherPatients, appointmentType: 'no-such-type' }))).toMatchObject({ denied: 'patient', patientId: 'pat-1' });
    expect(deps.appointments.byId.size).toBe(0);
    expect(types()).toEqual([]);
  });

  it('cancel, no-show and confirm check the clinic of the appointment they load: denied, unchanged, no events', async () => {
    const a = await book();
    deps.clock.set(at('2026-03-03T14:10:00Z'));
    const cmd = { appointmentId: a.appointmentId, actor: staff, access: otherClinic };
    for (const change of [
      cancelAppointment(deps, { ...cmd, reasonCode: 'x' }),
      markNoShow(deps, cmd),
      confirmAppointment(deps, { ...cmd, channel: 'api' as Channel }),
    ]) {
      expect(await deniedOf(change)).toMatchObject({ denied: 'clinic', clinicId: 'clinic-1', patientId: 'pat-1' });
    }
    expect(deps.appointments.byId.get(a.appointmentId)).toEqual(a);
    expect(types()).toEqual([EventType.appointmentBooked]);
    expect(await deniedOf(cancelAppointment(deps, { ...cmd, appointmentId: 'apt-missing', reasonCode: 'x' }))).toBe(ErrorCode.APPOINTMENT_NOT_FOUND);
  });

  it('cancel reads the appointment once, whether it is allowed or denied', async () => {
    const a = await book();
    const denied = countGets();
    await deniedOf(cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'x', access: otherClinic }));
    expect(denied.gets).toBe(1);
    const allowed = countGets();
    const c = await cancelAppointment(deps, { appointmentId: a.appointmentId, actor: staff, reasonCode: 'x', access: everywhere });
    expect(c.status).toBe('cancelled');
    expect(allowed.gets).toBe(1);
  });
});
