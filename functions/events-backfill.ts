import { EventType } from '../domain';
import { BACKFILL_ORCHESTRATOR, backfillInstanceId } from '../orchestrations/backfill';
import { registerEventTrigger, startOnce } from './lib/event-trigger';

/** Backfill subscription: a released slot (cancellation, no-show, lapsed offer) starts its backfill. */
registerEventTrigger('eventsBackfill', 'backfill', async (event, client, context) => {
  // appointment.cancelled / noshow arrive here too; their slot.released twin is what starts a backfill.
  if (event.type !== EventType.slotReleased) return;
  const { slotId, appointmentType, reason } = event.data;
  const outcome = await startOnce(client, BACKFILL_ORCHESTRATOR, backfillInstanceId(slotId), { slotId, appointmentType, reason }, true);
  context.log(`backfill for slot ${slotId}: ${outcome}`);
});
