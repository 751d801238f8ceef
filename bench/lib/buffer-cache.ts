/**
 * Whether a drain ran out of PostgreSQL's buffer cache: the shared-buffer hits and reads of the
 * measured database over the drain (pg_stat_database), and the size of the tables it works on
 * beside `shared_buffers`. A read is a block the server had to fetch from outside its cache (the
 * OS page cache here): when the tables outgrow the cache, every statement of the drain slows by
 * the same factor, whatever the scheduler does per row.
 */
import pg from 'pg'

export interface BufferCounts {
  hit: number
  read: number
  /** subscription_processing, subscriptions and pg-boss's job table, with their indexes, MB. */
  tablesMb: number
  sharedBuffersMb: number
}

export async function readBufferCounts(url: string): Promise<BufferCounts> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ hit: string; read: string; tables: string; shared: string }>(
      `SELECT d.blks_hit AS hit, d.blks_read AS read,
              (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                WHERE c.oid IN (to_regclass('subscription_processing'), to_regclass('subscriptions'), to_regclass('pgboss.job'))) AS tables,
              (SELECT setting::bigint * pg_size_bytes(unit) FROM pg_settings WHERE name = 'shared_buffers') AS shared
         FROM pg_stat_database d WHERE d.datname = current_database()`,
    )
    const row = rows[0]!
    const mb = (bytes: string) => Math.round(Number(bytes) / 2 ** 20)
    return { hit: Number(row.hit), read: Number(row.read), tablesMb: mb(row.tables), sharedBuffersMb: mb(row.shared) }
  } finally {
    await client.end()
  }
}

/** `buffer cache 97.1% hit, 31 blocks read per 1k subs; tables 412 MB, shared_buffers 128 MB` */
export function describeBuffers(before: BufferCounts, after: BufferCounts, processed: number): string {
  const hit = after.hit - before.hit
  const read = after.read - before.read
  const ratio = hit + read === 0 ? 1 : hit / (hit + read)
  return (
    `buffer cache ${(ratio * 100).toFixed(1)}% hit, ${Math.round((read * 1000) / Math.max(1, processed))} blocks read per 1k subs; ` +
    `tables ${after.tablesMb} MB, shared_buffers ${after.sharedBuffersMb} MB`
  )
}
