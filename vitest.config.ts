import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-influxd.ts', 'test/helpers/global-postgres.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more workers only fight over the CPU that the servers under test need.
    maxWorkers: 2,
  },
})
