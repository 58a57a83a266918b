/**
 * Worker-thread entry of `simulateScenario(..., { parallel })`: runs one policy of the scenario with a
 * fresh copy of the app (its own process-wide services and registrations) and posts back the plain
 * metrics and runtime figures.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Scenario } from './scenario';
import { policySetups, runPolicy } from './simulate';

const { scenario, index, seed, weeks } = workerData as { scenario: Scenario; index: number; seed: number; weeks: number };

void runPolicy(scenario, policySetups(scenario)[index]!, seed, weeks, { inWorker: true }).then((result) => parentPort!.postMessage(result));
