/**
 * Errors a Service Bus-triggered handler throws to say how its message must be settled.
 * Importable by function code; depends on nothing host-specific.
 */

const DEAD_LETTER_MARK = Symbol.for('slotflow.servicebus.deadLetter');

/**
 * Thrown by a trigger handler for a message that can never succeed (malformed, unknown type):
 * dead-letter it now with this reason instead of retrying up to maxDeliveryCount.
 *
 * The embedded broker honours it directly. In Azure, where the Functions host auto-completes and
 * settles on its own, the trigger wrapper must catch it and settle through the Service Bus
 * message actions (autoCompleteMessages: false), or record the message in a poison store and
 * return normally; see docs/local-servicebus.md.
 */
export class DeadLetterError extends Error {
  readonly [DEAD_LETTER_MARK] = true;
  constructor(
    /** Short stable code, e.g. `EVENT.INVALID`; becomes DeadLetterReason. */
    readonly deadLetterReason: string,
    /** Human-readable detail without PHI; becomes DeadLetterErrorDescription. */
    readonly deadLetterErrorDescription?: string,
  ) {
    super(deadLetterErrorDescription ? `${deadLetterReason}: ${deadLetterErrorDescription}` : deadLetterReason);
    this.name = 'DeadLetterError';
  }
}

/** True for a DeadLetterError, also across duplicated module instances (e.g. Jest registries). */
export function isDeadLetterError(err: unknown): err is DeadLetterError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[DEAD_LETTER_MARK] === true;
}
