import type { AppointmentType, Clinic, Provider } from '../../../domain/model';
import type { ConfigRepository } from '../../../domain/ports';
import { TtlCache } from './cache';
import { type BaseDoc, type Store, stripDoc } from './store';

/**
 * Configuration, partitioned by clinic: `clinic` (id "clinic"), `appointment-type` (id
 * "type|{code}") and `provider` (id "provider|{providerId}"). Every booking reads the clinic, its
 * types and the provider, so reads go through an in-process cache (default 30 s): a config change
 * made on another instance is seen within that time; this instance sees its own writes at once.
 * Type codes and provider ids are global, so looking one up without its clinic is a
 * cross-partition query on a small container, cached the same way.
 */

type ClinicDoc = BaseDoc & Clinic & { type: 'clinic' };
type TypeDoc = BaseDoc & AppointmentType & { type: 'appointment-type' };
type ProviderDoc = BaseDoc & Provider & { type: 'provider' };

export class CosmosConfigRepository implements ConfigRepository {
  private readonly cache: TtlCache;
  constructor(
    private readonly store: Store,
    cacheTtlMs = 30_000,
  ) {
    this.cache = new TtlCache(cacheTtlMs);
  }

  /** Drops cached configuration (tests, or after an admin change made elsewhere). */
  invalidate(): void {
    this.cache.clear();
  }

  getClinic(clinicId: string): Promise<Clinic | undefined> {
    return this.cache.get(`clinic/${clinicId}`, async () => {
      const r = await this.store.read<ClinicDoc>('clinic', clinicId);
      return r ? stripDoc<Clinic>(r.doc) : undefined;
    });
  }

  async putClinic(clinic: Clinic): Promise<void> {
    await this.store.upsert<ClinicDoc>({ ...clinic, id: 'clinic', pk: clinic.clinicId, type: 'clinic' });
    this.cache.clear();
  }

  listClinics(): Promise<Clinic[]> {
    return this.cache.get('clinics', async () => {
      const docs = await this.store.queryAll<ClinicDoc>({ query: "SELECT * FROM c WHERE c.type = 'clinic'" });
      return docs.map((d) => stripDoc<Clinic>(d)).sort((a, b) => a.clinicId.localeCompare(b.clinicId));
    });
  }

  getAppointmentType(code: string): Promise<AppointmentType | undefined> {
    return this.cache.get(`type/${code}`, async () => {
      const docs = await this.store.queryAll<TypeDoc>({
        query: "SELECT * FROM c WHERE c.type = 'appointment-type' AND c.code = @code",
        parameters: [{ name: '@code', value: code }],
      });
      return docs[0] ? stripDoc<AppointmentType>(docs[0]) : undefined;
    });
  }

  async putAppointmentType(type: AppointmentType): Promise<void> {
    await this.moveOut('appointment-type', 'code', type.code, type.clinicId, `type|${type.code}`);
    await this.store.upsert<TypeDoc>({ ...type, id: `type|${type.code}`, pk: type.clinicId, type: 'appointment-type' });
    this.cache.clear();
  }

  listAppointmentTypes(clinicId: string): Promise<AppointmentType[]> {
    return this.cache.get(`types/${clinicId}`, async () => {
      const docs = await this.store.queryAll<TypeDoc>(
        { query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'appointment-type'", parameters: [{ name: '@pk', value: clinicId }] },
        clinicId,
      );
      return docs.map((d) => stripDoc<AppointmentType>(d)).sort((a, b) => a.code.localeCompare(b.code));
    });
  }

  getProvider(providerId: string): Promise<Provider | undefined> {
    return this.cache.get(`provider/${providerId}`, async () => {
      const docs = await this.store.queryAll<ProviderDoc>({
        query: "SELECT * FROM c WHERE c.type = 'provider' AND c.providerId = @id",
        parameters: [{ name: '@id', value: providerId }],
      });
      return docs[0] ? stripDoc<Provider>(docs[0]) : undefined;
    });
  }

  async putProvider(provider: Provider): Promise<void> {
    await this.moveOut('provider', 'providerId', provider.providerId, provider.clinicId, `provider|${provider.providerId}`);
    await this.store.upsert<ProviderDoc>({ ...provider, id: `provider|${provider.providerId}`, pk: provider.clinicId, type: 'provider' });
    this.cache.clear();
  }

  listProviders(clinicId: string): Promise<Provider[]> {
    return this.cache.get(`providers/${clinicId}`, async () => {
      const docs = await this.store.queryAll<ProviderDoc>(
        { query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'provider'", parameters: [{ name: '@pk', value: clinicId }] },
        clinicId,
      );
      return docs.map((d) => stripDoc<Provider>(d)).sort((a, b) => a.providerId.localeCompare(b.providerId));
    });
  }

  /** A provider or type that changes clinic moves partition: delete the copy under the old clinic. */
  private async moveOut(type: string, field: string, value: string, newClinicId: string, id: string): Promise<void> {
    const docs = await this.store.queryAll<BaseDoc>({
      query: `SELECT c.id, c.pk FROM c WHERE c.type = @type AND c.${field} = @value AND c.pk != @pk`,
      parameters: [
        { name: '@type', value: type },
        { name: '@value', value },
        { name: '@pk', value: newClinicId },
      ],
    });
    for (const d of docs) if (d.id === id) await this.store.delete(d.id, d.pk);
  }
}
