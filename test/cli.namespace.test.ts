/**
 * A scheduler given its own `queuePrefix` and `bossSchema`: the CLI works with it when the
 * environment names them (SUBSCRIPTION_QUEUE_PREFIX, SUBSCRIPTION_BOSS_SCHEMA). Without them,
 * `run-now --no-wait` claimed rows into a pg-boss schema no instance reads, stranding them for
 * the claim's lease, and `status` said no schedule was registered.
 */
import { beforeAll, describe, expect, test } from 'vitest'
import { createFakeWorkerClient } from '../src/testing.js'
import { runCli, SLOW_MS } from './support/cli-process.js'
import { addHostTrigger } from './support/host-trigger.js'
import { pollUntil } from './support/reliability-support.js'
import { useStartedScheduler } from './support/schedulers.js'
import { seedSubscriptions } from './support/seed.js'

const NAMESPACE = { queuePrefix: 'billing', bossSchema: 'billing_jobs' }

describe('the CLI on a scheduler with its own queuePrefix and bossSchema', { timeout: SLOW_MS }, () => {
  let env: Record<string, string>
  const worker = createFakeWorkerClient()
  const shared = useStartedScheduler({ ...NAMESPACE, workerClient: worker, cron: '*/5 * * * *' })

  beforeAll(() => {
    env = { DATABASE_URL: shared.db.url, SUBSCRIPTION_QUEUE_PREFIX: NAMESPACE.queuePrefix, SUBSCRIPTION_BOSS_SCHEMA: NAMESPACE.bossSchema }
  })

  test("status shows that scheduler's registered schedule and instance", async () => {
    const { code, stdout, stderr } = await runCli(['status', '--json'], env)
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const status = JSON.parse(stdout)
    expect(status.schedule).toMatchObject({ cron: '*/5 * * * *', registered: true })
    expect(status.instances.map((i: { instanceId: string }) => i.instanceId)).toEqual([shared.scheduler.health().instanceId])
  })

  test('run-now --no-wait enqueues where its instances work: they call every row', async () => {
    const ids = await seedSubscriptions(shared.db.pool, { count: 3 })
    const { code, stdout, stderr } = await runCli(['run-now', '--no-wait'], env)
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const runId = /([0-9a-f-]{36})/.exec(stdout)![1]!
    await pollUntil(async () => (await shared.scheduler.getRun(runId)).finishedAt !== null, { timeoutMs: 20_000, what: 'the run to finish' })
    expect(await shared.scheduler.getRun(runId)).toMatchObject({ processed: 3, successful: 3 })
    expect(worker.calls.map((c) => c.subscriptionId).sort()).toEqual([...ids].sort())
    // Nothing went to pg-boss's default schema (this database has one: its template's).
    const { rows } = await shared.db.pool.query(`SELECT count(*)::int AS n FROM pgboss.job`)
    expect(rows[0].n).toBe(0)
  })

  test('run-now --no-wait says the error its sweep reported, as a followed run\'s summary does', async () => {
    const [refused, ...others] = await seedSubscriptions(shared.db.pool, { count: 3 })
    const rule = `IF NEW.subscription_id = '${refused}' AND NEW.status = 'queued' THEN RAISE EXCEPTION 'host rule: not this one'; END IF;`
    const trigger = await addHostTrigger(shared.db.pool, 'host_no_wait_rule', 'UPDATE', rule)
    try {
      const { code, stdout, stderr } = await runCli(['run-now', '--no-wait'], env)
      expect(code, stderr).toBe(0)
      expect(stdout).toMatch(/^Run [0-9a-f-]{36} started: 2 subscriptions enqueued; /m)
      expect(stdout).toMatch(/^The sweep reported an error: .*host rule: not this one/m)
      const runId = /([0-9a-f-]{36})/.exec(stdout)![1]!
      await pollUntil(async () => (await shared.scheduler.getRun(runId)).finishedAt !== null, { timeoutMs: 20_000, what: 'the run to finish' })
      expect(worker.calls.map((c) => c.subscriptionId)).toEqual(expect.arrayContaining(others))
    } finally {
      await trigger.drop()
      await shared.db.pool.query('DELETE FROM subscriptions WHERE id = $1', [refused])
    }
  })

  test('run-now --no-wait with a queue prefix or pg-boss schema no instance has started with is refused, and touches nothing', async () => {
    await seedSubscriptions(shared.db.pool, { count: 2 })
    const manualRuns = async () => (await shared.db.pool.query(`SELECT count(*)::int AS n FROM subscription_scheduler.runs WHERE trigger = 'manual'`)).rows[0].n as number
    const runsBefore = await manualRuns()
    for (const typo of [{ SUBSCRIPTION_QUEUE_PREFIX: 'billin' }, { SUBSCRIPTION_BOSS_SCHEMA: 'billing_job' }]) {
      const refused = await runCli(['run-now', '--no-wait'], { ...env, ...typo })
      expect(refused, JSON.stringify(typo)).toMatchObject({ code: 2, stdout: '' })
      expect(refused.stderr).toMatch(/^error: No instance has started with queue prefix '.+' and pg-boss schema '.+' on this database, and --no-wait leaves the calls to running instances/m)
    }
    // No schema was installed for the typo, and no run started.
    expect((await shared.db.pool.query(`SELECT to_regnamespace('billing_job') AS schema`)).rows[0].schema).toBeNull()
    expect(await manualRuns()).toBe(runsBefore)
  })

  test('runs lists its runs; a bad name in the environment is a usage error naming the variable', async () => {
    const runs = await runCli(['runs', '--json'], env)
    expect(runs.code).toBe(0)
    expect(JSON.parse(runs.stdout).runs.length).toBeGreaterThan(0)
    const bad = await runCli(['status'], { ...env, SUBSCRIPTION_BOSS_SCHEMA: 'Billing-Jobs' })
    expect(bad).toMatchObject({ code: 2, stdout: '' })
    expect(bad.stderr).toMatch(/^error: SUBSCRIPTION_BOSS_SCHEMA: expected a lower-case Postgres schema name, got "Billing-Jobs"\. Set it to the bossSchema the scheduler's instances are given\.$/m)
    // Empty (a shell variable that expanded to nothing) is not the default: that is another scheduler.
    const empty = await runCli(['status'], { ...env, SUBSCRIPTION_QUEUE_PREFIX: '' })
    expect(empty).toMatchObject({ code: 2, stdout: '' })
    expect(empty.stderr).toMatch(/^error: SUBSCRIPTION_QUEUE_PREFIX is set but empty: unset it for the default, or set it to the queuePrefix the scheduler's instances are given\.$/m)
  })
})
