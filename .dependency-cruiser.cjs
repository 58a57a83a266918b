/**
 * Import rules that keep the layout (README "Layout"; ARCHITECTURE.md "Import direction"):
 * the domain is pure, trigger areas meet only through their schemas, the local host stays out of
 * the deployed app, and triggers reach workflows only through orchestrations/names.ts.
 */
const AREAS = '(api|fhir|ehr|patient|events|ops)';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'domain/ must not import Azure SDKs, durable-functions or twilio (ARCHITECTURE.md, import direction).',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: '(^|/)node_modules/(@azure/|durable-functions|twilio)' },
    },
    {
      name: 'domain-does-not-import-edges',
      comment: 'domain/ must not import functions/, orchestrations/ or the local host.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: '^(functions|orchestrations|local|testkit|bench|scripts)/' },
    },
    {
      name: 'app-does-not-import-local-host',
      comment: 'The embedded local host (local/) is a development runtime: nothing deployed may import it.',
      severity: 'error',
      from: { path: '^(functions|orchestrations|domain)/' },
      to: { path: '^(local|mllp-bridge|testkit|bench|scripts|test)/' },
    },
    {
      name: 'trigger-areas-meet-through-schemas',
      comment:
        'A trigger area (functions/api, fhir, ehr, patient, events, ops) may import another area only through its schemas.ts; shared code lives in functions/http, functions/app, functions/adapters or domain/.',
      severity: 'error',
      from: { path: `^functions/${AREAS}/` },
      to: { path: `^functions/${AREAS}/`, pathNot: ['^functions/$1/', `^functions/${AREAS}/schemas\\.ts$`] },
    },
    {
      name: 'functions-reach-workflows-through-names',
      comment:
        'Workflow files register with df.app on import: functions/ may import only orchestrations/names.ts. The app entry (functions/index.ts) is the exception: it imports every workflow file so that all of them register.',
      severity: 'error',
      from: { path: '^functions/', pathNot: '^functions/index\\.ts$' },
      to: { path: '^orchestrations/', pathNot: '^orchestrations/names\\.ts$' },
    },
    {
      name: 'names-has-no-dependencies',
      comment: 'orchestrations/names.ts is ids and names only: no runtime, no side effects.',
      severity: 'error',
      from: { path: '^orchestrations/names\\.ts$' },
      to: { path: '^(functions|orchestrations|local)/|(^|/)node_modules/(@azure/|durable-functions|twilio)' },
    },
    {
      name: 'no-circular',
      comment: 'Cycles through type-only imports (erased at compile time) do not count.',
      severity: 'warn',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist/' },
  },
};
