import { configDefaults, defineConfig } from 'vitest/config'
import { WallClockFirstSequencer } from './test/support/sequencer.js'

// Two projects: `unit` (test/unit/, pure functions, no database: nothing is started for it) and
// `integration` (everything else, on a real PostgreSQL found or started by the global setup).
// `vitest run` runs both; `--project unit` or `--project integration` runs one.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Most files wait on Postgres, timers and child processes, not on the CPU: run several at once.
    maxWorkers: 3,
    // The few files bound by the wall clock (cron minutes, heartbeats) start first: see the sequencer.
    sequence: { sequencer: WallClockFirstSequencer },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
})
