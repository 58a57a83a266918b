import { app } from '@azure/functions';
import type { FhirResource } from '../../domain/ehr';
import { baseUrlOf, fhirHandler, type FhirResult } from './http';
import type { ApiContext } from '../http/handlers';

/**
 * GET /fhir/metadata (role ehr): the CapabilityStatement interface engines read before anything else. It lists
 * exactly what the FHIR routes in functions/fhir-*.ts serve (kept in step by test/unit/fhir-scheduling.test.ts).
 */

const IHE = 'https://profiles.ihe.net/ITI/Scheduling';
const search = (name: string, type: 'reference' | 'date' | 'token' | 'string', documentation?: string) => ({
  name,
  type,
  ...(documentation ? { documentation } : {}),
});

/** The CapabilityStatement; `date` is fixed to the release of this interface so the resource is stable. */
export function capabilityStatement(base: string): FhirResource {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-03-01',
    publisher: 'Slotflow',
    kind: 'instance',
    instantiates: [`${IHE}/CapabilityStatement/IHE.Scheduling.server`],
    software: { name: 'Slotflow' },
    implementation: {
      description: 'Slotflow scheduling: FHIR R4 Slot, Schedule and Appointment (IHE ITI Scheduling), SMART Scheduling Links',
      url: `${base}/fhir`,
    },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        resource: [
          {
            type: 'Appointment',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [
              search('patient', 'reference'),
              search('practitioner', 'reference'),
              search('actor', 'reference'),
              search('location', 'reference'),
              search('date', 'date'),
              search('status', 'token'),
              search('identifier', 'token'),
            ],
            operation: [
              { name: 'find', definition: `${IHE}/OperationDefinition/appointment-find` },
              { name: 'hold', definition: `${IHE}/OperationDefinition/appointment-hold` },
              { name: 'book', definition: `${IHE}/OperationDefinition/appointment-book` },
            ],
          },
          {
            type: 'Slot',
            interaction: [{ code: 'search-type' }],
            searchParam: [search('schedule', 'reference', 'Required'), search('start', 'date'), search('status', 'token'), search('service-type', 'token')],
          },
          { type: 'Schedule', interaction: [{ code: 'search-type' }], searchParam: [search('actor', 'reference'), search('_id', 'token')] },
        ],
        operation: [
          {
            name: 'bulk-publish',
            definition: 'urn:slotflow:fhir:OperationDefinition:bulk-publish',
            documentation: 'SMART Scheduling Links manifest (Location, Schedule, Slot NDJSON)',
          },
        ],
      },
    ],
  };
}

export async function metadata(ctx: ApiContext): Promise<FhirResult> {
  return { status: 200, body: capabilityStatement(baseUrlOf(ctx)), headers: { 'cache-control': 'private, max-age=300' } };
}

app.http('fhirMetadata', { route: 'fhir/metadata', methods: ['GET'], authLevel: 'anonymous', handler: fhirHandler(['ehr'], metadata) });
