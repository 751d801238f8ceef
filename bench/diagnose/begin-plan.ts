/**
 * Diagnosis: the plans of `beginProcessing` and `recordCompletions` (src/settle.ts) right after
 * a big sweep.
 *
 *   npx tsx bench/diagnose/begin-plan.ts [--n 100000] [--batch 32]
 *
 * A sweep flips every due row from `pending`/`completed` to `queued` in a few seconds, but the
 * table's statistics still describe the rows before the sweep (autovacuum's ANALYZE comes a
 * minute or more later). With those statistics the planner believes almost nothing is queued,
 * so it drives beginProcessing's UPDATE from the partial index `subscription_processing_lease_idx`
 * (WHERE status IN ('queued','processing')): it reads every queued row and compares each with
 * every job of the batch. This script reproduces that state (autovacuum off on the clone) and
 * EXPLAIN ANALYZEs both statements as shipped and with the proposed `(…) IS TRUE` guard, before
 * and after an ANALYZE. recordCompletions (and recordFinalFailures, recordRetries, which share
 * its `sp.status = 'processing'` guard) reads the same partial index when the plan goes wrong.
 */
import pg from 'pg'
import { seedSubscriptions } from '../lib/seed.js'
import { flag, withScratchDatabase } from './support.js'

const GUARD = "sp.status IN ('queued', 'processing')"
const COMPLETION_GUARD = "sp.status = 'processing'"

/** Copied from src/settle.ts `beginProcessing()`. */
const BEGIN_PROCESSING = `
  UPDATE subscription_processing sp
     SET status = 'processing', attempts = sp.attempts + 1,
         lease_expires_at = $3::timestamptz + make_interval(secs => $4), updated_at = $3
    FROM unnest($1::uuid[], $2::timestamptz[]) AS j(id, slot), subscriptions s
   WHERE sp.id = j.id AND sp.scheduled_for = j.slot AND ${GUARD}
     AND s.id = sp.subscription_id AND s.active IS TRUE
  RETURNING sp.id, sp.subscription_id, s.user_id::text AS user_id, s.frequency::text AS frequency,
            sp.timezone, sp.anchor_at, sp.scheduled_for, sp.attempts`

/** Copied from src/settle.ts `recordCompletions()` (the same guard shape as the failure writes). */
const RECORD_COMPLETIONS = `
  UPDATE subscription_processing sp
     SET status = 'completed', last_run_at = $3, next_run_at = j.slot + interval '1 day', error = NULL,
         last_completed_for = j.slot, consecutive_failures = 0, lease_expires_at = NULL,
         anchor_at = COALESCE(sp.anchor_at, j.slot), updated_at = $3
    FROM unnest($1::uuid[], $2::timestamptz[]) AS j(id, slot)
   WHERE sp.id = j.id AND sp.scheduled_for = j.slot AND ${COMPLETION_GUARD}
     AND sp.last_completed_for IS DISTINCT FROM j.slot
  RETURNING sp.id`

interface PlanNode {
  'Node Type': string
  'Index Name'?: string
  'Actual Rows'?: number
  'Rows Removed by Filter'?: number
  Plans?: PlanNode[]
}

function scanOf(node: PlanNode): string {
  const found: string[] = []
  const walk = (n: PlanNode) => {
    if (n['Index Name']?.startsWith('subscription_processing')) found.push(`${n['Node Type']} using ${n['Index Name']} (${n['Actual Rows']} rows out, ${n['Rows Removed by Filter'] ?? 0} removed by its filter)`)
    for (const child of n.Plans ?? []) walk(child)
  }
  walk(node)
  return found.join(', ') || 'no index scan of subscription_processing'
}

/** EXPLAIN ANALYZE in a rolled-back transaction, after `prepare`; the faster of two tries. */
async function explain(
  client: pg.Client,
  sql: string,
  ids: string[],
  slots: Date[],
  prepare?: string,
): Promise<{ ms: number; scan: string }> {
  let best: { ms: number; scan: string } | undefined
  for (let attempt = 0; attempt < 2; attempt++) {
    await client.query('BEGIN')
    try {
      if (prepare) await client.query(prepare, [ids])
      const params = sql.includes('$4') ? [ids, slots, new Date(), 3600] : [ids, slots, new Date()]
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
        params,
      )
      const plan = rows[0]!['QUERY PLAN'][0]!
      if (!best || plan['Execution Time'] < best.ms) best = { ms: plan['Execution Time'], scan: scanOf(plan.Plan) }
    } finally {
      await client.query('ROLLBACK')
    }
  }
  return best!
}

async function main(): Promise<void> {
  const n = flag('--n', 100_000)
  const batch = flag('--batch', 32)
  await withScratchDatabase(async (db) => {
    const client = new pg.Client({ connectionString: db.url })
    try {
      const seeded = await seedSubscriptions(db.url, n, 'due')
      console.log(`Seeded ${seeded.rows} due rows and analyzed them (all pending).`)
      await client.connect()
      await client.query('ALTER TABLE subscription_processing SET (autovacuum_enabled = false)')
      const started = performance.now()
      // What a sweep does to every due row (src/claim.ts), without the statistics catching up.
      await client.query(`UPDATE subscription_processing
                             SET status = 'queued', scheduled_for = date_trunc('milliseconds', COALESCE(next_run_at, now())),
                                 claimed_at = now(), lease_expires_at = now() + interval '1 hour'`)
      console.log(`Queued all ${n} rows, as a sweep does, in ${Math.round(performance.now() - started)} ms.`)
      const { rows } = await client.query<{ id: string; slot: Date }>(
        `SELECT id, scheduled_for AS slot FROM subscription_processing ORDER BY random() LIMIT $1`,
        [batch],
      )
      const ids = rows.map((r) => r.id)
      const slots = rows.map((r) => r.slot)

      // recordCompletions runs on rows the batch has begun: mark them first, in the same transaction.
      const begin = `UPDATE subscription_processing SET status = 'processing' WHERE id = ANY($1::uuid[])`
      const complete = RECORD_COMPLETIONS
      const guarded = complete.replace(COMPLETION_GUARD, `(${COMPLETION_GUARD}) IS TRUE`)
      const results: Array<[string, { ms: number; scan: string }]> = []
      const byKey = (sql: string, guard: string) =>
        sql.replace(guard, `sp.id = ANY($1::uuid[]) AND (${guard}) IS TRUE`)
      const measureAll = async (when: string) => {
        results.push([`beginProcessing, as shipped, ${when}`, await explain(client, BEGIN_PROCESSING, ids, slots)])
        results.push([`beginProcessing, \`id = ANY\` + \`IS TRUE\`, ${when}`, await explain(client, byKey(BEGIN_PROCESSING, GUARD), ids, slots)])
        results.push([`recordCompletions, \`id = ANY\` + \`IS TRUE\`, ${when}`, await explain(client, byKey(complete, COMPLETION_GUARD), ids, slots, begin)])
        results.push([`beginProcessing, \`(…) IS TRUE\` guard, ${when}`, await explain(client, BEGIN_PROCESSING.replace(GUARD, `(${GUARD}) IS TRUE`), ids, slots)])
        results.push([`recordCompletions, as shipped, ${when}`, await explain(client, complete, ids, slots, begin)])
        results.push([`recordCompletions, \`(…) IS TRUE\` guard, ${when}`, await explain(client, guarded, ids, slots, begin)])
      }
      await measureAll('stale statistics')
      await client.query('ANALYZE subscription_processing')
      await measureAll('after ANALYZE')

      console.log(`\nOne batch of ${batch} jobs with ${n} rows queued (the faster of two tries):\n`)
      console.log('| statement and variant | execution | plan |\n|---|---:|---|')
      for (const [name, r] of results) console.log(`| ${name} | ${r.ms.toFixed(1)} ms | ${r.scan} |`)
    } finally {
      await client.end().catch(() => {})
    }
  })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
