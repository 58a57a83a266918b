/**
 * The workflows' public names: orchestrator and activity names, deterministic instance ids, inputs
 * and external event names. Registers nothing and imports no runtime, so triggers (functions/) start
 * and signal workflows through this file without loading the workflow files themselves.
 */
import { createHash } from 'node:crypto';

// Backfill (orchestrations/backfill.ts)
export const BACKFILL_ORCHESTRATOR = 'backfillOrchestrator';
export const Activities = {
  loadCandidates: 'backfillLoadCandidates',
  sendOffer: 'backfillSendOffer',
  book: 'backfillBook',
  closeOffers: 'backfillCloseOffers',
} as const;

export interface BackfillInput {
  slotId: string;
  appointmentType: string;
  reason: string;
  /** Waitlist entries already offered in earlier rounds (carried across continueAsNew). */
  offeredEntryIds?: string[];
  round?: number;
  /**
   * Set when a move-up freed this slot (slot.released `cascade`): how many move-ups the chain holds
   * so far, and the offer and backfill of the link before. Absent: the chain starts here (depth 0).
   */
  cascade?: CascadeLinkInput;
}

/** One link of a move-up cascade: the offer (and its backfill) whose acceptance freed the slot. */
export interface CascadeLinkInput {
  depth: number;
  offerId: string;
  workflowInstanceId: string;
}

export const backfillInstanceId = (slotId: string) => `backfill-${slotId}`;

// Eligibility (orchestrations/eligibility.ts)
export const ELIGIBILITY_ORCHESTRATOR = 'eligibilityOrchestrator';
export const CHECK_ELIGIBILITY_ACTIVITY = 'eligibilityCheck';
export const eligibilityInstanceId = (appointmentId: string) => `eligibility-${appointmentId}`;

export interface EligibilityInput {
  appointmentId: string;
  start: string;
  leadHours: number;
}

// Reminders (orchestrations/reminders.ts)
export const REMINDERS_ORCHESTRATOR = 'remindersOrchestrator';
export const SEND_REMINDER_ACTIVITY = 'sendReminder';
export const remindersInstanceId = (appointmentId: string) => `reminders-${appointmentId}`;

export interface RemindersInput {
  appointmentId: string;
  start: string;
  /** Hours before the visit, e.g. [48, 2]. */
  hoursBefore: number[];
  /** Offsets already handled (carried across continueAsNew). */
  done?: number[];
}

// Provider absence (orchestrations/provider-absence.ts)
export const PROVIDER_ABSENCE_ORCHESTRATOR = 'providerAbsenceOrchestrator';
export const AbsenceActivities = {
  record: 'absenceRecord',
  plan: 'absencePlan',
  rehome: 'absenceRehome',
} as const;

/** Deterministic: the same absence (provider, window) always maps to one instance. */
export function absenceInstanceId(providerId: string, from: string, to: string): string {
  const hash = createHash('sha256')
    .update(`${Date.parse(from)}|${Date.parse(to)}`)
    .digest('hex')
    .slice(0, 12);
  return `absence-${providerId}-${hash}`;
}

export interface AbsenceInput {
  providerId: string;
  from: string;
  to: string;
  reasonCode?: string;
  /** How far past the absence to look for new slots (default 14 days). */
  searchDays?: number;
}

// Shared by reminders and eligibility (orchestrations/timers.ts)
/** Raised by the events triggers on reminder/eligibility instances when their appointment changes. */
export const APPOINTMENT_CHANGED_EVENT = 'AppointmentChanged';

export interface AppointmentChanged {
  status: 'cancelled' | 'rescheduled';
  /** New start for a reschedule. */
  start?: string;
}

// No-show follow-up (orchestrations/no-show-follow-up.ts)
export const NO_SHOW_FOLLOW_UP_ORCHESTRATOR = 'noShowFollowUpOrchestrator';
export const FollowUpActivities = {
  plan: 'noShowFollowUpPlan',
  send: 'noShowFollowUpSend',
} as const;
/** One per no-show: a redelivered event (or a second no-show mark) never texts twice. */
export const noShowFollowUpInstanceId = (appointmentId: string) => `noshow-follow-up-${appointmentId}`;

export interface NoShowFollowUpInput {
  appointmentId: string;
  /** When the no-show was recorded (the event's time). */
  noShowAt: string;
}
