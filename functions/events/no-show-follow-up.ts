import { EventType } from '../../domain';
import { NO_SHOW_FOLLOW_UP_ORCHESTRATOR, noShowFollowUpInstanceId, type NoShowFollowUpInput } from '../../orchestrations/names';
import { Subscriptions } from '../adapters/servicebus/topology';
import { registerEventTrigger, startOnce } from '../app/event-trigger';

/** No-show follow-up subscription: a no-show starts its follow-up workflow once (deterministic instance id). */
registerEventTrigger('eventsNoShowFollowUp', Subscriptions.noShowFollowUp, async (event, client, context) => {
  if (event.type !== EventType.appointmentNoShow) return;
  const input: NoShowFollowUpInput = { appointmentId: event.data.appointmentId, noShowAt: event.time };
  context.log(
    `no-show follow-up ${event.subject}: ${await startOnce(client, NO_SHOW_FOLLOW_UP_ORCHESTRATOR, noShowFollowUpInstanceId(event.data.appointmentId), input)}`,
  );
});
