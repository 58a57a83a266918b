import { registerEventTrigger } from '../app/event-trigger';
import { eligibilityWorkflow, followAppointment } from './follow-appointment';
import { Subscriptions } from '../adapters/servicebus/topology';

/** Eligibility subscription: a booking starts its coverage check; a change signals or restarts it. */
registerEventTrigger('eventsEligibility', Subscriptions.eligibility, async (event, client, context) => {
  context.log(`eligibility ${event.subject}: ${await followAppointment(event, client, eligibilityWorkflow)}`);
});
