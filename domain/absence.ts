import { DateTime } from 'luxon';
import { optimizeAssignment, type OptimizationInstance } from './optimizer';
import { notifySolved } from './optimizer/observe';
import type { Appointment, Clinic, Provider } from './model';
import type { ConfigRepository } from './ports';
import { listAllAppointments, searchFreeSlots, type SchedulingDeps } from './scheduling';

/**
 * Provider absence planning, shared by the absence workflow (orchestrations/provider-absence.ts) and the
 * console's preview (POST /api/providers/{id}/absences/preview), so what the preview shows is what the
 * workflow will do with the same data.
 */

export interface AbsenceWindow {
  from: string;
  to: string;
  reasonCode?: string;
}

/** An appointment the absence displaces. */
export interface DisplacedAppointment {
  appointmentId: string;
  patientId: string;
  appointmentType: string;
  start: string;
}

export interface AbsencePlan {
  assignments: { appointmentId: string; slotId: string; reason: string }[];
  unplaced: { appointmentId: string; reason: string }[];
  status: string;
  solveMs: number;
}

/** The provider with the absence added to its exceptions (unchanged when the same window is already there). */
export function withAbsence(provider: Provider, window: AbsenceWindow): Provider {
  const already = provider.exceptions.some(
    (e) => e.kind === 'absence' && Date.parse(e.from) === Date.parse(window.from) && Date.parse(e.to) === Date.parse(window.to),
  );
  if (already) return provider;
  return {
    ...provider,
    exceptions: [...provider.exceptions, { kind: 'absence', from: window.from, to: window.to, ...(window.reasonCode ? { reason: window.reasonCode } : {}) }],
  };
}

/** The configuration as it would read with one provider replaced (the preview plans against the absence without storing it). */
export function configWithProvider(config: ConfigRepository, provider: Provider): ConfigRepository {
  return {
    getClinic: (id) => config.getClinic(id),
    putClinic: (c) => config.putClinic(c),
    listClinics: () => config.listClinics(),
    getAppointmentType: (code) => config.getAppointmentType(code),
    putAppointmentType: (t) => config.putAppointmentType(t),
    listAppointmentTypes: (id) => config.listAppointmentTypes(id),
    getProvider: async (id) => (id === provider.providerId ? provider : config.getProvider(id)),
    putProvider: (p) => config.putProvider(p),
    listProviders: async (clinicId) => (await config.listProviders(clinicId)).map((p) => (p.providerId === provider.providerId ? provider : p)),
  };
}

/** The provider's appointments in the window that still hold their time (booked or pending): the ones to re-home. */
export async function findDisplaced(
  deps: Pick<SchedulingDeps, 'appointments'>,
  provider: Pick<Provider, 'providerId' | 'clinicId'>,
  window: AbsenceWindow,
): Promise<(DisplacedAppointment & Pick<Appointment, 'end'> & { status: 'booked' | 'pending' })[]> {
  const appointments = await listAllAppointments(deps.appointments, {
    clinicId: provider.clinicId,
    providerId: provider.providerId,
    from: window.from,
    to: window.to,
  });
  return appointments
    .filter((a): a is Appointment & { status: 'booked' | 'pending' } => a.status === 'booked' || a.status === 'pending')
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))
    .map((a) => ({ appointmentId: a.appointmentId, patientId: a.patientId, appointmentType: a.appointmentType, start: a.start, end: a.end, status: a.status }));
}

/**
 * Jointly assigns displaced patients to free compatible slots (same clinic and type) from the later of
 * the absence start and the clinic's minimum notice until `searchDays` after it, with the optimizer:
 * every displaced patient must be placed if possible; the same provider after the absence scores higher.
 * `deps.config` must already show the absence (the workflow stores it first; the preview overlays it).
 */
export async function planAbsenceRehoming(
  deps: Pick<SchedulingDeps, 'config' | 'appointments' | 'clock'>,
  input: { provider: Provider; clinic: Clinic; window: AbsenceWindow; displaced: DisplacedAppointment[]; searchDays?: number },
): Promise<AbsencePlan> {
  const { clinic, window } = input;
  const now = deps.clock.now();
  const from = DateTime.max(now.plus({ minutes: clinic.bookingPolicy.minNoticeMinutes }), DateTime.fromISO(window.from, { setZone: true }));
  const until = DateTime.fromISO(window.to, { setZone: true }).plus({ days: input.searchDays ?? 14 });
  const types = [...new Set(input.displaced.map((d) => d.appointmentType))];
  const slots: OptimizationInstance['slots'] = [];
  for (const appointmentType of types) {
    // Searches are bounded to 31 days; walk the horizon in chunks.
    for (let chunk = from; chunk < until; chunk = chunk.plus({ days: 30 })) {
      const chunkEnd = DateTime.min(chunk.plus({ days: 30 }), until);
      const free = await searchFreeSlots(deps, { clinicId: clinic.clinicId, appointmentType, from: chunk.toISO()!, to: chunkEnd.toISO()! });
      for (const s of free) slots.push({ id: `${s.slotId}|${appointmentType}`, providerId: s.providerId, start: s.start, end: s.end, appointmentType });
    }
  }
  const result = await optimizeAssignment(
    {
      timeZone: clinic.timeZone,
      slots,
      candidates: input.displaced.map((d) => ({
        id: d.appointmentId,
        appointmentType: d.appointmentType,
        mustPlace: true,
        // Continuity: the same provider after the absence scores higher.
        preferredProviderId: input.provider.providerId,
        urgency: 'soon',
      })),
    },
    { timeLimitMs: 5000 },
  );
  notifySolved({ solveMs: result.solveMs, status: result.status, purpose: 'provider-absence' });
  // A physical slot may appear once per appointment type; the optimizer sees them as separate slots.
  const usedSlots = new Set<string>();
  const assignments: AbsencePlan['assignments'] = [];
  const unplaced: AbsencePlan['unplaced'] = result.unassigned.map((u) => ({ appointmentId: u.candidateId, reason: u.reason }));
  for (const a of result.assignments) {
    const slotId = a.slotId.split('|')[0]!;
    if (usedSlots.has(slotId)) unplaced.push({ appointmentId: a.candidateId, reason: 'slot shared by two appointment types' });
    else {
      usedSlots.add(slotId);
      assignments.push({ appointmentId: a.candidateId, slotId, reason: a.reason });
    }
  }
  return { assignments, unplaced, status: result.status, solveMs: Math.round(result.solveMs) };
}
