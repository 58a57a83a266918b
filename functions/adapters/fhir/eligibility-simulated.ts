import { TransientError, type EligibilityChecker, type EligibilityRequest, type EligibilityResult } from '../../../domain';
import { buildEligibilityRequest, readEligibilityResponse, type FhirCoverageEligibilityRequest, type FhirCoverageEligibilityResponse } from './eligibility';

/**
 * A simulated payer for local runs and tests, driven by the member id so a demo can show every path:
 * `INACTIVE…` -> coverage not in force, `ERROR…` -> an error response, `SLOW…` -> times out
 * (transient, retried), `FLAKY…` -> fails transiently twice then answers active; anything else is
 * active. It speaks the same FHIR resources as a real payer, so request building and response
 * reading are the production code.
 */
export function simulatedPayer(request: FhirCoverageEligibilityRequest, attempt: number): FhirCoverageEligibilityResponse {
  const memberId = request.insurance[0]?.coverage.identifier.value ?? '';
  if (memberId.startsWith('SLOW')) throw new TransientError('simulated payer timed out');
  if (memberId.startsWith('FLAKY') && attempt <= 2) throw new TransientError('simulated payer unavailable');
  if (memberId.startsWith('ERROR')) return { resourceType: 'CoverageEligibilityResponse', outcome: 'error', error: [{ code: { coding: [{ code: 'a001' }] } }] };
  return { resourceType: 'CoverageEligibilityResponse', outcome: 'complete', insurance: [{ inforce: !memberId.startsWith('INACTIVE') }] };
}

export class SimulatedEligibilityChecker implements EligibilityChecker {
  private readonly attempts = new Map<string, number>();
  constructor(private readonly now: () => Date = () => new Date()) {}

  async check(req: EligibilityRequest): Promise<EligibilityResult> {
    const attempt = (this.attempts.get(req.appointmentId) ?? 0) + 1;
    this.attempts.set(req.appointmentId, attempt);
    return readEligibilityResponse(simulatedPayer(buildEligibilityRequest(req, this.now().toISOString()), attempt));
  }
}
