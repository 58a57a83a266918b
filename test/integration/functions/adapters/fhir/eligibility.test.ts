import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransientError, type EligibilityRequest } from '../../../../../domain';
import { FhirEligibilityChecker } from '../../../../../functions/adapters/fhir/eligibility';
import { SimulatedEligibilityChecker } from '../../../../../functions/adapters/fhir/eligibility-simulated';

const request = (memberId: string): EligibilityRequest => ({
  appointmentId: 'apt-1',
  patientId: 'pat-1',
  clinicId: 'clinic-1',
  coverage: { payerId: 'payer-1', memberId },
  serviceDate: '2026-03-10T10:00:00-04:00',
});

/** A payer on loopback that answers by the member id in the request. */
function payer(): Promise<{ url: string; server: Server; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw);
      bodies.push(body);
      const member: string = body.insurance[0].coverage.identifier.value;
      if (member === 'DOWN') return res.writeHead(503, { 'retry-after': '2' }).end('{}');
      if (member === 'HANG') return; // never answers
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'CoverageEligibilityResponse', outcome: 'complete', insurance: [{ inforce: member !== 'LAPSED' }] }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`, server, bodies })),
  );
}

describe('FHIR eligibility adapter', () => {
  let p: Awaited<ReturnType<typeof payer>>;
  beforeAll(async () => (p = await payer()));
  afterAll(() => {
    p.server.closeAllConnections();
    p.server.close();
  });

  it('sends a CoverageEligibilityRequest with ids only and reads active coverage', async () => {
    const checker = new FhirEligibilityChecker(p.url);
    await expect(checker.check(request('M123'))).resolves.toEqual({ status: 'active' });
    expect(p.bodies.at(-1)).toMatchObject({
      resourceType: 'CoverageEligibilityRequest',
      purpose: ['validation'],
      patient: { reference: 'Patient/pat-1' },
      servicedDate: '2026-03-10',
      insurance: [{ focal: true, coverage: { identifier: { value: 'M123' } } }],
    });
  });

  it('reads coverage not in force as inactive', async () => {
    await expect(new FhirEligibilityChecker(p.url).check(request('LAPSED'))).resolves.toEqual({ status: 'inactive', reasonCode: 'NOT_IN_FORCE' });
  });

  it('turns 5xx and timeouts into transient errors for the workflow to retry', async () => {
    await expect(new FhirEligibilityChecker(p.url).check(request('DOWN'))).rejects.toBeInstanceOf(TransientError);
    await expect(new FhirEligibilityChecker(p.url, { timeoutMs: 200 }).check(request('HANG'))).rejects.toBeInstanceOf(TransientError);
  });
});

describe('simulated payer', () => {
  it('answers active, inactive, error, slow and flaky by member id', async () => {
    const sim = new SimulatedEligibilityChecker(() => new Date('2026-03-01T00:00:00Z'));
    await expect(sim.check(request('M1'))).resolves.toEqual({ status: 'active' });
    await expect(sim.check({ ...request('INACTIVE-1'), appointmentId: 'a2' })).resolves.toEqual({ status: 'inactive', reasonCode: 'NOT_IN_FORCE' });
    await expect(sim.check({ ...request('ERROR-1'), appointmentId: 'a3' })).resolves.toEqual({ status: 'inactive', reasonCode: 'a001' });
    await expect(sim.check({ ...request('SLOW-1'), appointmentId: 'a4' })).rejects.toBeInstanceOf(TransientError);
    const flaky = { ...request('FLAKY-1'), appointmentId: 'a5' };
    await expect(sim.check(flaky)).rejects.toBeInstanceOf(TransientError);
    await expect(sim.check(flaky)).rejects.toBeInstanceOf(TransientError);
    await expect(sim.check(flaky)).resolves.toEqual({ status: 'active' });
  });
});
