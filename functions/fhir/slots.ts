import type { DateTime } from 'luxon';
import { freeSlots, generateSlots, listAllAppointments, type AppointmentType, type Clinic, type Provider, type Slot } from '../../domain';
import { releaseExpiredHolds } from '../../domain/ehr';
import type { Principal } from '../http/auth';
import { canAccessClinic } from '../http/auth';
import type { Services } from '../app/services';

/** Free/busy state of generated slots, shared by GET /fhir/Slot and the SMART Scheduling Links bulk files. */

export interface SlotState {
  slot: Slot;
  status: 'free' | 'busy';
  /** When an appointment touching this slot last changed (absent: never booked). */
  lastUpdated?: string;
}


const SLOT_CACHE_SIZE = 64;
const slotCache = new Map<string, Slot[]>();

/**
 * generateSlots, memoised on everything it depends on (clinic zone, provider configuration, types, window):
 * the bulk files regenerate four weeks of every provider's slots on each request otherwise.
 */
export function generateSlotsCached(input: { clinic: Clinic; provider: Provider; types: ReadonlyMap<string, AppointmentType>; from: DateTime; to: DateTime }): Slot[] {
  const { clinic, provider, types, from, to } = input;
  const key = JSON.stringify([clinic.clinicId, clinic.timeZone, provider, [...types.values()], from.toMillis(), to.toMillis()]);
  let slots = slotCache.get(key);
  if (!slots) {
    slots = generateSlots({ clinic, provider, appointmentTypes: types, from, to });
    if (slotCache.size >= SLOT_CACHE_SIZE) slotCache.delete(slotCache.keys().next().value!);
    slotCache.set(key, slots);
  }
  return slots;
}

/**
 * The slots of one provider starting in [from, to) with their status; lapsed holds are released first.
 * `keep` narrows the generated slots (the bulk files generate a window rounded to the hour, for the cache).
 */
export async function providerSlotStates(
  services: Services,
  input: { clinic: Clinic; provider: Provider; types: ReadonlyMap<string, AppointmentType>; from: DateTime; to: DateTime; keep?: (slot: Slot) => boolean },
): Promise<SlotState[]> {
  const { clinic, provider, types, from, to } = input;
  // An appointment that started up to 12 h before `from` can still overlap the first slots.
  const lookback = from.minus({ hours: 12 });
  await releaseExpiredHolds(services, { clinicId: clinic.clinicId, providerId: provider.providerId, from: lookback, to });
  const slots = generateSlotsCached({ clinic, provider, types, from, to }).filter(input.keep ?? (() => true));
  const appointments = await listAllAppointments(services.appointments, { clinicId: clinic.clinicId, providerId: provider.providerId, from: lookback.toUTC().toISO()!, to: to.toUTC().toISO()! });
  const free = new Set(freeSlots(slots, appointments).map((s) => s.slotId));
  return slots.map((slot) => {
    const start = Date.parse(slot.start);
    const end = Date.parse(slot.end);
    const touching = appointments.filter((a) => Date.parse(a.start) < end && start < Date.parse(a.end)).map((a) => a.updatedAt);
    const lastUpdated = touching.sort().at(-1);
    return { slot, status: free.has(slot.slotId) ? 'free' : 'busy', ...(lastUpdated ? { lastUpdated } : {}) };
  });
}

/** Clinics the principal may see. */
export async function visibleClinics(services: Services, principal: Principal): Promise<Clinic[]> {
  return (await services.config.listClinics()).filter((c) => canAccessClinic(principal, c.clinicId)).sort((a, b) => a.clinicId.localeCompare(b.clinicId));
}

/** Appointment types of a clinic by code. */
export async function typesOf(services: Services, clinicId: string): Promise<Map<string, AppointmentType>> {
  return new Map((await services.config.listAppointmentTypes(clinicId)).map((t) => [t.code, t]));
}
