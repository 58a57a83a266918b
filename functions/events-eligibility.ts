import { registerEventTrigger } from './lib/event-trigger';
import { eligibilityWorkflow, followAppointment } from './lib/follow-appointment';

/** Eligibility subscription: a booking starts its coverage check; a change signals or restarts it. */
registerEventTrigger('eventsEligibility', 'eligibility', async (event, client, context) => {
  context.log(`eligibility ${event.subject}: ${await followAppointment(event, client, eligibilityWorkflow)}`);
});
