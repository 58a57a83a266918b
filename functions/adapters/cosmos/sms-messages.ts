import { advanceStatus, type SmsMessageRecord, type SmsMessageRepository, type SmsStatus } from '../../../domain/sms';
import { safeIdPart } from './keys';
import { CosmosStatusError, type BaseDoc, type Store } from './store';

/**
 * SMS message records (ids, template, purpose and delivery status; no phone, no body) in the
 * patient's partition of the `patients` container, so erasure removes them with the patient.
 * Delivery callbacks only know the MessageSid, so a pointer document in the `idempotency`
 * container (partition `sms:<MessageSid>`) maps it to the patient; it names the patient inside
 * `responseJson`, where erasure looks for the patient's id, and is deleted with them.
 */
type MessageDoc = BaseDoc & SmsMessageRecord & { type: 'sms-message' };
type PointerDoc = BaseDoc & { type: 'sms-pointer'; responseJson: string; createdAt: string; ttl: number };

const POINTER_TTL_SECONDS = 90 * 24 * 3600;
const MAX_ADVANCE_ATTEMPTS = 5;

const docId = (messageId: string) => `sms-message|${safeIdPart(messageId)}`;
const pointerPk = (messageId: string) => `sms:${safeIdPart(messageId)}`;

export class CosmosSmsMessages implements SmsMessageRepository {
  constructor(
    private readonly patients: Store,
    private readonly idempotency: Store,
  ) {}

  async create(record: SmsMessageRecord): Promise<void> {
    // Pointer first: a callback that races the record then finds the patient, and a retry is harmless.
    await this.idempotency.upsert<PointerDoc>({
      id: 'pointer',
      pk: pointerPk(record.messageId),
      type: 'sms-pointer',
      responseJson: JSON.stringify({ patientId: record.patientId }),
      createdAt: record.sentAt,
      ttl: POINTER_TTL_SECONDS,
    });
    try {
      await this.patients.create<MessageDoc>({ ...record, id: docId(record.messageId), pk: record.patientId, type: 'sms-message' });
    } catch (e) {
      if (!(e instanceof CosmosStatusError && e.status === 409)) throw e; // already recorded
    }
  }

  private async patientOf(messageId: string): Promise<string | undefined> {
    const pointer = await this.idempotency.read<PointerDoc>('pointer', pointerPk(messageId));
    if (!pointer) return undefined;
    return (JSON.parse(pointer.doc.responseJson) as { patientId?: string }).patientId;
  }

  async get(messageId: string): Promise<SmsMessageRecord | undefined> {
    const patientId = await this.patientOf(messageId);
    if (!patientId) return undefined;
    const stored = await this.patients.read<MessageDoc>(docId(messageId), patientId);
    return stored ? strip(stored.doc) : undefined;
  }

  /** Moves the status forward with If-Match; concurrent callbacks re-read and re-apply, never regress. */
  async advance(messageId: string, status: SmsStatus, at: string, errorCode?: string): Promise<SmsMessageRecord | undefined> {
    const patientId = await this.patientOf(messageId);
    if (!patientId) return undefined;
    for (let attempt = 0; attempt < MAX_ADVANCE_ATTEMPTS; attempt++) {
      const stored = await this.patients.read<MessageDoc>(docId(messageId), patientId);
      if (!stored) return undefined;
      const next = advanceStatus(strip(stored.doc), status, at, errorCode);
      if (!next) return strip(stored.doc);
      try {
        await this.patients.replace<MessageDoc>({ ...next, id: stored.doc.id, pk: patientId, type: 'sms-message' }, stored.etag);
        return next;
      } catch (e) {
        if (!(e instanceof CosmosStatusError && e.status === 412)) throw e;
      }
    }
    throw new Error(`sms status for ${messageId}: too many concurrent updates`);
  }

  async listForPatient(patientId: string, since: string): Promise<SmsMessageRecord[]> {
    const docs = await this.patients.queryAll<MessageDoc>(
      {
        query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'sms-message' AND c.sentAt >= @since",
        parameters: [
          { name: '@pk', value: patientId },
          { name: '@since', value: since },
        ],
      },
      patientId,
    );
    return docs.map(strip).sort((a, b) => a.sentAt.localeCompare(b.sentAt));
  }
}

function strip(doc: MessageDoc): SmsMessageRecord {
  const { messageId, patientId, clinicId, purpose, template, correlationId, offerId, status, sentAt, updatedAt, errorCode } = doc;
  return {
    messageId,
    patientId,
    ...(clinicId ? { clinicId } : {}),
    purpose,
    template,
    correlationId,
    ...(offerId ? { offerId } : {}),
    status,
    sentAt,
    updatedAt,
    ...(errorCode ? { errorCode } : {}),
  };
}
