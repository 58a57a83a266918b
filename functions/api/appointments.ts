import { app } from '@azure/functions';
import {
  AccessDenied,
  bookAppointment,
  cancelAppointment,
  confirmAppointment,
  DomainError,
  ErrorCode,
  markNoShow,
  type Appointment,
  type AuditAction,
  type Channel,
} from '../../domain';
import { accessOf, forbiddenProblem, requireClinicAccess, staffActor } from '../http/auth';
import {
  apiHandler,
  audit,
  decodeContinuation,
  encodeContinuation,
  json,
  readJson,
  readParams,
  readQuery,
  withContinuation,
  withIdempotency,
  type ApiContext,
  type ApiResult,
} from '../http/handlers';
import { noShowRisks, type NoShowRisk } from '../../domain/risk';
import {
  appointmentListQuerySchema,
  appointmentParamsSchema as appointmentParams,
  appointmentSummarySchema,
  bookBodySchema,
  cancelBodySchema,
  confirmBodySchema,
  noShowBodySchema,
  type TimelineEvent,
} from './schemas';
import { appointmentView } from './views';

/** Front desk: book, read, list, cancel and mark no-shows; plus the timeline the console shows. */

/** Longest window one list request may span. */
export const MAX_LIST_DAYS = 366;

function channelOf(ctx: ApiContext): Channel {
  return ctx.request.headers.get('x-slotflow-client') === 'console' ? 'console' : 'api';
}

/** Audits a change the use case refused because the appointment is in another clinic, and answers 403; other errors pass. */
const deniedChange =
  (ctx: ApiContext, appointmentId: string, action: AuditAction) =>
  async (e: unknown): Promise<never> => {
    if (e instanceof AccessDenied)
      await audit(ctx, { action, resourceType: 'Appointment', resourceId: appointmentId, patientId: e.patientId, outcome: 'denied' });
    throw forbiddenProblem(e);
  };

/** Loads an appointment the principal may see (404 unknown, 403 other clinic). */
async function visibleAppointment(ctx: ApiContext, appointmentId: string, action: 'read' | 'update'): Promise<Appointment> {
  const appointment = await ctx.services.appointments.get(appointmentId);
  if (!appointment) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'Unknown appointment', { appointmentId });
  try {
    requireClinicAccess(ctx.principal, appointment.clinicId);
  } catch (e) {
    await audit(ctx, { action, resourceType: 'Appointment', resourceId: appointmentId, patientId: appointment.patientId, outcome: 'denied' });
    throw e;
  }
  return appointment;
}

/** No-show risk of the upcoming ones (docs/no-show-risk.md); a scoring failure leaves it out rather than failing the read. */
async function risksOf(ctx: ApiContext, appointments: Appointment[]): Promise<Map<string, NoShowRisk>> {
  return noShowRisks(ctx.services, appointments).catch((e: unknown) => {
    ctx.invocation.warn(`no-show risk unavailable (${e instanceof Error ? e.name : 'error'})`);
    return new Map<string, NoShowRisk>();
  });
}
const withRisk = (risks: Map<string, NoShowRisk>, id: string) => (risks.has(id) ? { noShowRisk: risks.get(id)! } : {});

export async function createAppointment(ctx: ApiContext): Promise<ApiResult> {
  const body = await readJson(ctx.request, bookBodySchema);
  return withIdempotency(ctx, body, async () => {
    const appointment = await bookAppointment(ctx.services, {
      ...body,
      channel: channelOf(ctx),
      actor: staffActor(ctx.principal),
      access: accessOf(ctx.principal),
    }).catch(async (e: unknown) => {
      // A slot in another clinic is refused before any patient data is read; a patient out of scope is audited.
      if (e instanceof AccessDenied && e.denied === 'patient')
        await audit(ctx, { action: 'create', resourceType: 'Appointment', resourceId: body.slotId, patientId: body.patientId, outcome: 'denied' });
      throw forbiddenProblem(e);
    });
    await audit(ctx, { action: 'create', resourceType: 'Appointment', resourceId: appointment.appointmentId, patientId: appointment.patientId });
    return json(201, appointmentView(appointment), { location: `/api/appointments/${appointment.appointmentId}` });
  });
}

export async function getAppointment(ctx: ApiContext): Promise<ApiResult> {
  const { appointmentId } = readParams(ctx.request, appointmentParams);
  const appointment = await visibleAppointment(ctx, appointmentId, 'read');
  await audit(ctx, { action: 'read', resourceType: 'Appointment', resourceId: appointmentId, patientId: appointment.patientId });
  return json(200, { ...appointmentView(appointment), ...withRisk(await risksOf(ctx, [appointment]), appointmentId) });
}

export async function listAppointments(ctx: ApiContext): Promise<ApiResult> {
  const q = readQuery(ctx.request, appointmentListQuerySchema);
  requireClinicAccess(ctx.principal, q.clinicId);
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  if (to <= from) throw new DomainError(ErrorCode.END_BEFORE_START, 'to must be after from');
  if (to - from > MAX_LIST_DAYS * 86_400_000)
    throw new DomainError(ErrorCode.RANGE_TOO_LONG, `A list may span at most ${MAX_LIST_DAYS} days`, { maxDays: MAX_LIST_DAYS });
  const { limit, continuationToken: rawToken, ...filters } = q;
  const continuationToken = decodeContinuation(rawToken, filters);
  const page = await withContinuation(continuationToken, () =>
    ctx.services.appointments.list({ ...filters, limit: limit ?? 50, ...(continuationToken ? { continuationToken } : {}) }),
  );
  await Promise.all(page.items.map((a) => audit(ctx, { action: 'search', resourceType: 'Appointment', resourceId: a.appointmentId, patientId: a.patientId })));
  const risks = await risksOf(ctx, page.items);
  return json(200, {
    appointments: page.items.map((a) => ({ ...appointmentView(a, appointmentSummarySchema), ...withRisk(risks, a.appointmentId) })),
    ...(page.continuationToken ? { continuationToken: encodeContinuation(page.continuationToken, filters) } : {}),
  });
}

export async function cancel(ctx: ApiContext): Promise<ApiResult> {
  const { appointmentId } = readParams(ctx.request, appointmentParams);
  const body = await readJson(ctx.request, cancelBodySchema);
  return withIdempotency(ctx, body, async () => {
    const reasonCode = (body.reason ?? 'staff-cancelled').trim().toLowerCase().replace(/\s+/g, '-');
    const updated = await cancelAppointment(ctx.services, {
      appointmentId,
      actor: staffActor(ctx.principal),
      reasonCode,
      access: accessOf(ctx.principal),
    }).catch(deniedChange(ctx, appointmentId, 'update'));
    await audit(ctx, { action: 'update', resourceType: 'Appointment', resourceId: appointmentId, patientId: updated.patientId });
    return json(200, appointmentView(updated));
  });
}

export async function noShow(ctx: ApiContext): Promise<ApiResult> {
  const { appointmentId } = readParams(ctx.request, appointmentParams);
  const body = await readJson(ctx.request, noShowBodySchema);
  return withIdempotency(ctx, body, async () => {
    const updated = await markNoShow(ctx.services, { appointmentId, actor: staffActor(ctx.principal), access: accessOf(ctx.principal) }).catch(
      deniedChange(ctx, appointmentId, 'update'),
    );
    await audit(ctx, { action: 'update', resourceType: 'Appointment', resourceId: appointmentId, patientId: updated.patientId });
    return json(200, appointmentView(updated));
  });
}

/** Staff confirmation: a pending booking (no-show policy) becomes booked; a booked one records the confirmation. */
export async function confirm(ctx: ApiContext): Promise<ApiResult> {
  const { appointmentId } = readParams(ctx.request, appointmentParams);
  const body = await readJson(ctx.request, confirmBodySchema);
  return withIdempotency(ctx, body, async () => {
    const updated = await confirmAppointment(ctx.services, {
      appointmentId,
      actor: staffActor(ctx.principal),
      channel: channelOf(ctx),
      access: accessOf(ctx.principal),
    }).catch(deniedChange(ctx, appointmentId, 'update'));
    await audit(ctx, { action: 'update', resourceType: 'Appointment', resourceId: appointmentId, patientId: updated.patientId });
    return json(200, appointmentView(updated));
  });
}

/**
 * The timeline of one appointment, derived from what is stored: its own timestamps and the waitlist offers
 * made for its slot after it was released. Cheap (one read plus one offer query) and always consistent
 * with the record, at the price of not showing intermediate versions.
 */
export async function appointmentTimeline(ctx: ApiContext): Promise<ApiResult> {
  const { appointmentId } = readParams(ctx.request, appointmentParams);
  const a = await visibleAppointment(ctx, appointmentId, 'read');
  const events: TimelineEvent[] = [
    { at: a.createdAt, kind: 'booked', summary: `Booked via ${a.source} (${a.status === 'pending' ? 'pending staff confirmation' : 'booked'})` },
  ];
  if (a.confirmedAt) events.push({ at: a.confirmedAt, kind: 'confirmed', summary: 'Confirmed' });
  if (a.eligibility)
    events.push({
      at: a.eligibility.checkedAt,
      kind: 'eligibility',
      summary: `Eligibility ${a.eligibility.status}${a.eligibility.reasonCode ? ` (${a.eligibility.reasonCode})` : ''}`,
    });
  if (a.cancellation) {
    events.push({
      at: a.cancellation.at,
      kind: 'cancelled',
      summary: `Cancelled by ${a.cancellation.by}: ${a.cancellation.reasonCode}${a.cancellation.late ? ' (late)' : ''}`,
    });
  }
  if (a.noShowAt) events.push({ at: a.noShowAt, kind: 'noshow', summary: 'Marked no-show' });
  const releasedAt = a.cancellation?.at ?? a.noShowAt;
  if (releasedAt) {
    const offers = (await ctx.services.offers.listBySlot(a.slotId)).filter((o) => o.sentAt >= releasedAt);
    for (const o of offers) {
      events.push({
        at: o.sentAt,
        kind: 'offer',
        summary: `Offer round ${o.round} sent to waitlist entry ${o.waitlistEntryId}`,
        offerId: o.offerId,
        waitlistEntryId: o.waitlistEntryId,
        status: o.status,
      });
      if (o.respondedAt)
        events.push({
          at: o.respondedAt,
          kind: 'offer',
          summary: `Offer ${o.offerId} ${o.status}`,
          offerId: o.offerId,
          waitlistEntryId: o.waitlistEntryId,
          status: o.status,
        });
    }
  }
  events.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
  await audit(ctx, { action: 'read', resourceType: 'Appointment', resourceId: appointmentId, patientId: a.patientId });
  return json(200, { appointmentId, events });
}

const staff = ['scheduler', 'admin'] as const;

app.http('createAppointment', { route: 'api/appointments', methods: ['POST'], authLevel: 'anonymous', handler: apiHandler(staff, createAppointment) });
app.http('listAppointments', { route: 'api/appointments', methods: ['GET'], authLevel: 'anonymous', handler: apiHandler(staff, listAppointments) });
app.http('getAppointment', { route: 'api/appointments/{appointmentId}', methods: ['GET'], authLevel: 'anonymous', handler: apiHandler(staff, getAppointment) });
app.http('cancelAppointment', {
  route: 'api/appointments/{appointmentId}/cancel',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: apiHandler(staff, cancel),
});
app.http('markNoShow', { route: 'api/appointments/{appointmentId}/no-show', methods: ['POST'], authLevel: 'anonymous', handler: apiHandler(staff, noShow) });
app.http('confirmAppointment', {
  route: 'api/appointments/{appointmentId}/confirm',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: apiHandler(staff, confirm),
});
app.http('appointmentTimeline', {
  route: 'api/appointments/{appointmentId}/events',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: apiHandler(staff, appointmentTimeline),
});
