/** Keeps the domain free of SDKs: functions and orchestrations may import domain, never the reverse. */
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
      comment: 'domain/ must not import functions/ or orchestrations/.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: '^(functions|orchestrations)/' },
    },
    {
      name: 'no-circular',
      severity: 'warn',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
