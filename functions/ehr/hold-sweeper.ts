import { app, type InvocationContext, type Timer } from '@azure/functions';
import { sweepExpiredHolds } from '../../domain/ehr';
import { getServices } from '../app/services';

/**
 * Releases lapsed FHIR $hold appointments every minute, so a slot held and never booked becomes free for
 * every channel (the FHIR routes also release lapsed holds they meet, so they never wait for this timer).
 */
export async function sweepHolds(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = await getServices();
  const released = await sweepExpiredHolds(services);
  if (released > 0) context.log(`ehr.holds released=${released}`);
}

app.timer('ehrHoldSweeper', { schedule: '0 * * * * *', handler: sweepHolds });
