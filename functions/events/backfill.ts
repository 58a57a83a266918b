import { EventType } from '../../domain';
import { BACKFILL_ORCHESTRATOR, backfillInstanceId, type BackfillInput } from '../../orchestrations/names';
import { registerEventTrigger, startOnce } from '../app/event-trigger';
import { Subscriptions } from '../adapters/servicebus/topology';

/** Backfill subscription: a released slot (cancellation, no-show, lapsed offer) starts its backfill. */
registerEventTrigger('eventsBackfill', Subscriptions.backfill, async (event, client, context) => {
  // appointment.cancelled / noshow arrive here too; their slot.released twin is what starts a backfill.
  // A lapsed offer made outside a backfill (e.g. a booking-link offer) starts one for its slot. A
  // backfill settles its own expired offers, so when one exists or existed for the slot (running or
  // finished), an expiry starts nothing: re-offering to the same patients would loop.
  let start: BackfillInput | undefined;
  let restartFinished = true;
  if (event.type === EventType.slotReleased) {
    // A move-up released this slot: its backfill is the next link of that cascade (bounded by the clinic's cascade depth).
    const { slotId, appointmentType, reason, cascade } = event.data;
    start = { slotId, appointmentType, reason, ...(cascade ? { cascade } : {}) };
  }
  if (event.type === EventType.offerExpired && event.data.appointmentType !== 'unknown') {
    start = { slotId: event.data.slotId, appointmentType: event.data.appointmentType, reason: 'offer-lapsed' };
    restartFinished = false;
  }
  if (!start) return;
  const outcome = await startOnce(client, BACKFILL_ORCHESTRATOR, backfillInstanceId(start.slotId), start, restartFinished);
  context.log(`backfill for slot ${start.slotId}: ${outcome}`);
});
