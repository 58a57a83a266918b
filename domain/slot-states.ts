import type { DateTime } from 'luxon';
import { bookableWindow, startsInWindow } from './booking-rules';
import { releaseExpiredHolds } from './ehr/holds';
import type { AppointmentType, Channel, Clinic, Provider, Slot } from './model';
import type { ConfigRepository } from './ports';
import { listAllAppointments, type SchedulingDeps } from './scheduling';
import { freeSlots, SlotGenerationMemo } from './slots';

/** Free/busy state of generated slots, shared by GET /fhir/Slot, the SMART Scheduling Links bulk files and iCalendar. */
export interface SlotState {
  slot: Slot;
  /**
   * busy: an appointment holds the time; busy-unavailable: nothing holds it, but it cannot be booked through the
   * caller's channel now (started, inside the minimum notice, beyond the horizon: bookableWindow); free: bookable.
   */
  status: 'free' | 'busy' | 'busy-unavailable';
  /** When an appointment touching this slot last changed (absent: never booked). */
  lastUpdated?: string;
}

/**
 * Generated slots remembered on everything they depend on (clinic zone, provider configuration, types,
 * window): the bulk files regenerate four weeks of every provider's slots on each request otherwise.
 */
const slotMemo = new SlotGenerationMemo(64);

/**
 * The slots of one provider starting in [from, to) with their status; lapsed holds are released first.
 * `keep` narrows the generated slots (the bulk files generate a window rounded to the hour, for the cache).
 */
export async function providerSlotStates(
  deps: Pick<SchedulingDeps, 'appointments' | 'clock'>,
  input: {
    clinic: Clinic;
    provider: Provider;
    types: ReadonlyMap<string, AppointmentType>;
    from: DateTime;
    to: DateTime;
    keep?: (slot: Slot) => boolean;
    /** Whose view: free only where booking through this channel at `now` is allowed. */
    bookableBy: { now: DateTime; channel: Channel };
  },
): Promise<SlotState[]> {
  const { clinic, provider, types, from, to } = input;
  const window = bookableWindow(input.bookableBy.now, clinic.bookingPolicy, input.bookableBy.channel);
  // An appointment that started up to 12 h before `from` can still overlap the first slots.
  const lookback = from.minus({ hours: 12 });
  await releaseExpiredHolds(deps, { clinicId: clinic.clinicId, providerId: provider.providerId, from: lookback, to });
  const slots = slotMemo.generate({ clinic, provider, appointmentTypes: types, from, to }).filter(input.keep ?? (() => true));
  const appointments = await listAllAppointments(deps.appointments, {
    clinicId: clinic.clinicId,
    providerId: provider.providerId,
    from: lookback.toUTC().toISO()!,
    to: to.toUTC().toISO()!,
  });
  const free = new Set(freeSlots(slots, appointments).map((s) => s.slotId));
  return slots.map((slot) => {
    const start = Date.parse(slot.start);
    const end = Date.parse(slot.end);
    const touching = appointments.filter((a) => Date.parse(a.start) < end && start < Date.parse(a.end)).map((a) => a.updatedAt);
    const lastUpdated = touching.sort().at(-1);
    const status = !free.has(slot.slotId) ? 'busy' : startsInWindow(slot.start, window) ? 'free' : 'busy-unavailable';
    return { slot, status, ...(lastUpdated ? { lastUpdated } : {}) };
  });
}

/** Appointment types of a clinic by code. */
export async function typesOf(deps: { config: Pick<ConfigRepository, 'listAppointmentTypes'> }, clinicId: string): Promise<Map<string, AppointmentType>> {
  return new Map((await deps.config.listAppointmentTypes(clinicId)).map((t) => [t.code, t]));
}
