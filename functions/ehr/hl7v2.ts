import { isUtf8 } from 'node:buffer';
import { app, HttpResponse, type HttpRequest, type InvocationContext } from '@azure/functions';
import { processHl7Message } from '../../domain/ehr';
import { canAccessClinic, requirePrincipal } from '../http/auth';
import { correlationIdOf } from '../http/handlers';
import { HttpErrorCode, HttpProblem, toProblemResponse } from '../http/problem';
import { getServices } from '../app/services';

/**
 * POST /api/ehr/hl7v2 (role ehr): one HL7 v2 SIU message in the body (ER7, optionally MLLP-framed;
 * CR, LF or CRLF between segments); the answer is its ACK (MSA AA / AE / AR), always HTTP 200 once the
 * caller is authenticated, so an interface engine reads the outcome from MSA like over MLLP.
 */

/** ER7 media type of HL7 over HTTP (the HAPI HL7-over-HTTP specification). */
export const HL7_V2_CONTENT_TYPE = 'application/hl7-v2; charset=utf-8';
/** SIU messages are a few KB; anything this large is not one. */
export const MAX_HL7_BYTES = 256 * 1024;

export async function receiveHl7v2(request: HttpRequest, context: InvocationContext): Promise<HttpResponse> {
  const correlationId = correlationIdOf(request, context);
  try {
    const services = await getServices();
    const principal = requirePrincipal(request, ['ehr'], services.settings.CLINIC_CLAIM_TYPE);
    const declared = Number(request.headers.get('content-length') ?? '0');
    if (Number.isFinite(declared) && declared > MAX_HL7_BYTES)
      throw new HttpProblem(HttpErrorCode.PAYLOAD_TOO_LARGE, `The message may be at most ${MAX_HL7_BYTES} bytes.`);
    const bytes = Buffer.from(await request.arrayBuffer());
    if (bytes.byteLength > MAX_HL7_BYTES) throw new HttpProblem(HttpErrorCode.PAYLOAD_TOO_LARGE, `The message may be at most ${MAX_HL7_BYTES} bytes.`);
    // Many engines still send ISO 8859-1 (MSH-18 8859/1): bytes that are not UTF-8 are read as Latin-1.
    const text = isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
    const outcome = await processHl7Message(services, text, { principalId: principal.principalId, canAccessClinic: (id) => canAccessClinic(principal, id) });
    // Ids and codes only: control ids and appointment ids are not PHI.
    context.log(
      `ehr.hl7 ${outcome.trigger ?? '-'} ${outcome.ackCode} ${outcome.errorCode ?? ''} control=${(outcome.controlId ?? '').slice(0, 40)} appointment=${outcome.appointmentId ?? ''} replayed=${outcome.replayed} correlation=${correlationId}`,
    );
    return new HttpResponse({
      status: 200,
      body: outcome.ack,
      headers: { 'content-type': HL7_V2_CONTENT_TYPE, 'cache-control': 'no-store', 'x-correlation-id': correlationId, 'x-hl7-ack-code': outcome.ackCode },
    });
  } catch (error) {
    if (!(error instanceof HttpProblem)) context.error(`ehr.hl7 failed: ${error instanceof Error ? error.name : typeof error} correlation=${correlationId}`);
    return toProblemResponse(error, { instance: `urn:slotflow:request:${correlationId}`, correlationId });
  }
}

app.http('ehrHl7v2', { route: 'api/ehr/hl7v2', methods: ['POST'], authLevel: 'anonymous', handler: receiveHl7v2 });
