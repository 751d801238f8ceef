/**
 * The logging seam. Any object with `debug`, `info`, `warn` and `error` will do, consola's
 * instances included. The default is consola tagged `pg-subscription-scheduler`: its boxed,
 * blank-line-padded entries on a terminal, one line per entry anywhere else (a container's or a
 * service's log, where consola's own default pads every warning with blank lines).
 */
import { createConsola } from 'consola'

export interface Logger {
  debug(message: string, ...args: unknown[]): void
  info(message: string, ...args: unknown[]): void
  warn(message: string, ...args: unknown[]): void
  error(message: string, ...args: unknown[]): void
}

export const LOG_TAG = 'pg-subscription-scheduler'

export function defaultLogger(): Logger {
  return createConsola({ fancy: process.stdout.isTTY === true && process.stderr.isTTY === true }).withTag(LOG_TAG)
}

