import { configurationReason } from '../error-text.js'
import { isConfigurationError } from '../error-guards.js'

/** A mistake in the command line or the environment. Exit code 2, no stack trace. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * `error` in the user's terms: a ConfigurationError about an option in `names` (the library's
 * option name → the flag or variable that carries it) becomes a UsageError naming what the user
 * typed, `--cron: …` rather than "Invalid option `cron`: …", its reason passed through `reword`;
 * anything else as it is.
 */
export function inUserTerms(error: unknown, names: Readonly<Record<string, string>>, reword: (reason: string) => string = (reason) => reason): unknown {
  const name = isConfigurationError(error) ? names[error.option] : undefined
  if (!name || !isConfigurationError(error)) return error
  return new UsageError(`${name}: ${reword(configurationReason(error))}`)
}
