import { safeIdPart } from './keys';
import type { BaseDoc, Store } from './store';

/**
 * SMS history, kept with the patient (patients container, partition = patient id) because a
 * message's number and body are PHI. Erasure removes it with the partition.
 */
export interface SmsMessageRecord {
  messageId: string;
  patientId: string;
  direction: 'outbound' | 'inbound';
  to: string;
  from: string;
  body: string;
  purpose?: string;
  at: string;
}

type SmsDoc = BaseDoc & SmsMessageRecord & { type: 'sms' };

export class CosmosSmsLog {
  constructor(private readonly patients: Store) {}

  async record(message: SmsMessageRecord): Promise<void> {
    await this.patients.upsert<SmsDoc>({ ...message, id: `sms|${safeIdPart(message.messageId)}`, pk: message.patientId, type: 'sms' });
  }

  async listForPatient(patientId: string): Promise<SmsMessageRecord[]> {
    const docs = await this.patients.queryAll<SmsDoc>(
      { query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'sms' ORDER BY c.at", parameters: [{ name: '@pk', value: patientId }] },
      patientId,
    );
    return docs.map(({ messageId, patientId: p, direction, to, from, body, purpose, at }) => ({
      messageId,
      patientId: p,
      direction,
      to,
      from,
      body,
      ...(purpose ? { purpose } : {}),
      at,
    }));
  }
}
