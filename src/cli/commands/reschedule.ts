/**
 * `reschedule <id> [--run-at] [--timezone] [--anchor] [--starts-at] [--ends-at]`: changes a
 * subscription's own settings and recomputes its next slot at once. `none` clears a setting
 * (back to the scheduler's time of day or zone; no anchor, start or end). An empty value is
 * refused rather than taken as `none`: a shell variable that expanded to nothing must not
 * clear an end date in silence.
 */
import { defineCommand } from 'citty'
import type { ScheduleSettings } from '../../records/enroll.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, UsageError, withPool } from '../context.js'
import { controlScheduler, inFlagTerms, instantFlag, noteArg, noteOption, scheduleLines, subscriptionIdArg, subscriptionIdOf, zoneOf } from '../control.js'
import { instantsInZone } from '../zoned-time.js'
import { print } from '../print.js'

const CLEAR = 'none'

const SETTINGS = {
  'run-at': { key: 'runAt', kind: 'text', description: "Its time of day, 24-hour HH:MM (none: the scheduler's runAt)", valueHint: 'HH:MM' },
  timezone: { key: 'timezone', kind: 'text', description: "Its IANA zone, e.g. Europe/Berlin (none: the scheduler's zone)", valueHint: 'zone' },
  anchor: { key: 'anchor', kind: 'instant', description: 'The slot that fixes its weekday or day of month (none: its next run fixes it)', valueHint: 'instant' },
  'starts-at': { key: 'startsAt', kind: 'instant', description: 'No run before this instant (none: no start)', valueHint: 'instant' },
  'ends-at': { key: 'endsAt', kind: 'instant', description: 'No run after this instant (none: no end)', valueHint: 'instant' },
} as const

type Flag = keyof typeof SETTINGS

/** The settings the flags give: a value, `null` for `none`, nothing for a flag not given. */
function settingsOf(args: Partial<Record<Flag, string>>): ScheduleSettings {
  const settings: Record<string, unknown> = {}
  for (const [flag, { key, kind }] of Object.entries(SETTINGS) as [Flag, (typeof SETTINGS)[Flag]][]) {
    const value = args[flag]
    if (value === undefined) continue
    if (value.trim() === '') throw new UsageError(`--${flag} is empty: give a value, or ${CLEAR} to clear it.`)
    if (value.trim().toLowerCase() === CLEAR) settings[key] = null
    else settings[key] = kind === 'instant' ? instantFlag(flag, value) : value.trim()
  }
  if (Object.keys(settings).length === 0) {
    throw new UsageError(`Nothing to change: pass at least one of ${Object.keys(SETTINGS).map((f) => `--${f}`).join(', ')} (${CLEAR} clears one).`)
  }
  return settings as ScheduleSettings
}

export default defineCommand({
  meta: { name: 'reschedule', description: `Change a subscription's time of day, zone, anchor, start or end (${CLEAR} clears one)` },
  args: {
    ...subscriptionIdArg,
    'run-at': { type: 'string', description: SETTINGS['run-at'].description, valueHint: SETTINGS['run-at'].valueHint },
    timezone: { type: 'string', description: SETTINGS.timezone.description, valueHint: SETTINGS.timezone.valueHint },
    anchor: { type: 'string', description: SETTINGS.anchor.description, valueHint: SETTINGS.anchor.valueHint },
    'starts-at': { type: 'string', description: SETTINGS['starts-at'].description, valueHint: SETTINGS['starts-at'].valueHint },
    'ends-at': { type: 'string', description: SETTINGS['ends-at'].description, valueHint: SETTINGS['ends-at'].valueHint },
    ...noteArg,
    ...commonArgs,
  },
  plugins: [strictFlags],
  async run({ args }) {
    const id = subscriptionIdOf(args, 'reschedule')
    const changes = settingsOf(args)
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, ...settings } = await controlScheduler(pool, logger)
      await inFlagTerms(() => scheduler.reschedule(id, changes, noteOption(args)))
      const details = await scheduler.getSubscription(id, { errors: 0 })
      print(`Rescheduled ${id}:`)
      for (const line of scheduleLines(details, settings)) print(line)
      // What it did, as its history line says it: a skip it lifted is said there too.
      const [done] = details.history
      if (done?.kind === 'rescheduled' && done.detail) print(`  changed      ${instantsInZone(done.detail, zoneOf(details, settings.zone).zone)}`)
    })
  },
})
