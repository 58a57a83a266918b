import { app } from '@azure/functions';
import { DateTime } from 'luxon';
import { DomainError, ErrorCode, generateSlots, type WaitlistEntry, type WaitlistOffer } from '../../domain';
import { addMoveUpEntry, requireMovableAppointment } from '../../domain/waitlist/move-up';
import { canAccessPatient, requireClinicAccess } from '../http/auth';
import { HttpErrorCode, HttpProblem } from '../http/problem';
import {
  apiHandler,
  audit,
  decodeContinuation,
  encodeContinuation,
  json,
  readJson,
  readQuery,
  withContinuation,
  withIdempotency,
  type ApiContext,
  type ApiResult,
} from '../http/handlers';
import { offerQuerySchema, waitlistBodySchema, waitlistQuerySchema } from './schemas';
import { listAllAppointments } from './slots';
import { waitlistEntryView, waitlistOfferView } from './views';

/** Front desk: the waitlist, and the waitlist offers in flight (what the backfill workflow sent). */

/** Widest window GET /api/offers scans (each free slot in it is one offer lookup). */
export const MAX_OFFER_WINDOW_DAYS = 7;

export async function addToWaitlist(ctx: ApiContext): Promise<ApiResult> {
  const body = await readJson(ctx.request, waitlistBodySchema);
  return withIdempotency(ctx, body, async () => {
    const { config, patients, appointments } = ctx.services;
    // A move-up entry: clinic, type and patient come from the appointment (checked before anything is written).
    const moving = body.appointmentId ? await appointments.get(body.appointmentId) : undefined;
    if (body.appointmentId && !moving) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId: body.appointmentId });
    const clinicId = moving?.clinicId ?? body.clinicId!;
    const appointmentType = moving?.appointmentType ?? body.appointmentType!;
    const patientId = moving?.patientId ?? body.patientId!;
    requireClinicAccess(ctx.principal, clinicId);
    if (moving) await requireMovableAppointment(ctx.services, { ...body, appointmentId: moving.appointmentId });
    const clinic = await config.getClinic(clinicId);
    if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId });
    const type = await config.getAppointmentType(appointmentType);
    if (!type || type.clinicId !== clinic.clinicId) {
      throw new DomainError(ErrorCode.APPOINTMENT_TYPE_UNKNOWN, 'Unknown appointment type for this clinic', { appointmentType });
    }
    const providerIds = [...new Set(body.providerIds ?? [])];
    for (const providerId of providerIds) {
      const provider = await config.getProvider(providerId);
      if (!provider || provider.clinicId !== clinic.clinicId)
        throw new DomainError(ErrorCode.PROVIDER_NOT_FOUND, 'Unknown provider for this clinic', { providerId });
      if (!provider.appointmentTypes.includes(type.code)) {
        throw new DomainError(ErrorCode.APPOINTMENT_TYPE_NOT_OFFERED, 'The provider does not offer this appointment type', {
          providerId,
          appointmentType: type.code,
        });
      }
    }
    const patient = await patients.get(patientId);
    if (!patient) throw new DomainError(ErrorCode.PATIENT_NOT_FOUND, 'Unknown patient', { patientId });
    if (!canAccessPatient(ctx.principal, patient, clinic.clinicId)) {
      await audit(ctx, { action: 'create', resourceType: 'WaitlistEntry', resourceId: 'new', patientId: patient.patientId, outcome: 'denied' });
      throw new HttpProblem(HttpErrorCode.CLINIC_FORBIDDEN, 'This patient record belongs to other clinics.');
    }
    const preferences = {
      providerIds,
      ...(body.earliest ? { earliest: body.earliest } : {}),
      ...(body.latest ? { latest: body.latest } : {}),
      urgency: body.urgency ?? 'routine',
      ...(body.clinicalDeadline ? { clinicalDeadline: body.clinicalDeadline } : {}),
      timeOfDay: body.timeOfDay ?? 'any',
    } as const;
    let entry: WaitlistEntry;
    if (moving) {
      const added = await addMoveUpEntry(ctx.services, { appointmentId: moving.appointmentId, ...preferences });
      if (!added.created) {
        throw new DomainError(ErrorCode.MOVE_UP_DUPLICATE, 'This appointment is already on the waitlist to move earlier', {
          waitlistEntryId: added.entry.waitlistEntryId,
        });
      }
      entry = added.entry;
    } else {
      const now = ctx.services.clock.now().toUTC().toISO()!;
      entry = {
        waitlistEntryId: ctx.services.ids.newId('wl'),
        clinicId: clinic.clinicId,
        patientId: patient.patientId,
        appointmentType: type.code,
        ...preferences,
        status: 'active',
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      await ctx.services.waitlist.add(entry);
    }
    await audit(ctx, { action: 'create', resourceType: 'WaitlistEntry', resourceId: entry.waitlistEntryId, patientId: entry.patientId });
    return json(201, waitlistEntryView(entry), { location: `/api/waitlist?clinicId=${clinic.clinicId}` });
  });
}

export async function listWaitlist(ctx: ApiContext): Promise<ApiResult> {
  const q = readQuery(ctx.request, waitlistQuerySchema);
  requireClinicAccess(ctx.principal, q.clinicId);
  const scope = { clinicId: q.clinicId };
  const continuationToken = decodeContinuation(q.continuationToken, scope);
  const page = await withContinuation(continuationToken, () =>
    ctx.services.waitlist.list(q.clinicId, { limit: q.limit ?? 50, ...(continuationToken ? { continuationToken } : {}) }),
  );
  await Promise.all(
    page.items.map((e) => audit(ctx, { action: 'search', resourceType: 'WaitlistEntry', resourceId: e.waitlistEntryId, patientId: e.patientId })),
  );
  return json(200, {
    entries: page.items.map(waitlistEntryView),
    ...(page.continuationToken ? { continuationToken: encodeContinuation(page.continuationToken, scope) } : {}),
  });
}

/**
 * Offers of a clinic in a window (default: the next 24 hours), status `sent` unless asked otherwise.
 * The offer store is keyed by slot, so this looks up each free slot of the window: bounded by
 * MAX_OFFER_WINDOW_DAYS, and cheap for a console that asks for a day.
 */
export async function listOffers(ctx: ApiContext): Promise<ApiResult> {
  const q = readQuery(ctx.request, offerQuerySchema);
  requireClinicAccess(ctx.principal, q.clinicId);
  const { config, appointments, offers, clock } = ctx.services;
  const clinic = await config.getClinic(q.clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId: q.clinicId });
  const from = q.from ? DateTime.fromISO(q.from, { setZone: true }) : clock.now();
  const to = q.to ? DateTime.fromISO(q.to, { setZone: true }) : from.plus({ days: 1 });
  if (to <= from) throw new DomainError(ErrorCode.END_BEFORE_START, 'to must be after from');
  if (to.diff(from, 'days').days > MAX_OFFER_WINDOW_DAYS) {
    throw new DomainError(ErrorCode.RANGE_TOO_LONG, `The offer window may span at most ${MAX_OFFER_WINDOW_DAYS} days`, { maxDays: MAX_OFFER_WINDOW_DAYS });
  }
  const types = new Map((await config.listAppointmentTypes(clinic.clinicId)).map((t) => [t.code, t]));
  const slotIds = new Set<string>();
  for (const provider of await config.listProviders(clinic.clinicId)) {
    try {
      for (const s of generateSlots({ clinic, provider, appointmentTypes: types, from, to })) slotIds.add(s.slotId);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
    }
  }
  // Released slots keep their slot id, and so do their offers; appointments tell which slots were released.
  for (const a of await listAllAppointments(appointments, { clinicId: clinic.clinicId, from: from.toISO()!, to: to.toISO()! })) slotIds.add(a.slotId);
  const status = q.status ?? 'sent';
  const found: WaitlistOffer[] = (await Promise.all([...slotIds].map((id) => offers.listBySlot(id))))
    .flat()
    .filter((o) => o.status === status && o.clinicId === clinic.clinicId);
  found.sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.offerId.localeCompare(b.offerId));
  await Promise.all(found.map((o) => audit(ctx, { action: 'search', resourceType: 'WaitlistOffer', resourceId: o.offerId, patientId: o.patientId })));
  return json(200, {
    offers: found.map(waitlistOfferView),
    now: clock.now().toUTC().toISO(),
  });
}

const staff = ['scheduler', 'admin'] as const;

app.http('addToWaitlist', { route: 'api/waitlist', methods: ['POST'], authLevel: 'anonymous', handler: apiHandler(staff, addToWaitlist) });
app.http('listWaitlist', { route: 'api/waitlist', methods: ['GET'], authLevel: 'anonymous', handler: apiHandler(staff, listWaitlist) });
app.http('listOffers', { route: 'api/offers', methods: ['GET'], authLevel: 'anonymous', handler: apiHandler(staff, listOffers) });
