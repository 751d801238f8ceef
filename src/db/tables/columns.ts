/**
 * What the table files share: the column type every instant uses, and the schema that holds the
 * scheduler's own tables (all but `subscription_processing`, which stays where the original
 * design had it).
 */
import { pgSchema, timestamp } from 'drizzle-orm/pg-core'
import { SCHEDULER_SCHEMA } from '../names.js'

/** An instant, read and written as a `Date`. */
export const timestamptz = <N extends string>(name: N) => timestamp(name, { withTimezone: true, mode: 'date' })

/** The scheduler's own schema (`SCHEDULER_SCHEMA`). */
export const scheduler = pgSchema(SCHEDULER_SCHEMA)
