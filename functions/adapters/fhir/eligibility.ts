import { TransientError, type EligibilityChecker, type EligibilityRequest, type EligibilityResult } from '../../../domain';

/**
 * Insurance eligibility over FHIR R4: POST a CoverageEligibilityRequest (purpose: validation) to
 * the payer or clearinghouse endpoint, read the CoverageEligibilityResponse. Timeouts, 429 and 5xx
 * are TransientError (the workflow retries with backoff); a response that says the coverage is not
 * in force is `inactive`; any other error response is `inactive` with the payer's code.
 */

export interface FhirCoverageEligibilityRequest {
  resourceType: 'CoverageEligibilityRequest';
  status: 'active';
  purpose: ['validation'];
  patient: { reference: string };
  servicedDate: string;
  created: string;
  insurer: { identifier: { value: string } };
  insurance: { focal: true; coverage: { identifier: { value: string }; display?: string } }[];
  identifier: { system: string; value: string }[];
}

export interface FhirCoverageEligibilityResponse {
  resourceType: 'CoverageEligibilityResponse';
  outcome?: 'queued' | 'complete' | 'error' | 'partial';
  insurance?: { inforce?: boolean }[];
  error?: { code?: { coding?: { code?: string }[] } }[];
}

/** Builds the request resource: ids and the member id only, no names. */
export function buildEligibilityRequest(req: EligibilityRequest, createdAt: string): FhirCoverageEligibilityRequest {
  return {
    resourceType: 'CoverageEligibilityRequest',
    status: 'active',
    purpose: ['validation'],
    identifier: [{ system: 'urn:slotflow:appointment', value: req.appointmentId }],
    patient: { reference: `Patient/${req.patientId}` },
    servicedDate: req.serviceDate.slice(0, 10),
    created: createdAt,
    insurer: { identifier: { value: req.coverage.payerId } },
    insurance: [{ focal: true, coverage: { identifier: { value: req.coverage.memberId } } }],
  };
}

/** Reads a CoverageEligibilityResponse into the domain's result. */
export function readEligibilityResponse(res: FhirCoverageEligibilityResponse): EligibilityResult {
  if (res.resourceType !== 'CoverageEligibilityResponse') return { status: 'inactive', reasonCode: 'UNEXPECTED_RESPONSE' };
  if (res.outcome === 'queued') throw new TransientError('eligibility response queued');
  if (res.outcome === 'error' || res.error?.length) {
    return { status: 'inactive', reasonCode: res.error?.[0]?.code?.coding?.[0]?.code ?? 'PAYER_ERROR' };
  }
  const inforce = res.insurance?.some((i) => i.inforce === true) ?? false;
  return inforce ? { status: 'active' } : { status: 'inactive', reasonCode: 'NOT_IN_FORCE' };
}

export class FhirEligibilityChecker implements EligibilityChecker {
  constructor(
    private readonly endpoint: string,
    private readonly options: { timeoutMs?: number; getToken?: () => Promise<string>; now?: () => Date } = {},
  ) {}

  async check(req: EligibilityRequest): Promise<EligibilityResult> {
    const body = buildEligibilityRequest(req, (this.options.now?.() ?? new Date()).toISOString());
    const headers: Record<string, string> = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
    if (this.options.getToken) headers.authorization = `Bearer ${await this.options.getToken()}`;
    let response: Response;
    try {
      response = await fetch(`${this.endpoint.replace(/\/$/, '')}/CoverageEligibilityRequest`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch {
      throw new TransientError('eligibility endpoint unreachable or timed out');
    }
    if (response.status === 429 || response.status >= 500) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new TransientError(
        `eligibility endpoint answered ${response.status}`,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw new TransientError('eligibility endpoint answered with a body that is not JSON');
    }
    if (!response.ok) return { status: 'inactive', reasonCode: `HTTP_${response.status}` };
    return readEligibilityResponse(json as FhirCoverageEligibilityResponse);
  }
}
