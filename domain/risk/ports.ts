import type { RiskModel } from './model';

/**
 * The clinic's no-show models, one version per training. Versions are immutable; the newest is the
 * one that scores. Models hold weights and counts, never patient data.
 */
export interface RiskModelRepository {
  /** The newest version of the clinic's model, or undefined before the first training. */
  current(clinicId: string): Promise<RiskModel | undefined>;
  /** Stores `model` as the clinic's next version and returns it with `version` set. */
  add(model: RiskModel): Promise<RiskModel>;
  /** Stored versions, newest first. */
  versions(clinicId: string, limit?: number): Promise<RiskModel[]>;
}
