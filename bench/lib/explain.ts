/**
 * The sweep's claim, explained. src/sweep/claim-sql.ts builds its claim as a CTE (SELECT … FOR UPDATE
 * SKIP LOCKED, then UPDATE); this is the SELECT part with the very same WHERE, ORDER BY and
 * LIMIT, run under EXPLAIN (ANALYZE, FORMAT JSON) so the plan says whether the partial index
 * `subscription_processing_due_idx` (or `_lease_idx`) answers it, and how fast.
 */
import pg from 'pg'
import { DUE_KEY, LEASE_KEY, sweepPredicate } from '../../src/sweep/claim-sql.js'
import { ownedByLiveJob } from '../../src/sweep/live-claims.js'

export type ClaimKind = 'due' | 'expired'

const KEY: Record<ClaimKind, string> = {
  due: DUE_KEY,
  expired: LEASE_KEY,
}

/** The claim's own predicates; `expired` only claims whose job pg-boss no longer holds (the default schema and queue). */
const WHERE: Record<ClaimKind, string> = {
  due: sweepPredicate('due'),
  expired: `${sweepPredicate('expired')}
        AND NOT ${ownedByLiveJob({ bossSchema: 'pgboss', processQueue: 'subscription-scheduler.process' })}`,
}

/** src/sweep/claim-sql.ts `claimSql()`'s `picked` CTE, without FOR UPDATE nor the run's own filters. */
export function claimSelectSql(kind: ClaimKind): string {
  return `
    SELECT sp.id, ${KEY[kind]} AS sort_key
      FROM subscription_processing sp
      JOIN subscriptions s ON s.id = sp.subscription_id
     WHERE ${WHERE[kind]}
       AND s.active IS TRUE
       AND (${KEY[kind]}, sp.id) > ($2::timestamptz, $3::uuid)
     ORDER BY ${KEY[kind]}, sp.id
     LIMIT $4`
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  Plans?: PlanNode[]
}

export interface ExplainResult {
  /** e.g. "Index Only Scan using subscription_processing_due_idx". */
  scan: string
  usesIndex: boolean
  /** Every node, outermost first: "Limit > Nested Loop > Index Only Scan …". */
  shape: string
  executionMs: number
  planningMs: number
}

function walk(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node)
  for (const child of node.Plans ?? []) walk(child, out)
  return out
}

function describe(node: PlanNode): string {
  return node['Index Name'] ? `${node['Node Type']} using ${node['Index Name']}` : `${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}`
}

/** EXPLAIN ANALYZE of the claim SELECT at `now`, from the start cursor, `limit` rows. */
export async function explainClaim(url: string, kind: ClaimKind, now: Date, limit: number): Promise<ExplainResult> {
  return await explainSql(url, claimSelectSql(kind), [now, '-infinity', '00000000-0000-0000-0000-000000000000', limit], INDEX[kind])
}

const INDEX: Record<ClaimKind, string> = { due: 'subscription_processing_due_idx', expired: 'subscription_processing_lease_idx' }

/** EXPLAIN ANALYZE of `sql`: whether it reads subscription_processing through `index`, and how fast. */
export async function explainSql(url: string, sql: string, values: unknown[], index: string): Promise<ExplainResult> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }> }>(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`,
      values,
    )
    const plan = rows[0]!['QUERY PLAN'][0]!
    const nodes = walk(plan.Plan)
    // The node that reads subscription_processing: through the claim's index, or not.
    const scan =
      nodes.find((n) => n['Index Name'] === index) ??
      nodes.find((n) => n['Relation Name'] === 'subscription_processing' || n['Index Name']?.startsWith('subscription_processing'))
    const seqScan = nodes.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'subscription_processing')
    return {
      scan: scan ? describe(scan) : 'no scan of subscription_processing',
      usesIndex: scan?.['Index Name'] === index && !seqScan,
      shape: nodes.map((n) => n['Node Type']).join(' > '),
      executionMs: plan['Execution Time'],
      planningMs: plan['Planning Time'],
    }
  } finally {
    await client.end()
  }
}

/**
 * As src/status.ts `countDue()` writes it (the claim's own predicate): what every run start (the
 * backlog gauge) and every rescue tick (`rescueCron`, each minute by default) count.
 */
export function countDueSql(kind: ClaimKind): string {
  return `SELECT count(*)::int AS n FROM subscription_processing sp JOIN subscriptions s ON s.id = sp.subscription_id
      WHERE s.active IS TRUE AND ${WHERE[kind]}`
}

/** EXPLAIN ANALYZE of `countDue(kind)` at `now`. */
export async function explainCountDue(url: string, kind: ClaimKind, now: Date): Promise<ExplainResult> {
  return await explainSql(url, countDueSql(kind), [now], INDEX[kind])
}

/** Client-side time of the plain claim SELECT (no EXPLAIN), in ms. */
export async function timeClaimSelect(url: string, kind: ClaimKind, now: Date, limit: number): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const values = [now, '-infinity', '00000000-0000-0000-0000-000000000000', limit]
    await client.query(claimSelectSql(kind), values)
    const started = performance.now()
    await client.query(claimSelectSql(kind), values)
    return performance.now() - started
  } finally {
    await client.end()
  }
}
