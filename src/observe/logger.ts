/**
 * The logging seam. Any object with `debug`, `info`, `warn` and `error` will do, consola's
 * instances included. The default is consola tagged `pg-subscription-scheduler`.
 */
import { consola } from 'consola'

export interface Logger {
  debug(message: string, ...args: unknown[]): void
  info(message: string, ...args: unknown[]): void
  warn(message: string, ...args: unknown[]): void
  error(message: string, ...args: unknown[]): void
}

export const LOG_TAG = 'pg-subscription-scheduler'

export function defaultLogger(): Logger {
  return consola.withTag(LOG_TAG)
}

