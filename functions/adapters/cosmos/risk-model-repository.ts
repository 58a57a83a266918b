import { riskModelSchema, type RiskModel } from '../../../domain/risk/model';
import type { RiskModelRepository } from '../../../domain/risk/ports';
import { TtlCache } from './cache';
import { type BaseDoc, type Store, statusOf, stripDoc } from './store';

/**
 * No-show models in the config container, in the clinic's partition: one create-only document per
 * version (id "risk-model|v000001") and a copy of the newest (id "risk-model|current") so scoring
 * is one point read, cached for a few minutes (a new model appears nightly). Keeps KEEP_VERSIONS
 * versions. Documents hold weights, counts and metrics only: no patient data.
 */
type RiskModelDoc = BaseDoc & RiskModel & { type: 'risk-model' };

const CURRENT_ID = 'risk-model|current';
const versionId = (v: number) => `risk-model|v${String(v).padStart(6, '0')}`;
export const KEEP_VERSIONS = 30;
const MAX_ATTEMPTS = 5;

export class CosmosRiskModelRepository implements RiskModelRepository {
  private readonly cache: TtlCache;
  constructor(
    private readonly store: Store,
    cacheTtlMs = 5 * 60_000,
  ) {
    this.cache = new TtlCache(cacheTtlMs);
  }

  current(clinicId: string): Promise<RiskModel | undefined> {
    return this.cache.get(`risk/${clinicId}`, () => this.readCurrent(clinicId));
  }

  private async readCurrent(clinicId: string): Promise<RiskModel | undefined> {
    const r = await this.store.read<RiskModelDoc>(CURRENT_ID, clinicId);
    if (!r) return undefined;
    // A document that no longer parses (an older schema) scores nothing rather than wrongly.
    const parsed = riskModelSchema.safeParse(stripDoc<RiskModel>(r.doc));
    return parsed.success ? parsed.data : undefined;
  }

  async add(model: RiskModel): Promise<RiskModel> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const latest = await this.readCurrent(model.clinicId);
      const version = (latest?.version ?? 0) + 1;
      const stored = { ...model, version } as RiskModel;
      try {
        await this.store.create<RiskModelDoc>({ ...stored, id: versionId(version), pk: model.clinicId, type: 'risk-model' });
      } catch (e) {
        if (statusOf(e) === 409) continue; // another trainer took this version number
        throw e;
      }
      await this.store.upsert<RiskModelDoc>({ ...stored, id: CURRENT_ID, pk: model.clinicId, type: 'risk-model' });
      if (version > KEEP_VERSIONS) await this.store.delete(versionId(version - KEEP_VERSIONS), model.clinicId);
      this.cache.clear();
      return stored;
    }
    throw new Error('risk model version conflict');
  }

  async versions(clinicId: string, limit = 20): Promise<RiskModel[]> {
    const docs = await this.store.queryAll<RiskModelDoc>(
      {
        query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'risk-model' AND c.id != @current",
        parameters: [
          { name: '@pk', value: clinicId },
          { name: '@current', value: CURRENT_ID },
        ],
      },
      clinicId,
    );
    return docs
      .map((d) => stripDoc<RiskModel>(d))
      .sort((a, b) => (b.version ?? 0) - (a.version ?? 0))
      .slice(0, limit);
  }
}
