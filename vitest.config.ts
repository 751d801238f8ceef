import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    // Most files wait on Postgres, timers and child processes, not on the CPU: run several at once.
    maxWorkers: 3,
    hookTimeout: 120_000,
  },
})
