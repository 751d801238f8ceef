/**
 * The whole-number checks the options share: each bad value throws a `ConfigurationError` naming
 * the option, its allowed range and what was given.
 */
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'

export function positiveInteger(option: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigurationError(option, `expected an integer from 1 to ${max}, got ${shown(value)}.`)
  }
  return value
}

export function nonNegativeInteger(option: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new ConfigurationError(option, `expected an integer >= 0${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}, got ${shown(value)}.`)
  }
  return value
}
