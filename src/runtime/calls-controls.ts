/**
 * The scheduler's fleet-wide switch for calls (`pauseCalls`, `resumeCalls`), as its methods:
 * each checks its arguments, writes the pause where every instance reads it (records/calls-pause.ts),
 * and says so in the log. They need no started scheduler: the CLI and an admin server use them.
 */
import type { Pool } from 'pg'
import type { ResolvedOptions } from '../config/options.js'
import { checkNoteOption } from '../config/method-options.js'
import { explainingMissingTables } from '../db/missing-tables.js'
import { describePause, pauseCalls, resumeCalls } from '../records/calls-pause.js'
import type { SubscriptionScheduler } from '../types.js'

type CallsControls = Pick<SubscriptionScheduler, 'pauseCalls' | 'resumeCalls'>

/** `clockChecked` resolves once the database's clock has been read (observe/database-clock.ts). */
export function callsControls(pool: Pool, resolved: ResolvedOptions, clockChecked: () => Promise<void>): CallsControls {
  const scope = resolved.queuePrefix
  return {
    pauseCalls: async (o) => {
      const note = checkNoteOption('pauseCalls', o)
      await clockChecked()
      const pause = await explainingMissingTables(pool, () => pauseCalls(pool, scope, note, resolved.clock.now()))
      resolved.logger.info(`Calls are paused fleet-wide ${describePause(pause)}: no sweep claims and no instance calls the worker until resumeCalls().`)
      return pause
    },
    resumeCalls: async () => {
      const lifted = await explainingMissingTables(pool, () => resumeCalls(pool, scope))
      if (lifted) resolved.logger.info(`Calls resumed (paused ${describePause(lifted)}): the next sweep calls what fell due meanwhile.`)
      return lifted
    },
  }
}
