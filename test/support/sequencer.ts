/**
 * The order test files start in. Vitest's own order (longest first when it has timings from an
 * earlier run, largest file first on a fresh clone, as in CI) knows nothing of the few files
 * whose length is set by the wall clock rather than by work: they wait for pg-boss's cron minutes
 * or for a killed instance's heartbeat to lapse, mostly idle. Started last, one of them alone
 * set the suite's length (the missed-cron file, about two and a half minutes of waiting, began
 * three minutes in); started first, they wait while the other files run beside them.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/** Longest wait first. Each path is checked to exist, so a rename cannot drop one silently. */
export const WALL_CLOCK_BOUND_FILES = [
  'test/reliability.cron-missed.test.ts',
  'test/reliability.chaos.test.ts',
  'test/reliability.cron.test.ts',
  'test/admin.dashboard.test.ts',
] as const

export class WallClockFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root
    const first = WALL_CLOCK_BOUND_FILES.map((file) => resolve(root, file))
    const missing = first.filter((path) => !existsSync(path))
    if (missing.length > 0) {
      throw new Error(`test/support/sequencer.ts lists files that do not exist: ${missing.join(', ')}. Update WALL_CLOCK_BOUND_FILES.`)
    }
    const sorted = await super.sort(files)
    const rank = (spec: TestSpecification) => {
      const at = first.indexOf(spec.moduleId)
      return at === -1 ? first.length : at
    }
    // Array.prototype.sort is stable: every other file keeps vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b))
  }
}
