/** Jest: unit, integration and e2e tests; benchmarks live in bench/ and are not run here. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
    // ESM-only dependencies (intl-messageformat and its @formatjs parts): Jest on Node < 24.9 cannot require(esm).
    '^.+/node_modules/(intl-messageformat|@formatjs)/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' }, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(intl-messageformat|@formatjs)/)'],
  testTimeout: 30000,
  // Builds dist/ once if sources changed: e2e tests run the built local host as a child process.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
};
