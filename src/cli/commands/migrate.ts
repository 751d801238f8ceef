/**
 * `migrate`: creates or upgrades the scheduler's tables, for teams that run migrations as a
 * deploy step rather than on `start()` (then pass `migrate: false` to the scheduler).
 */
import { defineCommand } from 'citty'
import type pg from 'pg'
import { migrate } from '../../index.js'
import { TABLES } from '../../db/names.js'
import { describeUnknownMigrations, unknownMigrations } from '../../db/missing-tables.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, withPool } from '../context.js'

// migrate() keeps drizzle's journal here (see src/migrate.ts); reading it tells what happened.
const JOURNAL = TABLES.migrations

interface Snapshot {
  applied: number
  /** An adopter's own subscription_processing table exists, with no journal yet: migrate() adopts it in place. */
  mvpTable: boolean
}

async function snapshot(pool: pg.Pool): Promise<Snapshot> {
  const { rows } = await pool.query<{ journal: string | null; processing: string | null }>(
    `SELECT to_regclass($1)::text AS journal, to_regclass('subscription_processing')::text AS processing`,
    [JOURNAL],
  )
  const journal = rows[0]?.journal ?? null
  const applied = journal ? (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${JOURNAL}`)).rows[0]?.n ?? 0 : 0
  return { applied, mvpTable: !journal && Boolean(rows[0]?.processing) }
}

export default defineCommand({
  meta: { name: 'migrate', description: "Create or upgrade the scheduler's tables (safe to run from many places at once)" },
  args: { ...commonArgs },
  plugins: [strictFlags],
  async run({ args }) {
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const before = await snapshot(pool)
      await migrate(pool)
      const after = await snapshot(pool)
      const count = after.applied - before.applied
      if (before.mvpTable) console.log('Adopted the existing subscription_processing table in place; no row was changed.')
      if (count > 0) {
        console.log(`Applied ${count} migration${count === 1 ? '' : 's'}; the scheduler's tables are up to date (${after.applied} in total).`)
      } else {
        console.log(`Already up to date: ${after.applied} migration${after.applied === 1 ? '' : 's'} applied before, nothing to do.`)
      }
      const unknown = await unknownMigrations(pool)
      if (unknown > 0) {
        console.error(`warning: the journal holds ${describeUnknownMigrations(unknown)}: instances of this version ignore what it added. Upgrade them.`)
      }
    })
  },
})
