import { DomainError, ErrorCode } from '../errors';
import type { Appointment, Clinic } from '../model';
import type { AppointmentRepository, ConfigRepository } from '../ports';
import type { NoShowRisk } from './model';
import { noShowRisks, type RiskScoringDeps } from './scoring';

/** Expected no-shows per provider-day from which a day is suggested, unless the clinic sets its own. */
export const DEFAULT_OVERBOOKING_MIN_EXPECTED_NO_SHOWS = 1;
/** Longest range one request may cover. */
export const MAX_OVERBOOKING_DAYS = 31;

/** A provider-day where an extra booking would probably find a free chair. Read-only: staff decide. */
export interface OverbookingSuggestion {
  providerId: string;
  /** Clinic-local date. */
  date: string;
  bookedAppointments: number;
  /** Sum of the booked appointments' no-show scores. */
  expectedNoShows: number;
  threshold: number;
  /** The booked slots most likely to be left empty, riskiest first: one per whole expected no-show (at least one). */
  slots: { slotId: string; appointmentId: string; start: string; end: string; noShowRisk: NoShowRisk }[];
}

export interface OverbookingQuery {
  clinicId: string;
  from: string;
  to: string;
  providerId?: string;
}

/**
 * Provider-days in [from, to) whose booked appointments' expected no-shows reach the clinic's
 * threshold, with the slots that could take one extra booking each. Nothing is booked here.
 */
export async function overbookingSuggestions(
  deps: RiskScoringDeps & { config: Pick<ConfigRepository, 'getClinic'>; appointments: Pick<AppointmentRepository, 'list' | 'listByPatient'> },
  q: OverbookingQuery,
): Promise<OverbookingSuggestion[]> {
  const clinic: Clinic | undefined = await deps.config.getClinic(q.clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId: q.clinicId });
  const fromMs = Date.parse(q.from);
  const toMs = Date.parse(q.to);
  if (!(toMs > fromMs)) throw new DomainError(ErrorCode.END_BEFORE_START, 'to must be after from');
  if (toMs - fromMs > MAX_OVERBOOKING_DAYS * 86_400_000) {
    throw new DomainError(ErrorCode.RANGE_TOO_LONG, `A range may span at most ${MAX_OVERBOOKING_DAYS} days`, { maxDays: MAX_OVERBOOKING_DAYS });
  }
  const booked: Appointment[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await deps.appointments.list({
      clinicId: q.clinicId,
      from: q.from,
      to: q.to,
      ...(q.providerId ? { providerId: q.providerId } : {}),
      limit: 500,
      ...(continuationToken ? { continuationToken } : {}),
    });
    booked.push(...page.items.filter((a) => a.status === 'booked' || a.status === 'pending'));
    continuationToken = page.continuationToken;
  } while (continuationToken);
  const risks = await noShowRisks(deps, booked);
  const threshold = clinic.overbookingMinExpectedNoShows ?? DEFAULT_OVERBOOKING_MIN_EXPECTED_NO_SHOWS;
  const days = new Map<string, Appointment[]>();
  for (const a of booked) {
    // Appointment.start carries the clinic's offset, so its date part is the clinic-local day.
    const key = `${a.providerId}|${a.start.slice(0, 10)}`;
    days.set(key, [...(days.get(key) ?? []), a]);
  }
  const out: OverbookingSuggestion[] = [];
  for (const [key, list] of days) {
    const scored = list.flatMap((a) => (risks.has(a.appointmentId) ? [{ a, risk: risks.get(a.appointmentId)! }] : []));
    const expected = scored.reduce((s, x) => s + x.risk.score, 0);
    if (expected < threshold) continue;
    const [providerId, date] = key.split('|') as [string, string];
    scored.sort((x, y) => y.risk.score - x.risk.score || x.a.start.localeCompare(y.a.start));
    out.push({
      providerId,
      date,
      bookedAppointments: list.length,
      expectedNoShows: Math.round(expected * 100) / 100,
      threshold,
      slots: scored.slice(0, Math.max(1, Math.floor(expected))).map(({ a, risk }) => ({
        slotId: a.slotId,
        appointmentId: a.appointmentId,
        start: a.start,
        end: a.end,
        noShowRisk: risk,
      })),
    });
  }
  return out.sort((x, y) => x.date.localeCompare(y.date) || x.providerId.localeCompare(y.providerId));
}
