/**
 * `migrate`: creates or upgrades the scheduler's tables, for teams that run migrations as a
 * deploy step rather than on `start()` (then pass `migrate: false` to the scheduler).
 */
import { defineCommand } from 'citty'
import { migrate } from '../../index.js'
import { TABLES } from '../../db/names.js'
import { ADOPTED_NOTE, migrationTiming } from '../../db/migrate.js'
import { describeUpgrade, readBossSchema } from '../../runtime/shared-boss-schema.js'
import { DEFAULTS } from '../../config/options.js'
import { describeUnknownMigrations, unknownMigrations } from '../../db/missing-tables.js'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, namespaceOptions, withPool } from '../context.js'
import { print } from '../print.js'

// migrate() keeps drizzle's journal here (see src/migrate.ts): the total applied is read from it.
const JOURNAL = TABLES.migrations

export default defineCommand({
  meta: { name: 'migrate', description: "Create or upgrade the scheduler's tables and pg-boss's schema (safe to run from many places at once)" },
  args: { ...commonArgs },
  plugins: [strictFlags],
  async run({ args }) {
    const logger = createCliLogger('quiet', args.verbose === true)
    const bossSchema = namespaceOptions().bossSchema ?? DEFAULTS.bossSchema
    await withPool(logger, async (pool) => {
      // pg-boss's schema too (installed, or upgraded to this version's): instances that connect
      // as a role that may not create then find nothing to do (the README's "Database privileges").
      const bossBefore = await readBossSchema(pool, bossSchema)
      const { applied, adopted, restored, waitedMs, tookMs } = await migrate(pool, { bossSchema })
      const upgraded = describeUpgrade(bossSchema, bossBefore)
      if (upgraded) print(upgraded)
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${JOURNAL}`)
      const total = rows[0]?.n ?? 0
      if (adopted) print(ADOPTED_NOTE)
      for (const note of restored) console.error(`warning: ${note}`)
      if (applied.length > 0) {
        print(`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'} ${migrationTiming({ waitedMs, tookMs })}; the scheduler's tables are up to date (${total} in total), and pg-boss's schema (${bossSchema}) is ready.`)
      } else if (restored.length > 0) {
        print(`Up to date: ${total} migration${total === 1 ? '' : 's'} applied before, and what had gone since is put back (above); pg-boss's schema (${bossSchema}) is ready.`)
      } else {
        print(`Already up to date: ${total} migration${total === 1 ? '' : 's'} applied before, nothing to do; pg-boss's schema (${bossSchema}) is ready.`)
      }
      const unknown = await unknownMigrations(pool)
      if (unknown > 0) {
        console.error(`warning: the journal holds ${describeUnknownMigrations(unknown)}: instances of this version ignore what it added. Upgrade them.`)
      }
    })
  },
})
