// Four projects, from the inside out: `unit` drives pure logic without databases or Nest;
// `in-process` runs libs against a real PostgreSQL (embedded, or PHILOTES_TEST_DATABASE_URL) in the
// test's own process; `integration` runs the built apps in dist/ as processes against it;
// `deployment` checks the image and the Helm chart (rendered, linted, and run as rendered).
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] };
const moduleNameMapper = { '^@philotes/([a-z-]+)$': '<rootDir>/libs/$1/src' };

module.exports = {
  // Only our code: PostgreSQL's data directories hold *.snap files jest would take for snapshots.
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test', '<rootDir>/tools', '<rootDir>/lint'],
  projects: [
    {
      displayName: 'unit',
      roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools', '<rootDir>/lint'],
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: ['<rootDir>/{apps,libs,tools,lint}/**/*.spec.ts'],
    },
    {
      displayName: 'in-process',
      roots: ['<rootDir>/test'],
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: ['<rootDir>/test/in-process/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/setup-timeout.ts'],
    },
    {
      displayName: 'integration',
      roots: ['<rootDir>/test'],
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/setup-timeout.ts'],
    },
    {
      displayName: 'deployment',
      roots: ['<rootDir>/test'],
      testEnvironment: 'node',
      transform,
      moduleNameMapper,
      testMatch: ['<rootDir>/test/deployment/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/setup-timeout.ts'],
    },
  ],
};
