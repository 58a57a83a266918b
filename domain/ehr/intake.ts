import { createHash } from 'node:crypto';
import { DomainError } from '../errors';
import type { IdempotencyRecord, IdempotencyStore } from '../ports';
import type { SchedulingDeps } from '../scheduling';
import { buildAck, type AckCode, type AckError } from './ack';
import { normaliseSegments, stripMllp } from './hl7';
import { Hl7ErrorCondition, parseSiu, type Hl7Header } from './siu';
import { applySiu, conditionOf, EhrError, type SiuApplyContext } from './siu-apply';

/**
 * SIU intake: one inbound HL7 v2 message, whichever way it arrived (POST /api/ehr/hl7v2, the `ehr-inbound`
 * queue): parse (AR when malformed), at most once per sender + MSH-10 (the stored ACK is replayed for a
 * repeat), apply through the scheduling use cases (AA, or AE with the domain error code in ERR-5). The ACK
 * is built here because it is what the idempotency record stores and replays.
 */

/** The ports the intake needs: the scheduling ones (applySiu) and the idempotency store. */
export type SiuIntakeDeps = SchedulingDeps & { idempotency: IdempotencyStore };

/** Control ids are remembered this long: engines resend within minutes to days. */
const HL7_IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;
/** A reservation without an ACK older than this belongs to a crashed attempt and is taken over. */
const HL7_LEASE_MS = 30_000;
/** createdAt of a reservation given back after an unexpected failure: long past the lease, so a resend takes it over. */
const LEASE_RELEASED_AT = '1970-01-01T00:00:00.000Z';

export interface Hl7Outcome {
  ack: string;
  ackCode: AckCode;
  /** MSH-10 of the message, when readable. */
  controlId?: string;
  trigger?: string;
  /** Slotflow code of the failure (AE/AR). */
  errorCode?: string;
  appointmentId?: string;
  /** The ACK of an earlier delivery of the same control id. */
  replayed: boolean;
  /** A repeat arrived while the first delivery was still being processed: retry later. */
  inProgress?: boolean;
}

/** Who sent the message: an id for the actor, and the clinic scope of the interface (a plain predicate). */
export interface Hl7Caller {
  principalId: string;
  canAccessClinic(clinicId: string): boolean;
}

function ack(deps: Pick<SiuIntakeDeps, 'ids' | 'clock'>, header: Hl7Header | undefined, code: AckCode, error?: AckError, text?: string): string {
  return buildAck({
    header,
    ackCode: code,
    ackControlId: deps.ids.newId('ack'),
    now: deps.clock.now(),
    ...(error ? { error } : {}),
    ...(text ? { text } : {}),
  });
}

function idempotencyKey(header: Hl7Header): string {
  // Control ids are unique per sending application and facility, not globally.
  return createHash('sha256')
    .update(JSON.stringify([header.sendingApplication, header.sendingFacility, header.controlId]))
    .digest('hex');
}

/** Processes one HL7 v2 message. Throws only for unexpected failures (storage down): the caller retries. */
export async function processHl7Message(deps: SiuIntakeDeps, text: string, caller: Hl7Caller): Promise<Hl7Outcome> {
  const parsed = parseSiu(text);
  if (!parsed.ok) {
    const r = parsed.reject;
    return {
      ack: ack(deps, r.header, 'AR', { condition: r.condition, code: r.code, text: r.text, ...(r.location ? { location: r.location } : {}) }),
      ackCode: 'AR',
      ...(r.header?.controlId ? { controlId: r.header.controlId } : {}),
      ...(r.header?.trigger ? { trigger: r.header.trigger } : {}),
      errorCode: r.code,
      replayed: false,
    };
  }
  const cmd = parsed.command;
  const base = { controlId: cmd.header.controlId, trigger: cmd.trigger };
  const store = deps.idempotency;
  const now = deps.clock.now();
  const record: IdempotencyRecord = {
    scope: 'hl7',
    key: idempotencyKey(cmd.header),
    requestHash: createHash('sha256')
      .update(normaliseSegments(stripMllp(text)))
      .digest('hex'),
    createdAt: now.toUTC().toISO()!,
  };
  if (!(await store.putIfAbsent(record, HL7_IDEMPOTENCY_TTL_SECONDS))) {
    const existing = await store.get('hl7', record.key);
    if (existing?.requestHash && existing.requestHash !== record.requestHash) {
      const error = {
        condition: Hl7ErrorCondition.DUPLICATE_KEY,
        code: 'IDEMPOTENCY.KEY_REUSED',
        text: 'MSH-10 was already used for a different message',
        location: { segment: 'MSH', field: 10 },
      };
      return { ...base, ack: ack(deps, cmd.header, 'AE', error), ackCode: 'AE', errorCode: error.code, replayed: false };
    }
    const stored = existing?.response?.body as { ack?: string; ackCode?: AckCode; errorCode?: string; appointmentId?: string } | undefined;
    if (stored?.ack && stored.ackCode) {
      return {
        ...base,
        ack: stored.ack,
        ackCode: stored.ackCode,
        ...(stored.errorCode ? { errorCode: stored.errorCode } : {}),
        ...(stored.appointmentId ? { appointmentId: stored.appointmentId } : {}),
        replayed: true,
      };
    }
    if (existing && now.toMillis() - Date.parse(existing.createdAt) < HL7_LEASE_MS) {
      const error = {
        condition: Hl7ErrorCondition.RECORD_LOCKED,
        code: 'IDEMPOTENCY.IN_PROGRESS',
        text: 'This message is still being processed; resend later',
      };
      return { ...base, ack: ack(deps, cmd.header, 'AE', error), ackCode: 'AE', errorCode: error.code, replayed: false, inProgress: true };
    }
    await store.complete(record, HL7_IDEMPOTENCY_TTL_SECONDS);
  }

  const context: SiuApplyContext = { actor: { kind: 'ehr', principalId: caller.principalId }, canAccessClinic: (id) => caller.canAccessClinic(id) };
  let outcome: Hl7Outcome;
  try {
    const result = await applySiu(deps, cmd, context);
    const appointmentId = result.appointment.appointmentId;
    outcome = { ...base, ack: ack(deps, cmd.header, 'AA', undefined, `${result.status} ${appointmentId}`), ackCode: 'AA', appointmentId, replayed: false };
  } catch (e) {
    if (!(e instanceof DomainError) && !(e instanceof EhrError)) {
      // Not a rule the message broke: free the control id so a resend is processed.
      await store.complete({ ...record, createdAt: LEASE_RELEASED_AT }, HL7_IDEMPOTENCY_TTL_SECONDS).catch(() => undefined);
      throw e;
    }
    const field = e instanceof DomainError && typeof e.details.field === 'string' ? e.details.field : undefined;
    const location = field && /^[A-Z0-9]{3}-\d+$/.test(field) ? { segment: field.slice(0, 3), field: Number(field.slice(4)) } : undefined;
    const error: AckError = { condition: conditionOf(e.code), code: e.code, text: e.message.slice(0, 200), ...(location ? { location } : {}) };
    outcome = { ...base, ack: ack(deps, cmd.header, 'AE', error), ackCode: 'AE', errorCode: e.code, replayed: false };
  }
  const body = {
    ack: outcome.ack,
    ackCode: outcome.ackCode,
    ...(outcome.errorCode ? { errorCode: outcome.errorCode } : {}),
    ...(outcome.appointmentId ? { appointmentId: outcome.appointmentId } : {}),
  };
  await store.complete({ ...record, response: { status: 200, body } }, HL7_IDEMPOTENCY_TTL_SECONDS);
  return outcome;
}
