import { app, HttpResponse, type HttpRequest, type InvocationContext } from '@azure/functions';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DomainError, entityIdSchema, ErrorCode, listAllAppointments } from '../../domain';
import { canAccessPatient, requireClinicAccess, requirePrincipal } from '../http/auth';
import { renderProviderCalendar } from './ical';
import { typesOf } from '../../domain/slot-states';
import { correlationIdOf, readParams, readQuery } from '../http/handlers';
import { HttpProblem, toProblemResponse } from '../http/problem';
import { getServices } from '../app/services';
import { queryInstantSchema } from '../api/schemas';

/**
 * GET /api/providers/{providerId}/calendar.ics (role ehr or scheduler): the provider's appointments in
 * [from, to) as iCalendar, cancellations included (STATUS:CANCELLED) so subscribed calendars drop them.
 * Patient names only when the ICAL_PATIENT_NAMES app setting is true.
 */

const paramsSchema = z.object({ providerId: entityIdSchema }).strict();
const querySchema = z.object({ from: queryInstantSchema.optional(), to: queryInstantSchema.optional() }).strict();
export const CALENDAR_MAX_DAYS = 366;

export async function providerCalendar(request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const correlationId = correlationIdOf(request, context);
  try {
    const services = await getServices();
    const principal = requirePrincipal(request, ['ehr', 'scheduler'], services.settings.CLINIC_CLAIM_TYPE);
    const { providerId } = readParams(request, paramsSchema);
    const q = readQuery(request, querySchema);
    const now = services.clock.now().toUTC();
    const from = q.from ? Date.parse(q.from) : now.minus({ days: 30 }).toMillis();
    const to = q.to ? Date.parse(q.to) : from + 210 * 86_400_000;
    if (to <= from) throw new DomainError(ErrorCode.END_BEFORE_START, 'to must be after from');
    if (to - from > CALENDAR_MAX_DAYS * 86_400_000)
      throw new DomainError(ErrorCode.RANGE_TOO_LONG, `A calendar may span at most ${CALENDAR_MAX_DAYS} days`, { maxDays: CALENDAR_MAX_DAYS });
    const provider = await services.config.getProvider(providerId);
    if (!provider) throw new DomainError(ErrorCode.PROVIDER_NOT_FOUND, 'Unknown provider', { providerId });
    requireClinicAccess(principal, provider.clinicId);
    const clinic = await services.config.getClinic(provider.clinicId);
    if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId: provider.clinicId });
    const appointments = await listAllAppointments(services.appointments, {
      clinicId: clinic.clinicId,
      providerId,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    });
    let patientNames: Map<string, string> | undefined;
    if (services.settings.ICAL_PATIENT_NAMES === 'true') {
      patientNames = new Map();
      for (const patientId of new Set(appointments.map((a) => a.patientId))) {
        const patient = await services.patients.get(patientId);
        if (patient && canAccessPatient(principal, patient, clinic.clinicId)) {
          patientNames.set(patientId, patient.name);
          await services.audit.record({
            principalId: principal.principalId,
            action: 'read',
            resourceType: 'Patient',
            resourceId: patientId,
            patientId,
            correlationId,
            at: now.toISO()!,
            outcome: 'success',
          });
        }
      }
    }
    const body = renderProviderCalendar({
      clinic,
      provider,
      types: await typesOf(services, clinic.clinicId),
      appointments,
      ...(patientNames ? { patientNames } : {}),
    });
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    const headers = { etag, 'cache-control': 'private, no-cache', 'x-correlation-id': correlationId };
    context.log(`ical provider=${providerId} events=${appointments.length} correlation=${correlationId}`);
    if (
      (request.headers.get('if-none-match') ?? '')
        .split(',')
        .map((t) => t.trim().replace(/^W\//, ''))
        .includes(etag)
    )
      return new HttpResponse({ status: 304, headers });
    return new HttpResponse({
      status: 200,
      body,
      headers: { ...headers, 'content-type': 'text/calendar; charset=utf-8', 'content-disposition': `inline; filename="${providerId}.ics"` },
    });
  } catch (error) {
    if (!(error instanceof HttpProblem) && !(error instanceof DomainError))
      context.error(`ical failed: ${error instanceof Error ? error.name : typeof error} correlation=${correlationId}`);
    return toProblemResponse(error, { instance: `urn:slotflow:request:${correlationId}`, correlationId });
  }
}

app.http('providerCalendarIcs', { route: 'api/providers/{providerId}/calendar.ics', methods: ['GET'], authLevel: 'anonymous', handler: providerCalendar });
