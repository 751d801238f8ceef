/**
 * What enrollMany() says of the settings it wrote, as enroll() says it of one subscription (a
 * zone that keeps one offset all year, an end already past, an anchor on another local day,
 * slots that wait over an hour for their sweep), without a line per subscription: 100,000 users
 * of one zone whose slots the cron serves late make one warning with a count, not 100,000 lines.
 */
import type { ResolvedOptions } from '../config/options.js'
import { rowRunAt } from '../schedule/row-schedule.js'
import { writtenScheduleWarnings } from './first-slot.js'
import type { CheckedEntry } from './enroll-entries.js'
import { LISTED } from './enroll-entries.js'
import type { ScheduleRow } from './schedule-row.js'
import { fixedOffsetWarning } from './schedule-settings.js'
import { SWEEP_ADVICE, sweepWaitUnder } from './sweep-wait.js'
import type { Schedule } from './sweep-wait.js'

export class EnrolmentWarnings {
  /** By zone, time of day and frequency: the sweep-wait warning of the first row (null: none), and how many rows share it. */
  private readonly waits = new Map<string, { text: string | null; more: number }>()
  private shown = 0
  private hidden = 0

  /** `schedule`: the sweep schedule registered in the database; null says nothing of sweep waits (none sweeps yet). */
  constructor(
    private readonly options: ResolvedOptions,
    private readonly schedule: Schedule | null,
  ) {}

  /** The warnings of a row just written with `entry`'s settings; `zoneSet`: they gave it a zone it had not. */
  add(entry: CheckedEntry, row: ScheduleRow, now: Date, zoneSet: boolean): void {
    const id = entry.subscriptionId
    const zone = row.timezone ?? this.options.timezone
    const zoneWarning = zoneSet ? fixedOffsetWarning(id, entry.settings) : null
    const warnings = [zoneWarning, ...writtenScheduleWarnings(this.options, entry.settings, row, now)]
    for (const text of warnings) if (text) this.say(text)
    if (this.schedule) this.sweepWait(row, zone, now, this.schedule)
  }

  /** Says what is left: each sweep wait once, with how many rows share it, and how many per-row warnings were not shown. */
  flush(): void {
    const late = [...this.waits.values()].filter((wait) => wait.text !== null)
    for (const { text, more } of late.slice(0, LISTED)) {
      this.options.logger.warn(more === 0 ? text! : `${text} (${more} more of the subscriptions just enrolled have this zone, time of day and frequency.)`)
    }
    const unsaid = late.slice(LISTED)
    if (unsaid.length > 0) {
      const rows = unsaid.reduce((n, wait) => n + 1 + wait.more, 0)
      this.options.logger.warn(
        `enrollMany(): ${unsaid.length} more zones, times of day and frequencies (${rows} of the subscriptions just enrolled) wait over an hour for their sweep too; ` +
          `enroll() or reschedule() of one of them says by how much. ${SWEEP_ADVICE}`,
      )
    }
    if (this.hidden > 0) {
      this.options.logger.warn(
        `enrollMany(): ${this.hidden} more warnings like those above (one per subscription) not shown; upcoming(id) and getSubscription(id) show a subscription's schedule.`,
      )
    }
  }

  private say(text: string): void {
    if (this.shown >= LISTED) {
      this.hidden += 1
      return
    }
    this.shown += 1
    this.options.logger.warn(text)
  }

  /**
   * Whether the row's slots wait long for their sweep depends on their zone and time of day (and
   * on the frequency, through the days it runs): judged once per such kind, on its first row.
   */
  private sweepWait(row: ScheduleRow, zone: string, now: Date, schedule: Schedule): void {
    const key = `${zone}|${rowRunAt(this.options, row)}|${row.frequency ?? ''}`
    const seen = this.waits.get(key)
    if (seen) {
      seen.more += 1
      return
    }
    this.waits.set(key, { text: sweepWaitUnder(this.options, schedule, row, row.next_run_at, now), more: 0 })
  }
}
