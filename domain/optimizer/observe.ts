/**
 * Observers of finished solves: the edge registers one to record the optimizer's solve time as a
 * metric (functions/app/telemetry-hooks.ts); the domain itself does no I/O. An observer that throws is
 * ignored: watching a solve must never change its outcome.
 */
export interface SolveObservation {
  solveMs: number;
  status: string;
  /** Where the solve came from, e.g. `waitlist-ranking`, `provider-absence`. */
  purpose: string;
}

type SolveObserver = (observation: SolveObservation) => void;
const observers = new Set<SolveObserver>();

/** Registers an observer; returns its removal. */
export function onSolved(observer: SolveObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** Tells the observers about a finished solve. */
export function notifySolved(observation: SolveObservation): void {
  for (const observer of observers) {
    try {
      observer(observation);
    } catch {
      // An observer's failure is its own.
    }
  }
}
