/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(ts|mjs)$': '<rootDir>/test/esbuild-transform.js' },
  testTimeout: 20000,
  // Both cores: the suites are mostly waiting on loopback sockets and child processes (measured: 55 s -> 28 s).
  maxWorkers: 2,
};
