/**
 * `worker`: the scheduler as a process of its own, for teams that do not embed it in their
 * backend. Runs until SIGTERM or SIGINT, then lets in-flight calls finish and exits 0.
 */
import { defineCommand } from 'citty'
import { createSubscriptionScheduler } from '../../scheduler.js'
import { commonArgs, schedulerArgs, shutdownArgs, strictFlags, waitForShutdownSignal } from '../args.js'
import { createCliLogger, integerFlag, requireWorkerUrl, schedulerOptions, withPool } from '../context.js'
import { joinFleet } from '../fleet-settings.js'
import { formatDuration } from '../format.js'
import { print } from '../print.js'

/** Printed once the scheduler has started; scripts and tests wait for it. */
export const READY_LINE = 'Worker ready'

export default defineCommand({
  meta: {
    name: 'worker',
    description: 'Run the scheduler as a standalone process (cron sweeps and processing) until SIGTERM',
  },
  args: { ...schedulerArgs, ...shutdownArgs, ...commonArgs },
  plugins: [strictFlags],
  async run({ args }) {
    const flags = { workerUrl: args['worker-url'], concurrency: args.concurrency, timezone: args.timezone, cron: args.cron }
    const timeoutMs = integerFlag('shutdown-timeout', args['shutdown-timeout'], 0) ?? 30_000
    requireWorkerUrl(flags)
    const logger = createCliLogger('normal', args.verbose === true)
    const options = schedulerOptions(flags, logger)
    // Listen before starting: a SIGTERM during start() must still end in a clean stop.
    const shutdown = waitForShutdownSignal(logger)
    try {
      await withPool(logger, async (pool) => {
        const scheduler = createSubscriptionScheduler(pool, await joinFleet(pool, options, logger))
        scheduler.on('run:started', (run) => logger.info(`Run ${run.runId} (${run.trigger}) started.`))
        scheduler.on('run:finished', (run) => {
          logger.info(`Run ${run.runId} finished in ${formatDuration(run.durationMs)}: ${run.processed} processed, ` +
            `${run.successful} succeeded, ${run.failed} failed, ${run.skipped} skipped.`)
        })
        try {
          await scheduler.start()
          print(`${READY_LINE} (pid ${process.pid}). Stop with SIGTERM or Ctrl-C; in-flight calls get ${timeoutMs} ms to finish.`)
          const signal = await shutdown.signal
          logger.info(`${signal} received: stopping…`)
        } finally {
          await scheduler.stop({ timeoutMs })
        }
      })
      logger.info('Pool closed; exiting.')
    } finally {
      shutdown.dispose()
    }
  },
})
