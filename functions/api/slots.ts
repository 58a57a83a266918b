import { app } from '@azure/functions';
import { DateTime } from 'luxon';
import {
  DomainError,
  ErrorCode,
  generateSlots,
  OCCUPYING_STATUSES,
  searchFreeSlots,
  listAllAppointments as listAllAppointmentsInDomain,
  type Appointment,
  type FreeSlot,
  type AppointmentRepository,
} from '../../domain';
import { requireClinicAccess } from '../http/auth';
import { apiHandler, audit, json, readQuery, type ApiContext, type ApiResult } from '../http/handlers';
import { SingleFlight } from '../http/single-flight';
import { scheduleQuerySchema, scheduledAppointmentSchema, slotQuerySchema, type ScheduleSlot } from './schemas';
import { appointmentView, freeSlotView } from './views';

/** Front desk: free slots for booking, and the per-provider day view of the console. */

/**
 * Identical searches in flight at once (a clinic's desks refreshing the same morning) share one
 * computation, serialized once: every waiting request gets the same JSON text.
 */
const searchFlights = new WeakMap<object, SingleFlight<string>>();
function searchesOf(services: object): SingleFlight<string> {
  let flight = searchFlights.get(services);
  if (!flight) {
    flight = new SingleFlight<string>();
    searchFlights.set(services, flight);
  }
  return flight;
}

function slotsJson(slots: FreeSlot[]): string {
  return JSON.stringify({ slots: slots.map(freeSlotView) });
}

export async function searchSlots(ctx: ApiContext): Promise<ApiResult> {
  const q = readQuery(ctx.request, slotQuerySchema);
  requireClinicAccess(ctx.principal, q.clinicId);
  // Access is checked per request above; the result depends only on the query (and on the services).
  const key = JSON.stringify([q.clinicId, q.appointmentType, q.from, q.to, q.providerId ?? '']);
  // Bookable by the front desk now (the API's booking rules: started slots and those beyond the horizon are not free).
  const bookableBy = { now: ctx.services.clock.now(), channel: 'api' as const };
  const jsonText = await searchesOf(ctx.services).run(key, async () => slotsJson(await searchFreeSlots(ctx.services, { ...q, bookableBy })));
  return { status: 200, jsonText };
}

/** Every appointment of a clinic starting in [from, to), across continuation pages (at most about 10,000). */
export function listAllAppointments(
  repo: AppointmentRepository,
  q: { clinicId: string; from: string; to: string; providerId?: string },
): Promise<Appointment[]> {
  return listAllAppointmentsInDomain(repo, q, { maxItems: 10_000 });
}

/**
 * One clinic-local day per provider: each generated slot is booked (an appointment that holds the time),
 * held (a pending/proposed appointment, or a waitlist offer still open) or free.
 */
export async function daySchedule(ctx: ApiContext): Promise<ApiResult> {
  const q = readQuery(ctx.request, scheduleQuerySchema);
  requireClinicAccess(ctx.principal, q.clinicId);
  const { config, appointments, offers } = ctx.services;
  const clinic = await config.getClinic(q.clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId: q.clinicId });
  const dayStart = DateTime.fromISO(q.date, { zone: clinic.timeZone }).startOf('day');
  if (!dayStart.isValid) throw new DomainError(ErrorCode.INVALID_TIME, 'date is not a valid date', { field: 'date' });
  const dayEnd = dayStart.plus({ days: 1 });
  let providers = await config.listProviders(clinic.clinicId);
  if (q.providerId) {
    providers = providers.filter((p) => p.providerId === q.providerId);
    if (providers.length === 0) throw new DomainError(ErrorCode.PROVIDER_NOT_FOUND, 'Unknown provider', { providerId: q.providerId });
  }
  const types = new Map((await config.listAppointmentTypes(clinic.clinicId)).map((t) => [t.code, t]));
  const held = (
    await listAllAppointments(appointments, {
      clinicId: clinic.clinicId,
      from: dayStart.minus({ hours: 12 }).toISO()!,
      to: dayEnd.toISO()!,
      ...(q.providerId ? { providerId: q.providerId } : {}),
    })
  ).filter((a) => OCCUPYING_STATUSES.has(a.status));
  const now = ctx.services.clock.now();
  const result = [];
  for (const provider of providers.sort((a, b) => a.providerId.localeCompare(b.providerId))) {
    let generated: ReturnType<typeof generateSlots> = [];
    try {
      generated = generateSlots({ clinic, provider, appointmentTypes: types, from: dayStart, to: dayEnd });
    } catch (e) {
      // A provider whose configuration names a removed type has no slots to show; the rest of the day view still renders.
      if (!(e instanceof DomainError)) throw e;
    }
    const mine = held.filter((a) => a.providerId === provider.providerId);
    const slots: ScheduleSlot[] = await Promise.all(
      generated.map(async (slot) => {
        const s = Date.parse(slot.start);
        const e = Date.parse(slot.end);
        const appointment = mine.find((a) => a.slotId === slot.slotId) ?? mine.find((a) => Date.parse(a.start) < e && s < Date.parse(a.end));
        const base = { slotId: slot.slotId, start: slot.start, end: slot.end, appointmentTypes: slot.appointmentTypes };
        if (appointment) {
          const view = appointmentView(appointment, scheduledAppointmentSchema);
          return { ...base, state: appointment.status === 'pending' || appointment.status === 'proposed' ? 'held' : 'booked', appointment: view };
        }
        // Only free slots in the future can carry open waitlist offers.
        const open = e > now.toMillis() ? (await offers.listBySlot(slot.slotId)).find((o) => o.status === 'sent') : undefined;
        if (open) {
          return {
            ...base,
            state: 'held',
            offer: { offerId: open.offerId, waitlistEntryId: open.waitlistEntryId, patientId: open.patientId, expiresAt: open.expiresAt, round: open.round },
          };
        }
        return { ...base, state: 'free' };
      }),
    );
    result.push({ providerId: provider.providerId, name: provider.name, slots });
  }
  await Promise.all(
    held
      .filter((a) => Date.parse(a.start) < dayEnd.toMillis() && Date.parse(a.end) > dayStart.toMillis())
      .map((a) => audit(ctx, { action: 'read', resourceType: 'Appointment', resourceId: a.appointmentId, patientId: a.patientId })),
  );
  return json(200, { clinicId: clinic.clinicId, date: q.date, timeZone: clinic.timeZone, providers: result });
}

const staff = ['scheduler', 'admin'] as const;

app.http('searchSlots', { route: 'api/slots', methods: ['GET'], authLevel: 'anonymous', handler: apiHandler(staff, searchSlots) });
app.http('daySchedule', { route: 'api/schedule', methods: ['GET'], authLevel: 'anonymous', handler: apiHandler(staff, daySchedule) });
