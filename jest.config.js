/** One Temporal dev server and one sandbox for the whole run: see test/global-setup.ts. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/packages/sandbox/test'],
  // Tests use the sandbox's sources, never a stale build of it.
  moduleNameMapper: { '^@clerk-sync/sandbox$': '<rootDir>/packages/sandbox/src/index.ts' },
  testMatch: ['**/*.test.ts'],
  // svix 2, raw-body 4 and commander 15 ship ES modules only: Node 22.12+ require()s them natively, jest's module
  // registry does not (without --experimental-vm-modules), so jest compiles them to CommonJS like our sources.
  transform: { '^.+\\.(ts|m?js)$': ['@swc/jest', { jsc: { target: 'es2022' }, sourceMaps: 'inline' }] },
  transformIgnorePatterns: ['/node_modules/(?!(svix|raw-body|commander)/)'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
