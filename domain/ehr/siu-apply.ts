import type { DateTime } from 'luxon';
import { DomainError, ErrorCode } from '../errors';
import { slotIdFor } from '../ids';
import type { Actor, Appointment, ExternalId, Provider } from '../model';
import { bookAppointment, cancelAppointment, markNoShow, rescheduleAppointment, resolveSlot, type SchedulingDeps } from '../scheduling';
import { OCCUPYING_STATUSES } from '../slots';
import { parseInstant } from '../time';
import { hl7TimestampToInstant } from './hl7';
import { HL7_FILLER_SYSTEM, HL7_PLACER_SYSTEM, Hl7ErrorCondition, type SiuCommand } from './siu';

/**
 * Applies an SIU command through the same scheduling use cases as every other channel (so the same
 * rules hold and the same events are published), with channel `ehr` and the EHR as actor.
 */

export interface SiuApplyContext {
  actor: Actor;
  /** Clinic scoping of the principal (an EHR interface limited to some clinics). */
  canAccessClinic(clinicId: string): boolean;
}

export interface SiuApplyResult {
  /** `unchanged`: the message described the current state (e.g. S17 after S15), nothing was written. */
  status: 'applied' | 'unchanged';
  appointment: Appointment;
}

/** An EHR-channel failure that has no domain code (access scope). */
export class EhrError extends Error {
  constructor(
    readonly code: 'AUTH.CLINIC_FORBIDDEN' | 'HOLD.EXPIRED' | 'HOLD.NOT_FOUND',
    message: string,
  ) {
    super(message);
    this.name = 'EhrError';
  }
}

/** ERR-3 condition for a domain or EHR error code. */
export function conditionOf(code: string): Hl7ErrorCondition {
  if (/NOT_FOUND$|UNKNOWN$|ERASED$/.test(code)) return Hl7ErrorCondition.UNKNOWN_KEY;
  if (code === ErrorCode.SLOT_TAKEN || code === ErrorCode.PATIENT_OVERLAP) return Hl7ErrorCondition.DUPLICATE_KEY;
  if (code === ErrorCode.CONCURRENT_MODIFICATION) return Hl7ErrorCondition.RECORD_LOCKED;
  return Hl7ErrorCondition.INTERNAL;
}

/** The appointment an update refers to: by SCH-2 (filler id) first, then SCH-1 (placer id). */
export async function findByHl7Ids(
  deps: Pick<SchedulingDeps, 'appointments'>,
  cmd: Pick<SiuCommand, 'placerId' | 'fillerId'>,
): Promise<Appointment | undefined> {
  if (cmd.fillerId) {
    const byFiller = await deps.appointments.findByExternalId(HL7_FILLER_SYSTEM, cmd.fillerId);
    if (byFiller) return byFiller;
  }
  if (cmd.placerId) return deps.appointments.findByExternalId(HL7_PLACER_SYSTEM, cmd.placerId);
  return undefined;
}

function externalIdsOf(cmd: SiuCommand): ExternalId[] {
  return [
    ...(cmd.placerId ? [{ system: HL7_PLACER_SYSTEM, value: cmd.placerId }] : []),
    ...(cmd.fillerId ? [{ system: HL7_FILLER_SYSTEM, value: cmd.fillerId }] : []),
  ];
}

function requireAccess(ctx: SiuApplyContext, clinicId: string): void {
  if (!ctx.canAccessClinic(clinicId)) throw new EhrError('AUTH.CLINIC_FORBIDDEN', 'This interface is limited to other clinics');
}

async function requireExisting(deps: SchedulingDeps, cmd: SiuCommand, ctx: SiuApplyContext): Promise<Appointment> {
  const appointment = await findByHl7Ids(deps, cmd);
  if (!appointment) throw new DomainError(ErrorCode.APPOINTMENT_NOT_FOUND, 'No appointment with this SCH-1/SCH-2 id');
  requireAccess(ctx, appointment.clinicId);
  if (cmd.patientGiven && !cmd.patientIds.includes(appointment.patientId)) {
    throw new DomainError(ErrorCode.INVALID_INPUT, 'PID-3 does not match the patient of the appointment', { field: 'PID-3' });
  }
  return appointment;
}

interface Target {
  slotId: string;
  appointmentType: string;
}

/** The slot and type a message asks for; the current appointment fills in what the message leaves out. */
async function resolveTarget(deps: SchedulingDeps, cmd: SiuCommand, ctx: SiuApplyContext, current?: Appointment): Promise<Target> {
  let provider: Provider | undefined;
  for (const id of cmd.providerIds) {
    provider = await deps.config.getProvider(id);
    if (provider) break;
  }
  if (!provider && cmd.providerGiven) throw new DomainError(ErrorCode.PROVIDER_NOT_FOUND, 'No AIP-3 id is a known provider', { field: 'AIP-3' });
  if (!provider && current) provider = await deps.config.getProvider(current.providerId);
  if (!provider) throw new DomainError(ErrorCode.PROVIDER_NOT_FOUND, 'Unknown provider', { field: 'AIP-3' });
  if (cmd.clinicGiven && cmd.clinicId !== provider.clinicId) {
    throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'AIL-3 is not the clinic of the provider', { field: 'AIL-3' });
  }
  requireAccess(ctx, provider.clinicId);
  const clinic = await deps.config.getClinic(provider.clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId: provider.clinicId });
  let start: DateTime;
  if (cmd.start) start = hl7TimestampToInstant(cmd.start, clinic.timeZone);
  else if (current) start = parseInstant(current.start);
  else throw new DomainError(ErrorCode.INVALID_TIME, 'A start time is required', { field: 'SCH-11' });
  if (cmd.appointmentTypeGiven && !cmd.appointmentType)
    throw new DomainError(ErrorCode.APPOINTMENT_TYPE_UNKNOWN, 'AIS-3 is not a known appointment type', { field: 'AIS-3' });
  const appointmentType = cmd.appointmentType ?? current?.appointmentType;
  if (!appointmentType) throw new DomainError(ErrorCode.APPOINTMENT_TYPE_UNKNOWN, 'An appointment type is required', { field: 'AIS-3' });
  const slotId = slotIdFor(provider.providerId, start);
  // A start between slot boundaries (seconds, or minutes off the grid) is not a slot.
  if (start.second !== 0 || start.millisecond !== 0) throw new DomainError(ErrorCode.SLOT_NOT_FOUND, 'No slot starts at that time', { slotId });
  const { slot } = await resolveSlot(deps, slotId);
  if (cmd.durationMinutes !== undefined && start.plus({ minutes: cmd.durationMinutes }) > parseInstant(slot.end)) {
    throw new DomainError(ErrorCode.APPOINTMENT_TYPE_DOES_NOT_FIT, 'The duration does not fit the slot', { slotId, durationMinutes: cmd.durationMinutes });
  }
  return { slotId, appointmentType };
}

async function book(deps: SchedulingDeps, cmd: SiuCommand, ctx: SiuApplyContext): Promise<SiuApplyResult> {
  const target = await resolveTarget(deps, cmd, ctx);
  const existing = await findByHl7Ids(deps, cmd);
  if (existing) {
    requireAccess(ctx, existing.clinicId);
    // A repeat of a booking already made (e.g. re-sent with a new control id) changes nothing.
    if (existing.slotId === target.slotId && cmd.patientIds.includes(existing.patientId) && OCCUPYING_STATUSES.has(existing.status)) {
      return { status: 'unchanged', appointment: existing };
    }
    throw new DomainError(ErrorCode.INVALID_INPUT, 'SCH-1/SCH-2 already identify another appointment', { field: 'SCH-2' });
  }
  let patientId: string | undefined;
  for (const id of cmd.patientIds) {
    if (await deps.patients.get(id)) {
      patientId = id;
      break;
    }
  }
  if (!patientId) throw new DomainError(ErrorCode.PATIENT_NOT_FOUND, 'No PID-3 id is a known patient', { field: 'PID-3' });
  const appointment = await bookAppointment(deps, {
    slotId: target.slotId,
    patientId,
    appointmentType: target.appointmentType,
    channel: 'ehr',
    actor: ctx.actor,
    externalIds: externalIdsOf(cmd),
  });
  return { status: 'applied', appointment };
}

async function modify(deps: SchedulingDeps, cmd: SiuCommand, ctx: SiuApplyContext): Promise<SiuApplyResult> {
  const current = await requireExisting(deps, cmd, ctx);
  // S14 often carries only non-scheduling changes (notes, contacts): nothing Slotflow holds changes.
  if (!cmd.start && !cmd.providerGiven && !cmd.appointmentTypeGiven) return { status: 'unchanged', appointment: current };
  const target = await resolveTarget(deps, cmd, ctx, current);
  if (target.slotId === current.slotId && target.appointmentType === current.appointmentType) return { status: 'unchanged', appointment: current };
  const appointment = await rescheduleAppointment(deps, {
    appointmentId: current.appointmentId,
    newSlotId: target.slotId,
    appointmentType: target.appointmentType,
    actor: ctx.actor,
    channel: 'ehr',
  });
  return { status: 'applied', appointment };
}

async function cancel(deps: SchedulingDeps, cmd: SiuCommand, ctx: SiuApplyContext): Promise<SiuApplyResult> {
  const current = await requireExisting(deps, cmd, ctx);
  if (current.status === 'cancelled') return { status: 'unchanged', appointment: current };
  const reasonCode = cmd.reasonCode ?? (cmd.trigger === 'S17' ? 'ehr-deleted' : 'ehr-cancelled');
  const appointment = await cancelAppointment(deps, { appointmentId: current.appointmentId, actor: ctx.actor, reasonCode });
  return { status: 'applied', appointment };
}

async function noShow(deps: SchedulingDeps, cmd: SiuCommand, ctx: SiuApplyContext): Promise<SiuApplyResult> {
  const current = await requireExisting(deps, cmd, ctx);
  if (current.status === 'noshow') return { status: 'unchanged', appointment: current };
  const appointment = await markNoShow(deps, { appointmentId: current.appointmentId, actor: ctx.actor });
  return { status: 'applied', appointment };
}

/** Applies one SIU command: S12 books, S13/S14 reschedule, S15/S17 cancel, S26 records a no-show. */
export async function applySiu(deps: SchedulingDeps, cmd: SiuCommand, ctx: SiuApplyContext): Promise<SiuApplyResult> {
  const result = await applyTrigger(deps, cmd, ctx);
  if (cmd.preferredLanguage) await recordPreferredLanguage(deps, result.appointment.patientId, cmd.preferredLanguage);
  return result;
}

/**
 * PID-15 is the EHR's record of the patient's language: it becomes `preferredLanguage` (any well-formed
 * tag is kept; one we ship no texts for falls back to the clinic default when texting). Written only when it changes.
 */
async function recordPreferredLanguage(deps: SchedulingDeps, patientId: string, tag: string): Promise<void> {
  const patient = await deps.patients.get(patientId);
  if (!patient || patient.preferredLanguage === tag) return;
  await deps.patients.put({ ...patient, preferredLanguage: tag, updatedAt: deps.clock.now().toUTC().toISO()! });
}

async function applyTrigger(deps: SchedulingDeps, cmd: SiuCommand, ctx: SiuApplyContext): Promise<SiuApplyResult> {
  switch (cmd.trigger) {
    case 'S12':
      return book(deps, cmd, ctx);
    case 'S13':
    case 'S14':
      return modify(deps, cmd, ctx);
    case 'S15':
    case 'S17':
      return cancel(deps, cmd, ctx);
    case 'S26':
      return noShow(deps, cmd, ctx);
  }
}
