import { computeNextRunAt, type NextRunInput } from '../../src/schedule/next-run.js'

// Shared by the pure cadence tests: ISO strings in, ISO strings out, and no real clock.

export type Schedule = Pick<NextRunInput, 'frequency' | 'timezone' | 'runAt' | 'frequencies'> & {
  /** The first slot, as the scheduler stores it in `anchor_at`. */
  anchor: string
}

/** The next slot after `after`, with `now` = `after` unless given. */
export function next(schedule: Schedule, after: string, now: string = after): string {
  return computeNextRunAt({
    ...schedule,
    anchor: new Date(schedule.anchor),
    after: new Date(after),
    now: new Date(now),
  }).toISOString()
}

/** Successive slots from the anchor, each computed from the previous one as the scheduler does. */
export function walk(schedule: Schedule, count: number, from: string = schedule.anchor): string[] {
  const runs: string[] = []
  let after = from
  for (let i = 0; i < count; i++) runs.push((after = next(schedule, after)))
  return runs
}
