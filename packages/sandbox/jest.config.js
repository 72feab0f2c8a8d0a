/** The sandbox's own tests: the real SDKs (jsforce, @clerk/backend, resend, @slack/webhook, svix) against it. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // svix 2 and raw-body 4 ship ES modules only: jest compiles them to CommonJS (see ../../jest.config.js).
  transform: { '^.+\\.(ts|m?js)$': ['@swc/jest', { jsc: { target: 'es2022' }, sourceMaps: 'inline' }] },
  transformIgnorePatterns: ['/node_modules/(?!(svix|raw-body)/)'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
