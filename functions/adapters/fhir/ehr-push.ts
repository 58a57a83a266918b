import { TransientError } from '../../../domain';
import type { FhirResource, SiuOutbound } from '../../../domain/ehr';

/**
 * Outbound EHR sync port and its adapters: the current FHIR Appointment is PUT to the EHR's FHIR endpoint
 * (`{endpoint}/Appointment/{id}`, an idempotent update-as-create), so a redelivered or reordered event
 * converges on the latest state. Locally, and when no endpoint is configured, a bounded recorder keeps them.
 */
export interface EhrAppointmentPush {
  /** Sends the appointment. Throws TransientError for retryable failures, EhrPushRejected otherwise. */
  putAppointment(resource: FhirResource): Promise<void>;
  /**
   * Sends the SIU notification of the same change (S12/S13/S15/S26, domain/ehr/siu-out.ts), where the
   * adapter has an HL7 channel. The HTTP adapter has none (an outbound MLLP sender is not built), so
   * in Azure only the FHIR update goes out; the recorder keeps both.
   */
  putSiu?(siu: SiuOutbound & { appointmentId: string }): Promise<void>;
}

/** The EHR refused the resource (4xx other than 408/429): retrying will not help. */
export class EhrPushRejected extends Error {
  constructor(readonly status: number) {
    super(`EHR FHIR endpoint rejected the appointment with HTTP ${status}`);
    this.name = 'EhrPushRejected';
  }
}

export class HttpEhrPush implements EhrAppointmentPush {
  constructor(
    private readonly endpoint: string,
    private readonly options: { timeoutMs?: number; getToken?: () => Promise<string>; fetch?: typeof fetch } = {},
  ) {}

  async putAppointment(resource: FhirResource): Promise<void> {
    const url = `${this.endpoint.replace(/\/+$/, '')}/Appointment/${encodeURIComponent(String(resource.id))}`;
    const headers: Record<string, string> = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
    if (this.options.getToken) headers.authorization = `Bearer ${await this.options.getToken()}`;
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, {
        method: 'PUT',
        headers,
        body: JSON.stringify(resource),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch {
      throw new TransientError('EHR FHIR endpoint unreachable or timed out');
    }
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return;
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new TransientError(`EHR FHIR endpoint answered ${response.status}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
    }
    throw new EhrPushRejected(response.status);
  }
}

/** Keeps the last `limit` pushed resources in memory (local runs, tests, and Azure without an endpoint). */
export class RecordingEhrPush implements EhrAppointmentPush {
  readonly pushed: FhirResource[] = [];
  readonly siu: (SiuOutbound & { appointmentId: string })[] = [];
  constructor(private readonly limit = 500) {}
  async putAppointment(resource: FhirResource): Promise<void> {
    this.pushed.push(structuredClone(resource));
    if (this.pushed.length > this.limit) this.pushed.splice(0, this.pushed.length - this.limit);
  }
  async putSiu(siu: SiuOutbound & { appointmentId: string }): Promise<void> {
    this.siu.push({ ...siu });
    if (this.siu.length > this.limit) this.siu.splice(0, this.siu.length - this.limit);
  }
}
