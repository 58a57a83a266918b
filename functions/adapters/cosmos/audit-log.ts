import { randomUUID } from 'node:crypto';
import { FHIR_ID } from '../../../domain/ids';
import type { AuditEntry, AuditLog } from '../../../domain/ports';
import { E164, type KeyedHasher } from './keys';
import { type BaseDoc, type Store, statusOf } from './store';

/**
 * Audit trail: who (principal), what (action, resource type and id), when, correlation id and
 * outcome. No PHI: patient ids are stored as a keyed hash (`patientRef`), so the trail survives a
 * patient's erasure (a legal obligation under Art. 17(3)) without naming them, yet "who accessed my
 * record" is one single-partition query: partition = patientRef. Entries about no patient go to a
 * partition per UTC day. Anything that is not an id (a phone number used as principal, free text)
 * is hashed too, so a careless caller cannot put PHI into the trail.
 */

export interface AuditDoc extends BaseDoc {
  type: 'audit';
  principalRef: string;
  action: AuditEntry['action'];
  resourceType: AuditEntry['resourceType'];
  resourceRef: string;
  patientRef?: string;
  correlationId: string;
  at: string;
  outcome: AuditEntry['outcome'];
}

export class CosmosAuditLog implements AuditLog {
  constructor(
    private readonly store: Store,
    private readonly hasher: KeyedHasher,
  ) {}

  /** The reference an audit entry stores for a patient id. */
  patientRef(patientId: string): string {
    return `p~${this.hasher.hash('patient', patientId)}`;
  }

  async record(entry: AuditEntry): Promise<void> {
    const patientRef = entry.patientId ? this.patientRef(entry.patientId) : undefined;
    const isPatientResource = entry.resourceType === 'Patient' || entry.resourceId === entry.patientId;
    const doc: AuditDoc = {
      id: randomUUID(),
      pk: patientRef ?? `day|${entry.at.slice(0, 10)}`,
      type: 'audit',
      principalRef: this.idOrHash(entry.principalId),
      action: entry.action,
      resourceType: entry.resourceType,
      resourceRef: isPatientResource ? this.patientRef(entry.resourceId) : this.idOrHash(entry.resourceId),
      ...(patientRef ? { patientRef } : {}),
      correlationId: this.idOrHash(entry.correlationId),
      at: entry.at,
      outcome: entry.outcome,
    };
    try {
      await this.store.create(doc);
    } catch (e) {
      // 409 on a fresh uuid: our own write landed before a retried request (lost response).
      if (statusOf(e) !== 409) throw e;
    }
  }

  /** Entries about one patient, oldest first ("who accessed my record"). */
  async listForPatient(patientId: string): Promise<AuditDoc[]> {
    const pk = this.patientRef(patientId);
    const docs = await this.store.queryAll<AuditDoc>(
      { query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'audit'", parameters: [{ name: '@pk', value: pk }] },
      pk,
    );
    return docs.sort((a, b) => a.at.localeCompare(b.at));
  }

  private idOrHash(value: string): string {
    return FHIR_ID.test(value) && !E164.test(value) && !/^\d{7,}$/.test(value) ? value : `h~${this.hasher.hash('patient', value)}`;
  }
}
