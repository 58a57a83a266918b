import { LruMap } from '../lru';
import type { Appointment } from '../model';
import type { AppointmentRepository, Clock } from '../ports';
import { DAY_MS, type PriorVisit, type RiskAppointmentFacts } from './features';
import { fromAppointment } from './history';
import { RiskScorer, trainRiskModel, type NoShowRisk, type RiskModel } from './model';
import type { RiskModelRepository } from './ports';

export interface RiskScoringDeps {
  clock: Clock;
  appointments: Pick<AppointmentRepository, 'listByPatient'>;
  riskModels: Pick<RiskModelRepository, 'current'>;
}

/** Statuses whose visit is still to come: the only ones a no-show risk means anything for. */
export const SCORED_STATUSES: ReadonlySet<Appointment['status']> = new Set(['proposed', 'pending', 'booked', 'waitlist']);

/** The model of a clinic that has never been trained: the assumed rate for everyone. */
export function untrainedModel(clinicId: string): RiskModel {
  return { ...trainRiskModel([], { clinicId, trainedAt: '1970-01-01T00:00:00.000Z' }), modelVersion: 'untrained' };
}

const scorers = new LruMap<string, RiskScorer>(500);
/** One compiled scorer per clinic and model version (models change nightly). */
function scorerOf(model: RiskModel): RiskScorer {
  const key = `${model.clinicId}|${model.modelVersion}|${model.version ?? 0}`;
  let scorer = scorers.get(key);
  if (!scorer) {
    scorer = new RiskScorer(model);
    scorers.set(key, scorer);
  }
  return scorer;
}

/** The facts of an appointment the model may use, copied field by field. */
export function riskFactsOf(a: Pick<Appointment, 'start' | 'createdAt' | 'appointmentType' | 'confirmedAt'>): RiskAppointmentFacts {
  return { start: a.start, createdAt: a.createdAt, appointmentType: a.appointmentType, ...(a.confirmedAt ? { confirmedAt: a.confirmedAt } : {}) };
}

/** The patient's finished visits at `clinicId` in [from, to), as the model sees them. */
async function priorVisits(deps: RiskScoringDeps, patientId: string, clinicId: string, fromMs: number, toMs: number): Promise<PriorVisit[]> {
  const list = await deps.appointments.listByPatient(patientId, new Date(fromMs).toISOString(), new Date(toMs).toISOString());
  const visits: PriorVisit[] = [];
  for (const a of list) {
    if (a.clinicId !== clinicId) continue;
    const past = fromAppointment(a);
    if (past) visits.push({ startMs: Date.parse(past.start), outcome: past.outcome });
  }
  return visits;
}

/**
 * No-show risk of each upcoming appointment (SCORED_STATUSES), by the current model of its clinic
 * (untrainedModel before the first training), from the patient's own visits at that clinic.
 * One history read per patient.
 */
export async function noShowRisks(deps: RiskScoringDeps, appointments: readonly Appointment[]): Promise<Map<string, NoShowRisk>> {
  const upcoming = appointments.filter((a) => SCORED_STATUSES.has(a.status));
  const out = new Map<string, NoShowRisk>();
  if (upcoming.length === 0) return out;
  const clinics = [...new Set(upcoming.map((a) => a.clinicId))];
  const models = new Map(await Promise.all(clinics.map(async (c) => [c, scorerOf((await deps.riskModels.current(c)) ?? untrainedModel(c))] as const)));
  const nowMs = deps.clock.now().toMillis();
  const groups = new Map<string, Appointment[]>();
  for (const a of upcoming) {
    const key = `${a.clinicId}|${a.patientId}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const { clinicId, patientId } = group[0]!;
      const scorer = models.get(clinicId)!;
      const starts = group.map((a) => Date.parse(a.start));
      const fromMs = Math.min(...starts) - scorer.windowDays * DAY_MS;
      const visits = scorer.model.kind === 'clinic-rate' ? [] : await priorVisits(deps, patientId, clinicId, fromMs, Math.min(nowMs, Math.max(...starts)));
      for (const a of group) out.set(a.appointmentId, scorer.score(riskFactsOf(a), visits));
    }),
  );
  return out;
}

/** The risk of a patient who is not booked yet taking a slot (waitlist offers): lead time from now, not confirmed. */
export async function candidateRisks(
  deps: RiskScoringDeps,
  clinicId: string,
  slot: { start: string; appointmentType: string },
  patientIds: readonly string[],
): Promise<Map<string, NoShowRisk>> {
  const scorer = scorerOf((await deps.riskModels.current(clinicId)) ?? untrainedModel(clinicId));
  const now = deps.clock.now();
  const startMs = Date.parse(slot.start);
  const facts: RiskAppointmentFacts = { start: slot.start, createdAt: now.toUTC().toISO()!, appointmentType: slot.appointmentType };
  // The same slot for every candidate: its facts are parsed once.
  const parsed = scorer.parse(facts);
  const out = new Map<string, NoShowRisk>();
  await Promise.all(
    [...new Set(patientIds)].map(async (patientId) => {
      const visits =
        scorer.model.kind === 'clinic-rate'
          ? []
          : await priorVisits(deps, patientId, clinicId, startMs - scorer.windowDays * DAY_MS, Math.min(now.toMillis(), startMs));
      out.set(patientId, scorer.scoreParsedWith(parsed, visits));
    }),
  );
  return out;
}
