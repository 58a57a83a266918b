/**
 * Loads the workflows and event triggers the simulator drives into the same registry the local host
 * serves (local/host/core `capturedFunctions`): the modules register themselves with `df.app.*` and
 * `app.serviceBusTopic` on import, exactly as in the app entry. Nothing here defines a handler.
 */
import { capturedFunctions, installFunctionsCore } from '../local/host/core';
import type { FunctionRegistry } from '../local/host/registry';
import { BACKFILL_ORCHESTRATOR, PROVIDER_ABSENCE_ORCHESTRATOR, REMINDERS_ORCHESTRATOR } from '../orchestrations/names';

/** The orchestrations the simulator runs. */
export const SIMULATED_ORCHESTRATORS = [BACKFILL_ORCHESTRATOR, REMINDERS_ORCHESTRATOR, PROVIDER_ABSENCE_ORCHESTRATOR] as const;

/** Registers the simulated workflows and triggers (once per process) and returns the registry holding them. */
export function loadSimulatedApp(): FunctionRegistry {
  // The functions-core stand-in must be resolvable before @azure/functions loads (in Jest, a virtual mock of it is).
  installFunctionsCore();
  /* eslint-disable @typescript-eslint/no-require-imports */
  require('../orchestrations/backfill');
  require('../orchestrations/reminders');
  require('../orchestrations/provider-absence');
  require('../functions/events/backfill');
  require('../functions/events/reminders');
  require('../functions/events/provider-absence');
  /* eslint-enable @typescript-eslint/no-require-imports */
  for (const name of SIMULATED_ORCHESTRATORS) {
    if (!capturedFunctions.get(name))
      throw new Error(`orchestrator ${name} did not register (was @azure/functions loaded before the functions-core stand-in?)`);
  }
  return capturedFunctions;
}
