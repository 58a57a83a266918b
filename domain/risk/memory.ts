import type { RiskModel } from './model';
import type { RiskModelRepository } from './ports';

/** In-memory model versions (unit tests, the in-memory services). */
export class InMemoryRiskModels implements RiskModelRepository {
  readonly byClinic = new Map<string, RiskModel[]>();

  async current(clinicId: string): Promise<RiskModel | undefined> {
    const list = this.byClinic.get(clinicId);
    return list?.length ? structuredClone(list[list.length - 1]) : undefined;
  }

  async add(model: RiskModel): Promise<RiskModel> {
    const list = this.byClinic.get(model.clinicId) ?? [];
    const stored = { ...structuredClone(model), version: list.length + 1 };
    list.push(stored);
    this.byClinic.set(model.clinicId, list);
    return structuredClone(stored);
  }

  async versions(clinicId: string, limit = 20): Promise<RiskModel[]> {
    return structuredClone((this.byClinic.get(clinicId) ?? []).slice(-limit).reverse());
  }
}
