import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'test/**/*.test.ts',
      'consumers/**/*.test.ts',
      'producers/**/*.test.ts',
      'core/**/*.test.ts',
      'schemas/**/*.test.ts',
      'monitor/**/*.test.ts',
    ],
    globalSetup: ['test/setup/global.ts'],
    // One real stack on two cores: files run one after another, each in its own namespace.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
})
