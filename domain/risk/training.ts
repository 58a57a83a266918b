import type { DateTime } from 'luxon';
import { DomainError, ErrorCode } from '../errors';
import type { AppointmentRepository, Clock, ConfigRepository } from '../ports';
import { fromAppointment, type PastAppointment } from './history';
import { trainRiskModel, type RiskModel } from './model';
import type { RiskModelRepository } from './ports';

export interface RiskTrainingDeps {
  clock: Clock;
  config: Pick<ConfigRepository, 'getClinic'>;
  appointments: Pick<AppointmentRepository, 'list'>;
  riskModels: RiskModelRepository;
}

/** How far back the nightly training reads a clinic's appointments. */
export const TRAINING_HISTORY_DAYS = 730;
/** One list query spans at most this many days (the Cosmos adapter reads one partition per clinic day). */
const LIST_WINDOW_DAYS = 120;
const PAGE_SIZE = 1000;
const earlier = (a: DateTime, b: DateTime) => (a < b ? a : b);

/** The clinic's appointments with a known outcome that started in [from, to), read window by window and page by page. */
export async function pastAppointments(
  deps: Pick<RiskTrainingDeps, 'appointments'>,
  clinicId: string,
  from: DateTime,
  to: DateTime,
): Promise<PastAppointment[]> {
  const out: PastAppointment[] = [];
  for (let windowStart = from; windowStart < to; windowStart = windowStart.plus({ days: LIST_WINDOW_DAYS })) {
    const windowEnd = earlier(windowStart.plus({ days: LIST_WINDOW_DAYS }), to);
    let continuationToken: string | undefined;
    do {
      const page = await deps.appointments.list({
        clinicId,
        from: windowStart.toISO()!,
        to: windowEnd.toISO()!,
        limit: PAGE_SIZE,
        ...(continuationToken ? { continuationToken } : {}),
      });
      for (const a of page.items) {
        const past = fromAppointment(a);
        if (past) out.push(past);
      }
      continuationToken = page.continuationToken;
    } while (continuationToken);
  }
  return out;
}

/**
 * Nightly training of one clinic: its finished appointments of the last TRAINING_HISTORY_DAYS
 * (attended, no-show, cancelled; the appointment's own `late` flag tells a late cancellation),
 * a model fitted on the earlier 80 % and tested on the later 20 %, stored as the next version.
 * Below the minimum history (RISK_DEFAULTS.minimum) the stored model is the clinic-wide rate and
 * its `reason` says so.
 */
export async function trainClinicRiskModel(deps: RiskTrainingDeps, clinicId: string): Promise<RiskModel> {
  const clinic = await deps.config.getClinic(clinicId);
  if (!clinic) throw new DomainError(ErrorCode.CLINIC_NOT_FOUND, 'Unknown clinic', { clinicId });
  const now = deps.clock.now().toUTC();
  const appointments = await pastAppointments(deps, clinicId, now.minus({ days: TRAINING_HISTORY_DAYS }), now);
  const model = trainRiskModel(appointments, { clinicId, trainedAt: now.toISO()!, timeZone: clinic.timeZone });
  return deps.riskModels.add(model);
}
