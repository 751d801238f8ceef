/**
 * `pause-calls [--note <text>]` and `resume-calls`: the fleet-wide switch for calls
 * (`pauseCalls()`, `resumeCalls()`), for an incident at the worker service. Every instance on the
 * database obeys it at once: no sweep claims, no instance calls the worker, until resumed.
 */
import { defineCommand } from 'citty'
import { commonArgs, strictFlags } from '../args.js'
import { createCliLogger, resolvedQuietly, UsageError, withPool } from '../context.js'
import { controlScheduler, inFlagTerms, noteArg, noteOption } from '../control.js'
import { readCallsPause } from '../../records/calls-pause.js'
import { timeInZone } from '../zoned-time.js'
import { assertPrefixInUse } from '../worked-queue.js'
import { print } from '../print.js'

/** These commands take flags only: a word given is refused, not ignored (an id meant for `pause`). */
function noWords(args: { _: unknown[] }, command: string): void {
  if (args._.length > 0) throw new UsageError(`${command} takes no id: it pauses or resumes the calls of every subscription. For one subscription, \`pause <id>\` or \`resume <id>\`.`)
}

export const pauseCalls = defineCommand({
  meta: { name: 'pause-calls', description: 'Pause every call to the worker, on every instance, until resume-calls' },
  args: { ...noteArg, ...commonArgs },
  plugins: [strictFlags],
  async run({ args }) {
    noWords(args, 'pause-calls')
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, zone, options } = await controlScheduler(pool, logger)
      await assertPrefixInUse(pool, options, 'pause-calls')
      // Only to tell a pause made now from one kept: not getStatus(), which counts every row.
      const before = await readCallsPause(pool, resolvedQuietly(options).queuePrefix)
      const pause = await inFlagTerms(() => scheduler.pauseCalls(noteOption(args)))
      if (before && before.pausedAt.getTime() === pause.pausedAt.getTime()) {
        print(`Calls were already paused since ${timeInZone(pause.pausedAt, zone.zone)}${pause.note ? ` (${pause.note})` : ''}: nothing changed${args.note === undefined ? '' : ', and this note was not kept'}.`)
        return
      }
      print(
        `Calls are paused on every instance since ${timeInZone(pause.pausedAt, zone.zone)}${pause.note ? ` (${pause.note})` : ''}: no sweep claims, and rows waiting in a job are let go of with their slot; ` +
          'calls in flight finish. `resume-calls` lifts the pause.',
      )
    })
  },
})

export const resumeCalls = defineCommand({
  meta: { name: 'resume-calls', description: 'Lift a pause of calls: the next sweep calls what fell due meanwhile' },
  args: { ...commonArgs },
  plugins: [strictFlags],
  async run({ args }) {
    noWords(args, 'resume-calls')
    const logger = createCliLogger('quiet', args.verbose === true)
    await withPool(logger, async (pool) => {
      const { scheduler, zone, options } = await controlScheduler(pool, logger)
      await assertPrefixInUse(pool, options, 'resume-calls')
      const lifted = await scheduler.resumeCalls()
      print(lifted
        ? `Calls resumed (paused since ${timeInZone(lifted.pausedAt, zone.zone)}${lifted.note ? `, ${lifted.note}` : ''}): the next sweep calls what fell due meanwhile (\`run-now\` sweeps at once).`
        : 'Calls were not paused; nothing changed.')
    })
  },
})
