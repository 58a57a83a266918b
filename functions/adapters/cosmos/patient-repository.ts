import type { PatientRecord, PatientRepository } from '../../../domain/ports';
import { nameMatches, nameWords } from '../../../domain/patient-search';
import { type KeyedHasher } from './keys';
import { type BaseDoc, type Store, statusOf, stripDoc } from './store';

/**
 * Patients container, partitioned by patient id: everything that holds a patient's data lives in
 * their partition (record, appointment ledger, offers, SMS history), so erasure empties one
 * partition. The exception is the phone lookup: inbound SMS only know the phone number, so a
 * small document `{id: patientId}` sits in partition `phone|HMAC(phone)`. The raw number appears
 * only in the patient record; the lookup holds a keyed hash (see KeyedHasher).
 */

export const PATIENT_DOC_ID = 'patient';

export type PatientDoc = BaseDoc & PatientRecord & { type: 'patient' };
interface PhoneLookupDoc extends BaseDoc {
  type: 'phone-lookup';
  patientId: string;
}

export const phonePk = (hasher: KeyedHasher, phone: string) => `phone|${hasher.hash('phone', phone)}`;

export class CosmosPatientRepository implements PatientRepository {
  constructor(
    private readonly store: Store,
    private readonly hasher: KeyedHasher,
  ) {}

  async get(patientId: string): Promise<PatientRecord | undefined> {
    const r = await this.store.read<PatientDoc>(PATIENT_DOC_ID, patientId);
    return r ? stripDoc<PatientRecord>(r.doc) : undefined;
  }

  async put(patient: PatientRecord): Promise<void> {
    const before = await this.store.read<PatientDoc>(PATIENT_DOC_ID, patient.patientId);
    await this.store.upsert<PatientDoc>({ ...patient, id: PATIENT_DOC_ID, pk: patient.patientId, type: 'patient' });
    // Upsert the lookup every time (cheap, and it repairs a lookup lost to a crash between writes).
    await this.store.upsert<PhoneLookupDoc>({
      id: patient.patientId,
      pk: phonePk(this.hasher, patient.phone),
      type: 'phone-lookup',
      patientId: patient.patientId,
    });
    if (before && before.doc.phone !== patient.phone) await this.store.delete(patient.patientId, phonePk(this.hasher, before.doc.phone));
  }

  /**
   * The patient with this number. Several patients may share a number (a parent and children):
   * the most recently updated record wins, as the SMS flows expect a single patient.
   */
  async findByPhone(phone: string): Promise<PatientRecord | undefined> {
    const pk = phonePk(this.hasher, phone);
    const lookups = await this.store.queryAll<PhoneLookupDoc>(
      { query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'phone-lookup'", parameters: [{ name: '@pk', value: pk }] },
      pk,
    );
    const found: PatientRecord[] = [];
    for (const l of lookups) {
      const p = await this.get(l.patientId);
      if (p && p.phone === phone) found.push(p);
      else if (!p || p.phone !== phone) await this.store.delete(l.id, pk).catch((e) => (statusOf(e) === 412 ? undefined : Promise.reject(e)));
    }
    return found.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
  }

  /**
   * Cross-partition: every patient record is scanned for the words (the local server knows only the
   * two-argument CONTAINS, hence LOWER). Fine for a clinic group's front desk; a large population needs a
   * search index instead. The words are query parameters, never part of the query text.
   */
  async searchByName(text: string, limit: number): Promise<PatientRecord[]> {
    const words = nameWords(text);
    if (words.length === 0) return [];
    const docs = await this.store.queryAll<PatientDoc>({
      query: `SELECT * FROM c WHERE c.type = 'patient' AND ${words.map((_, i) => `CONTAINS(LOWER(c.name), @w${i})`).join(' AND ')}`,
      parameters: words.map((w, i) => ({ name: `@w${i}`, value: w })),
    });
    return docs
      .map((d) => stripDoc<PatientRecord>(d))
      .filter((p) => nameMatches(p.name, words))
      .sort((a, b) => a.name.localeCompare(b.name) || a.patientId.localeCompare(b.patientId))
      .slice(0, limit);
  }
}
