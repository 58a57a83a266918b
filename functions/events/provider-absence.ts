import { EventType } from '../../domain';
import { absenceInstanceId, PROVIDER_ABSENCE_ORCHESTRATOR } from '../../orchestrations/names';
import { registerEventTrigger, startOnce } from '../app/event-trigger';
import { Subscriptions } from '../adapters/servicebus/topology';

/** Provider-absence subscription (absences reported by the EHR or other systems): re-home the provider's patients. */
registerEventTrigger('eventsProviderAbsence', Subscriptions.providerAbsence, async (event, client, context) => {
  if (event.type !== EventType.providerAbsence) return;
  const { providerId, from, to, reasonCode } = event.data;
  const outcome = await startOnce(client, PROVIDER_ABSENCE_ORCHESTRATOR, absenceInstanceId(providerId, from, to), { providerId, from, to, reasonCode });
  context.log(`provider absence ${event.data.absenceId}: ${outcome}`);
});
