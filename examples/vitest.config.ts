import { defineConfig } from 'vitest/config'

// The repository's own vitest config runs test/ only. This one runs the example test file the way
// an adopter's suite runs: against the built package, on the database in DATABASE_URL.
export default defineConfig({
  test: {
    include: ['examples/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
