/** Jest: unit, integration and e2e tests; benchmarks live in bench/ and are not run here. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  testTimeout: 30000,
  // Builds dist/ once if sources changed: e2e tests run the built local host as a child process.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
};
