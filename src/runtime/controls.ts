/**
 * The scheduler's controls on one subscription's schedule (`pause`, `resume`, `reschedule`,
 * `skipNext`, `upcoming`), as its methods: each checks its arguments, reads "now" by the
 * database's clock, and, where `autoEnroll` holds, enrols a subscription the host has just
 * inserted before it applies (records/enroll.ts). They need no started scheduler.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { checkNoteOption, checkPauseOptions, checkResumeOptions, checkSkipOptions, methodOptions } from '../config/method-options.js'
import { explainingMissingTables } from '../db/missing-tables.js'
import { assertUuid, enrollingFirst } from '../records/enroll.js'
import { pauseUntil, resumeFromNow } from '../records/pause-control.js'
import { reschedule, skipNext, upcoming } from '../records/schedule-control.js'
import { getSubscription, pauseOpenEnded, resume } from '../records/subscriptions.js'
import type { SubscriptionScheduler } from '../types.js'

type Controls = Pick<SubscriptionScheduler, 'pause' | 'resume' | 'reschedule' | 'skipNext' | 'upcoming'>

/** `clockChecked` resolves once the database's clock has been read (observe/database-clock.ts). */
export function scheduleControls(pool: Pool, resolved: ResolvedOptions, clockChecked: () => Promise<void>): Controls {
  /** Checks the id, reads the clock, then runs `control` on an enrolled row, explaining missing tables. */
  async function onEnrolled<T>(subscriptionId: string, control: () => Promise<T>): Promise<T> {
    assertUuid('subscriptionId', subscriptionId)
    await clockChecked()
    return await explainingMissingTables(pool, () => enrollingFirst(pool, resolved, subscriptionId, control))
  }
  return {
    pause: async (subscriptionId, o) => {
      // The id is checked first, as everywhere.
      assertUuid('subscriptionId', subscriptionId)
      const { until, note } = checkPauseOptions(o)
      return await onEnrolled(subscriptionId, async () => {
        if (!until) return await pauseOpenEnded(pool, resolved, subscriptionId, note)
        await pauseUntil(pool, resolved, subscriptionId, until, note)
        return await getSubscription(pool, resolved, subscriptionId)
      })
    },
    resume: async (subscriptionId, o) => {
      assertUuid('subscriptionId', subscriptionId)
      const { note, forgive } = checkResumeOptions(o)
      return await onEnrolled(subscriptionId, async () => {
        if (await resumeFromNow(pool, resolved, subscriptionId, note, forgive)) return await getSubscription(pool, resolved, subscriptionId)
        return await resume(pool, resolved, subscriptionId, resolved.clock.now(), resolved.claimLeaseSeconds, note)
      })
    },
    reschedule: async (subscriptionId, settings, o) => {
      assertUuid('subscriptionId', subscriptionId)
      const note = checkNoteOption('reschedule', o)
      return await onEnrolled(subscriptionId, () => reschedule(pool, resolved, subscriptionId, settings, note))
    },
    skipNext: async (subscriptionId, o) => {
      assertUuid('subscriptionId', subscriptionId)
      const { slot, note } = checkSkipOptions(o)
      return await onEnrolled(subscriptionId, () => skipNext(pool, resolved, subscriptionId, slot, note))
    },
    upcoming: async (subscriptionId, o) => {
      assertUuid('subscriptionId', subscriptionId)
      const { count } = methodOptions('upcoming', o, ['count'])
      return await onEnrolled(subscriptionId, () => upcoming(pool, resolved, subscriptionId, count))
    },
  }
}
