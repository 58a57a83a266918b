import { registerEventTrigger } from '../app/event-trigger';
import { followAppointment, remindersWorkflow } from './follow-appointment';
import { Subscriptions } from '../adapters/servicebus/topology';

/** Reminders subscription: a booking starts its reminders; a change signals or restarts them. */
registerEventTrigger('eventsReminders', Subscriptions.reminders, async (event, client, context) => {
  context.log(`reminders ${event.subject}: ${await followAppointment(event, client, remindersWorkflow)}`);
});
