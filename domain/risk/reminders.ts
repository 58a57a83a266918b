import type { Clinic } from '../model';
import type { RiskBand } from './model';

/** The reminder an appointment at high risk gets on top of the clinic's cadence: a confirm request the day before. */
export const HIGH_RISK_EXTRA_HOURS = 24;

/**
 * Reminder offsets (hours before the visit, latest last) for an appointment in `band`: the clinic's
 * reminderHoursByRiskBand when set for the band; else low-risk visits get only the clinic's earliest
 * reminder, medium the clinic's cadence, high the cadence plus a confirm request the day before.
 * Unknown band (no score): the clinic's cadence.
 */
export function reminderHoursFor(clinic: Pick<Clinic, 'reminderHoursBefore' | 'reminderHoursByRiskBand'>, band: RiskBand | undefined): number[] {
  const base = clinic.reminderHoursBefore;
  const configured = band ? clinic.reminderHoursByRiskBand?.[band] : undefined;
  let hours: number[];
  if (configured) hours = configured;
  else if (band === 'low' && base.length > 1) hours = [Math.max(...base)];
  else if (band === 'high' && base.length < 5) hours = [...base, HIGH_RISK_EXTRA_HOURS];
  else hours = base;
  return [...new Set(hours)].sort((a, b) => b - a);
}
