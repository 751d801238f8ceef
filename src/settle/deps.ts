/**
 * What the settle stage needs from the running engine: the pool its transactions run on, and
 * pg-boss with the queues its retry jobs, handed-over rows and dead letters go to. Types only.
 */
import type { Pool } from 'pg'
import type { PgBoss } from 'pg-boss'
import type { ResolvedOptions } from '../config/options.js'

export interface SettleDeps {
  pool: Pool
  boss: PgBoss
  processQueue: string
  deadQueue: string
  options: ResolvedOptions
}
