import { registerEventTrigger } from './lib/event-trigger';
import { followAppointment, remindersWorkflow } from './lib/follow-appointment';

/** Reminders subscription: a booking starts its reminders; a change signals or restarts them. */
registerEventTrigger('eventsReminders', 'reminders', async (event, client, context) => {
  context.log(`reminders ${event.subject}: ${await followAppointment(event, client, remindersWorkflow)}`);
});
