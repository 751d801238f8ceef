/**
 * The sweep schedule as `status` shows it. The database's registered schedule is what fires, so
 * it is what `status` prints; `--cron`/`--timezone` (or their environment variables) only say
 * what a start would register, and a difference between the two is pointed out, never hidden.
 */
import type { SchedulerStatus } from '../index.js'

type Field = 'cron' | 'timezone'

/** A schedule field set on this command line or in the environment, and where it came from. */
export interface GivenValue {
  value: string
  /** `--cron`, or `SUBSCRIPTION_CRON` when the flag was not given. */
  from: string
}

export type GivenSchedule = Partial<Record<Field, GivenValue>>

const SOURCES: Record<Field, { flag: string; env: string }> = {
  cron: { flag: '--cron', env: 'SUBSCRIPTION_CRON' },
  timezone: { flag: '--timezone', env: 'SUBSCRIPTION_TIMEZONE' },
}

/** Flags win over the environment, as in schedulerOptions(). */
export function givenSchedule(flags: Partial<Record<Field, string>>, env: NodeJS.ProcessEnv = process.env): GivenSchedule {
  const given: GivenSchedule = {}
  for (const field of ['cron', 'timezone'] as const) {
    const { flag, env: name } = SOURCES[field]
    if (flags[field]) given[field] = { value: flags[field], from: flag }
    else if (env[name]) given[field] = { value: env[name], from: name }
  }
  return given
}

/** The given fields that a registered schedule does not match: these do not fire. */
export function differences(schedule: SchedulerStatus['schedule'], given: GivenSchedule): (GivenValue & { field: Field })[] {
  if (!schedule.registered) return []
  return (['cron', 'timezone'] as const).flatMap((field) => {
    const value = given[field]
    return value && value.value !== schedule[field] ? [{ field, ...value }] : []
  })
}

/** What `status --json` adds to getStatus(): the given fields, and whether they differ. Null when none was given. */
export function givenScheduleJson(schedule: SchedulerStatus['schedule'], given: GivenSchedule) {
  if (!given.cron && !given.timezone) return null
  return { cron: given.cron?.value ?? null, timezone: given.timezone?.value ?? null, differs: differences(schedule, given).length > 0 }
}

const show = (field: Field, value: string) => (field === 'cron' ? `'${value}'` : value)
const setting = (v: GivenValue & { field: Field }) => (v.from.startsWith('--') ? `${v.from} ${show(v.field, v.value)}` : `${v.from}=${v.value}`)

/**
 * The `Schedule` and `Next cron fire` lines, and a `Note` line when the given fields differ.
 * `zonePublished`: the zone not given came from the settings the scheduling instances published.
 */
export function scheduleLines(status: Pick<SchedulerStatus, 'schedule' | 'nextFireAt'>, given: GivenSchedule, zonePublished = false): string[] {
  const { schedule } = status
  const next = status.nextFireAt.toISOString()
  if (!schedule.registered) {
    const fallback = (f: Field) => (f === 'timezone' && zonePublished ? 'published' : 'default')
    const from = (['cron', 'timezone'] as const).map((f) => `${f}: ${given[f]?.from ?? fallback(f)}`).join(', ')
    return [
      `Schedule        none registered yet; a start would register cron '${schedule.cron}' in ${schedule.timezone} (${from})`,
      `Next cron fire  ${next}, once registered`,
    ]
  }
  const lines = [`Schedule        cron '${schedule.cron}' in ${schedule.timezone} (registered)`, `Next cron fire  ${next}`]
  const differing = differences(schedule, given)
  if (differing.length > 0) {
    const them = differing.length === 1 ? 'it' : 'them'
    lines.push(
      `Note            ${differing.map(setting).join(' and ')} ${differing.length === 1 ? 'differs' : 'differ'} from the registered ` +
        `schedule, which is what fires; a worker or start() given ${them} would register ${them} in its place.`,
    )
  }
  return lines
}
