import type { z } from 'zod';
import type { Appointment, FreeSlot, WaitlistEntry, WaitlistOffer } from '../../domain';
import type { appointmentViewSchema, freeSlotSchema, waitlistEntrySchema, waitlistOfferSchema } from './schemas';

/**
 * The API's response views: one function per resource builds every shape of it the API returns, typed
 * by the response schemas in schemas.ts (the ones the OpenAPI document is generated from), so a field
 * the schema does not declare cannot reach a client and a declared one cannot go missing unnoticed.
 */

export type AppointmentView = z.output<typeof appointmentViewSchema>;
type AppointmentViewShape = { shape: Partial<Record<keyof AppointmentView, unknown>> };
type ViewOf<S extends AppointmentViewShape> = Pick<AppointmentView, keyof S['shape'] & keyof AppointmentView>;

/**
 * The appointment as the API shows it: the full view (booking, read, cancel, no-show, confirm), or the
 * fields of a narrower view schema picked from it (the list's summary, the day view's slot occupant).
 */
export function appointmentView(a: Appointment): AppointmentView;
export function appointmentView<S extends AppointmentViewShape>(a: Appointment, view: S): ViewOf<S>;
export function appointmentView(a: Appointment, view?: AppointmentViewShape): Partial<AppointmentView> {
  const full: AppointmentView = {
    appointmentId: a.appointmentId,
    slotId: a.slotId,
    clinicId: a.clinicId,
    providerId: a.providerId,
    patientId: a.patientId,
    appointmentType: a.appointmentType,
    status: a.status,
    start: a.start,
    end: a.end,
    source: a.source,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    version: a.version,
    ...(a.cancellation ? { cancellation: a.cancellation } : {}),
    ...(a.noShowAt ? { noShowAt: a.noShowAt } : {}),
    ...(a.confirmedAt ? { confirmedAt: a.confirmedAt } : {}),
    ...(a.eligibility ? { eligibility: a.eligibility } : {}),
    ...(a.needsStaffConfirmation ? { needsStaffConfirmation: true } : {}),
    externalIds: a.externalIds,
  };
  if (!view) return full;
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(view.shape) as (keyof AppointmentView)[]) if (full[key] !== undefined) picked[key] = full[key];
  return picked as Partial<AppointmentView>;
}

export function freeSlotView(s: FreeSlot): z.output<typeof freeSlotSchema> {
  return { slotId: s.slotId, providerId: s.providerId, start: s.start, end: s.end, appointmentType: s.appointmentType };
}

export function waitlistEntryView(e: WaitlistEntry): z.output<typeof waitlistEntrySchema> {
  return { ...e, ...(e.moveUp ? { moveUp: { ...e.moveUp } } : {}) };
}

export function waitlistOfferView(o: WaitlistOffer): z.output<typeof waitlistOfferSchema> {
  return {
    offerId: o.offerId,
    slotId: o.slotId,
    waitlistEntryId: o.waitlistEntryId,
    patientId: o.patientId,
    workflowInstanceId: o.workflowInstanceId,
    round: o.round,
    status: o.status,
    sentAt: o.sentAt,
    expiresAt: o.expiresAt,
    ...(o.respondedAt ? { respondedAt: o.respondedAt } : {}),
    ...(o.moveUp ? { moveUp: { ...o.moveUp } } : {}),
    ...(o.cascadeDepth ? { cascadeDepth: o.cascadeDepth } : {}),
  };
}
