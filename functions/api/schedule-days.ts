import { app } from '@azure/functions';
import { DateTime } from 'luxon';
import type { z } from 'zod';
import {
  appointmentTypesKey,
  DomainError,
  ErrorCode,
  listAllAppointments,
  OCCUPYING_STATUSES,
  SlotGenerationMemo,
  type Appointment,
  type Slot,
  type WaitlistOffer,
} from '../../domain';
import { requireClinicAccess } from '../http/auth';
import { apiHandler, audit, json, readQuery, type ApiContext, type ApiResult } from '../http/handlers';
import { scheduleDaysQuerySchema, type calendarSlotSchema, type scheduleDaysSchema } from './schemas';

/**
 * The console's calendar: one to seven clinic-local days of every provider (or one), each slot free,
 * booked, held (an open waitlist offer or an EHR hold) or pending (a self-scheduled booking waiting for
 * staff confirmation). One appointment read and one offer read for the whole range, so a week costs
 * about what a day costs. Appointments outside generated slots (booked before hours or an absence
 * changed) still appear, flagged `outsideHours`, so nothing booked is ever hidden.
 */

export type CalendarSlot = z.output<typeof calendarSlotSchema>;
export type CalendarSlotState = CalendarSlot['state'];

/** Offers stay open at most the clinic's maxExpiryMinutes (at most 7 days): look back a little further. */
const OPEN_OFFER_LOOKBACK_DAYS = 8;
const memo = new SlotGenerationMemo(256);

function stateOf(a: Appointment): CalendarSlotState {
  if (a.status === 'pending') return 'pending';
  if (a.status === 'proposed') return 'held';
  return 'booked';
}

function appointmentRef(a: Appointment): NonNullable<CalendarSlot['appointment']> {
  return {
    appointmentId: a.appointmentId,
    patientId: a.patientId,
    appointmentType: a.appointmentType,
    status: a.status,
    start: a.start,
    end: a.end,
    source: a.source,
  };
}

export async function scheduleDays(ctx: ApiContext): Promise<ApiResult> {
  const q = readQuery(ctx.request, scheduleDaysQuerySchema);
  requireClinicAccess(ctx.principal, q.clinicId);
  const { config, appointments, offers, clock } = ctx.services;
  const clinic = await config.getClinic(q.clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId: q.clinicId });
  const first = DateTime.fromISO(q.from, { zone: clinic.timeZone }).startOf('day');
  if (!first.isValid) throw new DomainError(ErrorCode.INVALID_TIME, 'from is not a valid date', { field: 'from' });
  const dayCount = q.days ?? 5;
  const dates = Array.from({ length: dayCount }, (_, i) => first.plus({ days: i }).toISODate()!);
  const rangeEnd = first.plus({ days: dayCount });
  let providers = (await config.listProviders(clinic.clinicId)).sort((a, b) => a.providerId.localeCompare(b.providerId));
  if (q.providerId) {
    providers = providers.filter((p) => p.providerId === q.providerId);
    if (providers.length === 0) throw new DomainError(ErrorCode.PROVIDER_NOT_FOUND, 'Unknown provider', { providerId: q.providerId });
  }
  const typeList = (await config.listAppointmentTypes(clinic.clinicId)).sort((a, b) => a.code.localeCompare(b.code));
  const types = new Map(typeList.map((t) => [t.code, t]));
  const typesKey = appointmentTypesKey(types);
  const now = clock.now();
  const nowMs = now.toMillis();
  const [booked, openOffers] = await Promise.all([
    listAllAppointments(
      appointments,
      { clinicId: clinic.clinicId, from: first.minus({ hours: 12 }).toISO()!, to: rangeEnd.toISO()!, ...(q.providerId ? { providerId: q.providerId } : {}) },
      { maxItems: 10_000 },
    ),
    offers.listByClinic(clinic.clinicId, {
      sentFrom: now.minus({ days: OPEN_OFFER_LOOKBACK_DAYS }).toISO()!,
      sentTo: now.plus({ days: 1 }).toISO()!,
      status: 'sent',
    }),
  ]);
  const holding = booked.filter((a) => OCCUPYING_STATUSES.has(a.status) && Date.parse(a.end) > first.toMillis());
  const offerBySlot = new Map(openOffers.filter((o) => Date.parse(o.expiresAt) > nowMs).map((o) => [o.slotId, o]));
  const localDate = (iso: string) => DateTime.fromISO(iso, { setZone: true }).setZone(clinic.timeZone).toISODate()!;

  const shownOffers: WaitlistOffer[] = [];
  const result = providers.map((provider) => {
    let generated: readonly Slot[] = [];
    try {
      generated = memo.generate({ clinic, provider, appointmentTypes: types, from: first, to: rangeEnd }, typesKey);
    } catch (e) {
      // A provider whose configuration names a removed type has no slots to show; the rest still renders.
      if (!(e instanceof DomainError)) throw e;
    }
    const mine = holding.filter((a) => a.providerId === provider.providerId);
    const placed = new Set<string>();
    const slots: CalendarSlot[] = generated.map((slot) => {
      const s = Date.parse(slot.start);
      const e = Date.parse(slot.end);
      const base: CalendarSlot = { slotId: slot.slotId, start: slot.start, end: slot.end, appointmentTypes: [...slot.appointmentTypes], state: 'free' };
      if (e <= nowMs) base.past = true;
      const appointment = mine.find((a) => a.slotId === slot.slotId) ?? mine.find((a) => Date.parse(a.start) < e && s < Date.parse(a.end));
      if (appointment) {
        placed.add(appointment.appointmentId);
        return { ...base, state: stateOf(appointment), appointment: appointmentRef(appointment) };
      }
      const offer = e > nowMs ? offerBySlot.get(slot.slotId) : undefined;
      if (offer) {
        shownOffers.push(offer);
        const { offerId, waitlistEntryId, patientId, expiresAt, round, workflowInstanceId } = offer;
        return { ...base, state: 'held', offer: { offerId, waitlistEntryId, patientId, expiresAt, round, workflowInstanceId } };
      }
      return base;
    });
    for (const a of mine) {
      if (placed.has(a.appointmentId) || Date.parse(a.start) >= rangeEnd.toMillis()) continue;
      slots.push({
        slotId: a.slotId,
        start: a.start,
        end: a.end,
        appointmentTypes: [a.appointmentType],
        state: stateOf(a),
        outsideHours: true,
        ...(Date.parse(a.end) <= nowMs ? { past: true as const } : {}),
        appointment: appointmentRef(a),
      });
    }
    slots.sort((x, y) => Date.parse(x.start) - Date.parse(y.start));
    const byDate = new Map<string, CalendarSlot[]>(dates.map((d) => [d, []]));
    for (const slot of slots) byDate.get(localDate(slot.start))?.push(slot);
    return {
      providerId: provider.providerId,
      name: provider.name,
      appointmentTypes: provider.appointmentTypes,
      absences: provider.exceptions.flatMap((x) =>
        x.kind === 'absence' && Date.parse(x.to) > first.toMillis() && Date.parse(x.from) < rangeEnd.toMillis() ? [x] : [],
      ),
      days: dates.map((date) => ({ date, slots: byDate.get(date)! })),
    };
  });
  const shownAppointments = result.flatMap((p) => p.days.flatMap((d) => d.slots.flatMap((s) => (s.appointment ? [s.appointment] : []))));
  await Promise.all([
    ...shownAppointments.map((a) => audit(ctx, { action: 'read', resourceType: 'Appointment', resourceId: a.appointmentId, patientId: a.patientId })),
    ...shownOffers.map((o) => audit(ctx, { action: 'search', resourceType: 'WaitlistOffer', resourceId: o.offerId, patientId: o.patientId })),
  ]);
  const calendar: z.output<typeof scheduleDaysSchema> = {
    clinicId: clinic.clinicId,
    timeZone: clinic.timeZone,
    from: q.from,
    dates,
    now: now.toUTC().toISO()!,
    appointmentTypes: typeList.map((t) => ({ code: t.code, name: t.name, durationMinutes: t.durationMinutes })),
    providers: result,
  };
  return json(200, calendar);
}

app.http('scheduleDays', {
  route: 'api/schedule/days',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: apiHandler(['scheduler', 'admin'], scheduleDays),
});
