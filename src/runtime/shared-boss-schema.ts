/**
 * An app that already runs pg-boss in the same database, in the same schema (pg-boss's default,
 * `pgboss`, is the scheduler's default too). Sharing it works while both run the same schema
 * version. But pg-boss upgrades its schema on start, so the scheduler's start would move that
 * app's schema to this version's, at a moment nobody chose: that is refused, naming the app's
 * queues and the ways out. An upgrade an operator asks for (`pg-subscription-scheduler migrate`)
 * goes ahead.
 */
import type { Pool } from 'pg'
import { getConstructionPlans, getMigrationPlans } from 'pg-boss'
import { quoteIdent } from '../db/executor.js'
import { MigrationError } from '../errors.js'

/** The queues each scheduler makes, `<queuePrefix>.<kind>`: any other queue is another app's. */
const OWN_QUEUE_KINDS = ['process', 'dead', 'sweep', 'rescue']

let installedVersion: number | null | undefined

/** The schema version this pg-boss installs, read from its own plans (once per process). */
export function bossSchemaVersion(): number | null {
  if (installedVersion === undefined) {
    const version = /version\(version\) VALUES \('(\d+)'\)/.exec(getConstructionPlans('pgboss'))?.[1]
    installedVersion = version === undefined ? null : Number(version)
  }
  return installedVersion
}

function listedQueues(others: string[]): string {
  return others.slice(0, 5).join(', ') + (others.length > 5 ? ', …' : '')
}

/**
 * What an upgrade of the schema did, for the log: '' when it did none (`before` null: installed
 * now, or at this version already).
 */
export function describeUpgrade(schema: string, before: BossSchemaState | null): string {
  const target = bossSchemaVersion()
  if (!before || target === null || before.version >= target) return ''
  const shared = before.others.length > 0 ? `; it holds queues of another app too (${listedQueues(before.others)}), whose pg-boss must read version ${target}` : ''
  return `Upgraded pg-boss's schema "${schema}" from version ${before.version} to ${target}${shared}.`
}

/** Whether this pg-boss can upgrade a schema of `version` (pg-boss 12 starts from 25). */
function upgradable(version: number): boolean {
  try {
    getMigrationPlans('pgboss', version)
    return true
  } catch {
    return false
  }
}

export interface BossSchemaState {
  version: number
  /** Up to 6 queues of other apps, by name. */
  others: string[]
}

/** The schema's version and up to 6 queues of other apps; null when pg-boss is not installed there. */
export async function readBossSchema(pool: Pool, schema: string): Promise<BossSchemaState | null> {
  const { rows: found } = await pool.query<{ version: string | null; queue: string | null }>(
    `SELECT to_regclass($1)::text AS version, to_regclass($2)::text AS queue`,
    [`${quoteIdent(schema)}.version`, `${quoteIdent(schema)}.queue`],
  )
  if (!found[0]?.version) return null
  const { rows: [row] } = await pool.query<{ version: number }>(`SELECT version::int AS version FROM ${quoteIdent(schema)}.version LIMIT 1`)
  if (!row) return null
  if (!found[0].queue) return { version: row.version, others: [] }
  const { rows } = await pool.query<{ name: string }>(
    `SELECT name FROM ${quoteIdent(schema)}.queue
      WHERE name NOT LIKE '\\_\\_pgboss\\_\\_%' AND name !~ $1
      ORDER BY name LIMIT 6`,
    [`\\.(${OWN_QUEUE_KINDS.join('|')})$`],
  )
  return { version: row.version, others: rows.map((r) => r.name) }
}

/**
 * @throws {MigrationError} when `schema` holds another app's queues and is older than the schema
 *   this pg-boss would upgrade it to.
 */
export async function assertNoSharedUpgrade(pool: Pool, schema: string): Promise<BossSchemaState | null> {
  const target = bossSchemaVersion()
  const found = await readBossSchema(pool, schema)
  if (target === null || !found || found.version >= target || found.others.length === 0) return found
  const listed = listedQueues(found.others)
  if (!upgradable(found.version)) {
    throw new MigrationError(
      `pg-boss's schema "${schema}" holds queues of another app (${listed}) and is at version ${found.version}, older than this ` +
        `pg-boss (which installs version ${target}) can upgrade. Give the scheduler a schema of its own (the \`bossSchema\` ` +
        `option, such as 'pss_boss').`,
    )
  }
  throw new MigrationError(
    `pg-boss's schema "${schema}" holds queues of another app (${listed}) and is at version ${found.version}; starting would ` +
      `upgrade it to version ${target} under that app, whose pg-boss may not read it. Give the scheduler a schema of its own ` +
      `(the \`bossSchema\` option, such as 'pss_boss'), or upgrade that app's pg-boss first, or upgrade the schema when you ` +
      `choose, with \`pg-subscription-scheduler migrate\`.`,
  )
}
