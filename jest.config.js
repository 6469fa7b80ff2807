// Four tiers, each a Jest project. Files are transpiled by SWC (no type check here:
// `npm test` runs `tsc --noEmit` once, which is ~40x faster than ts-jest's per-file check).
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
};
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  // Integration tests talk to DynamoDB Local and wait for projections; none waits this long.
  testTimeout: 60000,
  // DynamoDB Local is started once for the whole run and stopped at the end.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  projects: [
    project('unit'),
    project('contract'),
    project('integration'),
    project('infra'),
    // Real headless Chromium (Debian's package) against the local runtime and the demo app.
    project('browser'),
  ],
};
