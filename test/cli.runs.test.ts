/**
 * `runs` lists the run history a page at a time, as an operator pages it: following the command
 * it prints for the older runs reaches every run once. Child processes on a database of this
 * file's own, its runs written as the sweeps leave them.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { runCli, SLOW_MS } from './support/cli-process.js'
import { createTestDatabase } from './support/database.js'
import type { TestDatabase } from './support/database.js'

const UNKNOWN_RUN = '3f2b8c1e-0d4a-4c61-9a57-2b7e8f10c3d9'

describe('runs', { timeout: SLOW_MS }, () => {
  let db: TestDatabase
  let env: Record<string, string>
  /** Newest first. */
  let all: { id: string; trigger: string }[]

  beforeAll(async () => {
    db = await createTestDatabase()
    env = { DATABASE_URL: db.url }
    const { rows } = await db.pool.query<{ id: string; trigger: string }>(
      `INSERT INTO subscription_scheduler.runs (trigger, started_at, finished_at, claimed, successful)
       SELECT CASE WHEN n % 3 = 0 THEN 'backfill' ELSE 'cron' END, t, t + interval '1 second', 5, 5
         FROM generate_series(1, 7) AS n, LATERAL (SELECT timestamptz '2026-11-01 09:00:00+00' + n * interval '1 hour' AS t) AS at
       RETURNING id, trigger`,
    )
    all = rows.reverse()
  })

  test('pages back through every run, following the command it prints for the older ones', async () => {
    const seen: string[] = []
    let args = ['runs', '--limit', '3']
    for (let page = 0; page < 5; page++) {
      const { code, stdout, stderr } = await runCli(args, env)
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      seen.push(...[...stdout.matchAll(/ ([0-9a-f-]{36})$/gm)].map((m) => m[1]!))
      const older = /^Older runs: pg-subscription-scheduler (runs .*)$/m.exec(stdout)
      if (!older) break
      args = older[1]!.split(' ')
    }
    expect(seen).toEqual(all.map((r) => r.id))
  })

  test('--trigger keeps those runs; --json prints them', async () => {
    const { code, stdout } = await runCli(['runs', '--trigger', 'backfill', '--json'], env)
    expect(code).toBe(0)
    const { runs, olderBefore } = JSON.parse(stdout) as { runs: { runId: string; trigger: string }[]; olderBefore: string | null }
    expect(runs.map((r) => r.runId)).toEqual(all.filter((r) => r.trigger === 'backfill').map((r) => r.id))
    expect(olderBefore).toBeNull()
    const paged = JSON.parse((await runCli(['runs', '--limit', '3', '--json'], env)).stdout) as { runs: { runId: string }[]; olderBefore: string | null }
    expect(paged.olderBefore).toBe(all[2]!.id)
    expect((await runCli(['runs', '--before', all.at(-1)!.id], env)).stdout).toBe(`No runs started before run ${all.at(-1)!.id}.\n`)
  })

  test('--unfinished lists only the runs still going', async () => {
    expect((await runCli(['runs', '--unfinished'], env)).stdout).toBe('No unfinished runs: every one has finished.\n')
    await db.pool.query(`UPDATE subscription_scheduler.runs SET finished_at = NULL WHERE id = $1`, [all[3]!.id])
    try {
      const { code, stdout } = await runCli(['runs', '--unfinished', '--json'], env)
      expect(code).toBe(0)
      expect((JSON.parse(stdout) as { runs: { runId: string }[] }).runs.map((r) => r.runId)).toEqual([all[3]!.id])
    } finally {
      await db.pool.query(`UPDATE subscription_scheduler.runs SET finished_at = started_at + interval '1 second' WHERE id = $1`, [all[3]!.id])
    }
  })

  test('a bad trigger or run id is a usage error naming the flag; an unknown run says so', async () => {
    const trigger = await runCli(['runs', '--trigger', 'nightly'], env)
    expect(trigger).toMatchObject({ code: 2, stdout: '' })
    expect(trigger.stderr).toMatch(/^error: --trigger: expected one of cron, catch-up, manual, retry, single, rescue, backfill, or several of them comma-separated; got "nightly"\.$/m)
    const id = await runCli(['runs', '--before', 'last'], env)
    expect(id).toMatchObject({ code: 2 })
    expect(id.stderr).toMatch(/^error: --before: /m)
    const many = await runCli(['runs', '--limit', '5000'], env)
    expect(many).toMatchObject({ code: 2 })
    expect(many.stderr).toMatch(/^error: --limit: expected at most 1000, got 5000; page back with the --before the output prints\.$/m)
    const unknown = await runCli(['runs', '--before', UNKNOWN_RUN], env)
    expect(unknown).toMatchObject({ code: 1 })
    expect(unknown.stderr).toContain(`No run with id ${UNKNOWN_RUN}`)
  })
})
