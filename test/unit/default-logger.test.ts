/**
 * The default logger, as a server's log file sees it: stdout and stderr piped, not a terminal.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const LOGGER = fileURLToPath(new URL('../../src/observe/logger.ts', import.meta.url))

test('piped (a container, systemd, a log file), each entry is one tagged line with its level, no blank lines between', () => {
  const code = `import { defaultLogger } from ${JSON.stringify(LOGGER)}
const log = defaultLogger()
log.info('Started.')
log.warn('Subscription a failed (attempt 1, will retry): 503')
log.warn('Subscription b failed (attempt 1, will retry): 503')
log.error('Database connection error: ECONNRESET')`
  // Not a test or CI run, where consola would log one line per entry anyway.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' }
  for (const name of ['CI', 'VITEST', 'TEST', 'CONSOLA_LEVEL', 'GITHUB_ACTIONS']) delete env[name]
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', env })
  expect(child.status).toBe(0)
  const lines = `${child.stdout}${child.stderr}`.split('\n').filter((line, i, all) => i < all.length - 1 || line !== '')
  expect(lines).toEqual([
    '[info] [pg-subscription-scheduler] Started.',
    '[warn] [pg-subscription-scheduler] Subscription a failed (attempt 1, will retry): 503',
    '[warn] [pg-subscription-scheduler] Subscription b failed (attempt 1, will retry): 503',
    '[error] [pg-subscription-scheduler] Database connection error: ECONNRESET',
  ])
})

test("two schedulers in one process log apart: one named by its own queuePrefix says so in its tag; the default prefix keeps the plain tag", () => {
  const resolve = JSON.stringify(fileURLToPath(new URL('../../src/config/resolve-options.ts', import.meta.url)))
  const code = `import { resolveOptions } from ${resolve}
resolveOptions({ workerUrl: 'http://127.0.0.1:1', queuePrefix: 'sync' }).logger.info('Run r: enqueued 2 subscriptions.')
resolveOptions({ workerUrl: 'http://127.0.0.1:1' }).logger.info('Run s: enqueued 3 subscriptions.')`
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' }
  for (const name of ['CI', 'VITEST', 'TEST', 'CONSOLA_LEVEL', 'GITHUB_ACTIONS']) delete env[name]
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', env })
  expect(child.status, child.stderr).toBe(0)
  expect(`${child.stdout}${child.stderr}`.trim().split('\n')).toEqual([
    '[info] [pg-subscription-scheduler:sync] Run r: enqueued 2 subscriptions.',
    '[info] [pg-subscription-scheduler] Run s: enqueued 3 subscriptions.',
  ])
})
