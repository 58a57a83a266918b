import { app } from '@azure/functions';
import type { z } from 'zod';
import type { SmsMessageRecord } from '../../domain/sms';
import { backfillInstanceId } from '../../orchestrations/names';
import { apiHandler, audit, json, readParams, type ApiContext, type ApiResult } from '../http/handlers';
import { appointmentTimeline } from './appointments';
import { appointmentParamsSchema as appointmentParams, type appointmentHistorySchema, type TimelineEvent } from './schemas';
import { appointmentView } from './views';

/**
 * The console's appointment timeline: the appointment, its lifecycle events (GET
 * /api/appointments/{id}/events, reused as is, which also checks access and audits the read), the SMS
 * the patient was sent about it with their delivery status, and every waitlist offer made for its slot.
 * SMS records carry ids, purpose, template and status; never the phone or the text.
 */

/** SMS about an appointment can precede its record by a little (an offer, then the booking). */
const SMS_LOOKBACK_MS = 24 * 3600_000;
/** A re-homed appointment's "new time" SMS goes out right after the workflow books it. */
const REHOMED_SMS_WINDOW_MS = 3600_000;

export async function appointmentTimelineWithMessages(ctx: ApiContext): Promise<ApiResult> {
  const { appointmentId } = readParams(ctx.request, appointmentParams);
  const base = (await appointmentTimeline(ctx)).body as { appointmentId: string; events: TimelineEvent[] };
  const appointment = (await ctx.services.appointments.get(appointmentId))!;
  const offers = await ctx.services.offers.listBySlot(appointment.slotId);
  const offerIds = new Set(offers.filter((o) => o.patientId === appointment.patientId).map((o) => o.offerId));
  const createdMs = Date.parse(appointment.createdAt);
  const about = (m: SmsMessageRecord) =>
    m.correlationId === appointment.appointmentId ||
    m.correlationId === backfillInstanceId(appointment.slotId) ||
    (m.offerId !== undefined && offerIds.has(m.offerId)) ||
    (appointment.source === 'absence' && m.template === 'rehomed' && Math.abs(Date.parse(m.sentAt) - createdMs) < REHOMED_SMS_WINDOW_MS);
  const since = new Date(createdMs - SMS_LOOKBACK_MS).toISOString();
  // Services without a message store (in-memory, no Cosmos) keep no SMS history to show.
  const sms = ctx.services.smsMessages ? (await ctx.services.smsMessages.listForPatient(appointment.patientId, since)).filter(about) : [];
  await Promise.all([
    ...sms.map((m) => audit(ctx, { action: 'read', resourceType: 'SmsMessage', resourceId: m.messageId, patientId: m.patientId })),
    ...offers.map((o) => audit(ctx, { action: 'search', resourceType: 'WaitlistOffer', resourceId: o.offerId, patientId: o.patientId })),
  ]);
  const history: z.output<typeof appointmentHistorySchema> = {
    appointment: appointmentView(appointment),
    events: base.events,
    sms: sms.map((m) => ({
      messageId: m.messageId,
      purpose: m.purpose,
      template: m.template,
      status: m.status,
      sentAt: m.sentAt,
      updatedAt: m.updatedAt,
      ...(m.errorCode ? { errorCode: m.errorCode } : {}),
      ...(m.offerId ? { offerId: m.offerId } : {}),
      ...(m.language ? { language: m.language } : {}),
    })),
    offers: offers.map((o) => ({
      offerId: o.offerId,
      patientId: o.patientId,
      waitlistEntryId: o.waitlistEntryId,
      workflowInstanceId: o.workflowInstanceId,
      round: o.round,
      status: o.status,
      sentAt: o.sentAt,
      expiresAt: o.expiresAt,
      ...(o.respondedAt ? { respondedAt: o.respondedAt } : {}),
    })),
  };
  return json(200, history);
}

app.http('appointmentTimelineWithMessages', {
  route: 'api/appointments/{appointmentId}/timeline',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: apiHandler(['scheduler', 'admin'], appointmentTimelineWithMessages),
});
